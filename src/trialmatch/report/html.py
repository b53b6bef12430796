"""HTML output: one self-contained, print-friendly page a coordinator can share.

No scripts, no network (inline CSS only, no fonts or images), an A4 print stylesheet. Every
value from a patient or criteria file is made printable (control characters and bidi overrides
shown as escapes) and HTML-escaped; verdicts carry a mark and a word as well as a colour.
The page is ASCII (other characters as references), so any output encoding can carry it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from trialmatch.io.printable import printable
from trialmatch.model.results import (
    CriterionResult,
    TrialResult,
    TrialVerdict,
    Verdict,
    favourable,
)
from trialmatch.report import VERDICT_TEXT, CheckReport, change_phrase, evidence_line
from trialmatch.report.steps import TrialSteps, attestation_entries, trial_steps

# Print margins; tests derive the printable width from them.
MARGIN_MM = (14, 12, 14, 12)

_CSS = """
:root { color: #111; background: #fff; }
body { font: 15px/1.4 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 1.5em auto;
  max-width: 70em; padding: 0 1em; }
h1 { font-size: 1.5em; margin: 0 0 .3em; }
h2 { font-size: 1.3em; margin: 1.6em 0 .3em; border-bottom: 3px double #111; }
h3 { font-size: 1.15em; margin: 1.4em 0 .3em; border-bottom: 2px solid #111; }
h4 { font-size: 1em; margin: 1em 0 .3em; }
td.id { font-size: .9em; }
td.kind { overflow-wrap: normal; }
.id { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: 0; }
dl.meta dt { font-weight: bold; }
dl.meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; margin: .4em 0; }
th, td { border: 1px solid #666; padding: .25em .4em; text-align: left; vertical-align: top;
  overflow-wrap: break-word; }
th { background: #e6e6e6; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.src { white-space: pre-wrap; color: #222; font-size: .92em; }
.mark { font-weight: bold; }
.v-pass { background: #e7f4e9; }
.v-fail { background: #fbe3e3; }
.v-fail .label, .v-fail td.id { font-weight: bold; }
.v-fail td { border-top: 2px solid #111; border-bottom: 2px solid #111; }
.v-unknown { background: #fdf3d6; }
.v-review { background: #e3ecf8; }
tr.v-unknown td:first-child { border-left: 4px dashed #111; }
tr.v-review td:first-child { border-left: 4px double #111; }
tr.v-fail td:first-child { border-left: 4px solid #111; }
.verdict { display: inline-block; padding: .15em .5em; border: 2px solid #111; font-weight: bold; }
.verdict.v-eligible { background: #e7f4e9; }
.verdict.v-possibly_eligible { background: #fdf3d6; border-style: dashed; }
.verdict.v-ineligible { background: #fbe3e3; border-style: double; border-width: 4px; }
.legend { font-size: .9em; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f4f4f4;
  border: 1px solid #666; padding: .5em; font: .85em/1.35 "DejaVu Sans Mono", monospace; }
blockquote { margin: .2em 0 .2em 1em; padding-left: .6em; border-left: 3px solid #888; }
ul, ol { padding-left: 1.4em; }
li { margin: .2em 0; }
a { color: #0b3d91; }
@page { size: A4; margin: MARGINS; }
@media print {
  body { font-size: 9pt; margin: 0; max-width: none; padding: 0; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
  h2, h3, h4, p.lead { break-after: avoid; page-break-after: avoid; }
  tr, li, pre, blockquote, .verdict { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
}
""".replace("MARGINS", " ".join(f"{m}mm" for m in MARGIN_MM))

# A criterion's class, mark and how it counts (the mark and the word carry the verdict,
# the colour only repeats it).
_ROW = {"pass": "\u2713", "fail": "\u2717", "unknown": "?", "review": "!"}
_TRIAL_MARK = {
    TrialVerdict.eligible: "\u2713",
    TrialVerdict.possibly_eligible: "?",
    TrialVerdict.ineligible: "\u2717",
}
_COLS = (("criterion", 19), ("kind", 11), ("verdict", 11), ("evidence", 31), ("source text", 28))


def _t(text: str, keep_newlines: bool = False) -> str:
    """Untrusted text as HTML: printable, then escaped.

    >>> _t("<script>alert(1)</script>\\x1b[31m\\u202e")
    '&lt;script&gt;alert(1)&lt;/script&gt;\\\\x1b[31m\\\\u202e'
    """
    return html.escape(printable(text, keep_newlines=keep_newlines))


def _row_class(c: CriterionResult) -> str:
    if c.verdict is Verdict.unknown:
        return "unknown"
    if c.verdict is Verdict.needs_review:
        return "review"
    return "pass" if favourable(c.kind, c.verdict) else "fail"


def _evidence(c: CriterionResult) -> str:
    parts = [_t(c.reason)] if c.reason else []
    if c.review_reason and c.review_reason != c.reason:
        parts.append("review: " + _t(c.review_reason))
    parts += [
        "converted: " + _t(evidence_line(e.observed, e.observed_date, e.converted))
        for e in c.evidence
        if e.converted
    ]
    if c.changes_on:
        parts.append("<b>" + _t(change_phrase(c)) + "</b>")
    if c.attestation and c.attestation not in c.reason:
        parts.append(_t(c.attestation))
    return "<br>".join(parts)


def _criteria_table(r: TrialResult) -> list[str]:
    out = ["<table class=\"criteria\">", "<colgroup>"]
    out += [f'<col style="width:{w}%">' for _, w in _COLS]
    out += ["</colgroup>", "<thead><tr>"]
    out += [f"<th scope=\"col\">{name}</th>" for name, _ in _COLS]
    out += ["</tr></thead>", "<tbody>"]
    for c in r.criteria:
        cls = _row_class(c)
        out.append(
            f'<tr class="v-{cls}"><td class="id">{_t(c.criterion_id)}</td>'
            f'<td class="kind">{c.kind.value}</td>'
            f'<td><span class="mark" aria-hidden="true">{_ROW[cls]}</span>&nbsp;'
            f'<span class="label">{c.label}</span></td>'
            f"<td>{_evidence(c)}</td>"
            f'<td class="src">{_t(c.text, keep_newlines=True)}</td></tr>'
        )
    out += ["</tbody>", "</table>"]
    return out


def _verdict(r: TrialResult) -> str:
    n = r.counts
    counts = (
        f"{n.get('passed', 0)} passed, {n.get('failed', 0)} failed, "
        f"{n.get('unknown', 0)} unknown, {n.get('review', 0)} to review"
    )
    return (
        f'<p><span class="verdict v-{r.verdict.value}">{_TRIAL_MARK[r.verdict]} Verdict: '
        f"{VERDICT_TEXT[r.verdict.value]}</span> &mdash; {counts}</p>"
    )


def _steps(steps: TrialSteps, report: CheckReport) -> list[str]:
    out = ["<h4>Next steps</h4>"]
    if steps.collect:
        out += ['<p class="lead"><b>Data to collect</b> (each decides the criteria named):</p>']
        out.append("<ul>")
        out += [
            f"<li><b>{_t(d.item)}</b> &mdash; decides {len(d.criteria)} "
            f"criteri{'on' if len(d.criteria) == 1 else 'a'}: "
            f'<span class="id">{_t(", ".join(d.criteria))}</span></li>'
            for d in steps.collect
        ]
        out.append("</ul>")
    if steps.checks:
        out += ['<p class="lead"><b>Checks a person must make</b>:</p>', "<ol>"]
        out += [
            f'<li><span class="id"><b>{_t(c.criterion_id)}</b></span> ({c.kind.value}, '
            f"{'needs review' if c.verdict is Verdict.needs_review else 'unknown'}) &mdash; "
            f"{c.question} {_t(c.reason)}"
            f'<blockquote class="src">{_t(c.text, keep_newlines=True)}</blockquote></li>'
            for c in steps.checks
        ]
        out.append("</ol>")
        entries = attestation_entries(steps)
        out += [
            '<p class="lead">Attestations to paste into the patient file, once <code>holds</code> '
            "(true or false) and <code>by</code> are filled in:</p>",
            '<pre class="attestations">'
            + _t("\n".join(["attestations:", *(f"  - {e}" for e in entries)]), True)
            + "</pre>",
        ]
    if not steps.collect and not steps.checks:
        out.append("<p>Nothing recorded would settle the open criteria.</p>")
    return out


def _trial(r: TrialResult, anchor: str, report: CheckReport) -> list[str]:
    out = [
        f'<section class="trial" id="{anchor}">',
        f'<h3><span class="id">{_t(r.trial_id)}</span>: {_t(r.title)}</h3>',
        _verdict(r),
    ]
    if r.verdict is TrialVerdict.ineligible:
        out += ['<p class="lead"><b>Ruled out by:</b></p>', '<ul class="ruled-out">']
        out += [
            f'<li><span class="id"><b>{_t(c.criterion_id)}</b></span> {c.label} &mdash; '
            f"{_t(c.reason)}</li>"
            for c in r.failed
        ]
        out.append("</ul>")
    out += _criteria_table(r)
    steps = trial_steps(r)
    if steps is not None:
        out += _steps(steps, report)
    out.append("</section>")
    return out


def _summary(ordered: Iterable[tuple[str, TrialResult]]) -> list[str]:
    out = [
        '<section id="summary">',
        "<h2>Summary</h2>",
        '<table class="summary"><colgroup><col style="width:28%"><col style="width:24%">'
        + '<col style="width:12%">' * 4
        + "</colgroup>",
        "<thead><tr><th scope=\"col\">trial</th><th scope=\"col\">verdict</th>"
        + "".join(f'<th scope="col">{k}</th>' for k in ("passed", "failed", "unknown", "review"))
        + "</tr></thead>",
        "<tbody>",
    ]
    rows = []
    for anchor, r in ordered:
        n = r.counts
        cls = {"eligible": "pass", "possibly_eligible": "unknown"}.get(r.verdict.value, "fail")
        rows.append(
            f'<tr class="v-{cls}"><td class="id"><a href="#{anchor}">{_t(r.trial_id)}</a></td>'
            f'<td><span class="mark" aria-hidden="true">{_TRIAL_MARK[r.verdict]}</span>&nbsp;'
            f'<span class="label">{VERDICT_TEXT[r.verdict.value]}</span></td>'
            + "".join(
                f'<td class="n">{n.get(k, 0)}</td>'
                for k in ("passed", "failed", "unknown", "review")
            )
            + "</tr>"
        )
    if not rows:
        rows.append('<tr><td colspan="6">No trials were screened.</td></tr>')
    out += rows
    out += [
        "</tbody></table>",
        '<p class="legend">Marks: \u2713 met or clear (passed); \u2717 NOT MET or EXCLUDED '
        "(rules the patient out); ? unknown (data missing); ! needs review (a person "
        "decides).</p>",
        "</section>",
    ]
    return out


def render(report: CheckReport) -> str:
    """Render a report as one self-contained HTML page (no scripts, no network).

    Open trials come first, each with its criteria and next steps; ineligible trials follow,
    each naming the criteria that rule the patient out.

    >>> import datetime
    >>> page = render(CheckReport("<P1>", datetime.date(2026, 11, 21), "0.1", [], []))
    >>> page.startswith("<!DOCTYPE html>"), "&lt;P1&gt;" in page, "<script" in page
    (True, True, False)
    """
    open_ = [r for r in report.results if r.verdict is not TrialVerdict.ineligible]
    closed = [r for r in report.results if r.verdict is TrialVerdict.ineligible]
    ordered = [(f"trial-{i}", r) for i, r in enumerate(open_ + closed, 1)]
    pid = _t(report.patient_id)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="trialmatch {_t(report.version)}">',
        f"<title>trialmatch: patient {pid}, screened as of {report.as_of}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f'<h1>Trial pre-screening: patient <span class="id">{pid}</span></h1>',
        '<dl class="meta">',
        f'<dt>Patient</dt><dd class="id">{pid}</dd>',
        f"<dt>Screening date</dt><dd>{report.as_of}</dd>",
        f"<dt>trialmatch version</dt><dd>{_t(report.version)}</dd>",
        f"<dt>Trials</dt><dd>{len(open_)} open, {len(closed)} ineligible</dd>",
        "</dl>",
        "</header>",
        "<main>",
    ]
    out += _summary(ordered)
    groups = (("open", "Open trials", ordered[: len(open_)]),
              ("ineligible", "Ineligible trials", ordered[len(open_) :]))
    for key, heading, members in groups:
        if members:
            out += [f'<section id="{key}">', f"<h2>{heading}</h2>"]
            for anchor, r in members:
                out += _trial(r, anchor, report)
            out.append("</section>")
    out += ["</main>", "</body>", "</html>", ""]
    page = "\n".join(out)
    return page.encode("ascii", "xmlcharrefreplace").decode("ascii")
