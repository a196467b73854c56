"""Speed switches on one device: bf16 / fp16, channels_last, compile, fused Adam, thread defaults; and the launch
checks that fail before anything starts."""
import json
import logging

import pytest
import torch
from torch import nn

from multigan import api, cli
from multigan.core import speed
from multigan.core.sync_batchnorm import SyncBatchNorm, convert_sync_batchnorm
from multigan.recipe import from_dict


def tiny_config(**train):
    return from_dict({
        "model": {"name": "dcgan", "generator_width": 8, "discriminator_width": 8, "latent_dim": 16},
        "data": {"name": "digits", "train_size": 64, "test_size": 16},
        "train": {"steps": 2, "batch_size": 8, "log_every": 1, "sample_every": 0, "checkpoint_every": 0,
                  "preview_samples": 8, **train},
        "out": {"name": "tiny"},
    })


def losses(run) -> list[float]:
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    values = [r[k] for r in records for k in ("loss_D", "loss_G")]
    assert len(values) == 4
    return values


def test_bf16_autocast_with_channels_last_trains_with_finite_losses(tmp_path):
    run = api.train(tiny_config(amp="bf16", channels_last=True), out=tmp_path / "run", progress=False)
    assert all(isinstance(v, float) and 0 < v < 100 for v in losses(run))


@pytest.mark.slow
def test_compiled_networks_train_with_finite_losses(tmp_path):
    # Used to fail in the G phase: the generator's graph compiled while it was frozen had no grad_fn.
    run = api.train(tiny_config(compile=True), out=tmp_path / "run", progress=False)
    assert all(isinstance(v, float) and 0 < v < 100 for v in losses(run))


@pytest.fixture
def run_cli(capsys, tmp_path):
    """Launch dcgan_digits into tmp_path/run (never the working folder, should a check let it through): exit code
    and the error lines."""
    def run(*overrides: str) -> tuple[int, list[str]]:
        code = cli.main(["train", "dcgan_digits", "--out", str(tmp_path / "run"), "--set", *overrides])
        lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("multigan: error")]
        return code, lines
    return run


def test_fp16_on_a_cpu_is_one_line(run_cli):
    code, lines = run_cli("train.amp=fp16", "train.device=cpu")
    assert code == 1 and len(lines) == 1 and "fp16 needs a CUDA device" in lines[0]


def test_a_global_batch_that_does_not_split_across_the_processes_is_one_line_from_rank_0(run_cli, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    code, lines = run_cli("train.batch_size=15")
    assert code == 1 and len(lines) == 1 and "15 does not divide by 2" in lines[0]
    monkeypatch.setenv("RANK", "1")  # the same check fails on every rank; only rank 0 prints it
    assert run_cli("train.batch_size=15") == (1, [])


def test_fused_adam_replaces_plain_adam_and_takes_the_same_steps():
    torch.manual_seed(0)
    plain_net = nn.Linear(5, 3)
    fused_net = nn.Linear(5, 3)
    fused_net.load_state_dict(plain_net.state_dict())
    plain = torch.optim.Adam(plain_net.parameters(), lr=1e-2, betas=(0.5, 0.999))
    fused = speed.fuse_optimizers({"g": torch.optim.Adam(fused_net.parameters(), lr=1e-2, betas=(0.5, 0.999))})["g"]
    assert fused.defaults["fused"] and fused.defaults["betas"] == (0.5, 0.999)
    for _ in range(3):
        x = torch.randn(4, 5)
        for net, opt in ((plain_net, plain), (fused_net, fused)):
            opt.zero_grad()
            net(x).square().mean().backward()
            opt.step()
    for a, b in zip(plain_net.parameters(), fused_net.parameters()):
        torch.testing.assert_close(a, b)


def test_threads_default_to_physical_cores_and_warn_once_when_the_machine_is_busy(monkeypatch, caplog):
    before = torch.get_num_threads()
    try:
        assert speed.configure_threads(1) == 1 and torch.get_num_threads() == 1
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        monkeypatch.setattr(speed, "_warned_busy", False)
        monkeypatch.setattr(speed.os, "getloadavg", lambda: (1000.0, 1000.0, 1000.0))
        with caplog.at_level(logging.WARNING, logger="multigan"):
            assert speed.configure_threads(0) == speed.physical_cores() >= 1
            speed.configure_threads(0)
        assert sum("the machine is busy" in r.message for r in caplog.records) == 1
        monkeypatch.setenv("OMP_NUM_THREADS", "1")  # an explicit setting wins and silences the advice
        torch.set_num_threads(1)
        assert speed.configure_threads(0) == 1
    finally:
        torch.set_num_threads(before)


def test_sync_batchnorm_is_plain_batchnorm_in_one_process_with_the_same_state_keys():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
    reference = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
    reference.load_state_dict(net.state_dict())
    convert_sync_batchnorm(net)
    assert isinstance(net[1], SyncBatchNorm) and net.state_dict().keys() == reference.state_dict().keys()
    x = torch.randn(6, 2, 8, 8)
    torch.testing.assert_close(net(x), reference(x))
    torch.testing.assert_close(net[1].running_var, reference[1].running_var)


def test_compile_without_a_cpu_compiler_is_one_line(run_cli, monkeypatch):
    monkeypatch.setattr(speed.shutil, "which", lambda name: None)
    code, lines = run_cli("train.compile=true", "train.device=cpu")
    assert code == 1 and len(lines) == 1 and "needs a C++ compiler" in lines[0]


def test_an_unknown_compile_mode_is_one_line_even_with_compile_off(run_cli, tmp_path):
    code, lines = run_cli("train.compile_mode=reduce_overhead", "train.device=cpu")
    assert code == 1 and len(lines) == 1
    assert "train.compile_mode must be one of default, reduce-overhead" in lines[0] and "reduce_overhead" in lines[0]
    assert not (tmp_path / "run").exists()  # refused before the run folder is made


@pytest.mark.parametrize("mode, passed", [("default", None), ("reduce-overhead", "reduce-overhead")])
def test_the_compile_mode_reaches_torch_compile(monkeypatch, mode, passed):
    modes = []
    monkeypatch.setattr(nn.Module, "compile", lambda self, **kwargs: modes.append(kwargs["mode"]))
    speed.compile_networks({"generator": nn.Linear(2, 2), "discriminator": nn.Linear(2, 1)}, torch.device("cpu"), mode)
    assert modes == [passed, passed]


@pytest.mark.parametrize("grad_clip", [0.0, 0.5])
def test_fp16_loss_scaling_takes_the_unscaled_step(grad_clip):
    # The fp16 path (scale, unscale for clipping, scaler.step, update) on the CPU's GradScaler, without fp16
    # autocast: power-of-two scaling is exact in fp32, so it must equal the plain update bit for bit.
    from multigan.core.phases import Phase
    from multigan.core.update import Updater

    torch.manual_seed(0)
    nets = [nn.Linear(4, 2), nn.Linear(4, 2)]
    nets[1].load_state_dict(nets[0].state_dict())
    updaters = [Updater({"g": net}, {"g": torch.optim.Adam(net.parameters(), lr=0.1)}, amp, grad_clip,
                        torch.device("cpu")) for net, amp in zip(nets, ("none", "fp16"))]
    assert set(updaters[1].scalers) == {"g"} and not updaters[0].scalers
    phase = Phase("G", ("g",), "g")
    x = torch.randn(8, 4)
    for _ in range(3):
        for net, updater in zip(nets, updaters):
            updater.optimizers["g"].zero_grad()
            updater.step(phase, net(x).square().mean())
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.equal(a, b)
    assert updaters[1].state_dict()["g"]["scale"] == 2.0**16


def test_auto_precision_is_bf16_only_where_the_device_computes_it_natively(monkeypatch):
    cpu = torch.device("cpu")
    assert speed.resolve_amp("auto", cpu, flags=frozenset({"avx512f", "avx512_bf16"})) == "bf16"
    assert speed.resolve_amp("auto", cpu, flags=frozenset({"amx_bf16", "amx_tile"})) == "bf16"
    assert speed.resolve_amp("auto", cpu, flags=frozenset({"avx512f", "avx2"})) == "none"  # emulated: slower
    assert speed.resolve_amp("fp16", cpu, flags=frozenset()) == "fp16"  # an explicit choice stays as it is
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: not including_emulation)
    assert speed.resolve_amp("auto", torch.device("cuda")) == "bf16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: False)
    assert speed.resolve_amp("auto", torch.device("cuda")) == "none"


def test_time_clock_is_wall_or_cpu_and_a_typo_is_one_line():
    import time

    from multigan.core.distributed import LaunchError
    from multigan.core.speed import training_clock

    assert training_clock("wall") is time.perf_counter and training_clock("cpu") is time.process_time
    with pytest.raises(LaunchError, match="train.time_clock must be one of wall, cpu, got 'gpu'"):
        training_clock("gpu")
