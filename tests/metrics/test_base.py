"""What the metrics of a run share through their context: made at the first request, once per run or once per
evaluation; a metric reads no feature session unless it says so."""
from multigan.metrics.base import EvalContext, Metric, SharedWork


def test_a_shared_object_is_made_once_per_run():
    shared, made = SharedWork(), []
    first = shared.get_or_create("domain_classifier", lambda: made.append("made") or object())
    assert shared.get_or_create("domain_classifier", lambda: made.append("made") or object()) is first
    assert made == ["made"]


def test_work_of_one_evaluation_is_dropped_at_the_next():
    shared, made = SharedWork(), []

    def make() -> int:
        made.append(len(made) + 1)
        return made[-1]

    assert shared.for_evaluation((1, "model"), "translations", make) == 1
    assert shared.for_evaluation((1, "model"), "translations", make) == 1  # the same evaluation: kept
    assert shared.for_evaluation((2, "model"), "translations", make) == 2  # the next evaluation: made again
    assert shared.for_evaluation((2, "other"), "translations", make) == 3  # another model: made again
    assert list(shared.per_evaluation) == ["translations"]  # nothing of earlier evaluations is kept


def test_a_metric_reads_no_feature_session_unless_it_says_so(quadrant_context: EvalContext):
    class Constant(Metric):
        modality = "any"

        def compute(self, samples, model):
            return {}

    assert Constant(None, quadrant_context).feature_sessions() == ()
    assert quadrant_context.shared.feature_sessions == {}


def test_metrics_name_the_extractors_they_read_before_anything_is_built():
    from multigan.metrics.config import EvalConfig
    from multigan.registry import METRICS

    inception = EvalConfig(features="inception-fid")
    assert METRICS.get("fid").extractors(inception, "image") == ("inception-fid",)
    assert METRICS.get("class_coverage").extractors(inception, "image") == ("classifier",)  # always the classifier
    assert METRICS.get("fad").extractors(EvalConfig(), "audio") == ("vggish",)
    assert METRICS.get("fd_norm").extractors(inception, "image") == ("inception-fid",)
    assert METRICS.get("fd_norm").extractors(inception, "text") == ("ngram-hash",)  # text's agnostic space
    assert METRICS.get("memorisation").extractors(EvalConfig(), "audio") == ("classifier",)
    assert METRICS.get("memorisation").extractors(EvalConfig(), "text") == ()  # duplicate sentences, no features
    assert METRICS.get("bleu").extractors(EvalConfig(), "text") == ()
