import os
import pickle
import threading

import numpy as np
import pytest
import torch

from multigan.text.generators import sequence_log_probs
from multigan.text.oracle import (
    NAMES,
    OracleData,
    OracleFormatError,
    build_oracle,
    oracle_nll,
    oracle_tensors,
    read_oracle_pickle,
)

from .conftest import random_oracle_arrays


class Exploit:
    """Unpickling this would call os.system: the loader must refuse before anything runs."""

    def __reduce__(self):
        return (os.system, ("touch pwned",))


def numpy_log_probs(arrays: list[np.ndarray], tokens: np.ndarray) -> np.ndarray:
    """The oracle's equations from the manifest, in float64 numpy: log p(x_t | x_<t), start token 0."""
    emb, wi, ui, bi, wf, uf, bf, wo_g, uo_g, bo_g, wc, uc, bc, w_out, b_out = (a.astype(np.float64) for a in arrays)
    sigmoid = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731
    batch, length = tokens.shape
    h = c = np.zeros((batch, ui.shape[0]))
    x = emb[np.zeros(batch, dtype=int)]
    out = np.zeros((batch, length))
    for t in range(length):
        i, f, o = sigmoid(x @ wi + h @ ui + bi), sigmoid(x @ wf + h @ uf + bf), sigmoid(x @ wo_g + h @ uo_g + bo_g)
        c = f * c + i * np.tanh(x @ wc + h @ uc + bc)
        h = o * np.tanh(c)
        logits = h @ w_out + b_out
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        out[:, t] = log_p[np.arange(batch), tokens[:, t]]
        x = emb[tokens[:, t]]
    return out


def test_oracle_matches_the_manifest_equations(oracle_file):
    arrays = read_oracle_pickle(oracle_file)
    oracle = build_oracle({name: torch.from_numpy(a) for name, a in zip(NAMES, arrays)})
    tokens = torch.randint(0, 30, (7, 9), generator=torch.Generator().manual_seed(0))
    ours = sequence_log_probs(oracle, tokens, 0).double().numpy()
    np.testing.assert_allclose(ours, numpy_log_probs(arrays, tokens.numpy()), atol=2e-5)
    assert oracle_nll(oracle, tokens) == pytest.approx(-numpy_log_probs(arrays, tokens.numpy()).mean(), abs=2e-5)


def test_loader_refuses_non_numpy_pickles(tmp_path, monkeypatch):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps([Exploit()]))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OracleFormatError, match="refusing to unpickle posix.system"):
        read_oracle_pickle(path)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("index, shape", [(0, (30,)), (2, (5, 4)), (13, (5, 29)), (14, (31,))])
def test_loader_checks_every_shape(tmp_path, index, shape):
    arrays = random_oracle_arrays()
    arrays[index] = np.zeros(shape, dtype=np.float32)
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(arrays))
    with pytest.raises(OracleFormatError, match=rf"bad.pkl: array {index} \({NAMES[index]}\) has shape"):
        read_oracle_pickle(path)


def test_loader_wants_fifteen_arrays(tmp_path):
    path = tmp_path / "short.pkl"
    path.write_bytes(pickle.dumps(random_oracle_arrays()[:14]))
    with pytest.raises(OracleFormatError, match="expected a list of 15 arrays"):
        read_oracle_pickle(path)


def test_conversion_is_cached_as_safetensors(oracle_file, tmp_path):
    cache = tmp_path / "cache"
    first = oracle_tensors(oracle_file, cache)
    (converted,) = cache.glob("seqgan_oracle-*.safetensors")
    oracle_file.write_bytes(b"not a pickle")  # new content is a new cache key: the file is read (and refused)
    with pytest.raises(OracleFormatError):
        oracle_tensors(oracle_file, cache)
    assert converted.is_file() and set(first) == set(NAMES)


def test_two_processes_converting_at_once_both_succeed(oracle_file, tmp_path, monkeypatch):
    # torchrun's ranks build the dataset together on a cold cache: both write, neither may trip over the other's
    # temporary file (they shared one name, and the second rename failed: the SeqGAN 2-process test's flake)
    import multigan.text.oracle as oracle

    both_written = threading.Barrier(2, timeout=30)
    save = oracle.save_file

    def save_then_wait(tensors, path):
        save(tensors, path)
        both_written.wait()  # each has written its file before either renames

    monkeypatch.setattr(oracle, "save_file", save_then_wait)
    errors = []

    def convert():
        try:
            oracle_tensors(oracle_file, tmp_path / "cache")
        except Exception as error:  # noqa: BLE001  (collected for the assertion)
            errors.append(error)

    threads = [threading.Thread(target=convert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    (left,) = (tmp_path / "cache").iterdir()  # the converted file and no temporary
    assert left.name.startswith("seqgan_oracle-") and left.suffix == ".safetensors"


def test_oracle_dataset_is_deterministic_and_cached(oracle_file, tmp_path, monkeypatch):
    monkeypatch.setenv("MULTIGAN_CACHE", str(tmp_path / "cache"))
    config = OracleData.Config(params_file=str(oracle_file), n_samples=50, seq_len=7, seed=3)
    train = OracleData(config, tmp_path, "train")
    again = OracleData(config, tmp_path, "train")
    test = OracleData(config, tmp_path, "test")
    assert train.tokens.shape == (50, 7) and train.info.shape == (7,)
    assert torch.equal(train.tokens, again.tokens) and not torch.equal(train.tokens, test.tokens)
    assert len(list((tmp_path / "cache" / "text").glob("oracle-samples-*.safetensors"))) == 2
    assert train.info.extra["has_specials"] is False and train.info.extra["bos_id"] == 0


def test_real_oracle_entropy(data_root, tmp_path, monkeypatch):
    """The oracle's NLL of its own samples is its entropy rate, ~5.75 nats (TextGAN-PyTorch reports the same)."""
    monkeypatch.setenv("MULTIGAN_CACHE", str(tmp_path / "cache"))
    if not (data_root / "text" / "seqgan_oracle").is_dir():
        pytest.skip("text/seqgan_oracle not in the data root")
    data = OracleData(OracleData.Config(n_samples=500), data_root, "train")
    assert data.info.extra["vocab"][-1] == "4999"
    assert oracle_nll(data.oracle, data.tokens) == pytest.approx(5.75, abs=0.1)
