"""Issue 11: data problems are shown with their line and the criteria they left unknown, and
patient-file errors say in plain words what to write instead."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from trialmatch.engine.criteria import load_catalogue
from trialmatch.engine.data_warnings import DataWarning, data_warnings
from trialmatch.engine.evaluate import screen_patient
from trialmatch.errors import InputError
from trialmatch.io.yamlio import load_document
from trialmatch.model.patient import load_patient, patient_from_document

from .conftest import AS_OF, CRITERIA

FIXTURE = Path(__file__).parent / "fixtures" / "warn" / "patient_data_problems.yaml"
DAY = dt.date.fromisoformat(AS_OF)
CREATININE = ("NCT01673308/inc-organ-creatinine", "NCT01421927/exc-renal")


@pytest.fixture(scope="module")
def catalogue():  # type: ignore[no-untyped-def]
    return load_catalogue(CRITERIA)


def warnings_for(path: Path, catalogue, screened: bool = True) -> list[DataWarning]:  # type: ignore[no-untyped-def]
    doc = load_document(path)
    patient = patient_from_document(doc)
    results = screen_patient(catalogue, patient, DAY) if screened else None
    return data_warnings(doc, patient, results, trials=catalogue)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------------
# Data warnings


def test_fixture_warnings_are_located_and_counted(catalogue) -> None:  # type: ignore[no-untyped-def]
    found = warnings_for(FIXTURE, catalogue)
    assert [(w.line, w.column, len(w.unknown_criteria)) for w in found] == [
        (7, 5, 7),  # diagnosis term MDSS: every diagnosis criterion of the five trials
        (12, 36, 2),  # creatinine unit
        (26, 5, 0),  # attestation naming no criterion of its trial
        (30, 5, 0),  # attestation naming no trial of the catalogue
    ]
    assert [str(w) for w in found] == [
        f"{FIXTURE}:7:5: warning: diagnosis term 'MDSS' is not in the vocabulary; did you mean "
        "'mds' or 'mds rs'? (left 7 criteria unknown)",
        f"{FIXTURE}:12:36: warning: lab 'creatinine': unit 'umol per L' is not convertible "
        "(known: mg/dL, mg/L, umol/L, mmol/L, micromol/L); did you mean 'umol/L'? "
        "(left 2 criteria unknown)",
        f"{FIXTURE}:26:5: warning: attestation names criterion 'exc-orals', which NCT01673308 "
        "does not have; did you mean 'exc-oral'?",
        f"{FIXTURE}:30:5: warning: attestation names trial 'NCT99999999', which is not in the "
        "catalogue",
    ]
    assert found[1].unknown_criteria == CREATININE
    assert "NCT01673308/inc-mds-who" in found[0].unknown_criteria
    assert "NCT01673308/inc-organ-creatinine" not in found[0].unknown_criteria


def test_without_screening_there_are_no_counts(catalogue) -> None:  # type: ignore[no-untyped-def]
    found = warnings_for(FIXTURE, catalogue, screened=False)
    assert [(w.line, w.unknown_criteria) for w in found] == [(7, ()), (12, ()), (26, ()), (30, ())]
    assert str(found[0]).endswith("did you mean 'mds' or 'mds rs'?")


def test_attestations_are_not_checked_without_a_catalogue() -> None:
    doc = load_document(FIXTURE)
    assert [w.line for w in data_warnings(doc, patient_from_document(doc))] == [7, 12]


def test_an_attested_criterion_is_not_left_unknown(catalogue, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = FIXTURE.read_text(encoding="utf-8") + (
        "  - {trial: NCT01673308, criterion: inc-organ-creatinine, holds: true, by: INV-07,\n"
        '     "on": 2026-11-18}\n'
    )
    unit = [w for w in warnings_for(write(tmp_path, text), catalogue) if w.line == 12]
    assert unit[0].unknown_criteria == ("NCT01421927/exc-renal",)
    assert str(unit[0]).endswith("(left 1 criterion unknown)")


def test_a_misspelt_lab_counts_the_criteria_missing_the_lab_it_means(
    catalogue, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    text = FIXTURE.read_text(encoding="utf-8").replace(
        "{name: creatinine, value: 106, unit: umol per L",
        "{name: creatinin, value: 106, unit: umol/L",
    )
    found = [w for w in warnings_for(write(tmp_path, text), catalogue) if w.line == 12]
    assert found[0].message.startswith("lab 'creatinin' is not in the vocabulary; did you mean")
    assert (found[0].line, found[0].column) == (12, 6)
    assert found[0].unknown_criteria == CREATININE


def test_a_misspelt_drug_is_located_in_its_list_and_counted(catalogue, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = FIXTURE.read_text(encoding="utf-8").replace("[azacitidine]", "[azacitidin]")
    found = [w for w in warnings_for(write(tmp_path, text), catalogue) if w.line == 16]
    assert found[0].message == (
        "drug 'azacitidin' is not in the vocabulary; did you mean 'azacitidine' or "
        "'venetoclax azacitidine'?"
    )
    assert found[0].column == 13
    # the HMA-failure criterion names the drug; the transfusion criteria say only that some
    # therapy is not in the vocabulary, which this one is
    assert "NCT01673308/inc-hma-failure" in found[0].unknown_criteria
    assert "HARMONY-DEL5Q-LEN-DISC/inc-ti-with-len" in found[0].unknown_criteria
    assert len(found[0].unknown_criteria) == 8


def test_condition_in_a_partial_list_and_without_status(catalogue, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = FIXTURE.read_text(encoding="utf-8").replace(
        "conditions:\n  - {condition: hypertension, status: controlled}\n",
        "conditions:\n  complete: false\n  items:\n    - {condition: hypertensoin}\n"
        "    - {condition: HIV infection}\n",
    )
    found = {w.line: w for w in warnings_for(write(tmp_path, text), catalogue)}
    assert found[25].column == 8 and found[25].message.startswith(
        "condition 'hypertensoin' is not in the vocabulary; did you mean 'hypertension'"
    )
    assert found[26].message.startswith("condition 'HIV infection' has no status")
    assert len(found[26].unknown_criteria) >= 1
    assert all(c.split("/")[1].startswith(("exc-", "inc-")) for c in found[26].unknown_criteria)


def test_a_clean_example_has_no_warnings(catalogue) -> None:  # type: ignore[no-untyped-def]
    from .conftest import PATIENTS

    assert warnings_for(PATIENTS / "mds-hma-failure-eligible.yaml", catalogue) == []


def test_validate_prints_located_counted_warnings_and_strict_exits_2(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli(["validate", str(FIXTURE), "--as-of", AS_OF])
    assert run.code == 0, run.stderr
    lines = run.stderr.splitlines()
    assert lines[0] == (
        f"{FIXTURE}:7:5: warning: diagnosis term 'MDSS' is not in the vocabulary; did you mean "
        "'mds' or 'mds rs'? (left 7 criteria unknown)"
    )
    assert lines[3].startswith(f"{FIXTURE}:30:5: warning: attestation names trial 'NCT99999999'")
    assert "1 file(s) valid" in run.stdout
    strict = cli(["validate", str(FIXTURE), "--as-of", AS_OF, "--strict"])
    assert strict.code == 2
    assert strict.stderr.splitlines()[-1] == "4 warning(s); failing because of --strict"
    assert "file(s) valid" not in strict.stdout


def test_validate_checks_attestations_against_the_criteria_given(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run = cli(["validate", str(CRITERIA / "NCT01673308.yaml"), str(FIXTURE), "--as-of", AS_OF])
    assert run.code == 0, run.stderr
    assert "(left 1 criterion unknown)" in run.stderr  # MDSS against this one trial
    assert "attestation names trial 'NCT99999999', which is not in the catalogue" in run.stderr


def test_strict_validate_of_clean_files_exits_0(cli) -> None:  # type: ignore[no-untyped-def]
    from .conftest import PATIENTS

    run = cli(["validate", str(PATIENTS / "mds-hma-failure-eligible.yaml"), "--strict"])
    assert run.code == 0, run.stderr
    assert run.stderr == ""


# ----------------------------------------------------------------------------------------------
# Plain-language errors for patient files


def load_error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        load_patient(path)
    return info.value


FIVE_MISTAKES = """\
id: P1
birthdate: 1950-01-01
ecog: "1"
diagnosis:
  - {condition: MDS}
labs:
  - {name: hemoglobin, value: 9, unit: g/dL, date: 01/02/2024}
"""


def test_five_mistakes_give_five_located_plain_messages(tmp_path: Path) -> None:
    text = FIVE_MISTAKES + "therapies:\n  - {drugs: [azacitidine], start: 2024/01/02}\n"
    path = write(tmp_path, text)
    assert str(load_error(path)).splitlines() == [
        f"{path}:2:1: unknown field 'birthdate'; did you mean 'birth_date'?",
        f"{path}:3:1: ecog: ECOG is a whole number 0 to 5 without quotes: write ecog: 1 or "
        "ecog: {value: 1, date: YYYY-MM-DD} (got '1')",
        f"{path}:4:1: unknown field 'diagnosis'; did you mean 'diagnoses'?",
        f"{path}:7:46: labs.0.date: '01/02/2024' is not a date; write dates as YYYY-MM-DD: "
        "2024-02-01 or 2024-01-02 (day and month cannot be told apart in '01/02/2024')",
        f"{path}:9:28: therapies.0.start: '2024/01/02' is not a date; write dates as "
        "YYYY-MM-DD, here 2024-01-02",
    ]


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("13/02/2024", "'13/02/2024' is not a date; write dates as YYYY-MM-DD, here 2024-02-13"),
        ("02/13/2024", "'02/13/2024' is not a date; write dates as YYYY-MM-DD, here 2024-02-13"),
        ("1 Feb 2024", "'1 Feb 2024' is not a date; write dates as YYYY-MM-DD, here 2024-02-01"),
        ("February 1, 2024", "here 2024-02-01"),
        ("31/02/2024", "'31/02/2024' is not a date; write dates as YYYY-MM-DD, e.g. 2024-02-01"),
        ("yesterday", "'yesterday' is not a date; write dates as YYYY-MM-DD, e.g. 2024-02-01"),
        ("2024", "2024 is not a date; write dates as YYYY-MM-DD, e.g. 2024-02-01"),
    ],
)
def test_dates_not_written_yyyy_mm_dd(tmp_path: Path, written: str, message: str) -> None:
    path = write(tmp_path, f"id: P1\nbirth_date: {written}\n")
    text = str(load_error(path))
    assert text.startswith(f"{path}:2:1: birth_date: "), text
    assert text.endswith(message)


@pytest.mark.parametrize("ecog", ['"2"', "{value: '2', date: 2026-01-05}", "2.0"])
def test_ecog_written_as_text_says_what_to_write(tmp_path: Path, ecog: str) -> None:
    path = write(tmp_path, f"id: P1\necog: {ecog}\n")
    assert "write ecog: 2 or ecog: {value: 2, date: YYYY-MM-DD}" in str(load_error(path))


def test_misspelt_nested_fields_get_one_message_each(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "id: P1\ndiagnoses:\n  - condition: MDS\n    findings: [{nme: del(5q)}]\n"
        "conditions: {complete: false, items: [{condition: gout, stauts: active}]}\n"
        "therapies: {complet: false, items: []}\n",
    )
    assert str(load_error(path)).splitlines() == [
        f"{path}:4:17: unknown field 'nme'; did you mean 'name'?",
        f"{path}:5:57: unknown field 'stauts'; did you mean 'status'?",
        f"{path}:6:13: unknown field 'complet'; did you mean 'complete'?",
    ]


def test_an_unknown_field_far_from_any_name_lists_the_allowed_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "id: P1\nlabs:\n  - {name: ANC, value: 1, unit: 10*9/L, zzz: 1}\n")
    assert str(load_error(path)) == (
        f"{path}:3:41: unknown field 'zzz' (allowed: name, value, unit, date, uln, lln)"
    )


def test_yaml_and_model_problems_are_reported_together(tmp_path: Path) -> None:
    path = write(tmp_path, "id: P1\nsex: male\nsex: female\nbirth_date: 1960-02-30\nagee: 3\n")
    lines = str(load_error(path)).splitlines()
    assert lines[0] == f"{path}:3:1: duplicate key 'sex'"
    assert lines[1].startswith(f"{path}:4:13: invalid value '1960-02-30'")
    assert lines[2] == f"{path}:5:1: unknown field 'agee'; did you mean 'age'?"
    assert len(lines) == 3  # the impossible date is not reported twice


def test_validate_reports_yaml_and_model_problems_together(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, "id: P1\nsex: male\nsex: female\nbirthdate: 1950-01-01\n")
    run = cli(["validate", str(path), "--as-of", AS_OF])
    assert run.code == 2
    assert run.stderr == (
        f"error: {path}:3:1: duplicate key 'sex'\n"
        f"error: {path}:4:1: unknown field 'birthdate'; did you mean 'birth_date'?\n"
    )


def test_errors_quote_only_the_field_in_question(tmp_path: Path) -> None:
    path = write(tmp_path, "id: SECRET-77\nbirth_date: 01/02/1950\nsex: male\necog: '1'\n")
    text = str(load_error(path))
    assert "SECRET-77" not in text and "male" not in text


def test_validate_does_not_call_a_file_with_warnings_plain_ok(cli) -> None:
    from .conftest import PATIENTS, ROOT

    fixture = ROOT / "tests" / "fixtures" / "warn" / "patient_data_problems.yaml"
    clean = PATIENTS / "tcl-salvage-pr-eligible.yaml"
    run = cli(["validate", str(fixture), str(clean), "--as-of", "2026-11-21"])
    assert run.code == 0
    assert f"valid, 4 warning(s) below: {fixture} (patient WARN-001)" in run.stdout
    assert f"ok: {clean} (patient TCL-001)" in run.stdout


def test_a_huge_value_is_quoted_as_an_excerpt(tmp_path: Path) -> None:
    """A 5,000-character unit is not copied into the message (nor its escape sequences)."""
    from trialmatch.engine.validation import validate_paths

    patient = tmp_path / "p.yaml"
    unit = "x" * 5000 + "\x1b[31m"
    patient.write_text("id: P1\nlabs:\n  - {name: creatinine, value: 1, unit: " + repr(unit)
                       + ", date: 2026-11-01}\n", encoding="utf-8")
    report = validate_paths([patient])
    messages = [w.message for w in report.warnings]
    assert messages and all(len(m) < 400 for m in messages), messages
    assert any("characters) is not convertible" in m for m in messages)
