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

    --textgan DIR   also time TextGAN-PyTorch's SeqGAN adversarial step (instructor/oracle_data/seqgan_instructor.py
                    adv_train_generator with g_step=1, without its metrics), importing its modules from an unpacked
                    copy of williamSYSU/TextGAN-PyTorch at DIR with the oracle settings (CPU; nothing is copied here)
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from pathlib import Path

import torch

import multigan.text.generators as generators
from multigan.core.speed import autocast
from multigan.core.phases import DataInfo
from multigan.text.base import evaluating
from multigan.text.rollout import rollout, rollout_rewards
from multigan.text.seqgan import SeqGAN, pg_loss
from multigan.text.generators import sequence_log_probs
from harness import device_name


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


def textgan_step_seconds(folder: str, repeats: int) -> float:
    """Median seconds of TextGAN-PyTorch's SeqGAN generator step: sample 64, 16 x 20 MC rollouts + D each, PG loss,
    Adam step (its own code, its own networks at the oracle shapes: G 32/32, D emb 64, filters 1..20)."""
    import sys
    sys.path.insert(0, str(Path(folder).resolve()))
    import config as cfg  # TextGAN-PyTorch's module-level settings; the oracle's are its defaults
    cfg.CUDA = False
    from models.SeqGAN_D import SeqGAN_D
    from models.SeqGAN_G import SeqGAN_G
    from utils import rollout as textgan_rollout
    from utils.data_loader import GenDataIter

    torch.manual_seed(0)
    gen = SeqGAN_G(cfg.gen_embed_dim, cfg.gen_hidden_dim, cfg.vocab_size, cfg.max_seq_len, cfg.padding_idx)
    dis = SeqGAN_D(cfg.dis_embed_dim, cfg.vocab_size, cfg.padding_idx)
    optimizer = torch.optim.Adam(gen.parameters(), lr=cfg.gen_lr)  # its gen_adv_opt
    times = []
    for _ in range(repeats + 1):  # the first is a warm-up
        start = time.perf_counter()
        rollout_func = textgan_rollout.ROLLOUT(gen, False)  # as adv_train_generator, once per call
        inp, target = GenDataIter.prepare(gen.sample(cfg.batch_size, cfg.batch_size))
        rewards = rollout_func.get_reward(target, cfg.rollout_num, dis)
        loss = gen.batchPGLoss(inp, target, rewards)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    print(f"  TextGAN-PyTorch settings: B={cfg.batch_size}, L={cfg.max_seq_len}, V={cfg.vocab_size}, "
          f"{cfg.rollout_num} rollouts, G {cfg.gen_embed_dim}/{cfg.gen_hidden_dim}, D emb {cfg.dis_embed_dim}")
    return statistics.median(times[1:])


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
    parser.add_argument("--textgan", metavar="DIR", help="an unpacked TextGAN-PyTorch to time side by side (CPU)")
    parser.add_argument("--amp", default="none", choices=["none", "bf16"],
                        help="after only: the step under bf16 autocast, as train.amp: bf16 runs it")
    args = parser.parse_args()
    device = torch.device(args.device)
    model = build(device, args.oracle)
    optimizer = model.optimizers()["generator_adv"]
    print(f"device: {device_name(device)}; torch {torch.__version__}; OMP_NUM_THREADS="
          f"{__import__('os').environ.get('OMP_NUM_THREADS', 'unset')}")
    print("seqgan_oracle shapes: B=64, L=20, V=5000, 16 rollouts, D filters 1..20 (1720), model.d_steps=0; "
          f"after: amp={args.amp}")

    with torch.no_grad(), evaluating(model.rollout_network, model.discriminator):  # same completions, both paths
        tokens = model.fake_tokens(64)
        completions = rollout(model.rollout_network, tokens, 16, model.bos_id)
        difference = (rollout_rewards(model.discriminator, completions, tokens, shared_prefix=False)
                      - rollout_rewards(model.discriminator, completions, tokens, shared_prefix=True)).abs().max().item()
    print(f"max |reward(before) - reward(after)| on one batch: {difference:.2e}")
    if args.amp != "none":
        with torch.no_grad(), evaluating(model.rollout_network, model.discriminator):
            with autocast(device, args.amp):
                low = rollout_rewards(model.discriminator, completions, tokens, shared_prefix=True)
            plain = rollout_rewards(model.discriminator, completions, tokens, shared_prefix=False)
        print(f"max |reward(before) - reward(after, {args.amp})| on the same batch: "
              f"{(plain - low.float()).abs().max().item():.2e}")

    times = {"before": {}, "after": {}}
    after_autocast = lambda: autocast(device, args.amp)  # noqa: E731
    for plain in (True, False):  # warm-up
        with contextlib.nullcontext() if plain else after_autocast():
            pg_step(model, optimizer, plain, {})
    for _ in range(args.repeats):
        for name, plain in (("before", True), ("after", False)):
            with contextlib.nullcontext() if plain else after_autocast():
                pg_step(model, optimizer, plain, times[name])
    median = {name: {part: statistics.median(v) for part, v in parts.items()} for name, parts in times.items()}
    for name in ("before", "after"):
        m = median[name]
        print(f"  {name:6s} {m['step']:7.2f} s/step   (rollouts {m['rollouts']:.2f} s, rewards {m['rewards']:.2f} s)")
    print(f"  speed-up x{median['before']['step'] / median['after']['step']:.2f} "
          f"(rollouts x{median['before']['rollouts'] / median['after']['rollouts']:.2f}, "
          f"rewards x{median['before']['rewards'] / median['after']['rewards']:.2f}), median of {args.repeats}")
    if args.textgan:
        theirs = textgan_step_seconds(args.textgan, args.repeats)
        print(f"  TextGAN-PyTorch {theirs:7.2f} s/step   -> after is x{theirs / median['after']['step']:.2f} faster")


if __name__ == "__main__":
    main()
