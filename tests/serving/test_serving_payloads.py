"""MLflow scoring payloads become the inputs ``mlflow models serve`` would give a pyfunc model."""

from __future__ import annotations

import math

import pytest

from ember.serving.scoring import ScoringInputError, pyfunc_input, to_json

pandas = pytest.importorskip("pandas")
numpy = pytest.importorskip("numpy")


def test_dataframe_split_and_records_become_frames() -> None:
    split = pyfunc_input({"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2.5], [3, 4.5]]}})
    records = pyfunc_input({"dataframe_records": [{"a": 1, "b": 2.5}, {"a": 3, "b": 4.5}]})

    assert list(split.columns) == ["a", "b"]
    assert split.equals(records)


def test_instances_and_inputs_become_arrays() -> None:
    assert pyfunc_input({"instances": [[1, 2], [3, 4]]}).shape == (2, 2)
    named = pyfunc_input({"inputs": {"x": [1, 2, 3]}})
    assert list(named) == ["x"]
    assert named["x"].tolist() == [1, 2, 3]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([1, 2], "one key"),
        ({"instances": [1], "inputs": [2]}, "one key"),
        ({"rows": [[1]]}, "unknown payload key 'rows'"),
        ({"dataframe_split": {"columns": ["a"]}}, "dataframe_split needs"),
        ({"dataframe_records": {"a": 1}}, "list of"),
    ],
)
def test_a_malformed_payload_says_what_is_expected(payload: object, message: str) -> None:
    with pytest.raises(ScoringInputError, match=message):
        pyfunc_input(payload)


def test_results_become_plain_json_values() -> None:
    frame = pandas.DataFrame({"p": [0.5, math.nan]})

    assert to_json(numpy.array([1, 2])) == [1, 2]
    assert to_json(frame) == [{"p": 0.5}, {"p": None}]
    assert to_json({"predictions": numpy.float64(math.inf)}) == {"predictions": None}
