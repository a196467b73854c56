"""The "sentence-encoder" feature extractor: a learned, offline sentence space for text, trained once per corpus on
its train split and cached like the image domain classifier (metrics/classifier.py) — the offline analogue of
ScratchGAN's FED, whose Universal Sentence Encoder weights cannot be had here.

Network: token + position embeddings (d=64), 2 pre-norm Transformer encoder layers (4 heads), the mean of the
states over the sentence's positions (its words and EOS), then a linear 64-d embedding: the features. A head reads
the embedding to classify the sentence as one of five classes (text/corruptions.py):

    real | local_shuffle (3-word windows) | full_shuffle | drop_duplicate | bigram_lm (the train split's bigram LM)

Why this objective and not a masked LM: every negative but the LM's keeps the sentence's exact words, so nothing
but word order separates it from real text, and the bigram-LM sentences match real text in word and bigram
statistics (the hashed n-gram space cannot tell them apart), so the head can only separate them by longer-range
structure — which is what generators get wrong once their n-gram statistics are right. Classifying the corruption
*type* (not just real vs. fake) makes the embedding spread the kinds of damage apart instead of collapsing them
onto one "fake" direction. A masked LM learns mostly lexical co-occurrence, which mean pooling averages away.

Training: `steps` AdamW updates (one-cycle) on batches of train-split sentences, each given a class uniformly and
corrupted accordingly, from fixed seeds: deterministic on a machine. A seeded slice of the train split is held out;
the 5-way accuracy on it (corruptions drawn from their own seed) goes into every protocol with the weights digest.
COCO captions (9k trained, 1k held out): 156 CPU-s at the defaults (3,000 steps), held-out 5-way accuracy 0.666;
400 steps (21 CPU-s) reach 0.372 and a space that barely sees word order (README: the text feature spaces).
"""
from __future__ import annotations

import logging
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from multigan.core.phases import DataInfo, Dataset
from multigan.metrics.base import EvalContext
from multigan.metrics.classifier import weights_digest
from multigan.metrics.config import EvalConfig
from multigan.metrics.features import FeatureExtractor, dataset_fingerprint
from multigan.metrics.frechet import MetricError
from multigan.metrics.stats_cache import KEY_FIELD, canonical_key, key_digest, load_keyed, save_arrays_atomic
from multigan.registry import FEATURES
from multigan.text.corruptions import CORRUPTIONS, BigramLM, Words, pack_words, sentence_words
from multigan.text.modality import TEXT_INPUT

log = logging.getLogger(__name__)

ARCH_VERSION = "transformer-1"  # bump when SentenceEncoder or the objective changes: caches are then rebuilt
MIN_SENTENCES = 200  # fewer train sentences than this cannot train (and hold out a slice for) the encoder


@dataclass
class SentenceEncoderConfig:
    steps: int = 3000  # COCO: 3,000 steps, 5-way accuracy 0.67; 400 gave 0.37 and a space that barely saw shuffles
    batch_size: int = 64
    lr: float = 3e-3  # one-cycle peak; AdamW
    model_dim: int = 64
    layers: int = 2
    heads: int = 4
    embedding_dim: int = 64  # the feature dimension
    held_out: float = 0.1  # share of the train split held out for the reported accuracy (at most 1000 sentences)
    seed: int = 0


class SentenceEncoder(nn.Module):
    def __init__(self, vocab_size: int, max_len: int, config: SentenceEncoderConfig):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, config.model_dim)
        self.positions = nn.Parameter(torch.randn(max_len, config.model_dim) * 0.02)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(config.model_dim, config.heads, 2 * config.model_dim, dropout=0.1,
                                       batch_first=True, norm_first=True) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.model_dim)
        self.embed = nn.Linear(config.model_dim, config.embedding_dim)
        self.head = nn.Linear(config.embedding_dim, len(CORRUPTIONS))

    def embedding(self, tokens: Tensor, valid: Tensor) -> Tensor:
        """tokens (B, L) ids, valid (B, L) bool (the sentence's positions) -> (B, E)."""
        states = self.tokens(tokens) + self.positions[: tokens.shape[1]]  # (B, L, d)
        for layer in self.layers:
            states = layer(states, src_key_padding_mask=~valid)
        states = self.norm(states) * valid.unsqueeze(-1)
        pooled = states.sum(1) / valid.sum(1, keepdim=True).clamp(min=1)  # (B, d): mean over valid positions
        return self.embed(pooled)

    def classify(self, embedding: Tensor) -> Tensor:
        return self.head(F.gelu(embedding))  # (B, 5) logits


def valid_positions(tokens: Tensor, extra: dict[str, Any]) -> Tensor:
    """(B, L) bool: the positions up to and including the first EOS/PAD (all of them without specials)."""
    if not extra.get("has_specials", True):
        return torch.ones_like(tokens, dtype=torch.bool)
    stop = (tokens == extra["eos_id"]) | (tokens == extra["pad_id"])
    before = stop.long().cumsum(1) - stop.long()  # stops strictly before each position
    return before == 0


def canonical(tokens: Tensor, extra: dict[str, Any]) -> tuple[Tensor, Tensor]:
    """A generated or real batch as the encoder reads it: the words (BOS dropped), EOS, then PAD; and its mask.
    Whatever a generator emits after its first EOS/PAD is not part of the sentence."""
    packed = pack_words(sentence_words(tokens.cpu(), extra), tokens.shape[1], extra).to(tokens.device)
    return packed, valid_positions(packed, extra)


class CorruptionTask:
    """Makes the labelled examples of the 5-way objective from real sentences (word-id lists)."""

    def __init__(self, sentences: list[Words], info: DataInfo, seed: int):
        self.sentences, self.info = sentences, info
        self.max_len = info.shape[0]
        pool = BigramLM(sentences, len(info.extra["vocab"])).sample(
            len(sentences), self.max_len, torch.Generator().manual_seed(seed))
        self.lm_sentences = [s for s in pool if s] or [[0]]
        self.rng = random.Random(seed)

    def examples(self, index: list[int]) -> tuple[Tensor, Tensor, Tensor]:
        """tokens (B, L), valid (B, L), labels (B,): sentence i of `index` with class i mod 5 (a balanced batch)."""
        names = list(CORRUPTIONS)
        labels = [(i + self.rng.randrange(len(names))) % len(names) for i in range(len(index))]
        words = []
        for row, label in zip(index, labels):
            corrupt = CORRUPTIONS[names[label]]
            if names[label] == "bigram_lm":
                words.append(self.lm_sentences[self.rng.randrange(len(self.lm_sentences))])
            else:
                words.append(corrupt(list(self.sentences[row]), self.rng) if corrupt else self.sentences[row])
        tokens = pack_words(words, self.max_len, self.info.extra)
        return tokens, valid_positions(tokens, self.info.extra), torch.tensor(labels)


def split_train(dataset: Dataset, config: SentenceEncoderConfig) -> tuple[list[Words], list[Words]]:
    """(training sentences, held-out sentences): a seeded slice of the train split is held out."""
    if len(dataset) < MIN_SENTENCES:
        raise MetricError(f"the sentence encoder needs at least {MIN_SENTENCES} training sentences to train and "
                          f"hold out a slice; this train split has {len(dataset)} (use eval.features: ngram-hash)")
    sentences = sentence_words(dataset.gather(torch.arange(len(dataset)))["tokens"], dataset.info.extra)
    order = torch.randperm(len(sentences), generator=torch.Generator().manual_seed(config.seed)).tolist()
    n_held = min(1000, max(1, int(len(sentences) * config.held_out)))
    return [sentences[i] for i in order[n_held:]], [sentences[i] for i in order[:n_held]]


def train_encoder(train: list[Words], info: DataInfo, config: SentenceEncoderConfig,
                  device: torch.device) -> SentenceEncoder:
    """AdamW with a one-cycle schedule; own RNGs, so the caller's random state is untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = SentenceEncoder(len(info.extra["vocab"]), info.shape[0], config).to(device)
        task = CorruptionTask(train, info, config.seed)
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=1e-2)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.lr, total_steps=config.steps)
        generator = torch.Generator().manual_seed(config.seed)
        model.train()
        for step in range(config.steps):
            index = torch.randint(len(train), (config.batch_size,), generator=generator).tolist()
            tokens, valid, labels = (t.to(device) for t in task.examples(index))
            loss = F.cross_entropy(model.classify(model.embedding(tokens, valid)), labels)  # 5-way
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            if (step + 1) % 100 == 0:
                log.info("sentence encoder step %d/%d: loss %.4f", step + 1, config.steps, loss.item())
    return model.eval().requires_grad_(False)


@torch.no_grad()
def held_out_accuracy(model: SentenceEncoder, held_out: list[Words], info: DataInfo, config: SentenceEncoderConfig,
                      device: torch.device) -> float:
    """5-way accuracy on the held-out sentences, each given a class and corrupted from seed + 1."""
    task = CorruptionTask(held_out, info, config.seed + 1)
    correct = 0
    for chunk in torch.arange(len(held_out)).split(500):
        tokens, valid, labels = (t.to(device) for t in task.examples(chunk.tolist()))
        correct += int((model.classify(model.embedding(tokens, valid)).argmax(1) == labels).sum())
    return correct / len(held_out)


def load_or_train(dataset: Dataset, key: dict[str, Any], config: SentenceEncoderConfig, path: Path,
                  device: torch.device) -> tuple[SentenceEncoder, float]:
    """The encoder cached at `path` if it was made for exactly `key`, else a newly trained (and cached) one."""
    info = dataset.info
    entry = load_keyed(path, canonical_key(key))
    if entry is not None:
        arrays, metadata = entry
        model = SentenceEncoder(len(info.extra["vocab"]), info.shape[0], config)
        model.load_state_dict({name: torch.from_numpy(value) for name, value in arrays.items()})
        return model.to(device).eval().requires_grad_(False), float(metadata["accuracy"])
    train, held_out = split_train(dataset, config)
    log.info("training the sentence encoder (%d steps) on %d sentences; cached at %s", config.steps, len(train), path)
    model = train_encoder(train, info, config, device)
    accuracy = held_out_accuracy(model, held_out, info, config, device)
    arrays = {name: value.detach().cpu().numpy() for name, value in model.state_dict().items()}
    save_arrays_atomic(path, arrays, {KEY_FIELD: canonical_key(key), "accuracy": repr(accuracy)})
    return model, accuracy


@FEATURES.register("sentence-encoder")
class SentenceEncoderExtractor(FeatureExtractor):
    """Learned sentence features of text (FeatureInput "tokens"); no logits (the corruption classes are not the
    data's classes, so IS and class coverage do not apply)."""

    name = "sentence-encoder"
    version = ARCH_VERSION
    input = TEXT_INPUT

    def __init__(self, model: SentenceEncoder, info: DataInfo, train_fingerprint: str, accuracy: float,
                 settings: SentenceEncoderConfig, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.info = info
        self.feature_dim, self.num_classes = model.embed.out_features, 0
        self.train_fingerprint, self.held_out_accuracy, self.settings = train_fingerprint, accuracy, settings
        self.weights_sha256 = weights_digest(model)

    @classmethod
    def from_context(cls, config: EvalConfig, context: EvalContext,
                     settings: SentenceEncoderConfig | None = None) -> "SentenceEncoderExtractor":
        settings = settings or SentenceEncoderConfig()
        train = context.dataset("train")
        fingerprint = dataset_fingerprint(train, context.data_name)
        key = {"dataset": context.data_name, "fingerprint": fingerprint, "arch": ARCH_VERSION,
               "max_len": context.info.shape[0], "vocab_size": len(context.info.extra["vocab"]), **asdict(settings)}
        name = f"{context.data_name}-{ARCH_VERSION}-{key_digest(key)}.safetensors"
        path = Path(context.cache_dir) / "sentence_encoders" / name
        model, accuracy = load_or_train(train, key, settings, path, context.device)
        return cls(model, context.info, fingerprint, accuracy, settings, context.device)

    def features_and_logits(self, prepared: Tensor) -> tuple[Tensor, Tensor]:
        tokens, valid = canonical(prepared, self.info.extra)  # (B, L), (B, L)
        features = self.model.embedding(tokens, valid)  # (B, E)
        return features, torch.zeros(len(features), 0, device=self.device)

    def identity(self) -> dict[str, Any]:
        return {"version": self.version, "train_fingerprint": self.train_fingerprint[:16],
                "weights_sha256": self.weights_sha256[:16], "encoder_accuracy": round(self.held_out_accuracy, 4),
                "encoder_accuracy_task": "5-way real / local_shuffle / full_shuffle / drop_duplicate / bigram_lm on "
                                         "a held-out slice of the train split",
                "encoder_settings": asdict(self.settings)}
