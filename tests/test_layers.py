"""The layer rules are data: pyproject.toml's import-linter contracts hold on this checkout, they list the layers the
design names (top down) and forbid circles between the package's folders, and an upward import breaks them with the
offending import named."""
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYERS = ["cli", "augment | bench", "api", "export | recipe", "images | text | audio", "metrics", "core", "registry",
          "errors"]
# `lint-imports` as its console script runs it, from this interpreter (the script need not be on PATH)
LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """`lint-imports` on the package under `root`, with that folder's pyproject.toml; no cache written."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([sys.executable, "-c", LINT_IMPORTS, "--config", str(root / "pyproject.toml"),
                           "--no-cache", "--no-logo"], cwd=root, env=env, capture_output=True, text=True)


def test_the_contracts_name_the_layers_top_down_and_forbid_circles_between_folders():
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    layers, acyclic = config["contracts"]
    assert config["root_package"] == "multigan" and layers["type"] == "layers"
    assert layers["containers"] == ["multigan"] and layers["layers"] == LAYERS
    assert acyclic["type"] == "acyclic_siblings" and acyclic["ancestors"] == ["multigan"] and acyclic["depth"] == 0


def test_the_package_keeps_its_layers():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract_and_is_named(tmp_path):
    shutil.copytree(REPO / "multigan", tmp_path / "multigan", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    api = tmp_path / "multigan" / "api.py"
    api.write_text(api.read_text(encoding="utf-8") + "\nfrom multigan.bench import commands  # noqa\n",
                   encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode == 1 and "multigan.api is not allowed to import multigan.bench" in result.stdout
    assert "No cycles are allowed in multigan." in result.stdout  # the circle it closes (bench imports api)
