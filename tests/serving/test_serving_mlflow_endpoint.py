"""An MLflow-format model, saved by the real ``mlflow`` package, deployed with no entry script (pyfunc).

The environment holds ``mlflow-skinny`` (built with uv from the package index, like any environment); the
model is saved by a script running in it, registered as a folder, and served by replicas of that environment.
The workspace's own process never imports MLflow or unpickles the model.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from serving_support import score, served_workspace

import ember

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

MLFLOW = "mlflow-skinny==3.17.2"

SAVE = """
import sys

import mlflow.sklearn
import pandas as pd
from mlflow.models import infer_signature
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

frame = load_iris(as_frame=True)
x = frame.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
model = LogisticRegression(max_iter=500).fit(x, frame.target)
mlflow.sklearn.save_model(
    model, sys.argv[1], signature=infer_signature(x, model.predict(x)), serialization_format="cloudpickle"
)
"""


def test_an_mlflow_model_deploys_without_a_script_and_takes_pyfunc_payloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uv_cache = os.environ.get("UV_CACHE_DIR") or str(Path.home() / ".cache" / "uv")
    with served_workspace(tmp_path, monkeypatch) as ws:
        monkeypatch.setenv("UV_CACHE_DIR", uv_cache)  # reuse downloaded wheels across test runs
        env = ember.Environment("mlflow-sk", pip=[MLFLOW]).register(ws)
        python = _python_of(env)
        model_dir = tmp_path / "iris-mlflow"
        script = tmp_path / "save.py"
        script.write_text(SAVE)
        subprocess.run([python, str(script), str(model_dir)], check=True, capture_output=True, text=True)
        model = ember.Model.register(ws, model_name="iris-mlflow", model_path=str(model_dir))
        assert "python_function" in model.info.flavors
        assert model.info.signature is not None

        endpoint = ember.Model.deploy(
            ws, "mlflow-iris", [model], ember.InferenceConfig(environment=env), timeout=300
        )
        key = endpoint.get_keys()[0]
        columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]

        split = score(
            endpoint, {"dataframe_split": {"columns": columns, "data": [[5.1, 3.5, 1.4, 0.2]]}}, key=key
        )
        records = score(
            endpoint, {"dataframe_records": [dict(zip(columns, [6.7, 3.0, 5.2, 2.3], strict=True))]}, key=key
        )
        missing = score(
            endpoint, {"dataframe_split": {"columns": columns[:3], "data": [[5.1, 3.5, 1.4]]}}, key=key
        )
        unknown = score(endpoint, {"rows": [[1, 2, 3, 4]]}, key=key)

        assert split.status_code == 200, split.text
        assert split.json() == {"predictions": [0]}
        assert records.json() == {"predictions": [2]}
        assert missing.status_code == 400
        assert "petal_width" in missing.json()["error"]["message"]
        assert unknown.status_code == 400
        assert "dataframe_split" in unknown.json()["error"]["message"]
        assert "mlflow" not in sys.modules  # the workspace's process never imported it
        endpoint.delete()


def _python_of(env: ember.Environment) -> str:
    from ember.environments.materialize import EnvironmentCache, default_cache_root

    return str(EnvironmentCache(default_cache_root()).python_for(env.spec, timeout=600))
