"""Terminal table output (rich)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from trialmatch.printable import printable
from trialmatch.report import VERDICT_TEXT, CheckReport, change_phrase, evidence_line
from trialmatch.results import CriterionResult, TrialVerdict, Verdict, failing, favourable


def _t(text: str, style: str = "") -> Text:
    """Data as plain text: never read as markup, control characters escaped."""
    return Text(printable(text), style=style)

_TRIAL_STYLE = {
    TrialVerdict.eligible: "bold green",
    TrialVerdict.possibly_eligible: "bold yellow",
    TrialVerdict.ineligible: "bold red",
}


def _style(c: CriterionResult) -> str:
    if favourable(c.kind, c.verdict):
        return "green"
    if failing(c.kind, c.verdict):
        return "bold red"
    return "yellow" if c.verdict is Verdict.unknown else "magenta"


def build(report: CheckReport, console: Console) -> None:
    """Print the summary, per-trial criteria tables and data to collect onto ``console``."""
    console.print(
        Text.assemble(
            ("Patient ", "bold"),
            (printable(report.patient_id), "bold"),
            " screened as of ",
            (str(report.as_of), "bold"),
            f" (trialmatch {report.version})",
        )
    )
    summary = Table(title="Summary", title_justify="left")
    summary.add_column("trial", no_wrap=True)
    summary.add_column("verdict", no_wrap=True)
    for col in ("passed", "failed", "unknown", "review"):
        summary.add_column(col, justify="right")
    with_title = console.width >= 110  # the title also heads each trial's own table
    if with_title:
        summary.add_column("title")
    for r in report.results:
        n = r.counts
        cells: list[str | Text] = [
            _t(r.trial_id),
            Text(VERDICT_TEXT[r.verdict.value], _TRIAL_STYLE[r.verdict]),
            str(n["passed"]),
            str(n["failed"]),
            str(n["unknown"]),
            str(n["review"]),
        ]
        if with_title:
            cells.append(_t(r.title if len(r.title) <= 60 else r.title[:59] + "…"))
        summary.add_row(*cells)
    console.print(summary)
    for r in report.results:
        t = Table(
            title=_t(f"{r.trial_id}: {VERDICT_TEXT[r.verdict.value]} — {r.title}"),
            title_justify="left",
            show_lines=True,
        )
        t.add_column("criterion", no_wrap=True)
        t.add_column("verdict", no_wrap=True)
        t.add_column("evidence")
        t.add_column("source text", style="dim")
        for c in r.criteria:
            lines = [c.reason]
            lines += [
                f"  {evidence_line(e.observed, e.observed_date, e.converted)}"
                for e in c.evidence
                if e.converted
            ]
            if c.changes_on:
                lines.append(f"  {change_phrase(c)}")
            if c.missing:
                lines.append(f"  collect: {', '.join(c.missing)}")
            t.add_row(
                _t(f"{c.kind.value[:3]} {c.criterion_id}"),
                Text(c.label, _style(c)),
                _t("\n".join(lines)),
                _t(c.text),
            )
        console.print(t)
    if report.data_to_collect:
        todo = Table(title="Data to collect next", title_justify="left")
        todo.add_column("#", justify="right")
        todo.add_column("item")
        todo.add_column("decides", justify="right")
        todo.add_column("criteria")
        for i, d in enumerate(report.data_to_collect, 1):
            todo.add_row(str(i), _t(d.item), str(len(d.criteria)), _t(", ".join(d.criteria)))
        console.print(todo)


def render(report: CheckReport, width: int = 160, color: bool = False) -> str:
    """Render the report as a plain-text table (no colour codes unless ``color``)."""
    buf = io.StringIO()
    console = Console(
        file=buf, width=width, force_terminal=color, no_color=not color, highlight=False
    )
    build(report, console)
    return buf.getvalue()
