"""The wheel carries every recipe: built offline from a copy of the checkout, it holds recipes/*.yaml as the package
data `multigan.recipes` (and not the README figures), and an install of it resolves recipe names from an empty
folder through the package, with ./recipes in the working directory still overriding a packaged recipe."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RECIPES = sorted(p.relative_to(REPO / "recipes").as_posix() for p in (REPO / "recipes").rglob("*.yaml"))

PROBE = """
import json, multigan
from multigan.recipe import list_recipes, packaged_recipes_dir, resolve_recipe
path, origin = resolve_recipe("dcgan_digits")
print(json.dumps({"package": multigan.__file__, "packaged": str(packaged_recipes_dir()), "path": str(path),
                  "origin": origin, "names": [p.stem for p in list_recipes()]}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # build from a copy so that the checkout gets no build/ or egg-info; --no-build-isolation: no index needed
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for name in ("multigan", "recipes"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "--quiet", "-w", str(out), str(src)], check=True, capture_output=True)
    (wheel,) = out.glob("multigan-*.whl")
    return wheel


@pytest.mark.slow
def test_wheel_holds_every_recipe_and_no_figures(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    prefix = "multigan/recipes/"
    packaged = sorted(n[len(prefix):] for n in names if n.startswith(prefix) and n.endswith(".yaml"))
    assert RECIPES and packaged == RECIPES
    assert not [n for n in names if n.endswith(".png")]  # recipes/results/ is for the README only


@pytest.mark.slow
@pytest.mark.parametrize("app", ["watch", "lab"])
def test_wheel_holds_the_pages_multigan_watch_and_lab_serve(wheel, app):
    names = zipfile.ZipFile(wheel).namelist()
    folder = f"multigan/{app}/page/"
    shipped = sorted(n.removeprefix(folder) for n in names if n.startswith(folder))
    assert shipped == sorted(p.name for p in (REPO / "multigan" / app / "page").iterdir())
    assert "index.html" in shipped


def probe(site: Path, cwd: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(site)}  # the unpacked wheel comes before any other multigan
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_an_installed_wheel_resolves_recipes_through_the_package(wheel, tmp_path):
    site, empty = tmp_path / "site", tmp_path / "empty"
    zipfile.ZipFile(wheel).extractall(site)  # what pip install puts in site-packages
    empty.mkdir()
    found = probe(site, empty)
    assert Path(found["package"]).is_relative_to(site)
    assert Path(found["packaged"]) == site / "multigan" / "recipes"
    assert Path(found["path"]) == site / "multigan" / "recipes" / "dcgan_digits.yaml"
    assert found["origin"] == "shipped with multigan"
    assert found["names"] == sorted(Path(r).stem for r in RECIPES if "/" not in r)
    env = {**os.environ, "PYTHONPATH": str(site)}
    listed = subprocess.run([sys.executable, "-m", "multigan.cli", "recipes"], cwd=empty, env=env, check=True,
                            capture_output=True, text=True)
    sections = {part.splitlines()[0]: [line.split()[0] for line in part.splitlines()[1:]]
                for part in listed.stdout.strip().split("\n\n")}  # `multigan recipes`: heading, then one per line
    assert sections == {
        "multigan train RECIPE:": found["names"],
        "multigan augment-eval STUDY:": sorted(Path(r).stem for r in RECIPES if r.startswith("augment/")),
        "multigan bench SUITE --out DIR:": sorted(Path(r).stem for r in RECIPES if r.startswith("bench/")),
    }
    assert "shipped with multigan" in listed.stderr

    (empty / "recipes").mkdir()  # a user's own copy of a recipe overrides the packaged one of that name
    (empty / "recipes" / "dcgan_digits.yaml").write_text("model: {name: dcgan}\ndata: {name: digits}\n")
    found = probe(site, empty)
    assert found["path"] == str(Path("recipes") / "dcgan_digits.yaml")
    assert found["origin"] == "./recipes in the working directory"
    assert "dcgan_fashion" in found["names"]  # the others still come from the package
