"""SeqGAN's synthetic experiment: a fixed random LSTM (the oracle) defines the "real" distribution, its samples
are the training data, and NLL-oracle (mean per-token -log p_oracle of generated tokens) measures a generator.

The oracle's weights are SeqGAN's `target_params.pkl`: 15 float32 arrays (see text/MANIFEST.md)
    [embedding (V, E), Wi, Ui, bi, Wf, Uf, bf, Wog, Uog, bog, Wc, Uc, bc, Wo (H, V), bo (V,)]
with gate = act(x @ W + h @ U + b); c = f * c + i * tanh(.); h = o * tanh(c); logits = h @ Wo + bo; start token 0.
The pickle is read by an unpickler that admits numpy arrays and nothing else, then cached as safetensors.
"""
from __future__ import annotations

import hashlib
import pickle
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import Tensor

from multigan.core.data import DataError, cache_dir
from multigan.core.files import atomic_path
from multigan.core.phases import Batch, DataInfo
from multigan.registry import DATASETS
from multigan.text.generators import LSTMGenerator, generate, sequence_log_probs

NAMES = ("embedding", "Wi", "Ui", "bi", "Wf", "Uf", "bf", "Wog", "Uog", "bog", "Wc", "Uc", "bc", "Wo", "bo")
START_TOKEN = 0  # SeqGAN feeds token 0 first; it is also an ordinary token


class OracleFormatError(DataError):
    """The oracle file is not 15 numpy arrays of the expected shapes, or holds something other than arrays."""


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Admits exactly what a pickled list of numpy arrays needs; any other global is refused (a pickle can run
    arbitrary code through its globals, so a data file never gets plain `pickle.load`)."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"): ("numpy", "ndarray"),
        ("numpy", "dtype"): ("numpy", "dtype"),
        ("_codecs", "encode"): ("_codecs", "encode"),  # protocol-2 pickles store array bytes as encoded text
    }

    def find_class(self, module: str, name: str):
        target = self.ALLOWED.get((module, name))
        if target is None:
            raise OracleFormatError(f"refusing to unpickle {module}.{name}: the oracle file may only hold numpy arrays")
        return super().find_class(*target)


def read_oracle_pickle(path: Path) -> list[np.ndarray]:
    try:
        with open(path, "rb") as handle:
            arrays = NumpyOnlyUnpickler(handle, encoding="latin1").load()  # latin1: SeqGAN's Python 2 pickle
    except OracleFormatError as err:
        raise OracleFormatError(f"{path}: {err}") from None
    except (pickle.UnpicklingError, EOFError, ValueError) as err:
        raise OracleFormatError(f"{path}: not a pickled list of numpy arrays ({err})") from None
    check_oracle_arrays(arrays, str(path))
    return arrays


def check_oracle_arrays(arrays: object, source: str) -> None:
    if not isinstance(arrays, (list, tuple)) or len(arrays) != len(NAMES):
        raise OracleFormatError(f"{source}: expected a list of {len(NAMES)} arrays {list(NAMES)}")
    if not all(isinstance(a, np.ndarray) for a in arrays):
        raise OracleFormatError(f"{source}: every entry must be a numpy array")
    vocab, embed = arrays[0].shape if arrays[0].ndim == 2 else (0, 0)
    hidden = arrays[2].shape[0] if arrays[2].ndim == 2 else 0
    expected = [(vocab, embed)] + [(embed, hidden), (hidden, hidden), (hidden,)] * 4 + [(hidden, vocab), (vocab,)]
    for index, (name, array, shape) in enumerate(zip(NAMES, arrays, expected)):
        if array.shape != shape or 0 in shape:
            raise OracleFormatError(
                f"{source}: array {index} ({name}) has shape {array.shape}, expected {shape} "
                f"(vocabulary {vocab}, embedding {embed}, hidden {hidden})"
            )


def oracle_tensors(path: Path, cache: Path) -> dict[str, Tensor]:
    """The 15 arrays by name, from the safetensors cache (converted from the pickle on first use)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    cached = cache / f"seqgan_oracle-{digest}.safetensors"
    if cached.is_file():
        return load_file(cached)
    arrays = read_oracle_pickle(path)
    tensors = {name: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32)) for name, a in zip(NAMES, arrays)}
    # a temporary file of its own: torchrun's ranks may all convert on a cold cache (they write the same bytes)
    with atomic_path(cached) as temporary:
        save_file(tensors, str(temporary))
    return tensors


def build_oracle(tensors: dict[str, Tensor]) -> LSTMGenerator:
    """An LSTMGenerator computing exactly the oracle's equations (nn.LSTM gate order: i, f, g, o)."""
    vocab, embed = tensors["embedding"].shape
    hidden = tensors["Ui"].shape[0]
    oracle = LSTMGenerator(vocab, embed, hidden, init_std=0.0)
    gates = ("i", "f", "c", "og")
    with torch.no_grad():
        oracle.embedding.weight.copy_(tensors["embedding"])
        oracle.lstm.weight_ih_l0.copy_(torch.cat([tensors[f"W{g}"] for g in gates], dim=1).T)  # (4H, E)
        oracle.lstm.weight_hh_l0.copy_(torch.cat([tensors[f"U{g}"] for g in gates], dim=1).T)  # (4H, H)
        oracle.lstm.bias_ih_l0.copy_(torch.cat([tensors[f"b{g}"] for g in gates]))
        oracle.lstm.bias_hh_l0.zero_()
        oracle.output.weight.copy_(tensors["Wo"].T)  # (V, H)
        oracle.output.bias.copy_(tensors["bo"])
    return oracle.eval().requires_grad_(False)


@torch.no_grad()
def oracle_nll(oracle: LSTMGenerator, tokens: Tensor, batch_size: int = 2000) -> float:
    """Mean per-token -log p_oracle over all tokens of `tokens` (N, L)."""
    device = next(oracle.parameters()).device
    total = 0.0
    for start in range(0, len(tokens), batch_size):
        chunk = tokens[start : start + batch_size].to(device)
        total -= sequence_log_probs(oracle, chunk, START_TOKEN).double().sum().item()
    return total / tokens.numel()


@DATASETS.register("oracle")
class OracleData:
    """`n_samples` sequences of `seq_len` tokens drawn from the oracle with a fixed seed (cached); the test split
    is a second draw with seed + 1."""

    @dataclass
    class Config:
        params_file: str = "text/seqgan_oracle/target_params_py3.pkl"  # relative to the data root
        n_samples: int = 10000  # SeqGAN: 10,000 training sequences
        seq_len: int = 20
        seed: int = 88

    def __init__(self, config: Config, root: Path, split: str):
        if split not in ("train", "test"):
            raise DataError(f"unknown split '{split}'; the oracle dataset has train, test")
        path = Path(config.params_file).expanduser()
        path = path if path.is_absolute() else root / path
        if not path.is_file():
            raise DataError(f"{path}: SeqGAN oracle parameters not found (data.params_file; see text/MANIFEST.md)")
        cache = cache_dir(root) / "text"
        tensors = oracle_tensors(path, cache)
        self.oracle = build_oracle(tensors)
        seed = config.seed + (split == "test")
        key = hashlib.sha256(repr((sorted(asdict(config).items()), seed, _digest(tensors))).encode()).hexdigest()
        self.fingerprint = key[:16]
        self.tokens = self._samples(cache / f"oracle-samples-{self.fingerprint}.safetensors", config, seed)
        vocab = tensors["embedding"].shape[0]
        extra = {
            "vocab": [str(i) for i in range(vocab)], "tokenizer": "ids", "has_specials": False,
            "pad_id": None, "bos_id": START_TOKEN, "eos_id": None, "unk_id": None,
        }
        self.info = DataInfo("text", (config.seq_len,), extra=extra)
        self.sentences = [" ".join(map(str, row)) for row in self.tokens.tolist()]

    def _samples(self, path: Path, config: Config, seed: int) -> Tensor:
        if path.is_file():
            return load_file(path)["tokens"]
        generator = torch.Generator().manual_seed(seed)
        tokens = torch.cat([
            generate(self.oracle, min(1000, config.n_samples - start), config.seq_len, START_TOKEN, generator)
            for start in range(0, config.n_samples, 1000)
        ])
        with atomic_path(path) as temporary:
            save_file({"tokens": tokens.contiguous()}, str(temporary))
        return tokens

    def __len__(self) -> int:
        return len(self.tokens)

    def gather(self, index: Tensor) -> Batch:
        return {"tokens": self.tokens[index]}


def _digest(tensors: dict[str, Tensor]) -> str:
    digest = hashlib.sha256()
    for name in NAMES:
        digest.update(tensors[name].numpy().tobytes())
    return digest.hexdigest()[:16]
