"""Plot NLL-oracle of `multigan train seqgan_oracle` runs (their metrics.jsonl) into a small PNG for the README.

    python recipes/results/plot_seqgan_oracle.py recipes/results/seqgan_oracle_nll.png runs/seqgan_oracle [more runs ...]

The first run is drawn whole (MLE epochs, then adversarial steps); further runs add their adversarial curves.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

PAPER = {"MLE (paper) 9.038": 9.038, "SeqGAN (paper) 8.736": 8.736}
STEPS_PER_EPOCH = 156  # 10k sequences / batch 64


def eval_points(run: Path) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(MLE epoch, NLL) and (PG step, NLL) pairs; stage boundaries come from the run's resolved config.yaml."""
    stages = yaml.safe_load((run / "config.yaml").read_text())["train"]["stages"]
    ends, total = {}, 0
    for stage in stages:
        total += stage["steps"]
        ends[stage["name"]] = total
    adversarial_start = ends["adversarial"] - next(s["steps"] for s in stages if s["name"] == "adversarial")
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    evals = [(r["step"], r["nll_oracle"]) for r in records if r["kind"] == "eval" and "nll_oracle" in r]
    mle = [(step / STEPS_PER_EPOCH, nll) for step, nll in evals if step <= ends.get("pretrain_g", 0)]
    adversarial = [(step - adversarial_start, nll) for step, nll in evals if step > adversarial_start]
    return mle, adversarial


def main(out: str, runs: list[str]) -> None:
    mle, adversarial = eval_points(Path(runs[0]))
    offset = mle[-1][0]
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    ax.plot([e for e, _ in mle], [v for _, v in mle], "o-", ms=3, label="MLE pre-training (x: epochs)")
    ax.plot([offset + s for s, _ in adversarial], [v for _, v in adversarial], "o-", ms=3,
            label="SeqGAN adversarial (x: PG steps after the line)")
    for run in runs[1:]:
        _, extra = eval_points(Path(run))
        ax.plot([offset + s for s, _ in extra], [v for _, v in extra], "-", lw=1, alpha=0.6,
                label=f"{Path(run).name}: {extra[-1][0]:.0f} PG steps")
    ax.axvline(offset, color="grey", ls=":", lw=1)
    for label, value in PAPER.items():
        ax.axhline(value, ls="--", lw=0.8, color="black" if "MLE" in label else "tab:red", label=label)
    ax.set_ylim(8.4, 10.4)
    ax.set_xlabel("MLE epochs | adversarial steps")
    ax.set_ylabel("NLL-oracle (nats / token)")
    ax.set_title("SeqGAN synthetic oracle (random: 10.31)", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out)
    print(f"wrote {out}; last MLE {mle[-1][1]:.3f}, last adversarial {adversarial[-1][1]:.3f}, "
          f"best adversarial {min(v for _, v in adversarial):.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
