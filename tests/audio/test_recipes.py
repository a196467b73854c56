"""Every audio recipe parses, builds its model and trains two steps on its real data (sliced by a tiny model)."""
import pytest

from multigan import api
from multigan.recipe import list_recipes, load_recipe

AUDIO_RECIPES = [p for p in list_recipes() if load_recipe(p).model_name == "wavegan"]


def test_the_three_audio_recipes_exist():
    assert {p.stem for p in AUDIO_RECIPES} == {"wavegan_digits", "wavegan_digits_cond", "wavegan_drums"}


@pytest.mark.parametrize("path", AUDIO_RECIPES, ids=lambda p: p.stem)
def test_recipe_runs_two_steps(path, tmp_path, data_root):
    config = load_recipe(path, ["train.steps=2", "train.batch_size=4", "train.sample_every=2",
                                "train.checkpoint_every=2", "train.preview_samples=10", "eval.metrics=[]",
                                "model.model_dim=2", "model.d_steps=1"])
    run = api.train(config, data_root=data_root, out=tmp_path / "run", progress=False)
    assert (run / "samples" / "step-0000002.png").is_file() and (run / "samples" / "step-0000002.wav").is_file()
    assert (run / "checkpoints" / "step-0000002").is_dir()
