"""Does a text feature space see word order? fd_norm of real, locally shuffled (3-word windows) and fully shuffled
MS-COCO captions, and of Texygen's published generator samples, in the learned sentence space ("sentence-encoder")
and the hashed n-gram space ("ngram-hash"), on the same sets (README: the text feature spaces).

Protocol: reference = N test captions (eval seed 12345's subset); K disjoint slices of N train captions, each scored
real, local-shuffled and full-shuffled (shuffle seed = slice index); floor = the mean FD of the real slices, and
fd_norm = (FD - floor) / (baseline - floor), baseline = N uniform random token sequences (seed 12345). Real slices
give the floor's spread; Texygen instances (docs/instances/*.txt, their first N lines) are single numbers.

    OMP_NUM_THREADS=1 MULTIGAN_DATA=/path/to/data python benchmarks/text_sentence_space.py --cache /tmp/mg-cache
"""
from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
import torch

from multigan.core.data import resolve_data_root
from multigan.metrics.base import EvalContext
from multigan.metrics.config import EvalConfig
from multigan.metrics.feature_metrics import frechet_score
from multigan.metrics.features import FeatureSession, subset_indices
from multigan.registry import DATASETS, FEATURES, load_plugins
from multigan.text.corruptions import full_shuffle, local_shuffle, pack_words, sentence_words
from multigan.text.modality import TextModality
from multigan.text.tokenizers import word_split

INSTANCES = ("mle", "seq", "maligan", "rank", "leakgan", "textgan")


def instance_tokens(path: Path, n: int, info) -> torch.Tensor:
    index = {token: i for i, token in enumerate(info.extra["vocab"])}
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()][:n]
    words = [[index.get(w, info.extra["unk_id"]) for w in word_split(line)] for line in lines]
    return pack_words(words, info.shape[0], info.extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--slices", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/multigan-text-space"))
    parser.add_argument("--extractors", nargs="+", default=["sentence-encoder", "ngram-hash"])
    parser.add_argument("--out", type=Path, default=None)
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
    noise = TextModality.trivial_samples(args.n, torch.Generator().manual_seed(config.seed), context.info)["tokens"]
    results = {}
    for extractor_name in args.extractors:
        started = time.process_time()
        extractor = FEATURES.get(extractor_name).from_context(config, context)
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
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
