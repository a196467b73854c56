"""Seconds per SeqGAN policy-gradient step (model.d_steps=0) at `seqgan_oracle` settings: the plain path as it was
before the shared-prefix rewards ("before") against the current one ("after"), interleaved in one process.

    OMP_NUM_THREADS=1 python benchmarks/seqgan_step.py             # 1 thread, CPU
    python benchmarks/seqgan_step.py --device cuda --repeats 5

One step = sample a batch (B=64, L=20) from G, 16 rollouts per prefix from the rollout network, D's P(real) of
every completion (19 x 16 x 64 = 19,456 sequences + the 64 samples), G's forward + backward + Adam step.
  before  the reference inverse CDF (softmax + cumsum over V) in 256-row chunks of the whole policy step, and
          D's plain forward (convolutions over every window of every completion, two F x F highway products)
  after   the two-level inverse CDF in 64-row chunks with one LSTM call per position, and the shared-prefix
          rewards (multigan/text/rewards.py)
Networks have the oracle recipe's shapes (V=5000, LSTM 32/32, D filters 1..20 x 1720) and seed-0 weights (speed
does not depend on their values); with --oracle the generator starts as the oracle LSTM (a pre-trained G's stand-in).
Also printed: the two parts timed apart (rollouts, rewards) and the max |reward difference| of the two paths.
"""
from __future__ import annotations

import argparse
import contextlib
import platform
import statistics
import time
from pathlib import Path

import torch

import multigan.text.generators as generators
from multigan.core.phases import DataInfo
from multigan.text.base import evaluating
from multigan.text.rollout import rollout, rollout_rewards
from multigan.text.seqgan import SeqGAN, pg_loss
from multigan.text.generators import sequence_log_probs


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    return f"{cpu} ({torch.get_num_threads()} threads)"


class WithoutAdvance(torch.nn.Module):
    """The policy interface as it was: `step` only, so sample_step chunks the whole step."""

    def __init__(self, policy):
        super().__init__()
        self.policy = policy

    def step(self, token, state):
        return self.policy.step(token, state)

    def select_state(self, state, index):
        return self.policy.select_state(state, index)

    def concat_states(self, states):
        return self.policy.concat_states(states)


@contextlib.contextmanager
def plain_sampling():
    """The sampler before this change: one-level inverse CDF, 256-row chunks."""
    saved = generators._invert_cdf, generators.CPU_CHUNK_ROWS
    generators._invert_cdf, generators.CPU_CHUNK_ROWS = generators._invert_cdf_reference, 256
    try:
        yield
    finally:
        generators._invert_cdf, generators.CPU_CHUNK_ROWS = saved


def pg_step(model: SeqGAN, optimizer, plain: bool, times: dict) -> None:
    """What the trainer's G_pg phase does: loss, backward, Adam step."""
    sync = torch.cuda.synchronize if model.device.type == "cuda" else (lambda: None)
    start = time.perf_counter()
    optimizer.zero_grad()
    tokens = model.fake_tokens(model.batch_size)  # (B, L)
    with evaluating(model.rollout_network, model.discriminator):
        policy = WithoutAdvance(model.rollout_network) if plain else model.rollout_network
        with plain_sampling() if plain else contextlib.nullcontext():
            completions = rollout(policy, tokens, model.config.num_rollouts, model.bos_id)
        sync()
        mid = time.perf_counter()
        rewards = rollout_rewards(model.discriminator, completions, tokens, shared_prefix=not plain)
        sync()
        times.setdefault("rollouts", []).append(mid - start)
        times.setdefault("rewards", []).append(time.perf_counter() - mid)
    loss = pg_loss(sequence_log_probs(model.generator, tokens, model.bos_id), rewards)
    loss.backward()
    optimizer.step()
    sync()
    times.setdefault("step", []).append(time.perf_counter() - start)


def build(device: torch.device, oracle: bool) -> SeqGAN:
    torch.manual_seed(0)
    info = DataInfo("text", (20,), extra={"vocab": [str(i) for i in range(5000)], "bos_id": 0, "eos_id": None})
    model = SeqGAN(SeqGAN.Config(d_steps=0), info)
    if oracle:
        from multigan.core.data import resolve_data_root
        from multigan.text.oracle import OracleData
        source = OracleData(OracleData.Config(), resolve_data_root(), "train").oracle
        model.generator.load_state_dict(source.state_dict())
    model.rollout_network.load_state_dict(model.generator.state_dict())
    model.to(device)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3, help="steps per path (interleaved), after one warm-up each")
    parser.add_argument("--oracle", action="store_true", help="start G from the oracle LSTM (needs MULTIGAN_DATA)")
    args = parser.parse_args()
    device = torch.device(args.device)
    model = build(device, args.oracle)
    optimizer = model.optimizers()["generator_adv"]
    print(f"device: {device_name(device)}; torch {torch.__version__}; OMP_NUM_THREADS="
          f"{__import__('os').environ.get('OMP_NUM_THREADS', 'unset')}")
    print("seqgan_oracle shapes: B=64, L=20, V=5000, 16 rollouts, D filters 1..20 (1720), model.d_steps=0")

    with torch.no_grad(), evaluating(model.rollout_network, model.discriminator):  # same completions, both paths
        tokens = model.fake_tokens(64)
        completions = rollout(model.rollout_network, tokens, 16, model.bos_id)
        difference = (rollout_rewards(model.discriminator, completions, tokens, shared_prefix=False)
                      - rollout_rewards(model.discriminator, completions, tokens)).abs().max().item()
    print(f"max |reward(before) - reward(after)| on one batch: {difference:.2e}")

    times = {"before": {}, "after": {}}
    for plain in (True, False):  # warm-up
        pg_step(model, optimizer, plain, {})
    for _ in range(args.repeats):
        for name, plain in (("before", True), ("after", False)):
            pg_step(model, optimizer, plain, times[name])
    median = {name: {part: statistics.median(v) for part, v in parts.items()} for name, parts in times.items()}
    for name in ("before", "after"):
        m = median[name]
        print(f"  {name:6s} {m['step']:7.2f} s/step   (rollouts {m['rollouts']:.2f} s, rewards {m['rewards']:.2f} s)")
    print(f"  speed-up x{median['before']['step'] / median['after']['step']:.2f} "
          f"(rollouts x{median['before']['rollouts'] / median['after']['rollouts']:.2f}, "
          f"rewards x{median['before']['rewards'] / median['after']['rewards']:.2f}), median of {args.repeats}")


if __name__ == "__main__":
    main()
