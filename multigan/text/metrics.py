"""Registered text metrics. Each value carries its protocol (reference-set size, hypothesis count, tokenizer ...).

    bleu        Texygen BLEU-2..5: every generated sentence against the whole reference split (multigan.metrics.bleu)
    self_bleu   Texygen self-BLEU-2..5 of the first `eval.self_bleu_samples` generated sentences
    nll_gen     mean per-token -log p_generator of the reference split (all L positions, EOS/PAD included)
    nll_oracle  mean per-token -log p_oracle of the generated sequences (data: oracle only)
    nll_test    mean per-token -log p_model of held-out oracle sequences, p_model at the samples' temperature
                (data: oracle only): with nll_oracle, Caccia et al. 2020's quality (nll_oracle) / diversity (nll_test)
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from multigan.core.phases import Batch, GANModel, TokenScorer
from multigan.errors import UserError
from multigan.metrics.base import EvalContext, Metric, MetricValue
from multigan.metrics.bleu import (
    TEXYGEN_ORDERS,
    ReferenceIndex,
    self_bleu,
    texygen_tokenize,
)
from multigan.metrics.config import EvalConfig
from multigan.registry import METRICS
from multigan.text.oracle import OracleData, oracle_nll
from multigan.text.tokenizers import decode

TOKENIZER = "texygen_tokenize (nltk word_tokenize, preserve_line=True)"


class TextMetricError(UserError, ValueError):
    """A text metric asked of data or a model it cannot score."""


@runtime_checkable
class SentenceData(Protocol):
    """A text dataset that keeps its examples as text, one sentence a line (text_lines, coco; the oracle's token
    ids as strings): BLEU's references."""

    sentences: list[str]


def generated_sentences(samples: Batch, context: EvalContext) -> list[list[str]]:
    """Generated ids -> detokenised text -> Texygen tokens: what the Texygen scripts read from their files."""
    return [texygen_tokenize(line) for line in decode(samples["tokens"], context.info.extra)]


@METRICS.register("bleu")
class Bleu(Metric):
    modality = "text"

    def __init__(self, config: EvalConfig, context: EvalContext):
        super().__init__(config, context)
        references = context.dataset(config.reference_split)
        if not isinstance(references, SentenceData):
            raise TextMetricError(f"bleu needs a text dataset with sentences; data '{context.data_name}' has none")
        self.index = ReferenceIndex([texygen_tokenize(line) for line in references.sentences], max(TEXYGEN_ORDERS))

    def compute(self, samples: Batch, model: GANModel | None = None) -> dict[str, MetricValue]:
        hypotheses = generated_sentences(samples, self.context)
        protocol = {
            "protocol": "Texygen BLEU (nltk sentence_bleu, smoothing method1, mean over hypotheses)",
            "reference_split": self.config.reference_split, "references": self.index.num_references,
            "hypotheses": len(hypotheses), "tokenizer": TOKENIZER,
        }
        scores = self.index.score(hypotheses, TEXYGEN_ORDERS)
        return {f"bleu{n}": MetricValue(value, True, {**protocol, "order": n}) for n, value in scores.items()}


@METRICS.register("self_bleu")
class SelfBleu(Metric):
    modality = "text"

    def compute(self, samples: Batch, model: GANModel | None = None) -> dict[str, MetricValue]:
        count = min(self.config.self_bleu_samples, len(samples["tokens"]))
        sentences = generated_sentences({"tokens": samples["tokens"][:count]}, self.context)
        protocol = {
            "protocol": "Texygen self-BLEU (each sentence against all the others, smoothing method1)",
            "samples": count, "tokenizer": TOKENIZER,
        }
        scores = self_bleu(sentences, TEXYGEN_ORDERS)
        return {f"self_bleu{n}": MetricValue(value, False, {**protocol, "order": n}) for n, value in scores.items()}


@METRICS.register("nll_oracle")
class NLLOracle(Metric):
    modality = "text"

    def __init__(self, config: EvalConfig, context: EvalContext):
        super().__init__(config, context)
        train = context.dataset("train")
        if not isinstance(train, OracleData):
            raise TextMetricError(f"nll_oracle needs data.name: oracle; this run's data is '{context.data_name}'")
        self.oracle = train.oracle.to(context.device)

    def compute(self, samples: Batch, model: GANModel | None = None) -> dict[str, MetricValue]:
        tokens = samples["tokens"]
        protocol = {"samples": len(tokens), "tokens_per_sample": tokens.shape[1], "per": "token",
                    "oracle": self.context.data_config.params_file}
        return {"nll_oracle": MetricValue(oracle_nll(self.oracle, tokens), False, protocol)}


@METRICS.register("nll_gen")
class NLLGen(Metric):
    """Scores the reference split under the model itself; the samples are not used."""

    modality = "text"

    def __init__(self, config: EvalConfig, context: EvalContext):
        super().__init__(config, context)
        self.tokens = context.dataset(config.reference_split).tokens  # (N, L)

    def compute(self, samples: Batch, model: GANModel | None = None) -> dict[str, MetricValue]:
        if not isinstance(model, TokenScorer):
            raise TextMetricError(f"nll_gen needs a text model with token_nll(); {type(model).__name__} has none")
        protocol = {"split": self.config.reference_split, "sequences": len(self.tokens),
                    "tokens_per_sequence": self.tokens.shape[1], "per": "token (all positions, EOS/PAD included)"}
        return {"nll_gen": MetricValue(model.token_nll(self.tokens), False, protocol)}


@METRICS.register("nll_test")
class NLLTest(NLLGen):
    """Caccia et al. 2020's NLL_test: the first `eval.n_samples` sequences of the oracle's held-out split (a second
    fixed-seed draw from the oracle, see OracleData) scored under the model at the temperature its samples were
    drawn with, softmax(logits / T); at T = 1 it is nll_gen on those sequences. With the oracle as the model and
    its own samples as the split it equals nll_oracle, the check that the two axes share one scale."""

    def __init__(self, config: EvalConfig, context: EvalContext):
        super().__init__(config, context)
        if not isinstance(context.dataset(config.reference_split), OracleData):
            raise TextMetricError(f"nll_test needs data.name: oracle; this run's data is '{context.data_name}'")
        self.tokens = self.tokens[: config.n_samples]  # (n, L): the CPU budget's n, named in the protocol

    def compute(self, samples: Batch, model: GANModel | None = None) -> dict[str, MetricValue]:
        if not isinstance(model, TokenScorer):
            raise TextMetricError(f"nll_test needs a text model with token_nll(); {type(model).__name__} has none")
        temperature = float(self.context.sampling.get("temperature", 1.0))
        protocol = {"split": self.config.reference_split, "sequences": len(self.tokens),
                    "tokens_per_sequence": self.tokens.shape[1], "temperature": temperature,
                    "per": "token", "held_out": "oracle samples, data seed + 1"}
        return {"nll_test": MetricValue(model.token_nll(self.tokens, temperature=temperature), False, protocol)}
