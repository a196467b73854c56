"""Only what pyproject.toml cannot say: recipes/ stays at the top of the repository (where users read them) and is
installed as the package `multigan.recipes`, so a wheel or a non-editable install carries every recipe (and, with
them, the pages that `multigan watch` and `multigan lab` serve)."""
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["multigan*"]) + ["multigan.recipes"],
    package_dir={"multigan.recipes": "recipes"},  # pyproject's packages.find cannot map a folder outside multigan/
    package_data={"multigan.recipes": ["*.yaml", "**/*.yaml"],  # recipes/augment/, recipes/bench/ too
                  "multigan.watch": ["page/*.html", "page/*.js", "page/*.css"],  # the page `multigan watch` serves
                  "multigan.lab": ["page/*.html", "page/*.js", "page/*.css"]},  # and `multigan lab`
    exclude_package_data={"multigan.recipes": ["results/*"]},  # README figures and their script: not for training
)
