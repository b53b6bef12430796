"""JSON output of ``check``: the same records as every other format, plus the schema version,
as-of date, trialmatch version and criteria file hashes.

The shape is a versioned contract (:mod:`trialmatch.report.contract`); ``trialmatch schema report``
prints its JSON Schema (:class:`trialmatch.report.schemas.CheckReportJson`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from enum import Enum
from typing import Any

from trialmatch.model.results import CriterionResult, TrialResult
from trialmatch.report import CheckReport
from trialmatch.report.contract import SCHEMA_VERSION, criteria_file_name
from trialmatch.report.steps import next_steps

# TrialResult.counts keys -> the contract's names (a list and its count share a name)
_COUNT_NAMES = {"passed": "passed", "failed": "failed", "unknown": "unknown",
                "review": "needs_review"}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _criterion(c: CriterionResult) -> dict[str, Any]:
    return {
        "criterion_id": c.criterion_id,
        "kind": c.kind.value,
        "verdict": c.verdict.value,
        "reason": c.reason,
        "text": c.text,
        "encoding": c.encoding,
        "evidence": [_plain(e) for e in c.evidence],
        "missing": list(c.missing),
        "changes_on": c.changes_on.isoformat() if c.changes_on else None,
        "attestation": c.attestation,
        "review_reason": c.review_reason,
    }


def _trial(r: TrialResult) -> dict[str, Any]:
    return {
        "trial_id": r.trial_id,
        "title": r.title,
        "verdict": r.verdict.value,
        "criteria_file": criteria_file_name(r.criteria_file),
        "criteria_sha256": r.criteria_sha256,
        "counts": {_COUNT_NAMES[k]: n for k, n in r.counts.items()},
        "failed": [c.criterion_id for c in r.failed],
        "unknown": [c.criterion_id for c in r.unknown],
        "needs_review": [c.criterion_id for c in r.review],
        "criteria": [_criterion(c) for c in r.criteria],
    }


def as_dict(report: CheckReport) -> dict[str, Any]:
    """The report as plain JSON-ready data (schema: ``trialmatch schema report``).

    >>> import datetime
    >>> data = as_dict(CheckReport("P1", datetime.date(2026, 11, 21), "0.1.0", [], []))
    >>> list(data)[4:]
    ['trials', 'data_to_collect', 'next_steps']
    """
    return {
        "schema_version": SCHEMA_VERSION,
        "trialmatch_version": report.version,
        "as_of": report.as_of.isoformat(),
        "patient_id": report.patient_id,
        "trials": [_trial(r) for r in report.results],
        "data_to_collect": [
            {
                "item": d.item,
                "criteria": [
                    dict(zip(("trial_id", "criterion_id"), ref.split("/", 1), strict=True))
                    for ref in d.criteria
                ],
            }
            for d in report.data_to_collect
        ],
        "next_steps": [
            {
                "trial_id": steps.trial_id,
                "data_to_collect": [
                    {"item": d.item, "criteria": list(d.criteria)} for d in steps.collect
                ],
                "checks": [
                    {
                        "criterion_id": c.criterion_id,
                        "kind": c.kind.value,
                        "verdict": c.verdict.value,
                        "reason": c.reason,
                        "text": c.text,
                    }
                    for c in steps.checks
                ],
            }
            for steps in next_steps(report.results)
        ],
    }


def as_batch(reports: Sequence[CheckReport]) -> dict[str, Any]:
    """Several patients' reports in one document (schema: ``trialmatch schema report``).

    >>> import datetime
    >>> list(as_batch([CheckReport("P1", datetime.date(2026, 11, 21), "0.1.0", [], [])]))
    ['schema_version', 'trialmatch_version', 'reports']
    """
    version = reports[0].version if reports else ""
    return {
        "schema_version": SCHEMA_VERSION,
        "trialmatch_version": version,
        "reports": [as_dict(r) for r in reports],
    }


def render(report: CheckReport) -> str:
    """Render a report as indented JSON.

    >>> import datetime
    >>> report = CheckReport("P", datetime.date(2026, 11, 21), "0", [], [])
    >>> '"as_of": "2026-11-21"' in render(report)
    True
    """
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"
