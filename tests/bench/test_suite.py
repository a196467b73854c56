"""Suite files: every problem found before anything trains, listed together; budgets and seeds planned exactly."""
import pytest

from multigan.bench.plan import metric_problem
from multigan.bench.suite import SuiteError, find_suite, load_suite
from multigan.cli import main
from multigan.metrics.config import EvalConfig
from tests.bench.conftest import TINY_DCGAN, image_suite


def problems_of(path) -> list[str]:
    with pytest.raises(SuiteError) as caught:
        load_suite(str(path))
    return caught.value.problems


def test_every_problem_of_a_suite_is_listed_at_once(write_suite):
    raw = image_suite(
        seeds=[0, 1],
        metrics={"image": ["fid", "fdi"], "text": ["bleu"]},
        runs=[
            {"name": "a", "recipe": "dcgan_digitz"},
            {"name": "b", "recipe": "dcgan_digits", "set": ["model.ngff=3"]},
            {"name": "c", "recipe": "dcgan_digits", "set": ["train.steps=5"], "swep": True},
            {"name": "d", "recipe": "dcgan_digits", "metrics": ["bleu"]},
        ],
        budgte={"steps": 3},
    )
    problems = problems_of(write_suite(raw))
    text = "\n".join(problems)
    assert "unknown key 'budgte'; did you mean 'budget'?" in text
    assert "at least 3 different seeds" in text
    assert "unknown metric 'fdi'; did you mean 'fid'?" in text
    assert "dcgan_digitz: no such recipe" in text
    assert "unknown key 'ngff'" in text
    assert "train.steps=5: the suite's budget, seeds and metrics decide these" in text
    assert "unknown key 'swep'" in text
    assert "metric 'bleu' scores text runs, not image runs" in text
    assert len(problems) == 8


def test_a_metric_needing_features_the_modality_lacks_is_refused(write_suite):
    raw = image_suite(metrics={"text": ["prdc"]}, eval={}, budget={"steps": 3, "evals": 1},
                      runs=[{"name": "t", "recipe": "seqgan_coco", "set": ["data.limit=50"]}])
    (problem,) = problems_of(write_suite(raw))
    assert "needs the domain classifier" in problem and "ngram-hash" in problem


@pytest.mark.parametrize("metric,modality,features,problem", [
    ("fd_norm", "image", "ngram-hash", "metric 'fd_norm': ngram-hash features score sequences; image samples are not"),
    ("fad", "image", "classifier", "metric 'fad' needs 'vggish' features, which score audio samples, not image"),
    ("fid", "audio", "inception-fid", "needs 'inception-fid' features, which score image samples, not audio"),
    ("class_coverage", "text", "ngram-hash", "metric 'class_coverage' needs the domain classifier"),
    ("kid", "image", "classifer", "metric 'kid': unknown feature extractor 'classifer'; did you mean 'classifier'?"),
    ("memorisation", "text", "classifier", ""),  # text: duplicate sentences, no features
    ("fd_norm", "text", "classifier", ""),  # text's agnostic space is ngram-hash, whatever eval.features says
    ("bleu", "text", "vggish", ""),  # reads no features
])
def test_the_features_a_metric_reads_are_asked_of_the_registries(metric, modality, features, problem):
    found = metric_problem(metric, modality, EvalConfig(features=features))
    assert (problem in found) if problem else found == ""


def test_runs_and_seeds_are_planned_with_the_common_budget(write_suite):
    raw = image_suite(runs=[{"name": "dcgan", "recipe": "dcgan_digits", "set": TINY_DCGAN},
                            {"name": "gan", "recipe": "seqgan_coco", "set": ["data.limit=50"]}],
                      budget={"steps": 100, "evals": 4}, metrics={"image": ["fid"], "text": ["bleu"]})
    suite, planned = load_suite(str(write_suite(raw)))
    assert [p.run_id for p in planned] == [f"{n}-s{s}" for n in ("dcgan", "gan") for s in (0, 1, 2)]
    image, text = planned[0].config, planned[3].config
    assert image.train.steps == 100 and image.eval.every == 25 and image.eval.metrics == ["fid"]
    assert [p.config.train.seed for p in planned[:3]] == [0, 1, 2]
    stages = [(s.name, s.steps) for s in text.train.stages]  # seqgan_coco's 4680 / 600 / 40, scaled to 100
    assert [n for n, _ in stages] == ["pretrain_g", "pretrain_d", "adversarial"] and sum(s for _, s in stages) == 100
    assert stages[0][1] > stages[1][1] > 0 and stages[2][1] >= 1
    assert len({p.digest() for p in planned}) == 6


def test_explicit_stages_must_add_up_to_the_budget(write_suite):
    raw = image_suite(metrics={"text": ["bleu"]}, eval={}, runs=[
        {"name": "mle", "recipe": "seqgan_coco", "set": ["train.stages=[{name: pretrain_g, steps: 3}]"]}])
    (problem,) = problems_of(write_suite(raw))
    assert "add up to 3 steps; the budget is 2" in problem


@pytest.mark.parametrize("name", ["tiny", "text_vs_image", "all_modalities", "data_efficient", "data_efficient_long", "amp_quality",
                                  "toy_mode_collapse", "oracle_temperature"])
def test_the_shipped_suites_validate(name):
    suite, planned = load_suite(name)
    assert find_suite(name).read_text().startswith("#")  # the header comment
    assert len(suite.seeds) >= 3 and planned


def test_cli_lists_the_problems_in_one_block_and_writes_nothing(write_suite, tmp_path, capsys):
    path = write_suite(image_suite(runs=[{"name": "a", "recipe": "nope"}, {"name": "b", "recipe": "dcgan_digits",
                                                                            "set": ["eval.n_sampels=3"]}]))
    code = main(["bench", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert err.startswith("multigan: error:") and "2 problem(s); nothing was trained" in err
    assert "nope: no such recipe" in err and "unknown key 'n_sampels'" in err
    assert not (tmp_path / "out").exists()


def test_cli_usage_mistakes_are_one_line(tmp_path, capsys):
    assert main(["bench", "tiny"]) == 1
    assert "needs a SUITE and --out DIR" in capsys.readouterr().err
    assert main(["bench", "--report-only", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "report.json: no such file" in err and len(err.strip().splitlines()) == 1


def test_a_wall_clock_budget_keeps_the_recipes_steps_and_limits_the_time(write_suite):
    raw = image_suite(budget={"wall_clock_s": 90, "evals": 2}, metrics={"image": ["fid"], "text": ["bleu"]},
                      runs=[{"name": "dcgan", "recipe": "dcgan_digits", "set": TINY_DCGAN},
                            {"name": "gan", "recipe": "seqgan_coco", "set": ["data.limit=50"]}])
    _, planned = load_suite(str(write_suite(raw)))
    image, text = planned[0].config, planned[3].config
    assert image.train.time_limit == 90 and image.train.steps == 3000 and image.eval.every == 1500
    assert [s.steps for s in text.train.stages] == [4680, 600, 40] and text.train.time_limit == 90


def test_a_cpu_clock_budget_counts_each_runs_cpu_seconds(write_suite):
    raw = image_suite(budget={"wall_clock_s": 90, "clock": "cpu", "evals": 1}, metrics={"image": ["fid"]},
                      runs=[{"name": "dcgan", "recipe": "dcgan_digits", "set": TINY_DCGAN}])
    _, planned = load_suite(str(write_suite(raw)))
    assert planned[0].config.train.time_limit == 90 and planned[0].config.train.time_clock == "cpu"
    (problem,) = problems_of(write_suite(image_suite(budget={"wall_clock_s": 9, "clock": "gpu", "evals": 1})))
    assert "budget.clock must be wall or cpu, got 'gpu'" in problem


def test_a_budget_needs_steps_or_a_clock(write_suite):
    (problem,) = problems_of(write_suite(image_suite(budget={"evals": 2})))
    assert "give steps" in problem and "wall_clock_s" in problem


def test_runs_that_set_their_own_stages_need_no_budget_steps(write_suite):
    stages = "train.stages=[{name: adversarial, steps: 6}]"
    raw = image_suite(budget={"evals": 1}, metrics={"image": ["fid"]},
                      runs=[{"name": "dcgan", "recipe": "dcgan_digits", "set": [*TINY_DCGAN, stages]}])
    _, planned = load_suite(str(write_suite(raw)))
    assert planned[0].config.train.steps == 6 and planned[0].config.train.time_limit == 0
