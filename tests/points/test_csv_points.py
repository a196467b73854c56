"""A user's CSV of points: header optional, labels become classes, a held-out test split, and every bad file is
one line naming the file and the line."""
import pytest
import torch

from multigan import api
from multigan.core.data import DataError
from multigan.points.csv_points import PointsCSV, PointsCSVConfig
from multigan.recipe import from_dict

from cli_support import one_error_line, run_cli


def load(tmp_path, text: str, split: str = "train", **config) -> PointsCSV:
    (tmp_path / "points.csv").write_text(text)
    return PointsCSV(PointsCSVConfig(path="points.csv", **config), tmp_path, split)


def test_points_with_a_header_labels_and_comments(tmp_path):
    text = "x,y,label\n# a comment\n0.5,1,b\n\n-2,3e-1,a\n4,5,b\n"
    dataset = load(tmp_path, text, test_fraction=0.0)
    assert dataset.points.tolist() == [[0.5, 1.0], [-2.0, 0.30000001192092896], [4.0, 5.0]]
    assert dataset.info.class_names == ["a", "b"] and dataset.labels.tolist() == [1, 0, 1]
    assert dataset.info.extra["bounds"] == [-2.0, 4.0, pytest.approx(0.3), 5.0]


def test_without_a_header_and_labels_numbered_classes_sort_as_numbers(tmp_path):
    dataset = load(tmp_path, "1,2,10\n3,4,2\n", test_fraction=0.0)
    assert dataset.info.class_names == ["2", "10"] and dataset.labels.tolist() == [1, 0]
    assert load(tmp_path, "1,2\n3,4\n").labels is None


def test_the_test_split_holds_a_fixed_share_out(tmp_path):
    text = "".join(f"{i},{-i}\n" for i in range(50))
    train, test = load(tmp_path, text), load(tmp_path, text, "test")
    assert len(train) == 45 and len(test) == 5
    assert set(train.points[:, 0].tolist()) | set(test.points[:, 0].tolist()) == set(map(float, range(50)))
    assert torch.equal(load(tmp_path, text, "test").points, test.points)


@pytest.mark.parametrize("text, message", [
    ("x,y\n1,2\n3,4,5\n", "points.csv:3: expected 2 columns (x,y) like the first row, got 3"),
    ("1,2,a\n3,4\n", "points.csv:2: expected 3 columns (x,y,label) like the first row, got 2"),
    ("1\n", "points.csv:1: expected 2 or 3 columns (x,y[,label]), got 1"),
    ("x,y\n1,2\n1,two\n", "points.csv:3: y is not a number: 'two'"),
    ("1,2\n\n\nnan,2\n", "points.csv:4: x is not finite: 'nan'"),
    ("1,2\n3,inf\n", "points.csv:2: y is not finite: 'inf'"),
    ("a,b\n1,2\n", "points.csv:1: a header row must be x,y or x,y,label, got 'a,b'"),
    ("x,y,label\n1,2,\n", "points.csv:2: the label is empty"),
    ("x,y\n# nothing\n", "points.csv: no points (rows of x,y or x,y,label)"),
])
def test_a_bad_file_is_one_line_naming_the_file_and_line(tmp_path, text, message):
    with pytest.raises(DataError) as caught:
        load(tmp_path, text)
    assert str(caught.value) == f"{tmp_path}/{message}" and "\n" not in str(caught.value)


def test_a_missing_file_or_empty_path_names_the_key(tmp_path):
    with pytest.raises(DataError, match=r"points file .*nope.csv does not exist \(data.path='nope.csv'"):
        PointsCSV(PointsCSVConfig(path="nope.csv"), tmp_path, "train")
    with pytest.raises(DataError, match="data.path of 'points_csv' is empty"):
        PointsCSV(PointsCSVConfig(), tmp_path, "train")


def recipe(steps: int = 1, batch: int = 8):
    return from_dict({"model": {"name": "toygan", "generator_widths": [8], "discriminator_widths": [8]},
                      "data": {"name": "points_csv", "path": "points.csv", "test_fraction": 0.2},
                      "train": {"steps": steps, "batch_size": batch, "sample_every": 0, "checkpoint_every": 0}})


def test_fewer_points_than_a_batch_is_one_line_and_leaves_no_run(tmp_path):
    (tmp_path / "points.csv").write_text("x,y\n" + "".join(f"{i},{i % 3}\n" for i in range(10)))
    with pytest.raises(DataError) as caught:
        api.train(recipe(batch=16), data_root=tmp_path, out=tmp_path / "run", progress=False)
    assert str(caught.value) == (f"{tmp_path}/points.csv:11: the file ends after 10 points (8 after "
                                 "data.test_fraction holds some out), fewer than train.batch_size (16); add points "
                                 "or lower train.batch_size")
    assert not (tmp_path / "run").exists()
    api.train(recipe(batch=8), data_root=tmp_path, out=tmp_path / "run", progress=False)  # 8 train points: a batch


def test_the_cli_prints_a_bad_csv_as_one_line(tmp_path, capsys):
    (tmp_path / "points.csv").write_text("x,y\n1,2\n3,oops\n")
    code, _, err = run_cli(capsys, "train", "toygan_ring", "--set", "data.name=points_csv", "data.path=points.csv",
                           "--data-root", tmp_path, "--out", tmp_path / "run", "--quiet")
    assert code == 1 and one_error_line(err) == f"multigan: error: {tmp_path}/points.csv:3: y is not a number: 'oops'"
