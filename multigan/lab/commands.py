"""`multigan lab`'s entry point, above the API: the recipe checked for 2-D points, the session (a Trainer from
`api.prepare_training`, stepped by the session's thread), the server. `Lab.close` ends them in that order."""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from multigan import api
from multigan.core.game import AdversarialGame
from multigan.errors import UserError
from multigan.lab.server import DEFAULT_PORT, LabServer
from multigan.lab.session import LabSession
from multigan.points.datasets import InMemoryPoints
from multigan.recipe import RunConfig, load_recipe, resolve_recipe
from multigan.registry import DATASETS
from multigan.watch.server import listen

DEFAULT_RECIPE = "toygan_ring"
POINTS_RECIPES = "toygan_ring, toygan_grid or pacgan2_grid"


@dataclass
class Lab:
    server: LabServer
    session: LabSession
    config: RunConfig
    run_dir: Path
    note: str | None  # said when the default port was taken
    keep: bool  # --out: the run folder stays, with a checkpoint of the last step

    def close(self) -> None:
        try:
            self.server.stop()
            self.session.stop(save=self.keep)
        finally:
            if not self.keep:
                shutil.rmtree(self.run_dir, ignore_errors=True)


def lab_config(recipe: str, overrides: list[str]) -> RunConfig:
    """The recipe with `--set` applied, refused in one line unless its data are 2-D points."""
    path, _ = resolve_recipe(recipe)
    config = load_recipe(path, overrides)
    if not issubclass(DATASETS.get(config.data_name), InMemoryPoints):
        raise UserError(f"multigan lab shows 2-D points; {recipe} trains on data.name: {config.data_name}. Use a "
                        f"points recipe ({POINTS_RECIPES}) or --set data.name=ring|grid|spiral|moons|points_csv")
    return config


def check_model(trainer, config: RunConfig) -> None:
    model = trainer.model
    if not isinstance(model, AdversarialGame):
        raise UserError(f"multigan lab draws a generator and a discriminator of the two-player game (toygan); "
                        f"model.name: {config.model_name} is not one")
    if model.num_classes:
        raise UserError("multigan lab draws an unconditional game (D's heatmap needs no label); set "
                        "model.conditional=false")


def lab(recipe: str = DEFAULT_RECIPE, overrides: list[str] | None = None, host: str = "127.0.0.1",
        port: int | None = None, out: str | Path | None = None, overwrite: bool = False,
        data_root: str | Path | None = None) -> Lab:
    """The lab, listening and showing its first frame; nothing trains until the page says so."""
    config = lab_config(recipe, overrides or [])
    run_dir = Path(out) if out else Path(tempfile.mkdtemp(prefix="multigan-lab-"))
    if out and not overwrite and run_dir.exists() and any(run_dir.iterdir()):
        raise UserError(f"{run_dir} already exists; choose another `out`, or pass `overwrite` to start it over")

    def build():
        trainer = api.prepare_training(config, data_root, run_dir, overwrite=True)
        check_model(trainer, config)
        return trainer

    session = LabSession(build, config.train.seed + 1)  # the previews' noise seed: the same z as a run's previews
    server, note = listen(lambda address: LabServer(address, session), host, port, DEFAULT_PORT)
    try:
        session.start()
    except BaseException:
        server.stop()
        if not out:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    return Lab(server, session, config, run_dir, note, keep=out is not None)
