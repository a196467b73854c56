"""Does a text feature space see word order? fd_norm of real, locally shuffled (3-word windows) and fully shuffled
MS-COCO captions, and of Texygen's published generator samples, in the learned sentence space ("sentence-encoder")
and the hashed n-gram space ("ngram-hash"), on the same sets (README: the text feature spaces).

Protocol: reference = N test captions (eval seed 12345's subset); K disjoint slices of N train captions, each scored
real, local-shuffled and full-shuffled (shuffle seed = slice index); floor = the mean FD of the real slices, and
fd_norm = (FD - floor) / (baseline - floor), baseline = N uniform random token sequences (seed 12345). Real slices
give the floor's spread; Texygen instances (docs/instances/*.txt, their first N lines) are single numbers.
With --run (an MLE run on COCO with checkpoints at the --epochs), its generator is sampled at every epoch (T = 1) and
at every --temperature (last epoch), N sentences from each of --sample-seeds seeds: a mean ± std per set. Every
fd_norm is also printed in floor spreads (its distance from real divided by the real slices' std): how many times
the noise of the measure a difference is.

    OMP_NUM_THREADS=1 MULTIGAN_DATA=/path/to/data python benchmarks/text_sentence_space.py --cache /tmp/mg-cache
    multigan train seqgan_coco --set "train.stages=[{name: pretrain_g, steps: 4680}]" train.checkpoint_every=156 \
        train.keep_checkpoints=40 --out /tmp/mle_coco       # then: ... text_sentence_space.py --run /tmp/mle_coco
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
import torch

from multigan.api import load_run
from multigan.core.data import resolve_data_root
from multigan.metrics.base import EvalContext
from multigan.metrics.config import EvalConfig
from multigan.metrics.feature_metrics import frechet_score
from multigan.metrics.features import FeatureSession
from multigan.registry import DATASETS, FEATURES, load_plugins
from multigan.text.corruptions import full_shuffle, local_shuffle, pack_words, sentence_words
from multigan.text.modality import TextModality
from multigan.text.sentence_encoder import SentenceEncoderConfig
from multigan.text.tokenizers import word_split

INSTANCES = ("mle", "seq", "maligan", "rank", "leakgan", "textgan")
ENCODER = "sentence-encoder"


def instance_tokens(path: Path, n: int, info) -> torch.Tensor:
    index = {token: i for i, token in enumerate(info.extra["vocab"])}
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()][:n]
    words = [[index.get(w, info.extra["unk_id"]) for w in word_split(line)] for line in lines]
    return pack_words(words, info.shape[0], info.extra)


def generator_sets(run: Path, train_size: int, epochs: list[int], temperatures: list[float], n: int,
                   seeds: list[int]) -> dict[str, list[torch.Tensor]]:
    """N samples per seed of the run's generator at each epoch (T = 1) and at each temperature (last epoch)."""
    config, _, _ = load_run(run, device="cpu")
    steps_per_epoch = train_size // config.train.batch_size  # the loader drops the last partial batch
    wanted = [(f"mle_epoch_{e}", e * steps_per_epoch, 1.0) for e in epochs]
    wanted += [(f"mle_T_{t:g}", epochs[-1] * steps_per_epoch, t) for t in temperatures if t != 1.0]
    sets = {}
    for name, step, temperature in wanted:
        _, model, _ = load_run(run, f"step-{step}", device="cpu")
        sets[name] = [model.sample(n, torch.Generator().manual_seed(seed), temperature=temperature)["tokens"]
                      for seed in seeds]
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--slices", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/multigan-text-space"))
    parser.add_argument("--extractors", nargs="+", default=["sentence-encoder", "ngram-hash"])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--run", type=Path, default=None, help="an MLE run on COCO with the epochs' checkpoints")
    parser.add_argument("--epochs", type=int, nargs="+", default=[1, 3, 10, 30])
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.5, 1.0, 1.5])
    parser.add_argument("--sample-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--encoder-steps", type=int, default=SentenceEncoderConfig.steps,
                        help="training steps of the sentence encoder (its default: the registered extractor's)")
    args = parser.parse_args()
    load_plugins()
    root = resolve_data_root()
    kind = DATASETS.get("coco")
    config = EvalConfig(n_samples=args.n, batch_size=500)
    context = EvalContext(kind(kind.Config(), root, "train").info, "coco", kind.Config(), root, args.cache,
                          torch.device("cpu"))
    train, extra = context.dataset("train"), context.info.extra
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))
    sets: dict[str, list[torch.Tensor]] = {"real": [], "local_shuffle": [], "full_shuffle": []}
    for k in range(args.slices):
        words = sentence_words(train.tokens[order[k * args.n:(k + 1) * args.n]], extra)
        for name, corrupt in (("real", None), ("local_shuffle", local_shuffle), ("full_shuffle", full_shuffle)):
            rng = random.Random(k)
            sets[name].append(pack_words([corrupt(w, rng) if corrupt else w for w in words], 25, extra))
    folder = root / "text" / "texygen_instances"
    for name in INSTANCES:
        sets[f"texygen_{name}"] = [instance_tokens(folder / f"{name}.txt", args.n, context.info)]
    if args.run:
        sets.update(generator_sets(args.run, len(train), args.epochs, args.temperatures, args.n, args.sample_seeds))
    noise = TextModality.trivial_samples(args.n, torch.Generator().manual_seed(config.seed), context.info)["tokens"]
    results = {}
    for extractor_name in args.extractors:
        started = time.process_time()
        settings = {"settings": SentenceEncoderConfig(steps=args.encoder_steps)} if extractor_name == ENCODER else {}
        extractor = FEATURES.get(extractor_name).from_context(config, context, **settings)
        built = time.process_time() - started
        session = FeatureSession(config, context, extractor_name, extractor)
        reference = session.reference()
        fd = {name: [frechet_score(extractor.extract(t.split(500)), reference) for t in parts]
              for name, parts in sets.items()}
        baseline = frechet_score(extractor.extract(noise.split(500)), reference)
        floor = float(np.mean(fd["real"]))
        norm = {name: [(v - floor) / (baseline - floor) for v in values] for name, values in fd.items()}
        results[extractor_name] = {
            "protocol": session.protocol(args.n), "cpu_s_to_build": round(built, 1), "fd_floor": floor,
            "fd_baseline": baseline, "fd": fd,
            "fd_norm": {name: {"mean": float(np.mean(v)), "std": float(np.std(v, ddof=1)) if len(v) > 1 else None}
                        for name, v in norm.items()}}
        print(f"\n{extractor_name} (built in {built:.0f} CPU-s): floor FD {floor:.4g}, baseline FD {baseline:.4g}")
        for name, value in results[extractor_name]["fd_norm"].items():
            spread = f" ± {value['std']:.4f}" if value["std"] is not None else ""
            print(f"  {name:16s} fd_norm {value['mean']:.4f}{spread}")
        floor_spread = results[extractor_name]["fd_norm"]["real"]["std"] or float("nan")
        print("  separation in floor spreads (fd_norm / std of the real slices): " + ", ".join(
            f"{name} {value['mean'] / floor_spread:.1f}" for name, value in results[extractor_name]["fd_norm"].items()
            if name != "real"))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
