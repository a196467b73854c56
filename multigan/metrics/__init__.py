"""Metrics: pure functions (features -> statistics -> distance) plus registered `Metric` classes that an
`Evaluator` runs on generated samples. Importing this package registers every metric and feature extractor."""

# importing registers the extractors and metrics
from multigan.metrics import agnostic, classifier, feature_metrics, ngram_features  # noqa: F401
