"""The oracle's temperature protocol in the bench: NLL_oracle vs NLL_test axes, and the refusals around it."""
import pytest

from multigan.bench.commands import bench
from multigan.bench.plots import quality_diversity_figure
from multigan.bench.records import Report
from multigan.bench.suite import SuiteError, load_suite
from multigan.bench.sweeps import SweepResult, sweep_axes, sweep_problem
from multigan.cli import main
from multigan.errors import UserError
from tests.bench.conftest import image_suite
from tests.bench.test_records import REPORT

NLL_POINTS = [{"value": t, "metrics": {"nll_oracle": o, "nll_test": d}} for t, o, d in
              [(0.5, 8.1, 11.0), (1.0, 9.4, 9.0), (1.5, 10.2, 9.6)]]
NLL_REPORT = {**REPORT, "runs": {**REPORT["runs"], "mle-s0": {
    **REPORT["runs"]["mle-s0"], "sweep": {"option": "temperature", "quality": "nll_oracle", "diversity": "nll_test",
                                          "diversity_higher_is_better": False, "points": NLL_POINTS, "protocol": {},
                                          "quality_higher_is_better": False}}}}


def test_a_runs_metrics_pick_the_temperature_axes():
    oracle = sweep_axes("temperature", ["nll_oracle", "nll_test", "bleu"])
    assert (oracle.quality, oracle.diversity) == ("nll_oracle", "nll_test")
    assert not oracle.quality_higher_is_better and not oracle.diversity_higher_is_better
    assert sweep_axes("temperature", ["bleu", "self_bleu"]).quality == "bleu4"
    assert sweep_axes("temperature", ["nll_oracle"]) is None
    assert "nll_oracle, nll_test or bleu, self_bleu" in sweep_problem("temperature", ["nll_oracle"])


def test_the_oracle_suite_sweeps_the_mle_run_and_keeps_each_runs_stages():
    suite, planned = load_suite("oracle_temperature")
    runs = {run.run_id: run for run in planned}
    assert runs["mle-s0"].sweep == ("temperature", [0.5, 0.7, 0.85, 1.0, 1.2, 1.5])
    assert [s.name for s in runs["mle-s0"].config.train.stages] == ["pretrain_g"]
    assert runs["relgan-s0"].config.model.generator.backbone == "relational"
    assert runs["relgan-s0"].config.model.max_inverse_temperature == 1.0
    assert runs["gumbel-s0"].config.model.generator.backbone == "lstm"
    assert all(run.config.eval.metrics == ["nll_oracle", "nll_test"] for run in planned)


@pytest.mark.parametrize("values", [[0.5, 0.0, 1.0], [-1, 1.0]])
def test_a_sweep_value_at_or_below_zero_is_one_line_naming_the_key(write_suite, tmp_path, capsys, values):
    path = write_suite(image_suite(sweeps={"temperature": values}))
    with pytest.raises(SuiteError) as caught:
        load_suite(str(path))
    assert caught.value.problems == [
        f"sweeps.temperature: every value must be > 0, got {', '.join(f'{v:g}' for v in values if v <= 0)} "
        f"in {values}"]
    assert main(["bench", str(path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "sweeps.temperature" in err and "nothing was trained" in err
    assert not (tmp_path / "out").exists()


def test_seeds_outside_the_suite_are_refused(write_suite, tmp_path):
    with pytest.raises(UserError, match=r"--seeds: \[7\] not among the suite's seeds \[0, 1, 2\]"):
        bench(str(write_suite(image_suite())), tmp_path / "out", seeds=[7])


def test_the_nll_figure_says_lower_left_is_better():
    sweep = SweepResult("temperature", "nll_oracle", "nll_test", False, [], {}, quality_higher_is_better=False)
    old = SweepResult.from_json({k: v for k, v in sweep.to_json().items() if k != "quality_higher_is_better"})
    assert old.quality_higher_is_better  # records written before the NLL axes read back as BLEU's
    report = Report.from_json(NLL_REPORT)
    _, caption, name = quality_diversity_figure(report, "temperature")
    assert "Better is down and to the left" in caption and name == "quality_diversity_temperature.png"
