"""`multigan augment-eval`'s entry point, above the API: a study named or given as a file, run or resumed."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from multigan.augment.runner import run_study
from multigan.augment.study import load_study


def augment_eval(study: str | Path, out: str | Path | None = None, data_root: str | Path | None = None,
                 progress: bool = True) -> dict[str, Any]:
    """`multigan augment-eval STUDY`: run (or resume) the study in the file `study` (or recipes/augment/<study>.yaml)
    into `out` (default runs/augment/<study>). Returns its summary (also in <out>/results.json) with the paths of
    the table and plot."""
    return run_study(load_study(str(study)), out, data_root, progress)
