"""Markdown output, for pasting into a note or a ticket."""

from __future__ import annotations

from trialmatch.printable import printable
from trialmatch.report import VERDICT_TEXT, CheckReport, change_phrase, evidence_line


def _cell(text: str) -> str:
    return printable(text, keep_newlines=False).replace("|", "\\|").replace("\\x0a", " ")


def render(report: CheckReport) -> str:
    """Render a report as GitHub-flavoured markdown.

    >>> import datetime
    >>> render(CheckReport("P1", datetime.date(2026, 11, 21), "0.1", [], [])).splitlines()[0]
    '# trialmatch: patient P1, screened as of 2026-11-21'
    """
    out = [f"# trialmatch: patient {_cell(report.patient_id)}, screened as of {report.as_of}", ""]
    out += ["| trial | verdict | passed | failed | unknown | review |", "|---|---|---|---|---|---|"]
    for r in report.results:
        n = r.counts
        out.append(
            f"| {_cell(r.trial_id)} | {VERDICT_TEXT[r.verdict.value]} | {n['passed']} | "
            f"{n['failed']} | {n['unknown']} | {n['review']} |"
        )
    for r in report.results:
        out += [
            "",
            f"## {_cell(r.trial_id)}: {_cell(r.title)}",
            "",
            f"**Verdict: {VERDICT_TEXT[r.verdict.value]}**",
            "",
            "| criterion | kind | verdict | evidence | source text |",
            "|---|---|---|---|---|",
        ]
        for c in r.criteria:
            ev = "; ".join(
                filter(
                    None,
                    [c.reason]
                    + [
                        evidence_line(e.observed, e.observed_date, e.converted)
                        for e in c.evidence
                        if e.converted
                    ],
                )
            )
            if c.changes_on:
                ev += f" ({change_phrase(c)})"
            out.append(
                f"| {_cell(c.criterion_id)} | {c.kind.value} | {c.label} | {_cell(ev)} | "
                f"{_cell(c.text)} |"
            )
    if report.data_to_collect:
        out += ["", "## Data to collect next", ""]
        for d in report.data_to_collect:
            out.append(
                f"- **{_cell(d.item)}** — decides {len(d.criteria)} criteria: "
                f"{_cell(', '.join(d.criteria))}"
            )
    return "\n".join(out) + "\n"
