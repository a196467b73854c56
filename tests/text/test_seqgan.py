import math

import pytest
import torch

from multigan.text.generators import GeneratorConfig, TextModelError
from multigan.text.seqgan import SeqGAN, SeqGANDiscriminatorConfig, pg_loss, update_delayed

from .conftest import text_info


def tiny_seqgan(**kwargs) -> SeqGAN:
    torch.manual_seed(0)
    config = SeqGAN.Config(
        generator=GeneratorConfig(embed_dim=8, hidden_dim=8),
        discriminator=SeqGANDiscriminatorConfig(embed_dim=8, filter_sizes=[1, 2, 3], num_filters=[4, 5, 6]),
        num_rollouts=2, d_steps=2, **kwargs,
    )
    model = SeqGAN(config, text_info(vocab_size=12, max_len=6))
    model.batch_size = 8
    return model


def run_steps(model, stage: str, steps: int, data: torch.Tensor) -> list[dict]:
    """What the trainer does for one stage: freeze per phase, zero_grad, loss, backward, step, hooks."""
    optimizers, networks, logs = model.optimizers(), model.networks(), []
    for step in range(steps):
        model.on_step(stage, step, steps)
        for phase in model.phases(stage):
            for _ in range(phase.repeat):
                for name, net in networks.items():
                    net.requires_grad_(name in phase.trains)
                optimizers[phase.optimizer].zero_grad()
                batch = {"tokens": data[torch.randint(0, len(data), (8,))]} if phase.uses_data else {}
                loss, scalars = model.loss(phase.name, batch)
                loss.backward()
                optimizers[phase.optimizer].step()
                model.after_phase(phase.name)
                logs.append({"phase": phase.name, "loss": loss.item(), **{k: float(v) for k, v in scalars.items()}})
    return logs


def test_pg_loss_equals_a_hand_computation():
    log_probs = torch.tensor([[math.log(0.5), math.log(0.25)], [math.log(0.1), math.log(0.8)]], requires_grad=True)
    rewards = torch.tensor([[0.9, 0.2], [0.4, 0.6]])
    by_hand = -((math.log(0.5) * 0.9 + math.log(0.25) * 0.2) + (math.log(0.1) * 0.4 + math.log(0.8) * 0.6)) / 2
    loss = pg_loss(log_probs, rewards)
    assert loss.item() == pytest.approx(by_hand)
    loss.backward()
    torch.testing.assert_close(log_probs.grad, -rewards / 2)  # d loss / d log G = -Q / B


def test_delayed_update_moves_a_fifth_of_the_way():
    slow, fast = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    before = slow.weight.detach().clone()
    update_delayed(slow, fast, 0.8)
    torch.testing.assert_close(slow.weight, 0.8 * before + 0.2 * fast.weight.detach())


def test_phases_per_stage():
    model = tiny_seqgan()
    assert [p.name for p in model.phases("pretrain_g")] == ["G_mle"]
    assert [p.name for p in model.phases("pretrain_d")] == ["D"]
    pg, d = model.phases("adversarial")
    assert (pg.name, pg.uses_data, pg.optimizer) == ("G_pg", False, "generator_adv")
    assert (d.name, d.repeat) == ("D", 2)
    with pytest.raises(TextModelError, match="no stage 'warmup'"):
        model.phases("warmup")


def test_mle_learns_a_repeated_sequence():
    model = tiny_seqgan(lr_g_mle=0.05)
    data = torch.tensor([[4, 5, 6, 7, 2, 0]]).repeat(16, 1)
    logs = run_steps(model, "pretrain_g", 60, data)
    assert logs[-1]["loss"] < 0.3 * logs[0]["loss"]
    assert model.token_nll(data) == pytest.approx(logs[-1]["loss"], rel=0.2)


def test_discriminator_learns_real_from_generated():
    model = tiny_seqgan(lr_d=1e-2)
    data = torch.tensor([[4, 5, 6, 7, 2, 0]]).repeat(16, 1)
    logs = run_steps(model, "pretrain_d", 40, data)
    assert logs[-1]["d_accuracy"] > 0.9


def test_adversarial_step_trains_generator_only_and_moves_the_rollout_network():
    model = tiny_seqgan()
    discriminator_before = {k: v.clone() for k, v in model.discriminator.state_dict().items()}
    model.on_step("adversarial", 0, 1)
    assert bool(model.flags.rollout_synced)
    torch.testing.assert_close(model.rollout_network.output.weight, model.generator.output.weight)
    generator_before = model.generator.output.weight.detach().clone()

    optimizers = model.optimizers()
    for name, net in model.networks().items():
        net.requires_grad_(name == "generator")
    loss, scalars = model.loss("G_pg", {})
    loss.backward()
    assert all(p.grad is None for p in model.discriminator.parameters())
    optimizers["generator_adv"].step()
    model.after_phase("G_pg")

    generator_after = model.generator.output.weight.detach()
    assert not torch.equal(generator_after, generator_before)
    torch.testing.assert_close(model.rollout_network.output.weight, 0.8 * generator_before + 0.2 * generator_after)
    for key, value in model.discriminator.state_dict().items():
        assert torch.equal(value, discriminator_before[key])
    assert 0.0 < scalars["reward"] < 1.0


def test_resync_only_once():
    model = tiny_seqgan()
    model.on_step("adversarial", 0, 3)
    with torch.no_grad():
        model.generator.output.weight.add_(1.0)
    model.on_step("adversarial", 1, 3)  # later steps keep the delayed copy
    assert not torch.equal(model.rollout_network.output.weight, model.generator.output.weight)


def test_full_adversarial_loop_runs_and_samples():
    model = tiny_seqgan()
    data = torch.tensor([[4, 5, 6, 7, 2, 0]]).repeat(16, 1)
    logs = run_steps(model, "adversarial", 2, data)
    assert [entry["phase"] for entry in logs] == ["G_pg", "D", "D", "G_pg", "D", "D"]
    samples = model.sample(5, torch.Generator().manual_seed(0))["tokens"]
    assert samples.shape == (5, 6) and samples.dtype == torch.long


def test_filters_longer_than_the_sequence_are_a_config_error():
    config = SeqGAN.Config()  # the paper's filter sizes go up to 20
    with pytest.raises(TextModelError, match="model.discriminator: filter size 20 is longer than the sequences"):
        SeqGAN(config, text_info(max_len=12))


def test_init_generator_loads_a_finished_run_at_the_first_step(tmp_path):
    from multigan.core import checkpoint as ckpt

    source = tiny_seqgan()
    with torch.no_grad():
        source.generator.output.bias.fill_(0.5)
    folder = tmp_path / "mle" / "checkpoints" / "step-0000010"
    networks = {name: net.state_dict() for name, net in source.networks().items()}
    ckpt.save_checkpoint(folder, networks, {}, {"info": {"extra": {"vocab": source.info.extra["vocab"]}}})
    model = tiny_seqgan(init_generator=str(tmp_path / "mle"))  # a run folder: its latest checkpoint
    assert not torch.equal(model.generator.output.bias, source.generator.output.bias)  # not at construction
    model.on_step("adversarial", 0, 5)
    torch.testing.assert_close(model.generator.output.bias, source.generator.output.bias)
    torch.testing.assert_close(model.rollout_network.output.bias, source.generator.output.bias)
    assert bool(model.flags.generator_loaded)


def test_init_generator_refuses_another_vocabulary(tmp_path):
    from multigan.core import checkpoint as ckpt

    source = tiny_seqgan()
    networks = {name: net.state_dict() for name, net in source.networks().items()}
    ckpt.save_checkpoint(tmp_path / "ck", networks, {}, {"info": {"extra": {"vocab": ["x"]}}})
    model = tiny_seqgan(init_generator=str(tmp_path / "ck"))
    with pytest.raises(TextModelError, match="another vocabulary"):
        model.on_step("pretrain_g", 0, 5)
