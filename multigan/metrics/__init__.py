"""Metrics: pure functions (features -> statistics -> distance) plus registered `Metric` classes that an
`Evaluator` runs on generated samples. Importing this package registers every metric and feature extractor."""

from multigan.metrics import classifier, image_metrics, inception  # noqa: F401  (register extractors and metrics)
