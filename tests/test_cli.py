"""CLI behaviour: exact exit codes, stdout and stderr kept apart, no tracebacks on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import AS_OF, CRITERIA, PATIENTS

EXAMPLE = PATIENTS / "mds-hma-failure-eligible.yaml"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_table_lists_every_trial_and_criterion(cli) -> None:
    run = cli(["check", str(EXAMPLE), "--as-of", AS_OF])
    assert run.code == 0, run.stderr
    assert run.stderr == ""
    for trial in ("NCT01673308", "NCT03730740", "NCT02538198", "NCT01421927"):
        assert trial in run.stdout
    assert "Data to collect next" in run.stdout or "eligible" in run.stdout


def test_check_json_carries_records_version_date_and_hashes(cli) -> None:
    run = cli(["check", str(EXAMPLE), "--as-of", AS_OF, "--format", "json"])
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["schema_version"] == "1.0"
    assert data["as_of"] == AS_OF
    assert data["trialmatch_version"]
    mds = next(t for t in data["trials"] if t["trial_id"] == "NCT01673308")
    assert len(mds["criteria_sha256"]) == 64
    assert mds["criteria_file"] == "NCT01673308.yaml"  # no install path
    first = mds["criteria"][0]
    assert {"criterion_id", "kind", "verdict", "reason", "text", "evidence"} <= set(first)
    assert "trial_id" not in first and "label" not in first  # no field said twice
    assert first["verdict"] in {"met", "not_met", "unknown", "needs_review"}


def test_check_json_lists_ids_and_counts_them_under_counts(cli) -> None:
    run = cli(["check", str(EXAMPLE), "--as-of", AS_OF, "--format", "json"])
    for trial in json.loads(run.stdout)["trials"]:
        assert set(trial["counts"]) == {"passed", "failed", "unknown", "needs_review"}
        for name in ("failed", "unknown", "needs_review"):
            ids = trial[name]
            assert all(isinstance(i, str) for i in ids)
            assert trial["counts"][name] == len(ids)
            verdicts = {c["criterion_id"]: c["verdict"] for c in trial["criteria"]}
            if name != "failed":
                assert {verdicts[i] for i in ids} <= {name}
        assert sum(trial["counts"].values()) == len(trial["criteria"])


def test_check_json_data_to_collect_names_trial_and_criterion(cli) -> None:
    patient = PATIENTS / "mds-hma-failure-missing-labs.yaml"
    data = json.loads(cli(["check", str(patient), "--as-of", AS_OF, "--format", "json"]).stdout)
    assert data["data_to_collect"]
    known = {(t["trial_id"], c["criterion_id"]) for t in data["trials"] for c in t["criteria"]}
    for item in data["data_to_collect"]:
        assert item["item"]
        for ref in item["criteria"]:
            assert set(ref) == {"trial_id", "criterion_id"}
            assert (ref["trial_id"], ref["criterion_id"]) in known


def test_check_json_is_ranked_eligible_first(cli) -> None:
    run = cli(["check", str(EXAMPLE), "--as-of", AS_OF, "--format", "json"])
    order = {"eligible": 0, "possibly_eligible": 1, "ineligible": 2}
    ranks = [order[t["verdict"]] for t in json.loads(run.stdout)["trials"]]
    assert ranks == sorted(ranks)


def test_check_markdown(cli) -> None:
    run = cli(
        ["check", str(EXAMPLE), "--as-of", AS_OF, "--format", "markdown", "--trial", "NCT01673308"]
    )
    assert run.code == 0
    assert run.stdout.startswith("# trialmatch: patient")
    assert "## NCT01673308" in run.stdout
    assert "NCT01421927" not in run.stdout


def test_check_is_deterministic_for_a_given_date(cli) -> None:
    a = cli(["check", str(EXAMPLE), "--as-of", AS_OF, "--format", "json"]).stdout
    b = cli(["check", str(EXAMPLE), "--as-of", AS_OF, "--format", "json"]).stdout
    assert a == b


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "no-such-patient.yaml"], "no-such-patient.yaml: no such file"),
        (["check", str(EXAMPLE), "--as-of", "21/11/2026"], "--as-of '21/11/2026' is not a date"),
        (["check", str(EXAMPLE), "--format", "xml"], "'xml' is not one of 'table', 'json'"),
        (["check", str(EXAMPLE), "--trial", "NCT0000"], "unknown trial id 'NCT0000'"),
        (["check", str(EXAMPLE), "--criteria", "no-such-dir"], "criteria directory not found"),
        (["show", "NCT0000"], "unknown trial id 'NCT0000'"),
        (["trials", "--status", "open"], "--status 'open' is not allowed"),
        (["trials", "--format", "csv"], "--format 'csv' is not allowed"),
    ],
    ids=[
        "missing_patient",
        "bad_date",
        "bad_format",
        "unknown_trial",
        "missing_criteria_dir",
        "show_unknown_trial",
        "trials_bad_status",
        "trials_bad_format",
    ],
)
def test_bad_usage_exits_2_with_message_on_stderr(cli, args: list[str], message: str) -> None:
    run = cli(args)
    assert run.code == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    assert run.stdout == ""


def test_bad_patient_file_reports_location(cli, tmp_path: Path) -> None:
    bad = write(tmp_path, "p.yaml", "id: X\nsex: female\nsexx: male\necog: 7\n")
    run = cli(["check", str(bad), "--as-of", AS_OF])
    assert run.code == 2
    assert f"{bad}:3:1: unknown field 'sexx'" in run.stderr
    assert f"{bad}:4:1:" in run.stderr and "ECOG must be 0 to 5" in run.stderr
    assert run.stdout == ""


def test_bad_patient_error_does_not_print_other_fields(cli, tmp_path: Path) -> None:
    bad = write(tmp_path, "p.yaml", "id: SECRET-ID-123\nbirth_date: 1950-01-01\nsex: femal\n")
    run = cli(["check", str(bad), "--as-of", AS_OF])
    assert run.code == 2
    assert "1950-01-01" not in run.stderr


def test_bad_criteria_directory_reports_every_problem(cli, tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        "id: A\ntitle: t\ntype: interventional\nstatus: recruiting\n"
        "conditions: [MDS]\nsource: {document: d}\ninclusion:\n"
        "  - id: x\n    text: t\n    rule: {ecgo: {at_most: 2}}\n",
    )
    write(
        tmp_path,
        "b.yaml",
        "id: B\ntitle: t\ntype: interventional\nstatus: recruiting\n"
        "conditions: [MDS]\nsource: {document: d}\ninclusion:\n"
        "  - id: x\n    text: t\n"
        "    rule: {lab: {analyte: creatinine, at_most: 2, unit: mmHg}}\n",
    )
    run = cli(["check", str(EXAMPLE), "--criteria", str(tmp_path)])
    assert run.code == 2
    expected = f"{tmp_path / 'a.yaml'}:10:12: unknown predicate 'ecgo'; did you mean 'ecog'?"
    assert expected in run.stderr
    assert f"{tmp_path / 'b.yaml'}:10:" in run.stderr and "unknown unit 'mmHg'" in run.stderr


def test_validate_catalogue_and_examples_clean(cli) -> None:
    run = cli(["validate", str(CRITERIA), str(PATIENTS)])
    assert run.code == 0, run.stderr
    assert "file(s) valid" in run.stdout


def test_validate_default_is_the_shipped_catalogue(cli) -> None:
    run = cli(["validate"])
    assert run.code == 0, run.stderr
    assert "NCT01673308" in run.stdout


def test_validate_reports_problems_with_exit_2(cli, tmp_path: Path) -> None:
    bad = write(tmp_path, "p.yaml", "id: X\nage: [1\n")
    run = cli(["validate", str(bad)])
    assert run.code == 2
    assert f"{bad}:3:1: YAML syntax error" in run.stderr


def test_validate_warns_about_terms_outside_the_vocabulary(cli, tmp_path: Path) -> None:
    p = write(tmp_path, "p.yaml", "id: X\nconditions:\n  - {condition: hypertensoin}\n")
    run = cli(["validate", str(p)])
    assert run.code == 0
    assert "condition 'hypertensoin' is not in the vocabulary; did you mean" in run.stderr


def test_show_prints_source_text_encoding_and_coverage(cli) -> None:
    run = cli(["show", "NCT01421927"])
    assert run.code == 0
    assert "Disease never refractory to lenalidomide" in run.stdout
    assert "encoding:" in run.stdout
    assert "Coverage:" in run.stdout and "criteria computable" in run.stdout


@pytest.mark.parametrize("command", ["check", "validate", "show", "trials", "screen", "template"])
def test_help_shows_an_example(cli, command: str) -> None:
    run = cli([command, "-h"])
    assert run.code == 0
    examples = [x for x in run.stdout.splitlines() if x.strip().startswith("Example: ")]
    assert examples and examples[0].strip().startswith("Example: trialmatch " + command)
    assert len(examples[0]) <= 80  # one line, unwrapped, at 80 columns


def test_version_help_and_exit_codes(cli) -> None:
    from trialmatch import __version__

    assert cli(["--version"]).stdout == f"trialmatch {__version__}\n"
    run = cli(["-h"])
    assert run.code == 0
    assert "Exit codes: 0 done" in run.stdout and "2 bad" in run.stdout
    assert "--install-completion" in run.stdout
    check = cli(["check", "-h"]).stdout
    assert "[table|json|markdown|html]" in check.replace("<", "[").replace(">", "]")


def test_no_arguments_shows_help(cli) -> None:
    run = cli([])
    assert run.code in (0, 2)
    assert "check" in run.stdout + run.stderr


def test_check_refuses_a_birth_date_after_the_screening_date(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "id: P1\nbirth_date: 2026-12-01\n")
    run = cli(["check", str(path), "--as-of", AS_OF])
    assert run.code == 2
    assert run.stdout == ""
    assert run.stderr == (
        f"error: {path}:2:1: birth_date: 2026-12-01 is after the screening date {AS_OF}\n"
    )
    assert cli(["check", str(path), "--as-of", "2026-12-01"]).code == 0


def test_validate_checks_patients_against_the_screening_date(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", "id: P1\nbirth_date: 1890-01-01\n")
    run = cli(["validate", str(path), "--as-of", AS_OF])
    assert run.code == 2
    assert "gives an age of 136 on the screening date" in run.stderr
    assert cli(["validate", str(path), "--as-of", "2019-01-01"]).code == 0


def test_validate_warns_about_an_unknown_subtype_and_regimen(cli, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.yaml",
        "id: P1\ndiagnoses:\n  - {condition: MDS, subtype: MDS with a rare variant xyz}\n"
        "therapies:\n  - {regimen: Aza-X, drugs: [azacitidine]}\n"
        "conditions:\n  - {condition: gout}\n",
    )
    run = cli(["validate", str(path), "--as-of", AS_OF])
    assert run.code == 0, run.stderr
    assert "diagnosis subtype 'MDS with a rare variant xyz' is not in the vocabulary" in run.stderr
    assert "regimen 'Aza-X' is not in the vocabulary; the therapy is judged on its drugs" in (
        run.stderr
    )
    assert "condition 'gout' has no status: criteria asking whether it is active" in run.stderr


# Issue 10: data is never read as terminal markup or sent raw as terminal control sequences.

MARKUP_PATIENT = (
    'id: "[/]"\n'
    "sex: female\n"
    'diagnoses:\n  - {condition: "[red]MDS\\x1b[31m"}\n'
    'conditions:\n  - {condition: "[link=http://x]HIV[/link]\\u202e", status: active}\n'
)


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_data_is_not_markup_nor_terminal_control(cli, tmp_path: Path, fmt: str) -> None:
    path = write(tmp_path, "p.yaml", MARKUP_PATIENT)
    run = cli(["check", str(path), "--as-of", AS_OF, "--format", fmt])
    assert run.code == 0, run.stderr
    assert "[/]" in run.stdout
    assert "\x1b" not in run.stdout and "\u202e" not in run.stdout
    if fmt == "markdown":  # the table may wrap the escapes across lines
        assert "\\x1b" in run.stdout and "\\u202e" in run.stdout


def test_error_messages_escape_control_characters(cli, tmp_path: Path) -> None:
    path = write(tmp_path, "p.yaml", 'id: P1\nsex: "fe\\x1b[2Jmale"\n')
    run = cli(["check", str(path), "--as-of", AS_OF])
    assert run.code == 2
    assert "\x1b" not in run.stderr and "\\x1b" in run.stderr


def test_validate_output_escapes_control_characters(cli, tmp_path: Path) -> None:
    text = 'id: "P\\x1b]0;pwned\\x07"\nconditions:\n  - {condition: gout}\n'
    path = write(tmp_path, "p.yaml", text)
    run = cli(["validate", str(path), "--as-of", AS_OF])
    assert run.code == 0, run.stderr
    assert "\x1b" not in run.stdout + run.stderr and "\x07" not in run.stdout + run.stderr


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_as_of_out_of_range_is_refused(cli, day: str) -> None:
    run = cli(["check", str(EXAMPLE), "--as-of", day])
    assert run.code == 2
    assert run.stderr == (
        f"error: --as-of {day} is out of range: give a date from 1800-01-01 to 2199-12-31\n"
    )


def test_quiet_and_output_everywhere(cli, tmp_path: Path) -> None:
    """-q leaves only problems on the streams; --output/-o is the same option in every
    command that writes a file."""
    from .test_screen_cli import example_csv

    run = cli(["validate", "-q", str(PATIENTS / "tcl-salvage-pr-eligible.yaml")])
    assert run.code == 0 and run.stdout == ""
    out = tmp_path / "t.csv"
    run = cli(["template", "-q", "--output", str(out)])
    assert run.code == 0 and run.stderr == "" and out.read_text().startswith("id,")
    src = example_csv(tmp_path)
    res = tmp_path / "r.csv"
    run = cli(["screen", str(src), "--as-of", "2026-11-21", "--output", str(res), "-q"])
    assert run.code == 0 and run.stdout == "" and run.stderr == ""
    assert res.read_text().count("\n") > 1
    loud = cli(["screen", str(src), "--as-of", "2026-11-21", "--output", str(res)])
    assert "Screened" in loud.stdout + loud.stderr
