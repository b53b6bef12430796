"""Markdown output, for pasting into a note or a ticket."""

from __future__ import annotations

from trialmatch.io.printable import printable
from trialmatch.report import VERDICT_TEXT, CheckReport, change_phrase, evidence_line
from trialmatch.report.steps import attestation_entries, next_steps


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
            if c.attestation and c.attestation not in c.reason:
                ev += f" ({c.attestation})"
            if c.changes_on:
                ev += f" ({change_phrase(c)})"
            out.append(
                f"| {_cell(c.criterion_id)} | {c.kind.value} | {c.label} | {_cell(ev)} | "
                f"{_cell(c.text)} |"
            )
    if report.data_to_collect:
        out += ["", "## Data to collect next", ""]
        for d in report.data_to_collect:
            count = len(d.criteria)
            noun = "criterion" if count == 1 else "criteria"
            out.append(
                f"- **{_cell(d.item)}** — decides {count} {noun}: "
                f"{_cell(', '.join(d.criteria))}"
            )
    for steps in next_steps(report.results):
        if not steps.checks:
            continue
        out += ["", f"## Checks a person must make for {_cell(steps.trial_id)}", ""]
        for k, check in enumerate(steps.checks, 1):
            out.append(f"{k}. **{_cell(check.criterion_id)}**: {_cell(check.reason)}")
            out.append(f"   > {_cell(check.text)}")
        out += ["", "Record the answers in the patient file (fill in holds, by and on):", ""]
        out += ["```yaml", "attestations:"]
        out += [f"  - {e}" for e in attestation_entries(steps)]
        out.append("```")
    return "\n".join(out) + "\n"
