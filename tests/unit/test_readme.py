"""The README tells the truth: the commands it shows exist, and every command group it could show, it does.

A newcomer copies from the README first. When a command is renamed or a feature lands, this fails until
the README says so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

import ember
from ember.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _cli() -> Any:
    """The ``ember`` command as click sees it (a group: ``.commands`` by name)."""
    return typer.main.get_command(app)


def _is_group(command: Any) -> bool:
    return hasattr(command, "commands")


def _shown_commands() -> set[tuple[str, ...]]:
    """``ember GROUP CMD`` and ``ember GROUP a|b|c`` as the README writes them, one tuple per command."""
    shown: set[tuple[str, ...]] = set()
    text = re.sub(r"\s*\n\s*", " ", README)  # a command list may wrap onto the next line
    for match in re.finditer(r"(?<!import )(?<![\w./-])ember ([a-z]+)(?: ((?:[a-z]+\|)*[a-z]+)\b)?", text):
        group, names = match.group(1), match.group(2)
        if names is None:
            shown.add((group,))
        else:
            shown.update((group, name) for name in names.split("|"))
    return shown


def test_every_ember_command_the_readme_shows_exists() -> None:
    cli = _cli()
    missing = []
    for shown in sorted(_shown_commands()):
        command = cli.commands.get(shown[0])
        if command is None or (len(shown) == 2 and _is_group(command) and shown[1] not in command.commands):
            missing.append(" ".join(shown))
    assert missing == []


def test_every_command_group_of_the_cli_appears_in_the_readme() -> None:
    shown_groups = {shown[0] for shown in _shown_commands()}
    assert sorted(set(_cli().commands) - shown_groups) == []


def test_every_make_target_the_readme_names_exists() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.M))
    named = set(re.findall(r"`make ([a-z][\w-]*)`", README)) | set(
        re.findall(r"^make ([a-z][\w-]*)", README, re.M)
    )
    assert named, "the README names no make target"
    assert sorted(named - targets) == []


def test_every_sdk_name_the_readme_uses_is_public() -> None:
    used = set(re.findall(r"\bember\.([A-Z]\w*)", README))
    assert used
    assert sorted(name for name in used if name not in ember.__all__) == []


def test_the_planned_next_sentence_names_nothing_the_cli_already_has() -> None:
    planned = re.search(r"Planned\s+next[^.]*\.", README)
    assert planned is not None, "README has no 'Planned next' sentence"
    built = set(_cli().commands)  # one command group per noun that exists
    assert sorted(noun for noun in built if noun in planned.group(0).lower()) == []
