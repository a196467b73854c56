"""Damaged run folders: each checkpoint file is checked against the sha256 and size meta.json records, `latest`
and --resume fall back to the newest intact checkpoint with one warning line, a named damaged checkpoint is one
CheckpointError line, and a tampered train_state.pt is refused, never executed."""
import json
import logging
import pickle
import random
import shutil

import pytest

from multigan import api
from multigan.core import checkpoint as ckpt
from multigan.core.files import file_sha256
from multigan.recipe import from_dict

from cli_support import one_error_line, run_cli

STEP_2, STEP_4 = "step-0000002", "step-0000004"


def config():
    """A dcgan of a few thousand weights on 128 digits: checkpoints at steps 2 and 4, in seconds."""
    return from_dict({
        "model": {"name": "dcgan", "generator_width": 8, "discriminator_width": 8, "latent_dim": 16},
        "data": {"name": "digits", "train_size": 128, "test_size": 32},
        "train": {"steps": 4, "batch_size": 16, "log_every": 2, "sample_every": 2, "checkpoint_every": 2,
                  "preview_samples": 16},
        "out": {"name": "tiny"},
    })


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny dcgan run with checkpoints at steps 2 and 4, trained once; each test damages its own copy."""
    return api.train(config(), out=tmp_path_factory.mktemp("trained") / "run", progress=False)


@pytest.fixture
def run(trained, tmp_path):
    return shutil.copytree(trained, tmp_path / "run")


class CreatesAFile:
    """A pickle payload that would create `path` if anything ever unpickled it without weights_only."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def truncate(path, _):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garbage(path, _):
    path.write_bytes(random.Random(0).randbytes(path.stat().st_size))  # same size: only the sha256 tells


def tampered_pickle(path, marker):
    path.write_bytes(pickle.dumps({"optimizers": CreatesAFile(marker)}, protocol=2))


def folder(run, name):
    return run / "checkpoints" / name


def drop_file_table(checkpoint):
    """What an older multigan wrote: meta.json without `files`."""
    meta = json.loads((checkpoint / ckpt.META_FILE).read_text())
    del meta["files"]
    (checkpoint / ckpt.META_FILE).write_text(json.dumps(meta))


def damage_warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_meta_records_the_sha256_and_size_of_each_file(trained):
    checkpoint = folder(trained, STEP_4)
    files = ckpt.read_meta(checkpoint)["files"]
    assert set(files) == {ckpt.NETWORKS_FILE, ckpt.STATE_FILE}
    for name, entry in files.items():
        assert entry == {"sha256": file_sha256(checkpoint / name), "bytes": (checkpoint / name).stat().st_size}
    assert ckpt.check_intact(checkpoint) == checkpoint


@pytest.mark.parametrize("name, damage, problem", [
    (ckpt.NETWORKS_FILE, truncate, "truncated or replaced"),
    (ckpt.NETWORKS_FILE, garbage, "content changed since it was saved"),
    (ckpt.STATE_FILE, tampered_pickle, "truncated or replaced"),
    (ckpt.META_FILE, garbage, "unreadable checkpoint metadata"),
], ids=["networks-truncated", "networks-garbage", "state-tampered-pickle", "meta-garbage"])
def test_resume_skips_a_damaged_checkpoint_with_one_warning_and_trains_on(run, tmp_path, caplog, name, damage,
                                                                          problem):
    marker = tmp_path / "pickle-was-executed"
    damage(folder(run, STEP_4) / name, marker)
    with caplog.at_level(logging.WARNING):
        api.train(config(), resume=run, progress=False)
    [warning] = damage_warnings(caplog)
    assert warning.startswith(f"{folder(run, STEP_4) / name}: ") and problem in warning
    assert warning.endswith(f"skipping that checkpoint, using the older {STEP_2} instead")
    newest = ckpt.latest_checkpoint(run)  # step 4 trained again from step 2, written whole
    assert newest.name == STEP_4 and ckpt.read_meta(newest)["global_step"] == 4 and ckpt.check_intact(newest)
    assert (run / "checkpoints" / f"damaged-{STEP_4}").is_dir()  # set aside: pruning never counts it as kept
    assert not marker.exists()


def test_with_every_checkpoint_damaged_resume_and_latest_are_one_error(run, tmp_path, caplog):
    marker = tmp_path / "pickle-was-executed"
    truncate(folder(run, STEP_4) / ckpt.NETWORKS_FILE, marker)
    tampered_pickle(folder(run, STEP_2) / ckpt.STATE_FILE, marker)
    for attempt in (lambda: api.train(config(), resume=run, progress=False), lambda: api.load_run(run)):
        with caplog.at_level(logging.WARNING), pytest.raises(ckpt.CheckpointError) as error:
            attempt()
        message = str(error.value)
        assert "\n" not in message and message.startswith(f"{run}: none of its 2 checkpoint(s) is intact")
        assert f"{folder(run, STEP_2) / ckpt.STATE_FILE}: truncated or replaced" in message
    assert damage_warnings(caplog) == [] and not marker.exists()


def test_a_named_damaged_checkpoint_is_an_error_not_a_fallback(run, caplog):
    size = (folder(run, STEP_2) / ckpt.NETWORKS_FILE).stat().st_size
    truncate(folder(run, STEP_2) / ckpt.NETWORKS_FILE, None)
    problem = rf"{STEP_2}/networks.safetensors: truncated or replaced \({size // 2} bytes; {size} when saved\)$"
    with pytest.raises(ckpt.CheckpointError, match=problem):
        api.load_run(run, "step-2")
    with pytest.raises(ckpt.CheckpointError, match=rf"{STEP_2}/networks.safetensors: truncated or replaced"):
        api.load_run(folder(run, STEP_2))  # the checkpoint folder itself
    assert api.load_run(run)[2].name == STEP_4 and damage_warnings(caplog) == []


def test_best_is_checked_like_any_named_checkpoint(run):
    shutil.copytree(folder(run, STEP_2), folder(run, "best"))  # `best` is a whole checkpoint folder of its own
    assert api.load_run(run, "best")[2].name == "best"
    garbage(folder(run, "best") / ckpt.NETWORKS_FILE, None)
    with pytest.raises(ckpt.CheckpointError, match="best/networks.safetensors: content changed"):
        api.load_run(run, "best")


def test_an_older_checkpoint_without_file_table_is_intact_if_it_loads(run, tmp_path, caplog):
    marker = tmp_path / "pickle-was-executed"
    for name in (STEP_2, STEP_4):
        drop_file_table(folder(run, name))
    assert api.load_run(run)[2].name == STEP_4
    tampered_pickle(folder(run, STEP_4) / ckpt.STATE_FILE, marker)
    with caplog.at_level(logging.WARNING):
        api.train(config(), resume=run, progress=False)
    [warning] = damage_warnings(caplog)
    assert warning.startswith(f"{folder(run, STEP_4) / ckpt.STATE_FILE}: refused: it holds objects other than "
                              "tensors and plain containers (Unsupported global:")
    assert "nothing in it was executed; skipping that checkpoint, using the older step-0000002" in warning
    assert not marker.exists()


def test_loading_errors_name_the_file_in_one_line(run, tmp_path):
    checkpoint = folder(run, STEP_4)
    garbage(checkpoint / ckpt.NETWORKS_FILE, None)
    with pytest.raises(ckpt.CheckpointError, match="networks.safetensors: not a safetensors file"):
        ckpt.load_networks(checkpoint)
    tampered_pickle(checkpoint / ckpt.STATE_FILE, tmp_path / "pickle-was-executed")
    refused = "train_state.pt: refused: .* nothing in it was executed$"
    with pytest.raises(ckpt.CheckpointError, match=refused) as refusal:
        ckpt.load_train_state(checkpoint)
    assert "safe_globals" not in str(refusal.value)  # torch's advice to allow the global is not passed on
    truncate(folder(run, STEP_2) / ckpt.STATE_FILE, None)
    with pytest.raises(ckpt.CheckpointError, match="train_state.pt: not a readable torch.save file"):
        ckpt.load_train_state(folder(run, STEP_2))
    (checkpoint / ckpt.META_FILE).write_text("[1, 2]")
    with pytest.raises(ckpt.CheckpointError, match="meta.json: unreadable checkpoint metadata"):
        ckpt.check_intact(checkpoint)
    assert not (tmp_path / "pickle-was-executed").exists()


def test_cli_sample_and_resume_with_every_checkpoint_damaged_say_one_line(run, capsys):
    for name in (STEP_2, STEP_4):
        garbage(folder(run, name) / ckpt.NETWORKS_FILE, None)
    for argv in (["sample", run, "--grid", "--n", "4", "--out", run / "grid.png"], ["train", "--resume", run]):
        code, _, err = run_cli(capsys, *argv)
        line = one_error_line(err)
        assert code == 1 and "none of its 2 checkpoint(s) is intact" in line and ckpt.NETWORKS_FILE in line
        if argv[0] == "sample":
            assert err.strip() == line  # nothing else on stderr
    assert not (run / "grid.png").exists()
