import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def data_root() -> Path:
    """The real datasets (MULTIGAN_DATA, else ../shared/data beside the checkout); skips when absent."""
    root = Path(os.environ.get("MULTIGAN_DATA", SHARED_DATA))
    if not root.is_dir():
        pytest.skip(f"real datasets not found at {root} (set MULTIGAN_DATA)")
    return root


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # derived data (trained classifiers, statistics) goes to a per-session temp folder, never into the data root
    if "MULTIGAN_CACHE" not in os.environ:
        monkeypatch.setenv("MULTIGAN_CACHE", str(tmp_path_factory.getbasetemp() / "multigan-cache"))
