"""``check --format html``: one self-contained, print-friendly page.

Structure tests parse the page with the standard library's ``html.parser``; the browser tests
render it in a real headless chromium (skipped, with the reason, where none is installed).
"""

from __future__ import annotations

import datetime as dt
import doctest
import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from trialmatch.io.printable import printable
from trialmatch.model.results import (
    CriterionResult,
    Evidence,
    Kind,
    TrialResult,
    TrialVerdict,
    Verdict,
)
from trialmatch.report import CheckReport, change_phrase, evidence_line
from trialmatch.report.html import MARGIN_MM, render
from trialmatch.report.steps import attestation_entries, next_steps

from .conftest import AS_OF, PATIENTS

EXAMPLES = sorted(PATIENTS.glob("*.yaml"))
DAY = dt.date.fromisoformat(AS_OF)
VOID = {"meta", "br", "col", "link", "img", "input", "hr", "wbr", "source", "base"}
HOSTILE = "<script>alert(1)</script>[/]\x1b[31m\u202e"


class Page(HTMLParser):
    """A parsed page: start tags, visible text, tables as rows of cell texts, headings."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.mismatched: list[str] = []
        self.style = ""
        self.text: list[str] = []
        self.tables: list[list[list[str]]] = []
        self.headings: list[tuple[str, str]] = []
        self.pre: list[str] = []
        self.items: list[str] = []  # <li> texts
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._heading: list[str] | None = None
        self._pre: list[str] | None = None
        self._li: list[list[str]] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("h1", "h2", "h3", "h4"):
            self._heading = []
        elif tag == "pre":
            self._pre = []
        elif tag == "li":
            self._li.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.mismatched.append(tag)
            return
        self.stack.pop()
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None
        elif tag in ("h1", "h2", "h3", "h4") and self._heading is not None:
            self.headings.append((tag, "".join(self._heading)))
            self._heading = None
        elif tag == "pre" and self._pre is not None:
            self.pre.append("".join(self._pre))
            self._pre = None
        elif tag == "li":
            self.items.append("".join(self._li.pop()))

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "style":
            self.style += data
            return
        self.text.append(data)
        for part in (self._cell, self._heading, self._pre, *self._li):
            if part is not None:
                part.append(data)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _report(path: Path) -> CheckReport:
    from trialmatch import __version__
    from trialmatch.engine.criteria import load_catalogue
    from trialmatch.engine.evaluate import data_to_collect, screen_patient
    from trialmatch.model.patient import load_patient

    patient = load_patient(path, DAY)
    results = screen_patient(load_catalogue(None), patient, DAY)
    return CheckReport(patient.id, DAY, __version__, results, data_to_collect(results))


def _hostile_report() -> CheckReport:
    """Every field a page shows, filled with markup, terminal escapes and a bidi override."""
    review = CriterionResult(
        trial_id=HOSTILE, criterion_id="exc-" + HOSTILE, kind=Kind.exclusion,
        verdict=Verdict.needs_review, reason="reason " + HOSTILE, text="text " + HOSTILE,
        encoding="", review_reason="review " + HOSTILE, attestation="att " + HOSTILE,
    )
    unknown = CriterionResult(
        trial_id=HOSTILE, criterion_id="inc-" + HOSTILE, kind=Kind.inclusion,
        verdict=Verdict.unknown, reason="unknown " + HOSTILE, text="text2 " + HOSTILE,
        encoding="", missing=("item " + HOSTILE,), changes_on=dt.date(2027, 1, 1),
        evidence=(Evidence("p", Verdict.unknown, "s", observed="obs " + HOSTILE,
                           converted="conv " + HOSTILE),),
    )
    failed = CriterionResult(
        trial_id="T2" + HOSTILE, criterion_id="fail-" + HOSTILE, kind=Kind.inclusion,
        verdict=Verdict.not_met, reason="why " + HOSTILE, text="text3 " + HOSTILE, encoding="",
    )
    counts = {"passed": 0, "failed": 0, "unknown": 1, "review": 1}
    trials = [
        TrialResult(HOSTILE, "title " + HOSTILE, TrialVerdict.possibly_eligible,
                    (unknown, review), counts=counts),
        TrialResult("T2" + HOSTILE, "</style></title>" + HOSTILE, TrialVerdict.ineligible,
                    (failed,), counts={"passed": 0, "failed": 1, "unknown": 0, "review": 0}),
    ]
    return CheckReport(HOSTILE, DAY, "0" + HOSTILE, trials, [])


@pytest.fixture(scope="module")
def pages() -> dict[str, tuple[CheckReport, str]]:
    """Each example patient's report and page, as of the test date."""
    out = {}
    for path in EXAMPLES:
        report = _report(path)
        out[path.name] = (report, render(report))
    return out


def _assert_self_contained(page: str, parsed: Page) -> None:
    assert "<script" not in page.lower() and not any(t == "script" for t, _ in parsed.tags)
    banned = {"link", "img", "iframe", "object", "embed", "source", "video", "audio", "base",
              "form", "svg", "picture", "frame"}
    assert not banned & {t for t, _ in parsed.tags}
    for tag, attrs in parsed.tags:
        for name, value in attrs.items():
            assert name not in {"src", "srcset", "action", "poster", "data", "background"}, tag
            assert not name.startswith("on"), (tag, name)  # no event handlers
            if name == "href":
                assert value and value.startswith("#"), value
        if tag == "meta":
            assert "http-equiv" not in attrs
    for ref in ("url(", "@import", "//", "http:", "https:"):
        assert ref not in parsed.style
    assert not parsed.mismatched and not parsed.stack, "unbalanced tags"


@pytest.mark.parametrize("name", [p.name for p in EXAMPLES])
def test_example_page_is_self_contained_and_complete(
    name: str, pages: dict[str, tuple[CheckReport, str]]
) -> None:
    report, page = pages[name]
    parsed = Page(page)
    _assert_self_contained(page, parsed)
    assert "http://" not in page and "https://" not in page
    assert page.isascii()
    assert page.startswith("<!DOCTYPE html>")
    assert "@page { size: A4;" in parsed.style and "break-inside: avoid" in parsed.style
    text = "".join(parsed.text)
    assert f"Patient{report.patient_id}" in text
    assert f"Screening date{AS_OF}" in text and f"trialmatch version{report.version}" in text

    # Summary: every trial, whole, open trials before ineligible ones, with its counts.
    summary = parsed.tables[0]
    assert summary[0] == ["trial", "verdict", "passed", "failed", "unknown", "review"]
    ordered = sorted(report.results, key=lambda r: r.verdict is TrialVerdict.ineligible)
    assert [row[0] for row in summary[1:]] == [r.trial_id for r in ordered]
    for row, r in zip(summary[1:], ordered, strict=True):
        assert row[1].endswith(r.verdict.value.replace("_", " "))
        assert row[1][0] in "\u2713?\u2717"  # a mark, not only a colour
        assert row[2:] == [str(r.counts[k]) for k in ("passed", "failed", "unknown", "review")]

    # One section per trial, in the same order, each with its criteria table.
    trial_headings = [h for tag, h in parsed.headings if tag == "h3"]
    assert [h.split(":")[0] for h in trial_headings] == [r.trial_id for r in ordered]
    groups = [h for tag, h in parsed.headings if tag == "h2"]
    assert groups[0] == "Summary"
    assert ("Ineligible trials" in groups) == any(
        r.verdict is TrialVerdict.ineligible for r in report.results
    )
    marks = {"pass": "\u2713", "fail": "\u2717", "unknown": "?", "review": "!"}
    for table, r in zip(parsed.tables[1:], ordered, strict=True):
        assert table[0] == ["criterion", "kind", "verdict", "evidence", "source text"]
        assert len(table) - 1 == len(r.criteria)
        for row, c in zip(table[1:], r.criteria, strict=True):
            cid, kind, verdict, evidence, source = row
            assert cid == printable(c.criterion_id, keep_newlines=False)
            assert kind == c.kind.value
            mark = (
                marks["unknown"] if c.verdict is Verdict.unknown
                else marks["review"] if c.verdict is Verdict.needs_review
                else marks["fail"] if c in r.failed else marks["pass"]
            )
            assert verdict == f"{mark}\xa0{c.label}"
            assert printable(c.reason, keep_newlines=False) in evidence
            for e in c.evidence:
                if e.converted:
                    assert evidence_line(e.observed, e.observed_date, e.converted) in evidence
            if c.changes_on:
                assert change_phrase(c) in evidence
            assert source == printable(c.text)

    # Ineligible trials name what rules the patient out.
    for r in report.results:
        if r.verdict is TrialVerdict.ineligible:
            assert r.failed
            for c in r.failed:
                assert any(i.startswith(f"{c.criterion_id} {c.label} \u2014") for i in parsed.items)

    # Next steps per open trial, with the attestation block ready to paste.
    steps = next_steps(report.results)
    blocks = parsed.pre
    expected = [s for s in steps if s.checks]
    assert len(blocks) == len(expected)
    for block, s in zip(blocks, expected, strict=True):
        assert block == "\n".join(
            ["attestations:", *(f"  - {e}" for e in attestation_entries(s))]
        )
    for s in steps:
        for d in s.collect:
            assert any(
                i.startswith(f"{d.item} \u2014 decides {len(d.criteria)} criteri")
                and i.endswith(", ".join(d.criteria))
                for i in parsed.items
            )
        for c in s.checks:
            assert any(
                i.startswith(f"{c.criterion_id} ({c.kind.value}, ") and c.text in i
                for i in parsed.items
            )


def test_examples_cover_every_part_of_the_page(pages: dict[str, tuple[CheckReport, str]]) -> None:
    """The examples exercise open and ineligible trials, data to collect, checks, and dates."""
    steps = [s for report, _ in pages.values() for s in next_steps(report.results)]
    assert any(s.collect for s in steps) and any(s.checks for s in steps)
    assert any("becomes" in page for _, page in pages.values())
    assert any('class="verdict v-eligible"' in page for _, page in pages.values())


def test_hostile_data_is_shown_as_text_never_as_markup() -> None:
    report = _hostile_report()
    page = render(report)
    parsed = Page(page)
    _assert_self_contained(page, parsed)
    assert "\x1b" not in page and "\u202e" not in page
    text = "".join(parsed.text)
    shown = "<script>alert(1)</script>[/]\\x1b[31m\\u202e"
    for field in ("reason ", "review ", "att ", "unknown ", "text ", "text2 ", "obs ", "conv ",
                  "why ", "text3 ", "title ", "</style></title>", "item "):
        assert field + shown in text, field
    assert text.count(shown) >= 20
    summary = parsed.tables[0]
    assert [row[0] for row in summary[1:]] == [shown, "T2" + shown]
    assert ("h1", "Trial pre-screening: patient " + shown) in parsed.headings
    # The attestation block quotes the hostile ids as YAML strings that read back as them.
    import yaml

    (block,) = parsed.pre
    (entry,) = yaml.safe_load(block)["attestations"]
    assert entry["trial"] == HOSTILE and entry["criterion"] == "exc-" + HOSTILE


def test_empty_report_says_no_trials_were_screened() -> None:
    parsed = Page(render(CheckReport("P1", DAY, "1.0", [], [])))
    assert parsed.tables[0][1] == ["No trials were screened."]
    assert [h for _, h in parsed.headings] == ["Trial pre-screening: patient P1", "Summary"]


def test_cli_writes_the_page_to_stdout(cli, tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        'id: "<script>alert(1)</script>[/]\\x1b[31m\\u202e"\n'
        "birth_date: 1960-01-01\nsex: female\n"
        'conditions:\n  - {condition: "[red]HIV</td>\\x1b[31m\\u202e", status: active}\n',
        encoding="utf-8",
    )
    run = cli(["check", str(path), "--as-of", AS_OF, "--format", "html"])
    assert run.code == 0, run.stderr
    parsed = Page(run.stdout)
    _assert_self_contained(run.stdout, parsed)
    assert "\x1b" not in run.stdout and "\u202e" not in run.stdout
    assert "patient <script>alert(1)</script>[/]\\x1b[31m\\u202e" in "".join(parsed.text)
    assert len(parsed.tables[0]) == 6  # the five catalogue trials


def test_unknown_format_still_lists_html(cli) -> None:
    run = cli(["check", str(EXAMPLES[0]), "--as-of", AS_OF, "--format", "htm"])
    assert run.code == 2 and "html" in run.stderr and run.stdout == ""


def test_html_module_imports_neither_rich_nor_typer_and_its_examples_run() -> None:
    code = (
        "import sys, trialmatch.report.html\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'typer', 'click')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    import trialmatch.report.html as module

    result = doctest.testmod(module)
    assert result.failed == 0 and result.attempted >= 2


# --- a real browser ---------------------------------------------------------------------------

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# CSS pixels across the printable width of an A4 page (96 px per inch).
PRINT_WIDTH_PX = int((210 - MARGIN_MM[1] - MARGIN_MM[3]) / 25.4 * 96)
PROBE = """<script>
const doc = document.documentElement;
const out = document.createElement("pre");
out.id = "tm-probe";
out.textContent = JSON.stringify({text: document.body.innerText, scripts: document.scripts.length,
  scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth});
document.body.appendChild(out);
</script>"""


def _browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(f"chromium not installed: none of {', '.join(BROWSERS)} is on PATH")


def _run_browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        _browser(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--disable-extensions", "--disable-background-networking",
        f"--user-data-dir={tmp_path / 'profile'}", *args,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the browser did not finish within 120 s: {' '.join(command)}")
    assert done.returncode == 0, done.stderr[-2000:]
    return done


BROWSER_CASES = ["mds-hma-failure-missing-labs.yaml", "myeloma-maintenance-eligible.yaml", None]


@pytest.mark.parametrize("name", BROWSER_CASES, ids=lambda n: n or "hostile")
def test_page_renders_in_a_browser_and_prints_to_a4(
    name: str | None, pages: dict[str, tuple[CheckReport, str]], tmp_path: Path
) -> None:
    _browser()
    report, page = pages[name] if name else (_hostile_report(), render(_hostile_report()))
    file = tmp_path / "report.html"
    file.write_text(page, encoding="utf-8")

    # The page as a reader sees it, laid out at the printable width of A4: every trial id is
    # in the rendered text (innerText leaves out what is hidden), nothing is wider than the
    # page, and no script of the page's own ran (the probe is the only one).
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE + "\n</body>"), encoding="utf-8")
    done = _run_browser(
        tmp_path, "--hide-scrollbars", f"--window-size={PRINT_WIDTH_PX},1000", "--dump-dom",
        probed.as_uri(),
    )
    probe = Page(done.stdout)
    (result,) = [p for p in probe.pre if p.startswith("{")]
    seen = json.loads(result)
    assert seen["scripts"] == 1
    assert seen["clientWidth"] == PRINT_WIDTH_PX
    assert seen["scrollWidth"] <= seen["clientWidth"], "the page is wider than A4"
    for r in report.results:
        assert printable(r.trial_id, keep_newlines=False) in seen["text"]
    assert printable(report.patient_id, keep_newlines=False) in seen["text"]

    # Printed: a PDF of A4 pages (595 x 842 points).
    pdf = tmp_path / "report.pdf"
    _run_browser(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", file.as_uri())
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    boxes = re.findall(rb"/MediaBox\s*\[\s*([\d.\s]+)\]", data)
    pages_ = len(re.findall(rb"/Type\s*/Page\b", data))
    assert boxes and pages_ >= 1
    for box in boxes:
        x0, y0, x1, y1 = (float(v) for v in box.split())
        assert (round(x1 - x0), round(y1 - y0)) == (595, 842), box
    print(f"{name or 'hostile'}: {pages_} A4 pages, {len(data):,} bytes")
