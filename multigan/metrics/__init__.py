"""Metrics: pure functions (features -> statistics -> distance) plus registered `Metric` classes that an
`Evaluator` runs on generated samples. Importing this package registers every metric and feature extractor."""
