"""pix2pix and CycleGAN on the phase contract: a step changes both players, the losses equal hand computations,
the LR decays linearly after its constant part, and N + resume + N steps of CycleGAN equal 2N bit for bit."""
import pytest
import torch

from multigan import api
from multigan.core import checkpoint as ckpt
from multigan.core.logging import RunLogger
from multigan.core.trainer import Trainer
from multigan.recipe import from_dict

TINY_P2P = {"generator_width": 4, "discriminator_width": 4}
TINY_CYC = {"generator": "resnet_6", "generator_width": 4, "discriminator_width": 4, "pool_size": 3}


def config(model, data_path, steps=2, **train):
    name = model.pop("name")
    data = {"name": "paired_folder" if name == "pix2pix" else "unpaired_folder", "path": str(data_path),
            "resolution": 32, "load_size": 36}
    return from_dict({"model": {"name": name, **model}, "data": data,
                      "train": {"steps": steps, "batch_size": 2, "log_every": 1, "sample_every": steps,
                                "checkpoint_every": steps, "preview_samples": 2, **train}})


def trainer_for(cfg, tmp_path):
    from multigan.core.data import BatchLoader

    dataset = api.DATASETS.get(cfg.data_name)(cfg.data, tmp_path, "train")
    model = api.build_model(cfg, dataset.info, torch.device("cpu"))
    trainer = Trainer(model, BatchLoader(dataset, 2, 0), cfg.train, tmp_path, lambda *a: None, {}, progress=False)
    trainer.logger = RunLogger(tmp_path, 0, progress=False, write=False)  # what fit() sets up
    return trainer


@pytest.mark.parametrize("name", ["pix2pix", "cyclegan"])
def test_one_step_changes_every_generator_and_critic(name, tmp_path, paired_folder, unpaired_folder):
    folder = paired_folder if name == "pix2pix" else unpaired_folder
    trainer = trainer_for(config({"name": name, **(TINY_P2P if name == "pix2pix" else TINY_CYC)}, folder), tmp_path)
    trainable = {k: n for k, n in trainer.networks.items() if list(n.parameters())}
    before = {k: [p.clone() for p in n.parameters()] for k, n in trainable.items()}
    trainer._train_step(trainer.stages[0], trainer.model.phases("adversarial"))
    for key, net in trainable.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[key], net.parameters())), key
    assert set(trainable) == ({"generator", "discriminator"} if name == "pix2pix" else
                              {"gen_ab", "gen_ba", "disc_a", "disc_b"})


def test_cyclegan_cycle_and_identity_losses_equal_hand_computation(tmp_path, unpaired_folder):
    trainer = trainer_for(config({"name": "cyclegan", **TINY_CYC}, unpaired_folder), tmp_path)
    model = trainer.model.eval()  # no dropout or batch statistics: the same forward twice gives the same numbers
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    loss, scalars = model.loss("G", {"a": a, "b": b})
    with torch.no_grad():
        cycle = (model.gen_ba(model.gen_ab(a)) - a).abs().mean() + (model.gen_ab(model.gen_ba(b)) - b).abs().mean()
        identity = (model.gen_ab(b) - b).abs().mean() + (model.gen_ba(a) - a).abs().mean()
        gan = ((model.disc_b(model.gen_ab(a)) - 1) ** 2).mean() + ((model.disc_a(model.gen_ba(b)) - 1) ** 2).mean()
    assert torch.allclose(scalars["cycle"], cycle) and torch.allclose(scalars["identity"], identity)
    assert torch.allclose(loss, gan + 10 * cycle + 5 * identity, rtol=1e-5)  # lambda 10, identity 0.5 * lambda


def test_pix2pix_losses_equal_hand_computation(tmp_path, paired_folder):
    trainer = trainer_for(config({"name": "pix2pix", **TINY_P2P}, paired_folder), tmp_path)
    model = trainer.model.eval()
    x, y = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    model.on_step("adversarial", 0, 1)
    loss_g, scalars = model.loss("G", {"source": x, "target": y})
    loss_d, _ = model.loss("D", {})
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    with torch.no_grad():
        fake = model.generator(x)
        d_fake, d_real = model.discriminator(torch.cat([x, fake], 1)), model.discriminator(torch.cat([x, y], 1))
    assert torch.allclose(scalars["l1"], (fake - y).abs().mean())
    assert torch.allclose(loss_g, bce(d_fake, torch.ones_like(d_fake)) + 100 * (fake - y).abs().mean(), rtol=1e-5)
    expected_d = 0.5 * (bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake)))
    assert torch.allclose(loss_d, expected_d, rtol=1e-5)


def test_the_d_phase_needs_this_steps_g_phase(tmp_path, paired_folder):
    trainer = trainer_for(config({"name": "pix2pix", **TINY_P2P}, paired_folder), tmp_path)
    trainer.model.on_step("adversarial", 0, 1)
    with pytest.raises(RuntimeError, match="G must come first"):
        trainer.model.loss("D", {})


def test_learning_rate_is_constant_then_linear_to_zero(tmp_path, paired_folder):
    trainer = trainer_for(config({"name": "pix2pix", **TINY_P2P, "lr_decay_start": 0.5}, paired_folder, steps=4),
                          tmp_path)
    rates = []
    for _ in range(4):
        rates.append(trainer.optimizers["generator"].param_groups[0]["lr"])
        for scheduler in trainer.schedulers.values():
            scheduler.step()
    assert rates == pytest.approx([2e-4, 2e-4, 2e-4, 1e-4])


def test_cyclegan_resumes_bit_exactly_pools_included(tmp_path, monkeypatch, unpaired_folder):
    cfg = config({"name": "cyclegan", **TINY_CYC}, unpaired_folder, steps=8, checkpoint_every=4, log_every=2)
    straight = api.train(cfg, out=tmp_path / "straight", progress=False)
    original = Trainer._train_step

    def killed_at_step_6(self, *args):
        if self.global_step == 6:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(Trainer, "_train_step", killed_at_step_6)
    with pytest.raises(KeyboardInterrupt):
        api.train(cfg, out=tmp_path / "killed", progress=False)
    monkeypatch.setattr(Trainer, "_train_step", original)
    api.train(cfg, resume=tmp_path / "killed", progress=False)
    a = ckpt.load_networks(ckpt.latest_checkpoint(straight))
    b = ckpt.load_networks(ckpt.latest_checkpoint(tmp_path / "killed"))
    assert a.keys() == b.keys() and "pool_b" in a and int(a["pool_b"]["count"]) == 3
    for group in a:
        for key in a[group]:
            assert torch.equal(a[group][key], b[group][key]), (group, key)
    sa, sb = (ckpt.load_train_state(ckpt.latest_checkpoint(r)) for r in (straight, tmp_path / "killed"))
    assert sa["schedulers"] == sb["schedulers"]


def test_wrong_data_for_the_model_is_one_line(tmp_path, paired_folder, unpaired_folder):
    from multigan.errors import UserError

    cyclegan_on_pairs = config({"name": "cyclegan", **TINY_CYC}, unpaired_folder).to_dict()
    cyclegan_on_pairs["data"] = {"name": "paired_folder", "path": str(paired_folder), "resolution": 32}
    with pytest.raises(UserError, match="cyclegan trains on two unpaired domains: use data.name: unpaired_folder"):
        trainer_for(from_dict(cyclegan_on_pairs), tmp_path)
    odd_size = config({"name": "pix2pix", **TINY_P2P}, paired_folder).to_dict()
    odd_size["data"]["resolution"] = 48
    with pytest.raises(UserError, match="unet needs a power-of-two resolution >= 32, the data gives 48"):
        trainer_for(from_dict(odd_size), tmp_path)
