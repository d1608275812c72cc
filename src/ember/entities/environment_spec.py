"""What an Environment is made of: a Python version, pip requirements and environment variables.

Everything here is pure (no I/O): validation, the canonical hash, and the parsers of
``requirements.txt`` and ``env.yml`` text. Every refusal is an ``ember.errors.InvalidInput``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from typing import Any
from urllib.parse import urlsplit

import pydantic
import yaml
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ember.entities.tracking import NAME_PATTERN
from ember.errors import InvalidInput

__all__ = [
    "EnvironmentSpec",
    "parse_environment_yaml",
    "parse_requirements_file",
    "pin_python",
    "spec_hash",
    "validate_requirement",
]

_PYTHON_RE = re.compile(r"^3\.(\d{1,2})(\.\d{1,3})?$")
_MIN_PYTHON_MINOR = 8
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED_ENV_NAMES = frozenset({"PATH", "PYTHONPATH", "PYTHONHOME"})
_RESERVED_ENV_PREFIXES = ("EMBER_", "LD_", "DYLD_")
# Never needed by a PEP 508 requirement, and tell-tale signs of a shell command or a pip option.
_FORBIDDEN_CHARS = frozenset("`$|&\\\n\r\t\x00")
# Names that uv would read as a local archive rather than as a project on the index.
_ARCHIVE_SUFFIXES = (".whl", ".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
# A pip/requirements.txt comment starts with '#' at the start of a line or after whitespace.
_INLINE_COMMENT_RE = re.compile(r"(^|\s)#.*$")


def validate_requirement(text: str) -> str:
    """Check that ``text`` is one PEP 508 requirement Ember will hand to the installer.

    Args:
        text: A specifier such as ``"six==1.16.0"`` or ``"pkg @ https://host/pkg-1.0-py3-none-any.whl"``.

    Returns:
        The specifier with surrounding whitespace removed.

    Raises:
        InvalidInput: ``text`` is an installer option, a file, a shell fragment, a non-https URL, or
            otherwise not a requirement.
    """
    if not isinstance(text, str):
        raise InvalidInput(f"a pip requirement must be a string, not {type(text).__name__}")
    spec = text.strip()
    if not spec:
        raise InvalidInput("a pip requirement is empty; remove it or name a package")
    if spec.startswith("-"):
        raise InvalidInput(
            f"pip requirement {spec!r} is an installer option; options such as -r, -e or --index-url "
            "are not allowed in an environment (configure package indexes in uv's own settings)"
        )
    bad = sorted({c for c in spec if c in _FORBIDDEN_CHARS})
    if bad:
        raise InvalidInput(
            f"pip requirement {spec!r} contains characters not allowed in a requirement: {bad!r}"
        )
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        raise InvalidInput(
            f"pip requirement {spec!r} is not a valid requirement (PEP 508): {exc}. "
            "Write it like 'package==1.2.3' or 'package>=1.2'"
        ) from exc
    if req.url is not None:
        parts = urlsplit(req.url)
        if parts.scheme != "https" or not parts.netloc:
            raise InvalidInput(
                f"pip requirement {spec!r} points at {req.url!r}; only https:// direct references "
                "('name @ https://...') are allowed"
            )
    elif req.name.lower().endswith(_ARCHIVE_SUFFIXES):
        raise InvalidInput(
            f"pip requirement {spec!r} looks like a local file; publish it and refer to it by name, "
            "or use 'name @ https://...'"
        )
    return spec


def _canonical_requirement(spec: str) -> str:
    """One spelling per requirement, so ``Six == 1.16.0`` and ``six==1.16.0`` hash the same."""
    req = Requirement(spec)
    name = canonicalize_name(req.name)
    extras = f"[{','.join(sorted(canonicalize_name(e) for e in req.extras))}]" if req.extras else ""
    version = f" @ {req.url}" if req.url else str(req.specifier)
    marker = f" ; {req.marker}" if req.marker else ""
    return f"{name}{extras}{version}{marker}"


def _check_python(value: str) -> str:
    match = _PYTHON_RE.fullmatch(value.strip())
    if match is None:
        raise InvalidInput(
            f"python version {value!r} is not a CPython version; write it like '3.11' or '3.11.7'"
        )
    if int(match.group(1)) < _MIN_PYTHON_MINOR:
        raise InvalidInput(
            f"python version {value!r} is not supported (the oldest is 3.{_MIN_PYTHON_MINOR}); in YAML, "
            "quote versions such as '3.10', which unquoted reads as the number 3.1"
        )
    return value.strip()


def _check_env_var(name: str, value: str) -> None:
    if not _ENV_NAME_RE.fullmatch(name):
        raise InvalidInput(
            f"environment variable name {name!r} is invalid; use letters, digits and '_', "
            "not starting with a digit"
        )
    upper = name.upper()
    if upper in _RESERVED_ENV_NAMES or upper.startswith(_RESERVED_ENV_PREFIXES):
        raise InvalidInput(
            f"environment variable {name!r} is reserved: Ember sets PATH, PYTHONPATH, PYTHONHOME, "
            "EMBER_* itself and does not let an environment set LD_*/DYLD_* loader variables"
        )
    if "\x00" in value:
        raise InvalidInput(f"the value of environment variable {name!r} contains a NUL character")


def _describe(exc: pydantic.ValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "environment"
        problems.append(f"{where}: {err['msg']}")
    return "invalid environment spec: " + "; ".join(problems)


class EnvironmentSpec(pydantic.BaseModel, extra="forbid", frozen=True):
    """A Python version, pip requirements and environment variables: what an Environment version holds.

    Attributes:
        python: ``"3.11"`` or ``"3.11.7"``; ``None`` means the submitting interpreter's major.minor
            (see ``pin_python``, which the SDK applies when it registers an Environment).
        pip: PEP 508 requirement specifiers, installed with uv.
        env_vars: Variables set for the run's process.
        inherit_current: Run with the submitting interpreter and its packages; nothing is built.
    """

    python: str | None = None
    pip: tuple[str, ...] = ()
    env_vars: dict[str, str] = {}
    inherit_current: bool = False

    @pydantic.model_validator(mode="wrap")
    @classmethod
    def _as_invalid_input(cls, data: Any, handler: pydantic.ValidatorFunctionWrapHandler) -> Any:
        # Every caller (SDK, server, YAML parser) sees one error type, whatever went wrong.
        try:
            return handler(data)
        except pydantic.ValidationError as exc:
            raise InvalidInput(_describe(exc)) from None

    @pydantic.field_validator("python")
    @classmethod
    def _python(cls, value: str | None) -> str | None:
        return None if value is None else _check_python(value)

    @pydantic.field_validator("pip")
    @classmethod
    def _pip(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(validate_requirement(spec) for spec in value)

    @pydantic.field_validator("env_vars")
    @classmethod
    def _env_vars(cls, value: dict[str, str]) -> dict[str, str]:
        for name, var in value.items():
            _check_env_var(name, var)
        return value


def spec_hash(spec: EnvironmentSpec) -> str:
    """The sha256 (hex) of the spec's canonical JSON: equal specs give equal hashes on any machine.

    Requirements are normalised (name case, spacing) and sorted and environment variables are sorted
    by name, so the order they were written in does not matter. ``python=None`` hashes as ``None``;
    apply ``pin_python`` first where the hash must name a concrete interpreter.
    """
    canonical = {
        "python": spec.python,
        "pip": sorted({_canonical_requirement(s) for s in spec.pip}),
        "env_vars": dict(sorted(spec.env_vars.items())),
        "inherit_current": spec.inherit_current,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def pin_python(spec: EnvironmentSpec) -> EnvironmentSpec:
    """Return ``spec`` with ``python=None`` replaced by this interpreter's major.minor."""
    if spec.python is not None:
        return spec
    return spec.model_copy(update={"python": f"{sys.version_info.major}.{sys.version_info.minor}"})


def parse_requirements_file(text: str) -> tuple[str, ...]:
    """Turn ``requirements.txt`` text into requirement specifiers.

    Blank lines and comments are skipped, inline comments (``pkg==1.0  # why``) are stripped and
    backslash line continuations are joined. Installer options are refused.

    Args:
        text: The file's content.

    Returns:
        The specifiers, in file order.

    Raises:
        InvalidInput: A line is an option (``-r``, ``-e``, ``--index-url`` …) or not a requirement; the
            message names the line number.
    """
    logical: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        stripped = raw.rstrip()
        if stripped.endswith("\\"):
            pending += stripped[:-1]
            continue
        logical.append((start, pending + raw))
        pending = ""
    if pending:
        logical.append((start, pending))
    specs = []
    for number, line in logical:
        cleaned = _INLINE_COMMENT_RE.sub("", line).strip()
        if cleaned:
            specs.append(_requirement_at(cleaned, number))
    return tuple(specs)


def _requirement_at(line: str, number: int) -> str:
    if line.startswith("-"):
        raise InvalidInput(
            f"requirements line {number}: {line!r} is an installer option; options such as -r, -e, "
            "-c or --index-url are not supported, list the requirements themselves"
        )
    if " --" in line:
        raise InvalidInput(
            f"requirements line {number}: {line!r} carries a per-requirement option (such as --hash), "
            "which is not supported"
        )
    try:
        return validate_requirement(line)
    except InvalidInput as exc:
        raise InvalidInput(f"requirements line {number}: {exc.message}") from None


_YAML_KEYS = frozenset(
    {
        "name",
        "python",
        "pip",
        "env_vars",
        "inherit_current",
        "dependencies",
        "channels",
        "variables",
        "prefix",
    }
)


def parse_environment_yaml(text: str) -> tuple[str, EnvironmentSpec]:
    """Read an ``env.yml``: Ember's own layout or a conda ``environment.yml`` with pip dependencies.

    Ember's layout::

        name: my-env
        python: "3.11"
        pip: [six==1.16.0]
        env_vars: {MODE: fast}

    Conda's layout (``variables`` become ``env_vars``; ``channels`` and the ``pip`` package are
    ignored; other conda packages are refused, since environments are built with uv)::

        name: my-env
        dependencies:
          - python=3.11
          - pip
          - pip: [six==1.16.0]

    Args:
        text: The YAML document.

    Returns:
        The environment's name and its spec.

    Raises:
        InvalidInput: The YAML is malformed, a key is unknown, or a value is invalid.
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"environment YAML is not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidInput("environment YAML must be a mapping with at least 'name'")
    unknown = sorted(str(k) for k in doc if k not in _YAML_KEYS)
    if unknown:
        raise InvalidInput(f"environment YAML has unknown keys {unknown}; allowed: {sorted(_YAML_KEYS)}")
    name = doc.get("name")
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name):
        raise InvalidInput(
            "environment YAML needs a 'name': letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    python = _yaml_python(doc.get("python"), "python")
    pip = _yaml_list(doc.get("pip"), "pip")
    dep_python, dep_pip = _conda_dependencies(doc.get("dependencies"))
    if python is not None and dep_python is not None and python != dep_python:
        raise InvalidInput(
            f"environment YAML names two Python versions: python: {python!r} and python={dep_python}"
        )
    env_vars = _yaml_mapping(doc.get("env_vars"), "env_vars")
    env_vars.update(_yaml_mapping(doc.get("variables"), "variables"))
    data: dict[str, Any] = {
        "python": python or dep_python,
        "pip": tuple(pip + dep_pip),
        "env_vars": env_vars,
    }
    if "inherit_current" in doc:
        data["inherit_current"] = doc["inherit_current"]
    return name, EnvironmentSpec.model_validate(data)


def _yaml_python(value: object, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, float | int) and not isinstance(value, bool):
        # YAML reads 3.10 as the float 3.1; saying so beats building the wrong interpreter.
        raise InvalidInput(f'{where}: write the Python version as a quoted string, e.g. "{value}"')
    if not isinstance(value, str):
        raise InvalidInput(f'{where}: the Python version must be a string such as "3.11"')
    return value


def _yaml_list(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"environment YAML '{where}' must be a list of requirement strings")
    return list(value)


def _yaml_mapping(value: object, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"environment YAML '{where}' must be a mapping of names to values")
    out: dict[str, str] = {}
    for key, var in value.items():
        if not isinstance(key, str) or isinstance(var, dict | list) or var is None:
            raise InvalidInput(f"environment YAML '{where}': {key!r} must map a name to a plain value")
        out[key] = str(var).lower() if isinstance(var, bool) else str(var)
    return out


def _conda_dependencies(value: object) -> tuple[str | None, list[str]]:
    if value is None:
        return None, []
    if not isinstance(value, list):
        raise InvalidInput("environment YAML 'dependencies' must be a list")
    python: str | None = None
    pip: list[str] = []
    for item in value:
        if isinstance(item, dict):
            if set(item) != {"pip"}:
                raise InvalidInput(
                    f"environment YAML 'dependencies': only a 'pip:' list may nest, not {item!r}"
                )
            pip.extend(_yaml_list(item["pip"], "dependencies.pip"))
            continue
        if not isinstance(item, str):
            raise InvalidInput(f"environment YAML 'dependencies': {item!r} is not a package")
        package = re.split(r"[=<>!~ ]", item.strip(), maxsplit=1)[0].lower()
        if package == "pip":
            continue
        if package != "python":
            raise InvalidInput(
                f"environment YAML 'dependencies': conda package {item!r} is not supported, Ember builds "
                "environments with uv from PyPI; move it into the 'pip:' list"
            )
        match = re.fullmatch(r"python\s*==?\s*(3\.\d+(?:\.\d+)?)(?:\.\*)?", item.strip())
        if match is None:
            raise InvalidInput(
                f"environment YAML 'dependencies': {item!r} must pin one version, like python=3.11"
            )
        python = match.group(1)
    return python, pip
