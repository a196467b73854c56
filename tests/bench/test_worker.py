"""The bench worker's measurements after training: sampling speed for models that sample from noise and for
translation models, which sample from inputs."""
import pytest
import torch

from multigan import api
from multigan.bench import worker
from multigan.core.phases import DataInfo
from multigan.recipe import from_dict

TINY = {"pix2pix": {"generator_width": 4, "discriminator_width": 4},
        "cyclegan": {"generator": "resnet_6", "generator_width": 4, "discriminator_width": 4}}
TASK = {"pix2pix": ("paired_folder", "paired"), "cyclegan": ("unpaired_folder", "unpaired")}


@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
def test_a_translation_model_is_timed_translating_inputs(name, monkeypatch):
    dataset, task = TASK[name]
    config = from_dict({"model": {"name": name, **TINY[name]}, "data": {"name": dataset, "path": "unused"}})
    model = api.build_model(config, DataInfo("image", (3, 32, 32), extra={"task": task}), torch.device("cpu"))
    shapes = []
    translate = model.translate
    monkeypatch.setattr(model, "translate", lambda x, direction=None: shapes.append(tuple(x.shape)) or translate(x))
    state = torch.random.get_rng_state()
    speed, timed = worker.sampling_speed(model, 5, 2, seed=0)
    assert speed > 0 and shapes == [(2, 3, 32, 32), (2, 3, 32, 32), (1, 3, 32, 32)]  # 5 inputs, batches of 2
    assert timed == 5 and worker.sampling_speed(model, 10_000, 2, seed=0)[1] == worker.TRANSLATIONS_TIMED
    assert torch.equal(torch.random.get_rng_state(), state)  # timing draws nothing from the training stream
