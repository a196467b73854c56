"""Reference-network weights that the user supplies (FID Inception, VGGish): where to find the file, and the check
that it is the published one. Nothing is ever downloaded; a missing or wrong file is one line saying how to get it."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from multigan.core.files import file_sha256
from multigan.metrics.frechet import MetricError


@dataclass(frozen=True)
class WeightFile:
    title: str  # "the FID Inception weights"
    file_name: str  # the official name, which carries the sha256 prefix
    sha256_prefix: str
    url: str
    env: str  # environment variable naming the file
    option: str  # the flag and the recipe key: "--inception-weights PATH, eval.inception_weights"
    alternative: str  # what needs no file: "features: classifier"

    def how_to_get(self) -> str:
        return (f"download {self.url} yourself and pass its path with {self.option} or ${self.env} "
                f"(or use {self.alternative}, which needs no download)")

    def resolve(self, configured: str, error: type[MetricError]) -> Path:
        """The configured path (a folder holding `file_name` also works), else $env; `error` if neither exists."""
        value = configured or os.environ.get(self.env, "")
        if not value:
            raise error(f"{self.title} {self.file_name} were not given: {self.how_to_get()}")
        path = Path(value).expanduser()
        if path.is_dir():
            path = path / self.file_name
        if not path.is_file():
            raise error(f"{self.title} file {path} does not exist: {self.how_to_get()}")
        return path

    def load_state(self, path: Path, error: type[MetricError], expected_prefix: str | None = None
                   ) -> tuple[dict[str, torch.Tensor], str]:
        """The state dict in `path` (weights only, no code) once its sha256 starts with the expected prefix."""
        expected_prefix = expected_prefix or self.sha256_prefix
        sha256 = file_sha256(path)
        if not sha256.startswith(expected_prefix):
            raise error(f"{path} has sha256 {sha256[:12]}..., expected one starting with {expected_prefix} "
                        f"({self.file_name} from {self.url}); the file is a different or damaged download")
        return torch.load(path, map_location="cpu", weights_only=True), sha256

    def load_into(self, model: torch.nn.Module, path: Path, error: type[MetricError], what: str,
                  expected_prefix: str | None = None) -> tuple[torch.nn.Module, str]:
        """`model` with the checked weights in `path`, frozen in eval mode, and the file's sha256. Files written
        before BatchNorm counted its batches lack `num_batches_tracked`, which eval mode never reads."""
        state, sha256 = self.load_state(path, error, expected_prefix)
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [key for key in missing if not key.endswith("num_batches_tracked")]
        if missing or unexpected:
            raise error(f"{path} is not {what} state dict: missing {missing[:3]}, unexpected {unexpected[:3]}")
        return model.eval().requires_grad_(False), sha256
