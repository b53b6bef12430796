"""Reporters: one module per output format, all fed from the same :class:`CheckReport`.

Each format module exposes ``render(report) -> str``. The table format uses rich; the JSON,
markdown and HTML formats need nothing beyond the standard library.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from trialmatch.engine.evaluate import DataItem
from trialmatch.model.results import CriterionResult, TrialResult, display


@dataclass(frozen=True)
class CheckReport:
    """Everything ``trialmatch check`` reports for one patient."""

    patient_id: str
    as_of: dt.date
    version: str
    results: Sequence[TrialResult]
    data_to_collect: Sequence[DataItem]


FORMATS = ("table", "json", "markdown", "html")


def renderer(fmt: str) -> Callable[[CheckReport], str]:
    """The ``render`` function of an output format (imported on demand)."""
    if fmt == "table":
        from trialmatch.report import table

        return table.render
    if fmt == "json":
        from trialmatch.report import json_report

        return json_report.render
    if fmt == "markdown":
        from trialmatch.report import markdown

        return markdown.render
    if fmt == "html":
        from trialmatch.report import html

        return html.render
    raise ValueError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")


def evidence_line(observed: str | None, date: dt.date | None, converted: str | None) -> str:
    """Observed value, date and conversion in one short phrase."""
    parts = []
    if observed:
        parts.append(observed)
    if date:
        parts.append(f"on {date}")
    if converted:
        parts.append(f"[{converted}]")
    return " ".join(parts)


VERDICT_TEXT = {
    "eligible": "eligible",
    "possibly_eligible": "possibly eligible",
    "ineligible": "ineligible",
}


def change_phrase(c: CriterionResult) -> str:
    """What happens on ``c.changes_on``, e.g. "becomes clear on 2027-09-01"."""
    if c.changes_on is None:
        return ""
    flipped = {"met": "not_met", "not_met": "met"}.get(c.verdict.value)
    if flipped is None:
        return f"may change on {c.changes_on}"
    from trialmatch.model.results import Verdict

    return f"becomes {display(c.kind, Verdict(flipped))} on {c.changes_on}"
