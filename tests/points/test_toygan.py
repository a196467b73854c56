"""The toy GAN on the game: PacGAN's networks by default, every loss family and regulariser, class conditioning,
unbounded samples, and PacGAN's packs: D's input shape, packs all real or all generated, bad pack settings."""
import pytest
import torch

from multigan import api
from multigan.core.game import ModelConfigError
from multigan.core.phases import DataInfo
from multigan.points.toygan import Maxout, ToyGAN, ToyGANConfig
from multigan.recipe import from_dict

from cli_support import one_error_line, run_cli

INFO = DataInfo("points", (2,), 8, [f"mode_{k}" for k in range(8)], {"bounds": [-1.0, 1.0, -1.0, 1.0]})
SMALL = {"generator_widths": (16, 16), "discriminator_widths": (8, 8)}


def tiny(**config) -> ToyGAN:
    model = ToyGAN(ToyGANConfig(**{**SMALL, **config}), INFO)
    model.batch_size = 12
    return model


def batch(n: int = 12) -> dict:
    return {"points": torch.randn(n, 2), "label": torch.arange(n) % 8}


def test_the_defaults_are_pacgans_networks():
    model = ToyGAN(ToyGANConfig(), INFO)
    linears = [m for m in model.generator.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(2, 400)] + [(400, 400)] * 3 + [(400, 2)]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in model.generator.modules()) == 4
    units = [m for m in model.discriminator.modules() if isinstance(m, Maxout)]
    assert [(u.linear.in_features, u.width, u.pieces) for u in units] == [(2, 200, 5), (200, 200, 5), (200, 200, 5)]
    assert 0.015 < float(linears[1].weight.detach().std()) < 0.025 and model.config.betas == (0.8, 0.999)


@pytest.mark.parametrize("config", [
    {"loss": "nonsaturating"}, {"loss": "minimax"}, {"loss": "hinge", "spectral_norm": True},
    {"loss": "wasserstein", "gp_weight": 10.0, "d_steps": 2}, {"loss": "lsgan", "real_label": 0.9},
    {"loss": "relativistic", "r1_gamma": 1.0}, {"conditional": True, "maxout": 1, "generator_norm": "none"},
], ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_every_loss_family_and_regulariser_gives_finite_losses_and_gradients(config):
    model = tiny(**config)
    for phase in ("D", "G"):
        loss, _ = model.loss(phase, batch())
        loss.backward()
        assert torch.isfinite(loss)
    assert all(p.grad is not None for p in model.generator.parameters())


def test_samples_are_unbounded_points_and_conditional_ones_follow_the_condition():
    model = tiny(conditional=True).eval()
    with torch.no_grad():
        model.generator.main[-1].bias.fill_(5.0)  # a generator far outside [-1, 1]
    samples = model.sample(16, torch.Generator().manual_seed(0), torch.full((16,), 3))
    assert samples["points"].shape == (16, 2) and samples["points"].min() > 2  # not clamped like images
    assert samples["label"].tolist() == [3] * 16


def test_pacgan_d_judges_packs_of_m_points_each_all_real_or_all_generated():
    model = tiny(pack=3)
    seen = []
    judge = model.discriminator.forward
    model.discriminator.forward = lambda x, labels=None: seen.append(x.detach().clone()) or judge(x, labels)
    real = batch()["points"]
    model.loss("D", {"points": real})
    assert [x.shape for x in seen] == [(4, 6), (4, 6)]  # B = 12 points -> 4 packs of 3: (B/m, 2m)
    assert torch.equal(seen[0], real.reshape(4, 6))  # pack i = points 3i, 3i + 1, 3i + 2 of the real batch alone
    assert not any(torch.equal(seen[1][i, :2], r) for i in range(4) for r in real)  # the other call: only fakes
    first_layer = model.discriminator.main[0].linear
    assert first_layer.in_features == 6 and model.generator.main[0].in_features == 2


def test_a_packed_model_scores_single_points_as_packs_of_copies():
    model = tiny(pack=2).eval()
    points = torch.randn(5, 2)
    assert torch.equal(model.decision(points), model.discriminator(torch.cat([points, points], dim=1)))
    assert tiny(conditional=True).decision(points) is None  # a conditional D needs labels: no map


def test_pack_with_conditioning_or_below_1_is_refused_in_one_line():
    with pytest.raises(ModelConfigError, match=r"^model.pack: 2 with model.conditional: true is not supported"):
        tiny(pack=2, conditional=True)
    with pytest.raises(ModelConfigError, match=r"^model.pack must be a whole number >= 1 \(1: no packing\), got 0"):
        tiny(pack=0)


def toy_recipe(**train):
    return from_dict({"model": {"name": "toygan", "pack": 3, **SMALL},
                      "data": {"name": "ring", "n_train": 256, "n_test": 64},
                      "train": {"steps": 1, "batch_size": 16, "sample_every": 0, "checkpoint_every": 0, **train}})


def test_a_pack_that_does_not_divide_the_batch_is_one_line_before_anything_is_written(tmp_path):
    with pytest.raises(ModelConfigError) as caught:
        api.train(toy_recipe(), out=tmp_path / "run", progress=False)
    assert str(caught.value) == ("model.pack (3) must divide train.batch_size (16): D judges packs of 3 examples, "
                                 "all real or all generated; use a multiple of 3")
    assert not (tmp_path / "run").exists()
    model = tiny(pack=3)
    with pytest.raises(ModelConfigError, match=r"each process's share of train.batch_size \(24 over 3 processes: 8\)"):
        model.check_batch_size(24, world=3)  # 24 packs into 3s, 8 a process does not


def test_the_cli_names_model_pack_and_train_batch_size(tmp_path, capsys):
    code, _, err = run_cli(capsys, "train", "toygan_ring", "--set", "model.pack=3", "train.batch_size=100",
                           "data.n_train=300", "--out", tmp_path / "run", "--quiet")
    assert code == 1 and one_error_line(err) == ("multigan: error: model.pack (3) must divide train.batch_size (100): "
                                                 "D judges packs of 3 examples, all real or all generated; use a "
                                                 "multiple of 3")
