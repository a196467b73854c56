"""Every image recipe (the DCGAN family: vanilla, LSGAN, SNGAN, WGAN-GP, DiffAugment, ADA; the MLP vanilla GAN;
StyleGAN2, PGGAN) trains for two steps on a sliver of its real data with its own loss and regularisers, and leaves a sample
grid."""
import pytest

from multigan import api
from multigan.recipe import list_recipes, load_recipe

IMAGE_RECIPES = [p for p in list_recipes() if load_recipe(p).model_name in ("dcgan", "mlp", "template", "stylegan2", "pggan")]
SMALL_MODEL = {"dcgan": ["model.ngf=8", "model.ndf=8"], "template": [],
               "stylegan2": ["model.channel_base=64", "model.channel_max=8", "model.w_dim=8", "model.latent_dim=8"],
               "pggan": ["model.channel_base=64", "model.channel_max=8", "model.latent_dim=8",
                         "model.images_per_phase=16"],  # grows one level a step
               "mlp": ["model.generator_widths=[16, 32]", "model.discriminator_widths=[32]"]}
SMALL_DATA = {"digits": ["data.train_size=64", "data.test_size=16"], "fashion_mnist": ["data.limit=64"],
              "mnist": ["data.limit=64"], "image_folder": ["data.resolution=32"]}


@pytest.mark.parametrize("path", IMAGE_RECIPES, ids=lambda p: p.stem)
def test_recipe_runs_two_steps(path, tmp_path, data_root):
    config = load_recipe(path)
    overrides = SMALL_DATA[config.data_name] + [
        "train.steps=2", "train.batch_size=16", "train.sample_every=2", "train.checkpoint_every=2",
        "train.preview_samples=20", "eval.metrics=[]",
    ] + SMALL_MODEL[config.model_name]
    config = load_recipe(path, overrides)
    run = api.train(config, data_root=data_root, out=tmp_path / "run", progress=False)
    assert (run / "samples" / "step-0000002.png").is_file()
    assert (run / "checkpoints" / "step-0000002").is_dir()


TRANSLATION_RECIPES = [p for p in list_recipes() if load_recipe(p).model_name in ("pix2pix", "cyclegan")]


@pytest.mark.parametrize("path", TRANSLATION_RECIPES, ids=lambda p: p.stem)
def test_translation_recipe_runs_two_steps_on_its_real_data(path, tmp_path, data_root):
    overrides = ["data.limit=4", "data.resolution=32", "data.load_size=36", "model.generator_width=4",
                 "model.discriminator_width=4", "train.steps=2", "train.batch_size=2", "train.sample_every=2",
                 "train.checkpoint_every=2", "train.preview_samples=2", "eval.metrics=[]"]
    run = api.train(load_recipe(path, overrides), data_root=data_root, out=tmp_path / "run", progress=False)
    assert (run / "samples" / "step-0000002.png").is_file()
    assert (run / "checkpoints" / "step-0000002").is_dir()
