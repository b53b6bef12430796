"""The JSON contract shared by every JSON output (``check``, ``screen``, ``trials``).

Every JSON document (and every JSON Lines record) carries ``schema_version``. A change of the
minor version adds something (a field, a value of an enumeration) and breaks no reader that
ignores what it does not know; a change of the major version renames, removes or changes the
meaning or type of something. ``trialmatch schema report|screen|trials`` prints the exact JSON
Schema of the version a release writes (generated in :mod:`trialmatch.report.schemas`).

Names are the same everywhere: ``trial_id``, ``criterion_id``, ``patient_id``; lists of
criterion ids are ``failed``, ``unknown`` and ``needs_review``; numbers of criteria are under
``counts``. File paths are never absolute: ``criteria_file`` is the file's name in its
catalogue.

This module stays tiny (no pydantic): the writers import it on every run.
"""

from __future__ import annotations

from pathlib import PurePath

SCHEMA_VERSION = "1.0"


def criteria_file_name(path: str | None) -> str | None:
    """The criteria file as JSON names it: its name in the catalogue (catalogues are flat).

    >>> criteria_file_name("/opt/venv/lib/trialmatch/criteria/NCT01673308.yaml")
    'NCT01673308.yaml'
    >>> criteria_file_name(None) is None
    True
    """
    return None if path is None else PurePath(path).name
