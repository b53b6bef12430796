"""The terminal report: verdict first, one line per criterion, next steps last.

Lines are built as plain text with style spans, wrapped to the console width with hanging
indents (nothing is cut: a long id wraps onto its own line), then printed through rich with
colour when the output is a terminal. Data is never read as markup and control characters are
shown escaped.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trialmatch.io.printable import printable
from trialmatch.model.results import (
    CriterionResult,
    TrialResult,
    TrialVerdict,
    Verdict,
    failing,
    favourable,
)
from trialmatch.report import VERDICT_TEXT, CheckReport, change_phrase
from trialmatch.report.steps import TrialSteps, attestation_entries, trial_steps

if TYPE_CHECKING:
    from rich.console import Console

_TRIAL_STYLE = {
    TrialVerdict.eligible: "bold green",
    TrialVerdict.possibly_eligible: "bold yellow",
    TrialVerdict.ineligible: "bold red",
}
_TRIAL_MARK = {
    TrialVerdict.eligible: "✓",
    TrialVerdict.possibly_eligible: "?",
    TrialVerdict.ineligible: "✗",
}


@dataclass
class Line:
    """One output line: its text and (start, end, style) spans."""

    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Options:
    """What the report shows beyond the default."""

    show_source: bool = False  # the full source text of every criterion
    show_all: bool = False  # every trial's criteria, ineligible ones too


def _mark(c: CriterionResult) -> tuple[str, str]:
    if favourable(c.kind, c.verdict):
        return "✓", "green"
    if failing(c.kind, c.verdict):
        return "✗", "bold red"
    if c.verdict is Verdict.unknown:
        return "?", "yellow"
    return "!", "magenta"


_KEEP = "\u00a0"  # joins words that must stay on one line ("NOT MET"); a space once wrapped


def _keep(text: str) -> str:
    return text.replace(" ", _KEEP)


def _wrap(text: str, width: int, first: int, hang: int) -> list[str]:
    """``text`` wrapped to ``width``: the first line starts at column ``first``, the others at
    ``hang``; words longer than a line are broken, never dropped."""
    return [
        line.replace(_KEEP, " ")
        for line in textwrap.wrap(
            text,
            width=max(width, hang + 20),
            initial_indent=" " * first,
            subsequent_indent=" " * hang,
            break_on_hyphens=False,
            drop_whitespace=True,
        )
    ] or [" " * first]


def entry(
    head: list[tuple[str, str]], body: str, width: int, indent: int = 2, hang: int = 6
) -> list[Line]:
    """Styled ``head`` pieces then ``body``, wrapped with a hanging indent.

    >>> [x.text for x in entry([("✓", ""), (" inc-age met", "")], "age 72", 40)]
    ['  ✓ inc-age met: age 72']
    """
    head_text = "".join(t for t, _ in head)
    start = indent + len(head_text)
    sep = ": " if body else ""
    if start + len(sep) + 10 > width:  # a head too long to share a line: wrap it alone
        lines = [Line(t) for t in _wrap(head_text, width, indent, hang)]
        return lines + [Line(t) for t in (_wrap(body, width, hang, hang) if body else [])]
    wrapped = _wrap(body, width, start + len(sep), hang) if body else [" " * start]
    first = Line(" " * indent + head_text + sep + wrapped[0][start + len(sep) :])
    pos = indent
    for text, style in head:
        if style:
            first.spans.append((pos, pos + len(text), style))
        pos += len(text)
    return [first] + [Line(t) for t in wrapped[1:]]


def _text(s: str) -> str:
    """Data on one line: line breaks and tabs as spaces, other control characters escaped."""
    return printable(s.replace("\r\n", " ").replace("\n", " ").replace("\t", " "))


def _summary(report: CheckReport, width: int) -> list[Line]:
    ids = [_text(r.trial_id) for r in report.results]
    id_width = max([len("trial"), *map(len, ids)])
    counts_width = 27
    one_line = 2 + 20 + id_width + 2 + counts_width <= width
    out = [
        Line(f"  {'verdict':<20}{'trial':<{id_width}}  {'met':>5} {'fail':>5} {'unkn':>5} "
             f"{'revw':>5}", [(0, width, "bold")])
        if one_line
        else Line("  verdict, trial, then met / failed / unknown / review", [(0, 60, "bold")])
    ]
    for r, tid in zip(report.results, ids, strict=True):
        n = r.counts
        verdict = f"{_TRIAL_MARK[r.verdict]} {VERDICT_TEXT[r.verdict.value]}"
        numbers = (
            f"{n['passed']:>5} {n['failed']:>5} {n['unknown']:>5} {n['review']:>5}"
        )
        style = _TRIAL_STYLE[r.verdict]
        if one_line:
            out.append(Line(f"  {verdict:<20}{tid:<{id_width}}  {numbers}", [(2, 22, style)]))
        else:
            out.append(Line(f"  {verdict}", [(2, 2 + len(verdict), style)]))
            out += [Line(t) for t in _wrap(tid, width, 4, 4)]
            out.append(Line(f"    {numbers.strip()}"))
    return out


def _criterion(
    c: CriterionResult, width: int, options: Options, check_no: dict[str, int]
) -> list[Line]:
    mark, style = _mark(c)
    head = [(mark, style), (" ", ""), (_text(c.criterion_id), "bold"), (" ", ""),
            (c.label, style)]
    if c.criterion_id in check_no:
        body = f"check {check_no[c.criterion_id]} below"
    else:
        body = _text(c.reason) + _dates(c)
        if c.attestation and c.attestation not in c.reason:
            body += f" ({_text(c.attestation)})"
        if c.changes_on:
            body += f" ({change_phrase(c)})"
    lines = entry(head, body, width)
    open_item = c.verdict is Verdict.unknown or failing(c.kind, c.verdict)
    if options.show_source:
        lines += entry([("source", "dim")], _text(c.text), width, indent=6, hang=8)
    elif open_item and c.criterion_id not in check_no:
        lines += [_source_excerpt(c.text, width, 6)]
    return lines


def _dates(c: CriterionResult) -> str:
    """When the values were observed, for those the reason does not date already."""
    days = [
        str(e.observed_date)
        for e in c.evidence
        if e.observed_date and str(e.observed_date) not in c.reason
    ]
    days = list(dict.fromkeys(days))
    return f" (dated {', '.join(days)})" if days else ""


def _source_excerpt(text: str, width: int, indent: int) -> Line:
    room = max(20, width - indent - len('source: ""'))
    shown = " ".join(_text(text).split())
    if len(shown) > room:
        shown = shown[: room - 1].rstrip() + "…"
    line = " " * indent + f'source: "{shown}"'
    return Line(line, [(indent, len(line), "dim")])


def _trial_head(r: TrialResult, width: int) -> list[Line]:
    verdict = VERDICT_TEXT[r.verdict.value]
    head = [(_text(r.trial_id), "bold"), (" ", ""), (verdict, _TRIAL_STYLE[r.verdict])]
    return entry(head, _text(r.title), width, indent=0, hang=2)


def _ineligible_line(r: TrialResult, width: int) -> list[Line]:
    failed = r.failed
    if not failed:  # not expected: an ineligible trial has a failing criterion
        return entry([(_text(r.trial_id), "bold"), (" ineligible", "bold red")], "", width, 0, 4)
    first = failed[0]
    body = f"{_text(first.criterion_id)} {_keep(first.label)} ({_text(first.reason)})"
    if len(failed) > 1:
        also = ", ".join(f"{_text(c.criterion_id)}{_KEEP}{_keep(c.label)}" for c in failed[1:])
        body += f"; also {also}"
    head = [("✗", "bold red"), (" ", ""), (_text(r.trial_id), "bold"), (" ineligible", "bold red")]
    return entry(head, body, width, indent=0, hang=4)


def _steps(steps: TrialSteps, report: CheckReport, width: int, options: Options) -> list[Line]:
    out = [Line(f"Next steps for {_text(steps.trial_id)}", [(0, 10, "bold")])]
    if steps.collect:
        out.append(Line("  Data to collect:"))
        for k, d in enumerate(steps.collect, 1):
            out += entry(
                [(f"{k}.", ""), (" ", ""), (_text(d.item), "bold")],
                f"decides {', '.join(map(_text, d.criteria))}",
                width,
                indent=4,
                hang=7,
            )
    if steps.checks:
        out.append(Line("  Checks a person must make:"))
        for k, c in enumerate(steps.checks, 1):
            out += entry(
                [(f"{k}.", ""), (" ", ""), (_text(c.criterion_id), "bold")],
                _text(c.reason),
                width,
                indent=4,
                hang=7,
            )
            if options.show_source:
                out += entry([("source", "dim")], _text(c.text), width, indent=7, hang=9)
            else:
                out.append(_source_excerpt(c.text, width, 7))
        out += entry(
            [("Record the answers", "")],
            "fill in holds (true or false), by (who judged) and on (the date, YYYY-MM-DD), "
            "then add the entries to the patient file's attestations: list (or the whole "
            "block if it has none); check then counts those criteria as decided:",
            width,
            indent=2,
            hang=4,
        )
        out.append(Line("attestations:"))
        for e in attestation_entries(steps):
            out += [Line(t) for t in _flow_lines(e, width, 2)]
    return out


def _flow_lines(entry_text: str, width: int, indent: int) -> list[str]:
    """A YAML flow mapping as a list item, broken after commas so it fits (still valid YAML:
    a flow mapping may continue on more-indented lines)."""
    parts = entry_text.split(", ")
    lines = [" " * indent + "- " + parts[0]]
    for p in parts[1:]:
        if len(lines[-1]) + 2 + len(p) <= width:
            lines[-1] += ", " + p
        else:
            lines[-1] += ","
            lines.append(" " * (indent + 3) + p)
    return lines


def file_heading(path: str, width: int, first: bool) -> list[str]:
    """The lines heading one patient's report when several are printed: a rule between
    reports, then the file name (wrapped, never cut).

    >>> file_heading("a.yaml", 20, first=False)
    ['────────────────────', 'File: a.yaml']
    """
    rule = [] if first else ["─" * min(width, 80)]
    return rule + _wrap(f"File: {_text(path)}", width, 0, 6)


def report_lines(
    report: CheckReport, width: int = 80, options: Options | None = None
) -> list[Line]:
    """Every line of the report for ``width`` columns.

    >>> import datetime
    >>> report = CheckReport("P1", datetime.date(2026, 11, 21), "0.1", [], [])
    >>> report_lines(report)[0].text
    'Patient P1 · screened as of 2026-11-21 · trialmatch 0.1'
    """
    options = options or Options()
    pid = _text(report.patient_id)
    out = [
        Line(
            f"Patient {pid} · screened as of {report.as_of} · trialmatch {report.version}",
            [(8, 8 + len(pid), "bold")],
        )
    ]
    if not report.results:
        return [*out, Line("No trial selected.")]
    out += _summary(report, width)
    open_trials = [r for r in report.results if r.verdict is not TrialVerdict.ineligible]
    closed = [r for r in report.results if r.verdict is TrialVerdict.ineligible]
    shown = open_trials + (closed if options.show_all else [])
    steps: list[TrialSteps] = []
    for r in shown:
        s = trial_steps(r)
        check_no = {c.criterion_id: k for k, c in enumerate(s.checks, 1)} if s else {}
        out.append(Line(""))
        out += _trial_head(r, width)
        for c in r.criteria:
            out += _criterion(c, width, options, check_no)
        if s:
            steps.append(s)
    if closed and not options.show_all:
        out.append(Line(""))
        for r in closed:
            out += _ineligible_line(r, width)
        out.append(Line("  (--all shows every criterion of these trials)", [(0, 50, "dim")]))
    for s in steps:
        out.append(Line(""))
        out += _steps(s, report, width, options)
    return out


def build(report: CheckReport, console: Console, options: Options | None = None) -> None:
    """Print the report on a rich console, styled when it is a terminal."""
    from rich.text import Text

    for line in report_lines(report, console.width, options):
        text = Text(line.text, no_wrap=True, overflow="ignore")
        for start, end, style in line.spans:
            text.stylize(style, start, end)
        console.print(text, soft_wrap=True)


def render(report: CheckReport, width: int = 80, options: Options | None = None) -> str:
    """The report as plain text (no colour codes).

    >>> import datetime
    >>> render(CheckReport("P1", datetime.date(2026, 11, 21), "0.1", [], [])).splitlines()[1]
    'No trial selected.'
    """
    buf = io.StringIO()
    for line in report_lines(report, width, options):
        buf.write(line.text.rstrip() + "\n")
    return buf.getvalue()
