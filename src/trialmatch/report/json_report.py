"""JSON output: the same records as every other format, plus as-of date, version and file hashes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from enum import Enum
from typing import Any

from trialmatch.report import CheckReport


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def as_dict(report: CheckReport) -> dict[str, Any]:
    """The report as plain JSON-ready data."""
    trials = []
    for r in report.results:
        record = _plain(r)
        for c, raw in zip(record["criteria"], r.criteria, strict=True):
            c["label"] = raw.label
        record["failed"] = [c.criterion_id for c in r.failed]
        record["unknown"] = [c.criterion_id for c in r.unknown]
        record["needs_review"] = [c.criterion_id for c in r.review]
        trials.append(record)
    return {
        "trialmatch_version": report.version,
        "as_of": report.as_of.isoformat(),
        "patient_id": report.patient_id,
        "trials": trials,
        "data_to_collect": [
            {"item": d.item, "criteria": list(d.criteria)} for d in report.data_to_collect
        ],
    }


def render(report: CheckReport) -> str:
    """Render a report as indented JSON.

    >>> import datetime
    >>> report = CheckReport("P", datetime.date(2026, 11, 21), "0", [], [])
    >>> '"as_of": "2026-11-21"' in render(report)
    True
    """
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"
