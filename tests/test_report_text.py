"""The terminal report of ``check``, rendered for real (rich's recording console at 80 and 120
columns): verdict first, ids never cut, data never read as markup, next steps that work."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from rich.console import Console

from trialmatch.engine.criteria import load_catalogue
from trialmatch.engine.evaluate import data_to_collect, screen_patient
from trialmatch.model.patient import load_patient
from trialmatch.model.results import TrialVerdict, Verdict
from trialmatch.report import CheckReport
from trialmatch.report.steps import next_steps
from trialmatch.report.table import Options, build, render

from .conftest import PATIENTS

DAY = dt.date(2026, 11, 21)
EXAMPLES = sorted(PATIENTS.glob("*.yaml"))
CATALOGUE = load_catalogue()


def report_for(path: Path) -> CheckReport:
    patient = load_patient(path, DAY)
    results = screen_patient(CATALOGUE, patient, DAY)
    return CheckReport(patient.id, DAY, "test", results, data_to_collect(results))


def shown(report: CheckReport, width: int, options: Options | None = None) -> list[str]:
    console = Console(record=True, width=width, file=open("/dev/null", "w"))  # noqa: SIM115
    build(report, console, options)
    return console.export_text().splitlines()


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_fits_the_width_with_the_verdicts_first(path: Path, width: int) -> None:
    report = report_for(path)
    lines = shown(report, width)
    assert max(map(len, lines)) <= width
    # The summary comes first: one line per trial right after the header, id whole.
    summary = lines[2 : 2 + len(report.results)]
    for r, line in zip(report.results, summary, strict=True):
        assert r.trial_id in line.split()
    # Open trials list every criterion; ineligible ones get one entry naming what decided.
    text = "\n".join(lines)
    for r in report.results:
        if r.verdict is TrialVerdict.ineligible:
            assert f"✗ {r.trial_id} ineligible: {r.failed[0].criterion_id}" in text
        else:
            for c in r.criteria:
                assert f" {c.criterion_id} {c.label}" in text


def test_line_counts_stay_near_two_screens() -> None:
    """Guard against the report growing back: 1,254 lines before the line-oriented report."""
    counts = {p.stem: len(shown(report_for(p), 80)) for p in EXAMPLES}
    assert max(counts.values()) <= 130, counts
    assert sorted(counts.values())[len(counts) // 2] <= 60, counts


def test_next_steps_name_every_check_and_the_data_to_collect() -> None:
    report = report_for(PATIENTS / "mds-hma-failure-missing-labs.yaml")
    text = "\n".join(shown(report, 80))
    (steps,) = next_steps(report.results)
    (trial,) = [r for r in report.results if r.trial_id == steps.trial_id]
    assert len(steps.checks) == len(trial.review)
    for k, c in enumerate(steps.checks, 1):
        assert f"{k}. {c.criterion_id}:" in text
    assert "1. ECOG performance status: decides inc-ecog" in text
    assert text.index("Next steps") > text.index("ineligible:")


def test_pasted_attestations_decide_the_checks(tmp_path: Path) -> None:
    """The attestation block, filled in and pasted into the patient file, settles every check
    it names (no review item is left for that trial)."""
    source = PATIENTS / "mds-hma-failure-eligible.yaml"
    report = report_for(source)
    lines = render(report).splitlines()
    start = lines.index("attestations:")
    block = []
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        block.append(line)
    filled = "\n".join(block).replace("holds: ,", "holds: false,").replace("by: ,", "by: CRC-1,")
    filled = filled.replace("on: }", "on: 2026-11-20}")
    text = source.read_text()
    assert "attestations:" in text  # the example has some: append ours to that list
    patched = text.replace("attestations:\n", "attestations:\n" + filled + "\n", 1)
    target = tmp_path / "patient.yaml"
    target.write_text(patched)
    again = report_for(target)
    (trial,) = [r for r in again.results if r.trial_id == "NCT01673308"]
    assert [c.criterion_id for c in trial.criteria if c.verdict is Verdict.needs_review] == []
    assert trial.verdict is TrialVerdict.eligible


def test_markup_and_control_characters_in_data_are_shown_literally(tmp_path: Path) -> None:
    source = (PATIENTS / "tcl-salvage-pr-eligible.yaml").read_text()
    hostile = tmp_path / "p.yaml"
    line = next(x for x in source.splitlines() if x.startswith("id:"))
    hostile.write_text(source.replace(line, 'id: "[/][bold]P\\x1b[31m"', 1))
    report = report_for(hostile)
    text = "\n".join(shown(report, 80))
    assert "Patient [/][bold]P\\x1b[31m" in text
    assert "\x1b" not in text


def test_long_trial_ids_wrap_instead_of_being_cut() -> None:
    report = report_for(PATIENTS / "tcl-salvage-pr-eligible.yaml")
    long_id = "NCT" + "9" * 95
    first = report.results[0]
    renamed = type(first)(
        trial_id=long_id,
        title=first.title,
        verdict=first.verdict,
        criteria=first.criteria,
        counts=first.counts,
    )
    wide = CheckReport(report.patient_id, DAY, "t", [renamed, *report.results[1:]], [])
    lines = shown(wide, 80)
    assert max(map(len, lines)) <= 80
    assert long_id[:76] in "\n".join(lines)
    joined = "".join(x.strip() for x in lines)
    assert long_id in joined


def test_show_source_and_all() -> None:
    report = report_for(PATIENTS / "mds-hma-failure-eligible.yaml")
    default = "\n".join(shown(report, 80))
    closed = [r for r in report.results if r.verdict is TrialVerdict.ineligible]
    failed = {c.criterion_id for r in closed for c in r.failed}
    hidden = next(c.criterion_id for c in closed[0].criteria if c.criterion_id not in failed)
    assert f" {hidden} " not in default
    everything = "\n".join(shown(report, 80, Options(show_all=True)))
    assert f" {hidden} " in everything
    with_source = " ".join(shown(report, 200, Options(show_source=True)))
    (open_trial,) = [r for r in report.results if r.verdict is not TrialVerdict.ineligible]
    for c in open_trial.criteria:
        assert " ".join(c.text.split()) in " ".join(with_source.split())


def test_check_several_patients_and_a_directory(cli, tmp_path: Path) -> None:
    a, b = PATIENTS / "tcl-salvage-pr-eligible.yaml", PATIENTS / "tcl-missing-response.yaml"
    run = cli(["check", str(a), str(b), "--as-of", "2026-11-21"])
    assert run.code == 0
    assert "Patient TCL-001" in run.stdout and run.stdout.count("Patient ") == 2
    run = cli(["check", str(PATIENTS), "--as-of", "2026-11-21", "-f", "json"])
    assert run.code == 0
    import json

    batch = json.loads(run.stdout)
    assert [r["patient_id"] for r in batch["reports"]] == [load_patient(p).id for p in EXAMPLES]
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: X\necog: [1\n")
    run = cli(["check", str(a), str(bad), "--as-of", "2026-11-21"])
    assert run.code == 2
    assert "Patient TCL-001" in run.stdout
    assert f"error: {bad}:3:1: YAML syntax error" in run.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    run = cli(["check", str(empty)])
    assert run.code == 2 and "no patient files" in run.stderr


def test_check_output_file(cli, tmp_path: Path) -> None:
    out = tmp_path / "r.txt"
    run = cli(["check", str(PATIENTS / "tcl-salvage-pr-eligible.yaml"), "--as-of", "2026-11-21",
               "-o", str(out)])
    assert run.code == 0 and run.stdout == ""
    assert out.read_text().startswith("Patient TCL-001")
    run = cli(["check", str(PATIENTS / "tcl-salvage-pr-eligible.yaml"), "-o", str(tmp_path)])
    assert run.code == 2


def test_check_html_to_a_file_and_one_patient_per_page(cli, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    one = str(PATIENTS / "tcl-salvage-pr-eligible.yaml")
    run = cli(["check", one, "--as-of", "2026-11-21", "-f", "html", "-o", str(out)])
    assert run.code == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "TCL-001" in page
    run = cli(["check", str(PATIENTS), "-f", "html", "-o", str(tmp_path / "all.html")])
    assert run.code == 2 and "one page per patient" in run.stderr
    assert not (tmp_path / "all.html").exists()


def test_check_shows_data_warnings_and_strict_fails(cli) -> None:
    from .conftest import ROOT

    fixture = ROOT / "tests" / "fixtures" / "warn" / "patient_data_problems.yaml"
    run = cli(["check", str(fixture), "--as-of", "2026-11-21"])
    assert run.code == 0
    assert f"{fixture}:7:5: warning: diagnosis term 'MDSS'" in run.stderr
    assert "(left 7 criteria unknown)" in run.stderr
    assert f"{fixture}:26:5: warning: attestation names criterion 'exc-orals'" in run.stderr
    assert run.stdout.startswith("Patient WARN-001")
    strict = cli(["check", str(fixture), "--as-of", "2026-11-21", "--strict"])
    assert strict.code == 2 and strict.stdout == run.stdout
    assert "4 warning(s); exit 2 because of --strict" in strict.stderr
    quiet = cli(["check", str(fixture), "--as-of", "2026-11-21", "-q"])
    assert quiet.code == 0 and quiet.stderr == ""
    # A clean example has no warnings, so --strict passes.
    clean = cli(["check", str(PATIENTS / "tcl-salvage-pr-eligible.yaml"), "--strict"])
    assert clean.code == 0 and clean.stderr == ""


def test_check_row_explains_one_csv_row_as_screen_decided_it(cli, tmp_path: Path) -> None:
    import json

    from .test_screen_cli import example_csv

    src = example_csv(tmp_path, extra=[{"id": "BAD-1", "sex": "F", "ecog": "x"}])
    out = tmp_path / "out.json"
    assert cli(["screen", str(src), "--as-of", "2026-11-21", "-o", str(out)]).code == 0
    records = json.loads(out.read_text())["records"]
    row = 3
    verdicts = {r["trial_id"]: r["verdict"] for r in records if r["row"] == row}
    run = cli(["check", "--row", str(row), str(src), "--as-of", "2026-11-21", "-f", "json"])
    assert run.code == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["patient_id"] == load_patient(EXAMPLES[row - 1]).id
    assert {t["trial_id"]: t["verdict"] for t in report["trials"]} == verdicts
    bad = len(EXAMPLES) + 1
    run = cli(["check", "--row", str(bad), str(src), "--as-of", "2026-11-21"])
    assert run.code == 2 and f"row {bad}, column 'sex'" in run.stderr
    assert "column 'ecog'" in run.stderr  # every bad cell, as in the screen record
    run = cli(["check", "--row", "99", str(src), "--as-of", "2026-11-21"])
    assert run.code == 2 and "past the end" in run.stderr
    run = cli(["check", "--row", "1", str(src), str(src)])
    assert run.code == 2 and "give one CSV file" in run.stderr


def test_an_unfilled_pasted_attestation_says_what_to_fill_in(cli, tmp_path: Path) -> None:
    patient = tmp_path / "p.yaml"
    patient.write_text(
        "id: P1\nsex: male\nattestations:\n"
        "  - {trial: NCT01673308, criterion: exc-bleeding, holds: , by: , on: }\n"
        "  - {trial: NCT01673308, criterion: exc-bleeding, holds: yes, by: X, on: 2026-11-20}\n"
    )
    run = cli(["check", str(patient), "--as-of", "2026-11-21"])
    assert run.code == 2
    assert f"{patient}:4:51: attestations.0.holds: empty; fill in true or false" in run.stderr
    assert "attestations.0.by: empty; fill in who judged it" in run.stderr
    assert "attestations.0.on: empty; fill in the date it was judged (YYYY-MM-DD)" in run.stderr
    assert f"{patient}:5:51: attestations.1.holds: write true or false (got 'yes')" in run.stderr
