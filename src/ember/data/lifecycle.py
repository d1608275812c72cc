"""What a dataset version's lifecycle state means for whoever consumes it (reads it, or runs on it).

Azure ML's rules: a *deprecated* version still works, with a warning naming its replacement; an
*archived* version is refused until it is reactivated. A version whose name was unregistered is kept for
run lineage (found by id) but is no new run's input. The SDK (reads), LocalJobs (submit) and the runner
(start) ask here, so the three say the same thing.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

from ember.entities.data import DatasetVersionInfo
from ember.errors import Conflict

__all__ = ["DatasetDeprecatedWarning", "check_consumable", "deprecation_message", "label", "warn"]

logger = logging.getLogger(__name__)


class DatasetDeprecatedWarning(UserWarning):
    """A deprecated dataset version was read or used as a run input; its replacement is named."""


def label(info: DatasetVersionInfo) -> str:
    """``dataset 'name' version N`` for messages."""
    return f"dataset {info.name!r} version {info.version}"


def deprecation_message(info: DatasetVersionInfo) -> str | None:
    """The warning a deprecated version gives when consumed; None when it is not deprecated."""
    if info.state != "deprecated":
        return None
    if info.deprecated_by_name is not None:
        replacement = (
            f"dataset {info.deprecated_by_name!r} version {info.deprecated_by_version} "
            f"(id {info.deprecated_by})"
        )
    else:
        replacement = f"dataset version {info.deprecated_by}"
    return f"{label(info)} is deprecated: use {replacement} instead"


def check_consumable(info: DatasetVersionInfo, *, use: str, new_run_input: bool = False) -> str | None:
    """Refuse an archived version (and, as a new run's input, an unregistered one); returns the warning
    a deprecated version gives, which the caller shows (``warn`` does it the SDK's way).

    Raises:
        Conflict: The version is archived, or ``new_run_input`` and its name was unregistered.
    """
    if info.state == "archived":
        raise Conflict(
            f"{label(info)} is archived and cannot be {use}: reactivate it first "
            f"(dataset.reactivate() or `ember dataset reactivate {info.name}:{info.version}`)"
        )
    if new_run_input and info.unregistered_time is not None:
        raise Conflict(
            f"{label(info)} was unregistered and cannot be a new run's input: register its definition "
            "again and use that version"
        )
    return deprecation_message(info)


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside ember: the user's line that consumed the version."""
    frame = sys._getframe(1)  # warn()
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    return level


def warn(info: DatasetVersionInfo, *, use: str, new_run_input: bool = False) -> None:
    """``check_consumable``, with the deprecation warning given as a ``DatasetDeprecatedWarning`` that
    points at the user's line."""
    message = check_consumable(info, use=use, new_run_input=new_run_input)
    if message is not None:
        warnings.warn(message, DatasetDeprecatedWarning, stacklevel=_caller_level())
