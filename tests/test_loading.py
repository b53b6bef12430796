"""Malformed input files: each fixture in tests/fixtures/bad/ is named after the failure it
provokes. Loading must raise :class:`trialmatch.errors.InputError` whose text carries the exact
``file:line:column``, the message, and the allowed names where relevant.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from trialmatch.engine.criteria import load_trial
from trialmatch.errors import InputError
from trialmatch.io.yamlio import parse_yaml
from trialmatch.model.patient import Sex, load_patient

# ----------------------------------------------------------------------------------------------
# Helpers

BAD = Path(__file__).parent / "fixtures" / "bad"
PREDICATE_NAMES = ("all", "any", "not", "at_least", "age", "lab", "prior_therapy", "review")


def loader_for(name: str) -> Callable[[Path], Any]:
    return load_trial if name.startswith("criteria") else load_patient


def load_error(name: str) -> InputError:
    path = BAD / name
    assert path.is_file(), f"missing fixture {name}"
    with pytest.raises(InputError) as info:
        loader_for(name)(path)
    return info.value


def bad(name: str, location: str | None, *fragments: str, **kw: Any) -> Any:
    """A fixture case: file name, expected ``line:column`` (None: no position) and fragments."""
    return pytest.param(name, location, fragments, id=name.rsplit(".", 1)[0], **kw)


def expected_prefix(name: str, location: str | None) -> str:
    """``file:line:column: `` (or ``file: `` without a position; a location ending in ':' is a
    partial position, for bugs whose exact column a fix may choose)."""
    if location is None:
        return f"{BAD / name}: "
    return f"{BAD / name}:{location}" + ("" if location.endswith(":") else ": ")


# ----------------------------------------------------------------------------------------------
# Criteria files

CRITERIA_CASES = [
    bad("criteria_yaml_syntax_error.yaml", "3:5", "YAML syntax error",
        "did not find expected ',' or ']'"),
    bad("criteria_unknown_field.yaml", "11:5", "unknown field 'txet'",
        "(allowed: id, text, rule, manual, note)"),
    bad("criteria_unknown_predicate.yaml", "11:12", "unknown predicate 'labs'",
        "did you mean 'lab'?"),
    bad("criteria_unknown_predicate_nested.yaml", "14:11", "unknown predicate 'sexx'",
        "did you mean 'sex'?"),
    bad("criteria_wrong_type.yaml", "12:13", "Input should be a valid number"),
    bad("criteria_duplicate_criterion_id.yaml", "14:5", "duplicate criterion id 'age'",
        "(first used at line 9)"),
    bad("criteria_unknown_unit.yaml", "15:9", "unknown unit 'mmHg' for creatinine",
        "(allowed: mg/dL, mg/L, umol/L, mmol/L, micromol/L)"),
    bad("criteria_unknown_condition.yaml", "13:9",
        "unknown condition 'myelodysplastic syndrom'", "did you mean 'myelodysplastic syndrome'"),
    bad("criteria_unknown_trial_condition.yaml", "8:5", "unknown condition 'lymphommma'",
        "did you mean 'lymphoma'"),
    bad("criteria_unknown_drug.yaml", "13:17", "unknown drug or regimen 'azacitidinne'",
        "did you mean 'azacitidine'"),
    bad("criteria_unknown_lab.yaml", "13:9", "unknown lab 'creatinnine'",
        "did you mean 'creatinine'"),
    bad("criteria_empty.yaml", "1:1", "the file is empty"),
    bad("criteria_only_comments.yaml", "1:1", "the file is empty"),
    bad("criteria_not_a_mapping.yaml", "1:1",
        "expected a mapping (a trial) at the top level, found a list"),
    bad("criteria_rule_and_manual.yaml", "9:5", "give exactly one of 'rule' or 'manual'"),
    bad("criteria_rule_nor_manual.yaml", "9:5", "give exactly one of 'rule' or 'manual'"),
    bad("criteria_rule_two_keys.yaml", "11:5",
        "a rule must have exactly one key (the predicate), found: age, sex"),
    bad("criteria_missing_field.yaml", "1:1", "missing required field 'title'"),
    bad("criteria_bad_status.yaml", "4:1", "status: 'open' is not allowed",
        "recruiting", "active_not_recruiting"),
    bad("criteria_duplicate_key.yaml", "5:1", "duplicate key 'title'"),
    bad("criteria_bad_criterion_id.yaml", "9:5", "String should match pattern"),
    bad("criteria_at_least_too_many.yaml", "12:7", "n=3 is more than the 2 rules given"),
    bad("criteria_phase_1_10.yaml", "3:1", "1.1 is not allowed", "1/2"),
    bad("criteria_bad_date.yaml", "5:", "2021-02-30"),
    bad("criteria_word_boolean.yaml", "12:", "is"),
    # Issue 9 point 8: bounds and windows that cannot be computed or admit no value.
    bad("criteria_contradictory_bounds.yaml", "12:7", "the bounds ≥ 3 and ≤ 1 admit no value"),
    bad("criteria_infinite_bound.yaml", "14:9", "finite number"),
    bad("criteria_window_too_long.yaml", "13:9", "years: must be at most 150 (got 100000)"),
    bad("criteria_alias_bomb.yaml", "16:12", "expands to more than 100,000 values"),
    bad("criteria_response_bounds_admit_nothing.yaml", "12:7",
        "the bounds at_least CR and at_most PR admit no response"),
    bad("criteria_stale_window_too_long.yaml", "12:26",
        "max_age_days: must be at most 54787 (got 1000000000)"),
]


@pytest.mark.parametrize(("name", "location", "fragments"), CRITERIA_CASES)
def test_bad_criteria_file(name: str, location: str | None, fragments: tuple[str, ...]) -> None:
    text = str(load_error(name))
    assert text.startswith(expected_prefix(name, location)), text
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


@pytest.mark.parametrize("name", [
    "criteria_unknown_predicate.yaml", "criteria_unknown_predicate_nested.yaml",
    "criteria_rule_two_keys.yaml"])
def test_rule_errors_list_the_predicate_names(name: str) -> None:
    problem = load_error(name).problems[0]
    for allowed in PREDICATE_NAMES:
        assert allowed in problem.allowed
    assert "(allowed: all, any, not, at_least, age," in str(problem)
    assert ", lab, " in str(problem)


def test_unknown_unit_problem_carries_the_allowed_units() -> None:
    problem = load_error("criteria_unknown_unit.yaml").problems[0]
    assert problem.allowed == ("mg/dL", "mg/L", "umol/L", "mmol/L", "micromol/L")
    assert (problem.line, problem.column) == (15, 9)


def test_several_problems_are_reported_at_once() -> None:
    error = load_error("criteria_several_problems.yaml")
    path = BAD / "criteria_several_problems.yaml"
    lines = str(error).splitlines()
    assert lines == [
        f"{path}:4:1: status: 'open' is not allowed (allowed: not_yet_recruiting, recruiting, "
        "enrolling_by_invitation, active_not_recruiting, suspended, terminated, completed, "
        "withdrawn, unknown)",
        f"{path}:12:27: unknown field 'at_mots' (allowed: at_least, at_most, more_than, "
        "less_than)",
    ]
    assert len(error.problems) == 2



def test_unknown_predicate_points_at_the_misspelt_key() -> None:
    text = str(load_error("criteria_unknown_predicate_block.yaml"))
    assert text.startswith(f"{BAD / 'criteria_unknown_predicate_block.yaml'}:12:7: "
                           "unknown predicate 'labs'")



def test_integer_phase_loads() -> None:
    loaded = load_trial(BAD / "criteria_phase_integer.yaml")
    assert loaded.trial.phase is not None and loaded.trial.phase.value == "2"


def test_missing_criteria_file() -> None:
    with pytest.raises(InputError) as info:
        load_trial(BAD / "no_such_file.yaml")
    assert str(info.value) == f"{BAD / 'no_such_file.yaml'}: no such file"


def test_directory_instead_of_criteria_file() -> None:
    with pytest.raises(InputError) as info:
        load_trial(BAD)
    assert str(info.value) == f"{BAD}: is a directory, expected a file"


# ----------------------------------------------------------------------------------------------
# Patient files

PATIENT_CASES = [
    bad("patient_unknown_field.yaml", "4:1", "unknown field 'ecgo'"),
    bad("patient_unknown_nested_field.yaml", "6:5", "unknown field 'dat'"),
    bad("patient_unknown_field.json", "4:3", "unknown field 'agee'"),
    bad("patient_wrong_type.yaml", "4:5", "labs.0.value: Input should be a valid number"),
    bad("patient_bool_as_number.yaml", "4:5", "labs.0.value",
        "expected a number, not true/false"),
    bad("patient_yaml_syntax_error.yaml", "3:13", "YAML syntax error",
        "mapping values are not allowed"),
    bad("patient_empty.yaml", "1:1", "the file is empty"),
    bad("patient_not_a_mapping.yaml", "1:1",
        "expected a mapping (a patient profile) at the top level, found a list"),
    bad("patient_plain_string.yaml", "1:1", "found a plain string"),
    bad("patient_bad_date_text.yaml", "3:1",
        "birth_date: '30/01/1960' is not a date; write dates as YYYY-MM-DD, here 1960-01-30"),
    bad("patient_duplicate_key.yaml", "4:1", "duplicate key 'sex'"),
    bad("patient_missing_id.yaml", "1:1", "missing required field 'id'"),
    bad("patient_bad_enum.yaml", "2:1", "sex: 'F' is not allowed (allowed: female, male, other)"),
    bad("patient_ecog_out_of_range.yaml", "2:1", "ECOG must be 0 to 5, got 7"),
    bad("patient_therapy_without_drugs.yaml", "3:5", "therapies.0",
        "a therapy needs 'drugs' or a 'regimen'"),
    bad("patient_therapy_ends_before_start.yaml", "3:5",
        "therapy ends (2025-01-01) before it starts (2025-06-30)"),
    bad("patient_id_1_10.yaml", "1:1", "id: Input should be a valid string"),
    bad("patient_merge_key.yaml", "2:1", "unknown field 'defaults'",
        f"{BAD / 'patient_merge_key.yaml'}:4:5: merge keys ('<<') are not supported"),
    bad("patient_two_documents.yaml", "2:1", "YAML syntax error", "another document"),
    bad("patient_not_utf8.yaml", "2", "not UTF-8 text (byte 22)"),
    bad("patient_bad_date.yaml", "3:", "1960-02-30"),
    bad("patient_word_boolean_no.yaml", "3:1", "pregnant"),
    bad("patient_word_boolean_yes.yaml", "3:1", "breastfeeding"),
    bad("patient_word_boolean_on.yaml", "3:1", "childbearing_potential"),
    # Issue 9 point 8: values no patient can have.
    bad("patient_negative_lab.yaml", "3:24", "labs.0.value: must be at least 0 (got -1.2)"),
    bad("patient_nan_lab.yaml", "3:24", "labs.0.value", "finite number"),
    bad("patient_uln_zero.yaml", "3:39", "labs.0.uln: must be more than 0 (got 0)"),
    bad("patient_ti_at_end_on_ongoing_course.yaml", "3:5", "therapies.0",
        "ti_at_end says how a course stopped, but this course is ongoing"),
    bad("patient_relapse_line_as_response_line.yaml", "2:1", "disease_status",
        "the line a relapse followed is state_after_line"),
    # Issue 10: hostile YAML fails fast with a location, before anything is expanded.
    bad("patient_alias_bomb.yaml", "6:8", "expands to more than 100,000 values through anchors"),
    bad("patient_recursive_alias.yaml", "2:7", "an alias refers to a node that contains it"),
    bad("patient_python_tag_on_mapping.yaml", "2:7",
        "YAML tag '!!python/object:os.system' is not allowed"),
    bad("patient_python_tag_on_sequence.yaml", "2:12", "YAML tag '!!python/tuple' is not allowed"),
    bad("patient_binary_tag.yaml", "1:5", "YAML tag '!!binary' is not allowed"),
    bad("patient_deep_nesting.yaml", "2:", "nesting deeper than 50 levels"),
    bad("patient_control_character.yaml", "2:6", "control character U+001B is not allowed"),
    bad("patient_nul_byte.yaml", "2:8", "control character U+0000 is not allowed"),
    bad("patient_utf16_without_bom.yaml", None,
        "looks like UTF-16 or UTF-32 text without a byte order mark; save it as UTF-8"),
    bad("patient_date_year_9999.yaml", "3:29",
        "therapies.0.start: dates must lie between 1800-01-01 and 2199-12-31 (got 9999-12-31)"),
    bad("patient_date_year_0001.yaml", "2:1", "birth_date: dates must lie between"),
    # Lists known in part: a wrong shape says what is allowed; an item error is located.
    bad("patient_list_not_a_list.yaml", "2:1",
        "expected a list, or {complete: false, items: [...]} for a list known only in part"),
    bad("patient_partial_list_bad_item.yaml", "5:24",
        "conditions.items.0.status: 'positive' is not allowed", "absent"),
]


@pytest.mark.parametrize(
    ("name", "location", "fragment"),
    [
        ("patient_birth_date_after_screening.yaml", "2:1",
         "birth_date: 2030-01-01 is after the screening date 2026-11-21"),
        ("patient_age_over_130.yaml", "2:1",
         "birth_date: 1890-01-01 gives an age of 136 on the screening date 2026-11-21 "
         "(at most 130)"),
    ],
    ids=["birth_date_after_screening", "age_over_130"],
)
def test_impossible_on_the_screening_date(name: str, location: str, fragment: str) -> None:
    from datetime import date

    path = BAD / name
    load_patient(path)  # valid on its own: only the screening date makes it impossible
    with pytest.raises(InputError) as info:
        load_patient(path, date(2026, 11, 21))
    assert str(info.value) == f"{path}:{location}: {fragment}"


@pytest.mark.parametrize(("name", "location", "fragments"), PATIENT_CASES)
def test_bad_patient_file(name: str, location: str | None, fragments: tuple[str, ...]) -> None:
    text = str(load_error(name))
    assert text.startswith(expected_prefix(name, location)), text
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"


def test_every_patient_problem_is_reported_at_once() -> None:
    error = load_error("patient_several_problems.yaml")
    located = [(p.line, p.column) for p in error.problems]
    assert located == [(2, 1), (3, 1), (6, 5)]
    text = str(error)
    assert "sex: 'F' is not allowed (allowed: female, male, other)" in text
    assert "ECOG must be 0 to 5, got 9" in text
    assert "labs.0.value: Input should be a valid number" in text


def test_every_fixture_is_used() -> None:
    named = {p.values[0] for p in [*CRITERIA_CASES, *PATIENT_CASES]}
    named |= {"criteria_several_problems.yaml", "patient_several_problems.yaml",
              "criteria_unknown_predicate_block.yaml", "criteria_phase_integer.yaml",
              "patient_birth_date_after_screening.yaml", "patient_age_over_130.yaml"}
    assert {p.name for p in BAD.iterdir()} == named


# ----------------------------------------------------------------------------------------------
# YAML 1.1 pitfalls: only true/false are booleans; 1.10 is not silently 1.1

@pytest.mark.parametrize("word", ["no", "yes", "on", "off", "y", "n", "No", "YES"])
def test_yaml_words_stay_strings(word: str) -> None:
    assert parse_yaml(f"a: {word}\n", "x.yaml").data == {"a": word}


@pytest.mark.parametrize(("text", "value"), [
    pytest.param("true", True, id="true"),
    pytest.param("false", False, id="false"),
    pytest.param("True", True, id="True"),
    pytest.param("FALSE", False, id="FALSE"),
])
def test_true_false_are_booleans(text: str, value: bool) -> None:
    assert parse_yaml(f"a: {text}\n", "x.yaml").data == {"a": value}


@pytest.mark.parametrize("word", ["no", "yes", "on", "off"])

def test_bool_field_given_a_word_is_an_error(tmp_path: Path, word: str) -> None:
    path = tmp_path / "patient.yaml"
    path.write_text(f"id: P1\nsex: female\npregnant: {word}\n")
    with pytest.raises(InputError) as info:
        load_patient(path)
    assert str(info.value).startswith(f"{path}:3:1: ")
    assert "pregnant" in str(info.value)


def test_bool_field_given_true_false_loads(tmp_path: Path) -> None:
    path = tmp_path / "patient.yaml"
    path.write_text("id: P1\nsex: female\npregnant: false\nbreastfeeding: true\n")
    patient = load_patient(path)
    assert patient.pregnant is False
    assert patient.breastfeeding is True


def test_1_10_is_an_error_for_a_text_field_not_silently_1_1() -> None:
    text = str(load_error("patient_id_1_10.yaml"))
    expected = f"{BAD / 'patient_id_1_10.yaml'}:1:1: id: Input should be a valid string (got 1.1)"
    assert text == expected


def test_1_10_quoted_stays_1_10(tmp_path: Path) -> None:
    path = tmp_path / "patient.yaml"
    path.write_text('id: "1.10"\ndiagnoses:\n  - condition: MDS\n    code: "204.10"\n')
    patient = load_patient(path)
    assert patient.id == "1.10"
    assert patient.diagnoses is not None and patient.diagnoses[0].code == "204.10"


def test_unquoted_numeric_code_is_an_error_not_a_float(tmp_path: Path) -> None:
    path = tmp_path / "patient.yaml"
    path.write_text("id: P1\ndiagnoses:\n  - condition: MDS\n    code: 204.10\n")
    with pytest.raises(InputError) as info:
        load_patient(path)
    assert str(info.value) == (
        f"{path}:4:5: diagnoses.0.code: Input should be a valid string (got 204.1)"
    )


def test_1_10_as_a_number_is_the_number(tmp_path: Path) -> None:
    path = tmp_path / "patient.yaml"
    path.write_text("id: P1\nlabs:\n  - name: creatinine\n    value: 1.10\n    unit: mg/dL\n")
    patient = load_patient(path)
    assert patient.labs is not None and patient.labs[0].value == 1.1


# ----------------------------------------------------------------------------------------------
# JSON patient files

def test_json_patient_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "patient.json"
    path.write_text(json.dumps({
        "id": "P-JSON", "sex": "female", "birth_date": "1960-05-01", "pregnant": False,
        "ecog": {"value": 1, "date": "2026-11-01"},
        "labs": [{"name": "creatinine", "value": 1.1, "unit": "mg/dL", "date": "2026-11-10"}],
        "therapies": [{"drugs": ["azacitidine"], "start": "2025-01-01", "end": "2025-06-30",
                       "outcome": "progression"}],
    }, indent=2))
    patient = load_patient(path)
    assert patient.id == "P-JSON"
    assert patient.sex is Sex.female
    assert patient.pregnant is False
    assert patient.ecog is not None and patient.ecog.value == 1
    assert patient.labs is not None and patient.labs[0].value == 1.1
    assert patient.therapies is not None and str(patient.therapies.items[0].end) == "2025-06-30"


def test_json_patient_with_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "patient.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "P-BOM", "age": 50}).encode())
    assert load_patient(path).age == 50


def test_json_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "patient.json"
    path.write_text('{"id": "P1",\n "sex": "female",\n "sex": "male"}\n')
    with pytest.raises(InputError) as info:
        load_patient(path)
    assert str(info.value) == f"{path}:3:2: duplicate key 'sex'"



# ----------------------------------------------------------------------------------------------
# Issue 10: only regular files of a bounded size are read; other encodings with a BOM are read


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "patient.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as info:
        load_patient(fifo)  # would block forever if opened for reading normally
    assert str(info.value) == f"{fifo}: not a regular file (a FIFO); give a file"


def test_device_is_refused() -> None:
    with pytest.raises(InputError) as info:
        load_patient(Path("/dev/zero"))
    assert str(info.value) == "/dev/zero: not a regular file (a character device); give a file"


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_patient(tmp_path)
    assert str(info.value) == f"{tmp_path}: is a directory, expected a file"


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    from trialmatch.io.yamlio import MAX_FILE_BYTES

    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.write(b"id: P1\nnote: '")
        fh.write(b"x" * MAX_FILE_BYTES)
        fh.write(b"'\n")
    with pytest.raises(InputError) as info:
        load_patient(big)
    assert "patient and criteria files are limited to 5 MB" in str(info.value)


def test_utf16_with_byte_order_mark_is_read() -> None:
    good = Path(__file__).parent / "fixtures" / "good"
    patient = load_patient(good / "patient_utf16_with_bom.yaml")
    assert patient.id == "P-U16" and patient.sex is Sex.female


def test_an_anchor_for_a_repeated_source_text_is_fine() -> None:
    doc = parse_yaml("a: &t some long text\nb: *t\nc: *t\n", "x.yaml")
    assert doc.data == {"a": "some long text", "b": "some long text", "c": "some long text"}
