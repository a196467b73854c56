"""Labelled synthetic datasets from a trained model (`multigan sample RUN --out DIR`): exact counts per class,
resumable, optionally filtered by the domain classifier, with a provenance manifest.json.

    request.py   ExportRequest: what the caller asks, checked alone and then against the model; the plan's classes
    job.py       Export: one export into a folder (staged, resumable, byte for byte), ExportPlan, ConfidenceFilter
"""
from multigan.export.job import ConfidenceFilter, Export, ExportPlan
from multigan.export.request import ExportError, ExportRequest

__all__ = ["ConfidenceFilter", "Export", "ExportError", "ExportPlan", "ExportRequest"]
