"""Suites written on the fly for the bench tests: tiny DCGAN runs on the built-in digits, seconds each."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

TINY_DCGAN = ["model.generator_width=8", "model.discriminator_width=8", "model.latent_dim=16", "data.train_size=300",
              "data.test_size=120", "train.batch_size=16", "train.preview_samples=16"]
TINY_IMAGE_EVAL = {"n_samples": 100, "batch_size": 100, "classifier_epochs": 1, "classifier_embedding_dim": 16}


def image_suite(**changes) -> dict:
    suite = {
        "suite": "unit",
        "budget": {"steps": 2, "evals": 1},
        "seeds": [0, 1, 2],
        "metrics": {"image": ["fid", "fd_norm"]},
        "eval": {"image": TINY_IMAGE_EVAL},
        "runs": [{"name": "dcgan", "recipe": "dcgan_digits", "set": TINY_DCGAN}],
    }
    suite.update(changes)
    return suite


@pytest.fixture
def write_suite(tmp_path):
    def write(raw: dict, name: str = "suite.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
        return path

    return write
