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
# DESIGN.md's layers, top down: a broken rule is fixed in the import, and moving a layer to silence one fails here
LAYERS = ["__main__", "cli", "lab", "augment | bench | watch", "api", "export | recipe",
          "images | text | audio | points", "metrics", "core", "registry", "errors"]
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
    assert layers["exhaustive"]  # a new top-level module or folder fails until it is given its layer
    assert acyclic["type"] == "acyclic_siblings" and acyclic["ancestors"] == ["multigan"] and acyclic["depth"] == 0


def test_the_package_keeps_its_layers():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


# forbidden imports, each with the line lint-imports breaks the contract with: upward (the API on an app, the core on
# a plug-in) and sideways (one plug-in on another)
FORBIDDEN = {
    "api.py": ("from multigan.bench import commands", "multigan.api is not allowed to import multigan.bench"),
    "core/trainer.py": ("from multigan.images import gan", "multigan.core is not allowed to import multigan.images"),
    "images/gan.py": ("from multigan.text import base", "multigan.images is not allowed to import multigan.text"),
    "core/game.py": ("from multigan.lab import probes", "multigan.core is not allowed to import multigan.lab"),
    "watch/server.py": ("from multigan.lab import session", "multigan.watch is not allowed to import multigan.lab"),
}


def test_a_forbidden_import_breaks_the_contracts_and_is_named(tmp_path):
    shutil.copytree(REPO / "multigan", tmp_path / "multigan", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    for importer, (line, _) in FORBIDDEN.items():
        module = tmp_path / "multigan" / importer
        module.write_text(module.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    result = lint_imports(tmp_path)
    assert result.returncode == 1 and "0 kept, 2 broken" in result.stdout, result.stdout
    for importer, (_, broken) in FORBIDDEN.items():
        assert broken in result.stdout, result.stdout
        # the import chain, named down to the line: e.g. "multigan.core.trainer -> multigan.images.gan (l.300)"
        assert f"multigan.{importer[:-3].replace('/', '.')} -> multigan." in result.stdout, result.stdout
    assert "No cycles are allowed in multigan." in result.stdout  # api -> bench closes a circle (bench imports api)
