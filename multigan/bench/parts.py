"""The bench report's building blocks: what report.py lays out and report_render.py writes as Markdown and HTML."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    card: list[str]  # the protocol card: what the numbers were measured with
    note: str = ""


@dataclass
class Figure:
    title: str
    png: bytes
    caption: str
    name: str  # file name under report_files/ in the Markdown report


@dataclass
class Gallery:
    title: str
    png: bytes | None = None
    lines: list[str] = field(default_factory=list)
    name: str = ""
