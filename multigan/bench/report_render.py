"""The report document (report.py) as `report.md` (PNGs beside it in report_files/) and as one self-contained
`report.html` (PNGs embedded as base64 data URIs, inline CSS, no script, nothing fetched at view time). Both are
written through temporary files and renamed into place."""
from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from multigan.bench.parts import Figure, Gallery, Table
from multigan.core.files import write_bytes_atomic, write_text_atomic

FILES = "report_files"
CSS = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.card { font-size: 0.8em; color: #444; background: #fafafa; border-left: 3px solid #99c; padding: 0.4em 0.8em;
        margin-bottom: 1.5em; }
.card li { margin: 0.1em 0; }
.note { font-size: 0.85em; color: #555; }
figure { margin: 1em 0; }
figcaption { font-size: 0.85em; color: #555; }
img.gallery { width: 480px; max-width: 100%; image-rendering: pixelated; }  /* 28 px samples, enlarged */
pre { background: #f6f6f6; padding: 0.6em; font-size: 0.85em; white-space: pre-wrap; }
"""


def md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table_md(table: Table) -> list[str]:
    lines = [f"### {table.title}", "", "| " + " | ".join(map(md_cell, table.header)) + " |",
             "|" + "---|" * len(table.header)]
    lines += ["| " + " | ".join(map(md_cell, row)) + " |" for row in table.rows]
    if table.note:
        lines += ["", table.note]
    lines += ["", "<details><summary>Protocol</summary>", ""] + [f"- {md_cell(c)}" for c in table.card]
    return lines + ["", "</details>", ""]


def render_markdown(parts: list[Any], out: Path) -> None:
    lines: list[str] = []
    for part in parts:
        if isinstance(part, str):
            lines += [part, ""]
        elif isinstance(part, Table):
            lines += table_md(part)
        elif isinstance(part, Figure):
            write_bytes_atomic(out / FILES / part.name, part.png)
            lines += [f"### {part.title}", "", f"![{part.title}]({FILES}/{part.name})", "", part.caption, ""]
        elif isinstance(part, Gallery):
            lines += [f"### {part.title}", ""]
            if part.png is not None:
                write_bytes_atomic(out / FILES / part.name, part.png)
                lines += [f"![{part.title}]({FILES}/{part.name})", ""]
            else:
                lines += ["```", *part.lines, "```", ""]
    write_text_atomic(out / "report.md", "\n".join(lines))


def data_uri(picture: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(picture).decode("ascii")


def table_html(table: Table) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in table.header)
    body = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>" for row in table.rows)
    note = f'<p class="note">{esc(table.note)}</p>' if table.note else ""
    card = "".join(f"<li>{esc(c)}</li>" for c in table.card)
    return (f"<h3>{esc(table.title)}</h3><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"
            f'<div class="card"><strong>Protocol</strong><ul>{card}</ul></div>')


def part_html(part: Any) -> str:
    esc = html.escape
    if isinstance(part, str):
        if part.startswith("# "):
            return f"<h1>{esc(part[2:])}</h1>"
        if part.startswith("## "):
            return f"<h2>{esc(part[3:])}</h2>"
        return f"<p>{esc(part)}</p>"
    if isinstance(part, Table):
        return table_html(part)
    if isinstance(part, Figure):
        return (f'<figure><img src="{data_uri(part.png)}" alt="{esc(part.title)}">'
                f"<figcaption>{esc(part.title)}: {esc(part.caption)}</figcaption></figure>")
    if isinstance(part, Gallery):
        body = (f'<img class="gallery" src="{data_uri(part.png)}" alt="{esc(part.title)}">' if part.png is not None
                else "<pre>" + esc("\n".join(part.lines)) + "</pre>")
        return f"<h3>{esc(part.title)}</h3>{body}"
    raise TypeError(f"cannot render {type(part).__name__}")


def render_html(parts: list[Any], out: Path, title: str) -> None:
    body = "\n".join(part_html(part) for part in parts)
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{CSS}</style></head><body>\n{body}\n</body></html>\n")
    write_text_atomic(out / "report.html", page)
