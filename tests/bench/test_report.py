"""The tiny suite end to end through the CLI (each run in its own process): report.md/html/json, a rebuild from
report.json alone, and the HTML rendered by a real headless Chromium with every image loaded."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from multigan.bench.records import Report, RunRecord
from multigan.cli import main

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# appended to a copy of the report: after load, what the browser decoded goes into the DOM that --dump-dom prints
PROBE = """<script>
window.addEventListener('load', () => {
  const images = Array.from(document.images);
  const check = {images: images.length, loaded: images.filter(i => i.complete && i.naturalWidth > 0).length,
                 tables: document.querySelectorAll('table').length,
                 cards: document.querySelectorAll('.card').length};
  const out = document.createElement('pre'); out.id = 'bench-check'; out.textContent = JSON.stringify(check);
  document.body.appendChild(out);
});
</script></body>"""


@pytest.fixture(scope="module")
def tiny_bench(tmp_path_factory):
    root = Path(os.environ.get("MULTIGAN_DATA", SHARED_DATA))
    if not (root / "text" / "image_coco.txt").is_file():
        pytest.skip(f"COCO captions not found under {root} (set MULTIGAN_DATA)")
    out = tmp_path_factory.mktemp("bench") / "tiny"
    assert main(["bench", "tiny", "--out", str(out), "--data-root", str(root)]) == 0
    return out


@pytest.mark.slow
def test_the_tiny_suite_writes_every_report_file(tiny_bench, capsys):
    report = json.loads((tiny_bench / "report.json").read_text())
    assert sorted(report["runs"]) == [f"{n}-s{s}" for n in ("dcgan", "mle", "seqgan") for s in range(3)]
    assert all(run["status"] == "done" for run in report["runs"].values())
    mle = report["runs"]["mle-s0"]
    assert [p["value"] for p in mle["sweep"]["points"]] == [0.7, 1.3]
    assert mle["cost"]["peak_memory"].startswith("peak resident memory of the run's own process")
    assert report["summary"]["dcgan"]["metrics"]["fd_norm"]["n"] == 3
    # the typed records read it and write back the same file; each run's bench_run.json too
    assert json.dumps(Report.from_json(report).to_json(), indent=2) == (tiny_bench / "report.json").read_text()
    for path in (tiny_bench / "runs").glob("*/bench_run.json"):
        assert json.dumps(RunRecord.from_json(json.loads(path.read_text())).to_json(), indent=2) == path.read_text()
    markdown = (tiny_bench / "report.md").read_text()
    for title in ("Cross-modality comparison", "Image metrics", "Text metrics", "Cost", "Quality vs diversity"):
        assert title in markdown
    tables = [line for line in markdown.splitlines() if line.startswith("|---")]
    assert len(tables) >= 4 and markdown.count("<summary>Protocol</summary>") == len(tables)  # a card under each
    text_row = next(line for line in markdown.splitlines() if line.startswith("| seqgan"))
    assert "| — |" in text_row  # class coverage does not apply to text: a dash, never 0
    for name in ("quality_diversity_temperature.png", "quality_diversity_truncation.png", "curves_dcgan.png"):
        assert (tiny_bench / "report_files" / name).stat().st_size > 1000
    page = (tiny_bench / "report.html").read_text()
    assert "http://" not in page and "https://" not in page and 'src="data:image/png;base64,' in page


@pytest.mark.slow
def test_report_only_rebuilds_from_report_json(tiny_bench, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_bench, copy)
    (copy / "report.md").unlink()
    (copy / "report.html").unlink()
    assert main(["bench", "--report-only", str(copy)]) == 0
    assert (copy / "report.md").read_text() == (tiny_bench / "report.md").read_text()
    assert "report rebuilt" in capsys.readouterr().out


@pytest.mark.slow
def test_a_second_bench_into_the_folder_trains_nothing(tiny_bench, capsys):
    assert main(["bench", "tiny", "--out", str(tiny_bench)]) == 0
    assert "0 trained, 9 already complete, 0 failed" in capsys.readouterr().out


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.skip("no Chromium on this machine (CI installs Debian's `chromium` when it runs as root with apt-get)")


@pytest.mark.slow
def test_the_html_report_renders_in_headless_chromium(tiny_bench, tmp_path):
    browser = chromium()
    probe = tmp_path / "probe.html"
    probe.write_text((tiny_bench / "report.html").read_text().replace("</body>", PROBE))
    flags = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*flags, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert 'id="bench-check"' in dom, dom[-2000:]
    check = json.loads(dom.split('id="bench-check">')[1].split("</pre>")[0])
    assert check["images"] >= 5 and check["loaded"] == check["images"]  # every <img> decoded (naturalWidth > 0)
    assert check["tables"] >= 4 and check["cards"] == check["tables"]
    screenshot = tiny_bench / "report_screenshot.png"
    subprocess.run([*flags, f"--screenshot={screenshot}", "--window-size=1280,2400",
                    (tiny_bench / "report.html").as_uri()], capture_output=True, timeout=120)
    assert screenshot.stat().st_size > 10000
