"""Framework presets build the ScriptRunConfig and environment a user would write by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

import ember
from ember.jobs.estimators import PyTorch, SKLearn, TensorFlow


def test_sklearn_preset_pins_the_framework_and_turns_script_params_into_arguments() -> None:
    est = SKLearn(
        "src",
        "train.py",
        script_params={"--C": 0.5, "--verbose": ""},
        arguments=["--seed", 1],
        framework_version="1.7",
        pip_packages=["pandas==2.2.3"],
    )
    assert est.script == "train.py"
    assert est.arguments == ["--C", "0.5", "--verbose", "--seed", "1"]
    env = est.environment
    assert env.pip == ("scikit-learn==1.7.*", "pandas==2.2.3")
    assert env.name.startswith("ember-sklearn-1.7-")
    assert not env.inherit_current


def test_same_packages_share_one_environment_name_and_others_do_not() -> None:
    a = SKLearn("src", "train.py", pip_packages=["b==1", "a==2"]).environment
    b = SKLearn("src", "train.py", pip_packages=["a==2", "b==1"]).environment
    c = SKLearn("src", "train.py", pip_packages=["a==3"]).environment
    assert a.name == b.name
    assert a.name != c.name


def test_pytorch_is_always_pinned_and_tensorflow_takes_a_minor_version() -> None:
    assert PyTorch("src", "train.py").environment.pip == ("torch==2.13.0",)
    assert TensorFlow("src", "train.py", framework_version="2.17").environment.pip == ("tensorflow==2.17.*",)


def test_current_environment_preset_runs_without_a_build(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "train.py").write_text(
        "import sys, ember\n"
        "run = ember.Run.get_context()\n"
        "run.log('acc', float(sys.argv[2]))\n"
        "print('ok', sys.argv[1:])\n"
    )
    ws = ember.Workspace.create(tmp_path / "ws")
    try:
        est = SKLearn(src, "train.py", script_params={"--acc": 0.75}, use_current_environment=True)
        assert est.environment.inherit_current
        run = ember.Experiment(ws, "presets").submit(est)
        details = run.wait_for_completion(timeout=120)
        assert details["info"]["status"] == "Completed"
        assert run.get_metrics()["acc"] == [0.75]
        assert ember.Environment.list(ws) == []  # nothing was registered or built
    finally:
        ws.close()


def test_estimator_needs_an_entry_script() -> None:
    with pytest.raises(ember.errors.InvalidInput, match="script"):
        SKLearn("src")
