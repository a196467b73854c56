"""Differentiable augmentation as an option of the game: what D sees, ADA's p, checkpoints and bad settings."""
import pytest
import torch

from multigan import api
from multigan.core import checkpoint as ckpt
from multigan.core.augmentation import AdaConfig, AugmentConfig, AugmentConfigError, Augmenter
from multigan.core.phases import DataInfo
from multigan.images.dcgan import DCGAN, DCGANConfig
from multigan.recipe import from_dict
from multigan.registry import RegistryError

INFO = DataInfo("image", (1, 28, 28), 10)


def tiny_dcgan(**augment) -> DCGAN:
    config = DCGANConfig(generator_width=8, discriminator_width=8, latent_dim=8, augment=AugmentConfig(**augment))
    model = DCGAN(config, INFO)
    model.batch_size = 4
    return model


def test_without_a_policy_nothing_changes_what_d_sees_and_nothing_is_checkpointed():
    model = tiny_dcgan()
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    model.eval()
    assert torch.equal(model.judge(x, None), model.discriminator(x, None))
    assert "augment" not in model.networks()


def test_reals_and_fakes_both_go_through_the_policy_and_fakes_pass_gradients_to_g():
    model = tiny_dcgan(policy="color,translation,cutout")
    calls = []
    original = model.augmenter.forward
    model.augmenter.forward = lambda x: calls.append(x.shape) or original(x)
    batch = {"image": torch.rand(4, 1, 28, 28) * 2 - 1}
    model.loss("D", batch)
    assert len(calls) == 2  # real and fake, one call each, through the same augmenter
    model.generator.zero_grad()
    loss, _ = model.loss("G", {})
    loss.backward()
    assert len(calls) == 3
    grads = [p.grad for p in model.generator.parameters()]
    assert all(g is not None for g in grads) and sum(float(g.abs().sum()) for g in grads) > 0


def test_ada_p_rises_when_d_overfits_falls_when_not_and_stays_in_0_1():
    augmenter = Augmenter(AugmentConfig(ada=AdaConfig(enabled=True, target=0.6, kimg=0.01)), "image")
    for _ in range(3):
        augmenter.observe(torch.ones(8))  # r_t = 1 > 0.6: D is sure of every real
        augmenter.adjust()
    assert float(augmenter.p) == pytest.approx(1.0)  # 3 x 8 images / 10 images would pass 1: clamped
    augmenter.observe(torch.ones(4))
    augmenter.adjust()
    assert float(augmenter.p) == 1.0
    augmenter.observe(-torch.ones(5))  # r_t = -1 < 0.6
    augmenter.adjust()
    assert float(augmenter.p) == pytest.approx(0.5)
    for _ in range(5):
        augmenter.observe(-torch.ones(8))
        augmenter.adjust()
    assert float(augmenter.p) == 0.0


def test_ada_adjusts_every_interval_d_updates():
    augmenter = Augmenter(AugmentConfig(ada=AdaConfig(enabled=True, interval=4)), "image")
    assert [s for s in range(13) if augmenter.adjusts_at(s, d_steps=1)] == [4, 8, 12]
    assert [s for s in range(7) if augmenter.adjusts_at(s, d_steps=2)] == [2, 4, 6]
    assert [s for s in range(3) if augmenter.adjusts_at(s, d_steps=5)] == [1, 2]


def test_ada_state_is_a_checkpointed_network_and_p_is_logged():
    model = tiny_dcgan(ada=AdaConfig(enabled=True))
    assert set(model.networks()["augment"].state_dict()) == {"p", "sign_sum", "sign_count", "images_seen"}
    _, scalars = model.loss("D", {"image": torch.rand(4, 1, 28, 28) * 2 - 1})
    assert "ada_p" in scalars and float(model.augmenter.sign_count) == 4


@pytest.mark.parametrize("augment, message", [
    ({"policy": "colour"}, "unknown augmentation policy 'colour'; did you mean 'color'?"),
    ({"policy": "bgc"}, "'bgc' belongs in model.augment.ada.pipeline"),
    ({"ada": AdaConfig(enabled=True, pipeline="cutout")}, "'cutout' belongs in model.augment.policy"),
    ({"ada": AdaConfig(enabled=True, target=1.5)}, "0 < target < 1"),
])
def test_bad_settings_are_one_clear_line(augment, message):
    with pytest.raises((AugmentConfigError, RegistryError), match=message.replace("?", r"\?")):
        tiny_dcgan(**augment)


def test_an_image_policy_on_audio_data_is_refused():
    with pytest.raises(AugmentConfigError, match="transforms image samples, this model trains on audio data"):
        Augmenter(AugmentConfig(policy="color"), "audio")


MODELS_WITH_ADA = {
    "dcgan": {"name": "dcgan", "generator_width": 8, "discriminator_width": 8, "latent_dim": 16},
    "stylegan2": {"name": "stylegan2", "latent_dim": 16, "w_dim": 16, "mapping_layers": 2, "channel_base": 128,
                  "channel_max": 16, "r1_interval": 2, "pl_interval": 2},  # every phase runs within 8 steps
}
RESOLUTION = {"dcgan": 28, "stylegan2": 16}


def ada_recipe(model: str, steps: int):
    augment = {"policy": "translation", "ada": {"enabled": True, "interval": 1, "kimg": 0.05, "initial_p": 0.5}}
    return from_dict({
        "model": {**MODELS_WITH_ADA[model], "augment": augment},
        "data": {"name": "digits", "train_size": 128, "test_size": 32, "resolution": RESOLUTION[model]},
        "train": {"steps": steps, "batch_size": 16, "log_every": 2, "sample_every": 0, "checkpoint_every": 4},
    })


@pytest.mark.parametrize("model", sorted(MODELS_WITH_ADA))
def test_ada_survives_n_plus_resume_plus_n_bit_for_bit(tmp_path, model):
    straight = api.train(ada_recipe(model, 8), out=tmp_path / "straight", progress=False)
    api.train(ada_recipe(model, 4), out=tmp_path / "resumed", progress=False)  # N steps, then resumed to 2N
    api.train(ada_recipe(model, 8), resume=tmp_path / "resumed", progress=False)
    a = ckpt.load_networks(ckpt.latest_checkpoint(straight))
    b = ckpt.load_networks(ckpt.latest_checkpoint(tmp_path / "resumed"))
    assert a.keys() == b.keys() and "augment" in a
    assert all(torch.equal(a[k][t], b[k][t]) for k in a for t in a[k])
    assert float(a["augment"]["p"]) != 0.5  # p moved (16 images a step, kimg 0.05: 0.32 a step) and was carried over


@pytest.mark.parametrize("name, data", [("pix2pix", "paired"), ("cyclegan", "unpaired")])
def test_translation_models_augment_what_their_discriminators_see(name, data):
    from multigan.registry import MODELS

    model_cls = MODELS.get(name)
    info = DataInfo("image", (3, 32, 32), extra={"task": data})
    config = model_cls.Config(generator="unet", generator_width=4, discriminator_width=4, discriminator_layers=1,
                              augment=AugmentConfig(policy="color,translation", ada=AdaConfig(enabled=True)))
    model = model_cls(config, info)
    keys = model.input_keys if name == "cyclegan" else ("source", "target")
    batch = {key: torch.rand(2, 3, 32, 32) * 2 - 1 for key in keys}
    model.on_step("adversarial", 0, 10)
    model.loss("G", batch)
    _, scalars = model.loss("D", {})
    assert "ada_p" in scalars and float(model.augmenter.images_seen) > 0 and "augment" in model.networks()


def test_the_adaptive_pipeline_named_as_a_fixed_policy_is_refused_even_with_ada_on():
    with pytest.raises(AugmentConfigError, match="'bgc' belongs in model.augment.ada.pipeline"):
        Augmenter(AugmentConfig(policy="bgc", ada=AdaConfig(enabled=True)), "image")


def test_under_two_processes_p_follows_the_global_batch_and_stays_one_value(tmp_path):
    import torch.multiprocessing as mp

    from gloo_workers import adjust_ada_on_rank  # a module the spawned processes can import

    context = mp.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=adjust_ada_on_rank, args=(r, str(tmp_path / "store"), results)) for r in (0, 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    values = dict(results.get(timeout=10) for _ in workers)
    # 12 images over kimg 0.01 (10 images): p + 1.2, clamped to 1, on both ranks alike
    assert values == {0: 1.0, 1: 1.0}
