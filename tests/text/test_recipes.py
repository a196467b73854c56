"""Every text recipe trains two steps per stage on a sliver of its real data, evaluates, and leaves text samples."""
import pytest

from multigan import api
from multigan.export import ExportRequest
from multigan.recipe import list_recipes, load_recipe

TEXT_RECIPES = [p for p in list_recipes() if load_recipe(p).model_name in ("seqgan", "gumbel_gan")]
SMALL_DATA = {"oracle": ["data.n_samples=64"], "coco": ["data.limit=200"]}
SMALL_MODEL = {
    "seqgan": ["model.num_rollouts=2", "model.d_steps=1", "model.discriminator.filter_sizes=[2,3]",
               "model.discriminator.num_filters=[8,8]"],
    "gumbel_gan": ["model.d_steps=1", "model.discriminator.num_rep=2", "model.discriminator.num_filters=[8,8,8,8]"],
}


def test_every_text_recipe_is_covered():
    assert {p.stem for p in TEXT_RECIPES} >= {"seqgan_oracle", "seqgan_coco", "gumbel_coco", "gumbel_coco_transformer",
                                          "relgan_oracle"}


@pytest.mark.parametrize("path", TEXT_RECIPES, ids=lambda p: p.stem)
def test_recipe_runs_two_steps_per_stage(path, tmp_path, data_root):
    config = load_recipe(path)
    if config.data_name == "oracle" and not (data_root / config.data.params_file).is_file():
        pytest.skip(f"SeqGAN's oracle not found at {data_root / config.data.params_file} (text/MANIFEST.md)")
    stages = ", ".join(f"{{name: {stage.name}, steps: 2, eval_every: 2}}" for stage in config.train.stages)
    overrides = SMALL_DATA[config.data_name] + SMALL_MODEL[config.model_name] + [
        f"train.stages=[{stages}]", "train.batch_size=4", "train.sample_every=2", "train.checkpoint_every=2",
        "train.preview_samples=5", "eval.n_samples=20", "eval.self_bleu_samples=10", "eval.batch_size=10",
        "model.generator.embed_dim=8", "model.generator.hidden_dim=8", "model.generator.head_size=16",
    ]
    config = load_recipe(path, overrides)
    run = api.train(config, data_root=data_root, out=tmp_path / "run", progress=False)
    last = 2 * len(config.train.stages)
    lines = (run / "samples" / f"step-{last:07d}.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5
    assert (run / "checkpoints" / f"step-{last:07d}").is_dir() and (run / "eval.json").is_file()


def test_a_trained_text_run_samples_without_its_data(tmp_path, data_root):
    overrides = SMALL_DATA["oracle"] + SMALL_MODEL["seqgan"] + [
        "train.stages=[{name: pretrain_g, steps: 2}]", "train.batch_size=4", "eval.metrics=[]",
        "model.generator.embed_dim=8", "model.generator.hidden_dim=8",
    ]
    run = api.train(load_recipe("seqgan_oracle", overrides), data_root=data_root, out=tmp_path / "run", progress=False)
    out = api.sample(run, tmp_path / "export", ExportRequest(n=3, seed=1))
    lines = (out / "samples.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and all(len(line.split()) == 20 for line in lines)
