"""The bench's typed records read report.json and bench_run.json as earlier versions wrote them and write them back
unchanged, key order included: old folders load, `--report-only` rebuilds them, a rerun rewrites the same file."""
import json

from multigan.bench.records import Report, RunRecord
from multigan.bench.stability import detect_collapse

PROTOCOL = {"extractor": "ngram-hash", "version": "1", "n_generated": 200, "real_vs_real": 0.0}
SPREAD = {"n": 2, "n_failed": 1, "mean": 0.5, "std": 0.1, "min": 0.4, "max": 0.6}
COST = {"wall_s": 2.9, "samples_per_s": 6597.3, "peak_memory_mib": 717.8, "device": "cpu (1 threads)", "n_timed": 200,
        "resumed": False, "peak_memory": "peak resident memory of the run's own process (CUDA: peak allocated)"}
VERSIONS = {"multigan": "0.1.0", "torch": "2.11.0", "numpy": "2.4.6", "matplotlib": "3.11.2", "python": "3.11.7"}
SWEEP = {"option": "temperature", "quality": "bleu4", "diversity": "self_bleu4", "diversity_higher_is_better": False,
         "points": [{"value": 0.7, "metrics": {"bleu4": 0.016, "self_bleu4": 0.019}},
                    {"value": 1.3, "metrics": {"bleu4": 0.012, "self_bleu4": 0.011}}],
         "protocol": {"bleu4": {"order": 4}, "self_bleu4": {"order": 4, "samples": 50}}}
TEXT_RUN = {"status": "done", "step": 4,
            "metrics": {"fd_norm": {"value": 0.9, "higher_is_better": False, "protocol": PROTOCOL}},
            "curves": {"fd_norm": [[2, 0.87], [4, 0.93]]}, "cost": COST, "sweep": SWEEP,
            "gallery": {"kind": "text", "lines": ["a man rides", "two dogs"], "file": "step-0000004.txt"},
            "versions": VERSIONS, "run_id": "mle-s0", "digest": "184da33b49d27ed8"}
IMAGE_RUN = {"status": "done", "step": 2, "metrics": {}, "curves": {}, "cost": COST,
             "gallery": {"kind": "images", "file": "step-0000002.png"}, "versions": VERSIONS, "run_id": "gan-s0",
             "digest": "e67aecf7ed7425b8"}
FAILED_RUN = {"status": "failed", "error": "ValueError: DCGAN supports (28, 32, 64) px images, got 30",
              "run_id": "gan-s1", "digest": "f6934dce4d84efcd"}
SUITE = {"name": "tiny", "description": "smoke test", "source": "recipes/bench/tiny.yaml",
         "budget": {"steps": 4, "wall_clock_s": 0.0, "evals": 2}, "seeds": [0, 1, 2],
         "metrics": {"text": ["bleu", "self_bleu", "fd_norm"], "image": ["fid"]},
         "eval": {"text": {"features": "ngram-hash"}}, "sweeps": {"temperature": [0.7, 1.3]},
         "runs": [{"name": "mle", "label": "MLE", "recipe": "seqgan_coco", "set": ["data.limit=300"], "sweep": True,
                   "modality": "text", "kind": "text", "model": "seqgan", "data": "coco"},
                  {"name": "gan", "label": "gan", "recipe": "dcgan_digits", "set": [], "sweep": False,
                   "modality": "image", "kind": "image", "model": "dcgan", "data": "digits"}]}
COLLAPSE = {"first": 0.87, "final": 0.93, "final_step": 4, "best": 0.87, "best_step": 2, "collapsed": False,
            "reason": "no progress", "regression_share": None}
NO_EVALUATIONS = {"collapsed": False, "reason": "no evaluations", "first": None, "best": None, "best_step": None,
                  "final": None, "final_step": None, "regression_share": None}
COSTS = {"samples_per_s": SPREAD, "wall_s": SPREAD, "peak_memory_mib": SPREAD}
REPORT = {
    "format": 1, "generated": "2026-12-07T00:00:00+00:00", "suite": SUITE,
    "runs": {"mle-s0": {**TEXT_RUN, "spec": "mle", "seed": 0, "modality": "text"},
             "gan-s0": {**IMAGE_RUN, "spec": "gan", "seed": 0, "modality": "image"},
             "gan-s1": {**FAILED_RUN, "spec": "gan", "seed": 1, "modality": "image"},
             "gan-s2": {"status": "missing", "error": "not run yet", "spec": "gan", "seed": 2, "modality": "image"}},
    "summary": {"mle": {"metrics": {"fd_norm": {**SPREAD, "higher_is_better": False}},
                        "collapse": {"mle-s0": COLLAPSE}, "cost": COSTS, "failed": []},
                "gan": {"metrics": {}, "collapse": {"gan-s0": NO_EVALUATIONS}, "cost": COSTS,
                        "failed": [FAILED_RUN["error"]]}},
}


def test_report_json_reads_and_writes_back_unchanged():
    report = Report.from_json(json.loads(json.dumps(REPORT)))
    assert json.dumps(report.to_json(), indent=2) == json.dumps(REPORT, indent=2)
    mle = report.runs["mle-s0"]
    assert mle.done and mle.sweep.points[1].metrics["bleu4"] == 0.012 and mle.curves["fd_norm"][1] == (4, 0.93)
    assert mle.metrics["fd_norm"].protocol["extractor"] == "ngram-hash" and mle.gallery.lines[0] == "a man rides"
    assert [run.seed for run in report.runs_of("gan")] == [0, 1, 2]
    assert report.suite.runs[0].overrides == ["data.limit=300"] and report.suite.budget.evals == 2
    assert report.summary["gan"].collapse["gan-s0"].reason == "no evaluations"
    assert report.summary["mle"].metrics["fd_norm"].higher_is_better is False


def test_run_records_read_and_write_back_unchanged():
    for record in (TEXT_RUN, IMAGE_RUN, FAILED_RUN):
        assert json.dumps(RunRecord.from_json(record).to_json()) == json.dumps(record)
    assert not RunRecord.from_json(FAILED_RUN).done and RunRecord.from_json(IMAGE_RUN).gallery.lines is None


def test_collapse_verdicts_keep_their_key_order():
    verdicts = {"no evaluations": detect_collapse([], False), "diverged": detect_collapse([(0, 1.0), (1, float("nan"))], False),
                "no progress": detect_collapse([(2, 0.87), (4, 0.93)], False),
                "collapsed": detect_collapse([(0, 3.0), (1, 1.0), (2, 2.9)], False)}
    assert list(verdicts["no evaluations"].to_json()) == list(NO_EVALUATIONS)
    assert list(verdicts["diverged"].to_json()) == ["first", "final", "final_step", "collapsed", "reason", "best",
                                                    "best_step", "regression_share"]
    for kind in ("no progress", "collapsed"):
        assert list(verdicts[kind].to_json()) == list(COLLAPSE)
    assert verdicts["no progress"].to_json() == COLLAPSE
