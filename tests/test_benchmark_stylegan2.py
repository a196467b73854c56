"""benchmarks/stylegan2_vs_official.py keeps working without the official checkout: our trainer and the
hand-written loop over our networks train a tiny StyleGAN2 (every phase: R1 and path length on step 0) side by
side, and the official part is skipped with its reason (no timing is checked; the numbers come from real runs)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "stylegan2_vs_official.py"
TINY = ["--resolution", "8", "--channels", "1", "--batch-size", "4", "--channel-base", "64", "--channel-max", "8",
        "--latent-dim", "8", "--w-dim", "8", "--mapping-layers", "2", "--r1-interval", "2", "--pl-interval", "2",
        "--steps", "2", "--blocks", "1", "--warmup", "1"]


def test_ours_and_plain_run_and_the_official_part_is_skipped_without_a_checkout(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), *TINY, "--official", str(tmp_path / "missing")],
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rates = {line.split()[0]: float(line.split()[1]) for line in done.stdout.splitlines() if "images/s" in line}
    assert set(rates) == {"ours", "plain"} and all(rate > 0 for rate in rates.values()), done.stdout
    assert "official: skipped (--official" in done.stdout and "not a stylegan2-ada-pytorch checkout" in done.stdout
    assert "ours / plain" in done.stdout and "ours / official" not in done.stdout
    assert "widths 4..8 px: ours [8, 8]" in done.stdout  # min(64 // r, 8) at 4 and 8 px
