"""The patients CSV layout: header checks, cell rules, rows read into patients (errors naming
the row and column), and the round trip patient -> row -> patient for every example patient."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from trialmatch.engine.criteria import load_catalogue
from trialmatch.engine.evaluate import evaluate_trial
from trialmatch.model.csvlayout import (
    GROUPS,
    LAB_COLS,
    SCALARS,
    CellError,
    Col,
    Header,
    LayoutError,
    RowError,
    parse_cell,
    parse_header,
    template_columns,
)
from trialmatch.model.csvrow import patient_to_row, row_to_patient
from trialmatch.model.patient import Patient, load_patient
from trialmatch.model.vocab import Vocabulary

ROOT = Path(__file__).resolve().parents[1]
PATIENTS = sorted((ROOT / "examples" / "patients").glob("*.yaml"))
AS_OF = dt.date(2026, 11, 21)
VOCAB = Vocabulary.default()
LABS = sorted(VOCAB.labs)


def layout_error(columns: list[str]) -> str:
    with pytest.raises(LayoutError) as info:
        parse_header(columns, LABS)
    return str(info.value)


# ------------------------------------------------------------------------------------------
# parse_header


def test_header_template_is_accepted() -> None:
    columns = template_columns(["creatinine", "ast"])
    header = parse_header(columns, LABS)
    assert header.columns == tuple(columns)
    assert set(header.scalars) == {c.suffix for c in SCALARS}
    assert header.labs["ast"] == {
        "value": "lab_ast",
        "unit": "lab_ast_unit",
        "date": "lab_ast_date",
        "uln": "lab_ast_uln",
    }
    assert set(header.markers) == {g.marker for g in GROUPS}
    assert sorted(header.slots["therapies"]) == [1, 2, 3, 4, 5]
    assert header.slots["therapies"][2]["start"] == "tx_2_start"


def test_header_accepts_any_number_of_slots_and_strips_names() -> None:
    header = parse_header([" id ", "tx_12_drugs", "cond_3_name "], LABS)
    assert header.columns == ("id", "tx_12_drugs", "cond_3_name")
    assert header.slots["therapies"] == {12: {"drugs": "tx_12_drugs"}}
    assert header.slots["conditions"] == {3: {"name": "cond_3_name"}}
    assert header.markers == ()


def test_template_limited_to_some_lists() -> None:
    columns = template_columns([], groups=["therapies"])
    assert "therapies" in columns and "conditions" not in columns
    assert not any(c.startswith(("cond_", "lab_")) for c in columns)


@pytest.mark.parametrize(
    ("column", "hint"),
    [
        ("birthdate", "did you mean 'birth_date'?"),
        ("tx_1_drug", "did you mean 'tx_1_drugs'?"),
        ("therapy", "did you mean 'therapies'?"),
        ("conditons", "did you mean 'conditions'?"),
        ("ecog_dat", "did you mean 'ecog_date'?"),
    ],
)
def test_header_unknown_column_with_did_you_mean(column: str, hint: str) -> None:
    assert layout_error(["id", column]) == f"unknown column {column!r}; {hint}"


def test_header_unknown_column_without_a_close_name() -> None:
    assert layout_error(["id", "zzzzzz"]) == "unknown column 'zzzzzz'"


def test_header_unknown_lab_lists_the_lab_ids() -> None:
    message = layout_error(["id", "lab_creatinin"])
    assert message.startswith("unknown column 'lab_creatinin' (lab columns are lab_<id>")
    assert "creatinine, creatinine_clearance" in message


def test_header_unknown_slot_suffix() -> None:
    assert layout_error(["id", "tx_1_dose"]).startswith("unknown column 'tx_1_dose'")


def test_header_duplicate_column() -> None:
    assert layout_error(["id", "sex", "sex"]) == "duplicate column 'sex'"


def test_header_duplicate_after_stripping() -> None:
    assert layout_error(["id", "sex", " sex"]) == "duplicate column 'sex'"


def test_header_missing_id() -> None:
    assert layout_error(["sex", "ecog"]) == "missing column 'id'"


def test_header_lab_detail_without_value_column() -> None:
    assert layout_error(["id", "lab_creatinine_unit", "lab_creatinine_date"]) == (
        "lab columns for 'creatinine' without the value column 'lab_creatinine'"
    )


def test_header_reports_every_problem_at_once() -> None:
    message = layout_error(["sex", "sex", "birthdate", "lab_ast_uln"])
    assert message.split("; ")[0] == "duplicate column 'sex'"
    assert "unknown column 'birthdate'" in message
    assert "missing column 'id'" in message
    assert "without the value column 'lab_ast'" in message


def test_header_col_of() -> None:
    header = parse_header(["id", "ecog", "lab_ast", "lab_ast_uln", "tx_3_start"], LABS)
    assert header.col_of("ecog") == next(c for c in SCALARS if c.suffix == "ecog")
    assert header.col_of("lab_ast_uln") == next(c for c in LAB_COLS if c.field == "uln")
    assert header.col_of("tx_3_start") is not None
    assert header.col_of("tx_3_start").kind == "date"  # type: ignore[union-attr]
    assert header.col_of("nope") is None


# ------------------------------------------------------------------------------------------
# parse_cell


def cell(kind: str, text: str, choices: tuple[str, ...] = ()) -> Any:
    return parse_cell("c", Col("c", kind, "f", choices), text)


def cell_error(kind: str, text: str, choices: tuple[str, ...] = ()) -> str:
    with pytest.raises(CellError) as info:
        cell(kind, text, choices)
    assert info.value.column == "c"
    assert str(info.value) == f"column 'c': {info.value.message}"
    return info.value.message


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2024-02-29", dt.date(2024, 2, 29)),
        ("2026-11-21", dt.date(2026, 11, 21)),
        ("0001-01-01", dt.date(1, 1, 1)),
    ],
)
def test_cell_date(text: str, day: dt.date) -> None:
    assert cell("date", text) == day


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024-02-30", "'2024-02-30' is not a valid date"),
        ("2023-02-29", "'2023-02-29' is not a valid date"),
        ("2026-13-01", "'2026-13-01' is not a valid date"),
        ("2024-1-5", "'2024-1-5' is not a date (YYYY-MM-DD)"),
        ("21/11/2026", "'21/11/2026' is not a date (YYYY-MM-DD)"),
        ("20261121", "'20261121' is not a date (YYYY-MM-DD)"),
        ("2026-11-21T00:00", "'2026-11-21T00:00' is not a date (YYYY-MM-DD)"),
        ("2026-11-21 ", "'2026-11-21 ' is not a date (YYYY-MM-DD)"),  # cells come stripped
    ],
)
def test_cell_bad_date(text: str, message: str) -> None:
    assert cell_error("date", text) == message


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("TRUE", True),
        ("Yes", True),
        ("yes", True),
        ("false", False),
        ("False", False),
        ("no", False),
        ("NO", False),
    ],
)
def test_cell_bool(text: str, value: bool) -> None:
    assert cell("bool", text) is value


@pytest.mark.parametrize("text", ["y", "n", "1", "0", "t", "maybe", "none"])
def test_cell_bad_bool(text: str) -> None:
    assert cell_error("bool", text) == f"{text!r} is not true/false (also yes/no)"


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("2", 2), ("+3", 3), ("-1", -1), ("007", 7), ("999999999", 999999999)],
)
def test_cell_int(text: str, value: int) -> None:
    assert cell("int", text) == value


@pytest.mark.parametrize("text", ["two", "1.0", "1e2", "1234567890", "--1", "3 4", "0x1"])
def test_cell_bad_int(text: str) -> None:
    assert cell_error("int", text) == f"{text!r} is not a whole number"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2.5", 2.5),
        ("221", 221.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("-0.25", -0.25),
        ("+1", 1.0),
        ("1e3", 1000.0),
        ("2.5E-2", 0.025),
        ("1e99", 1e99),
    ],
)
def test_cell_float(text: str, value: float) -> None:
    assert cell("float", text) == value


@pytest.mark.parametrize(
    "text", ["1e999", "abc", "2,5", "NaN", "nan", "inf", "-inf", "1e", "1.2.3", "0x10", "."]
)
def test_cell_bad_float(text: str) -> None:
    assert cell_error("float", text) == f"{text!r} is not a number"


def test_cell_float_that_overflows_is_read_but_rejected_by_the_model() -> None:
    """400 digits match the number pattern and read as inf; the row is then rejected."""
    assert cell("float", "9" * 400) == float("inf")
    header = parse_header(["id", "lab_creatinine", "lab_creatinine_unit"], LABS)
    err = row_to_patient(
        header, {"id": "P", "lab_creatinine": "9" * 400, "lab_creatinine_unit": "mg/dL"}, 1
    )
    assert isinstance(err, RowError)
    assert err.column == "lab_creatinine"
    assert "finite number" in err.message


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("lenalidomide", ["lenalidomide"]),
        ("lenalidomide;dexamethasone", ["lenalidomide", "dexamethasone"]),
        (" a ; b ;c", ["a", "b", "c"]),
        ("HLA-C", ["HLA-C"]),
    ],
)
def test_cell_list(text: str, items: list[str]) -> None:
    assert cell("list", text) == items


@pytest.mark.parametrize("text", ["a;;b", "a;", ";a", ";", " ; ", "a; ;b"])
def test_cell_list_with_an_empty_item(text: str) -> None:
    assert cell_error("list", text) == (f"empty item in list {text!r} (items are separated by ';')")


def test_cell_enum_and_str() -> None:
    assert cell("enum", "male", ("female", "male")) == "male"
    assert cell_error("enum", "Male", ("female", "male")) == (
        "'Male' is not allowed (allowed: female, male)"
    )
    assert cell("str", "anything at all") == "anything at all"


# ------------------------------------------------------------------------------------------
# row_to_patient


HEADER_COLUMNS = [
    "id",
    "sex",
    "ecog",
    "ecog_date",
    "birth_date",
    "age",
    "disease_response",
    "disease_response_date",
    "donor_relation",
    "donor_hla_match",
    "donor_mismatched_loci",
    "lab_creatinine",
    "lab_creatinine_unit",
    "lab_creatinine_date",
    "lab_ast",
    "lab_ast_unit",
    "lab_ast_uln",
    "therapies",
    "tx_1_drugs",
    "tx_1_regimen",
    "tx_1_start",
    "tx_1_end",
    "tx_1_line",
    "tx_2_drugs",
    "tx_2_regimen",
    "tx_2_start",
    "tx_2_end",
    "tx_2_line",
    "tx_2_ongoing",
    "conditions",
    "cond_1_name",
    "cond_1_status",
    "hypersensitivities",
    "hs_1_agent",
    "transfusions",
    "rbc_1_status",
    "rbc_1_start",
    "diagnoses",
    "dx_1_condition",
    "dx_1_findings",
    "dx_1_findings_absent",
    "dx_1_risk_system",
    "dx_1_risk_category",
    "attestations",
    "att_1_trial",
    "att_1_criterion",
    "att_1_holds",
    "att_1_by",
    "att_1_on",
]
HEADER: Header = parse_header(HEADER_COLUMNS, LABS)


def read(**cells: str) -> Patient | RowError:
    row = {c: "" for c in HEADER_COLUMNS}
    row.update(cells)
    return row_to_patient(HEADER, row, 4)


def patient(**cells: str) -> Patient:
    p = read(**cells)
    assert isinstance(p, Patient), p
    return p


def error(**cells: str) -> RowError:
    e = read(**cells)
    assert isinstance(e, RowError), e
    assert e.row == 4
    return e


def test_row_empty_cells_are_not_recorded() -> None:
    p = patient(id="P1")
    assert p.id == "P1"
    for field in (
        "sex",
        "ecog",
        "labs",
        "therapies",
        "conditions",
        "hypersensitivities",
        "transfusions",
        "diagnoses",
        "donor",
        "disease_status",
    ):
        assert getattr(p, field) is None, field
    assert p.attestations == []


@pytest.mark.parametrize("marker", ["none", "None", "NONE", " none "])
def test_row_marker_none_is_an_empty_list(marker: str) -> None:
    p = patient(id="P1", therapies=marker, conditions=marker, hypersensitivities=marker)
    for listing in (p.therapies, p.conditions, p.hypersensitivities):
        assert listing is not None and listing.items == [] and listing.complete
    assert p.transfusions is None  # absent marker, no items: not recorded


@pytest.mark.parametrize("marker", ["partial", "Partial", " PARTIAL "])
def test_row_marker_partial_is_a_list_known_in_part(marker: str) -> None:
    p = patient(id="P1", conditions=marker, cond_1_name="HIV", cond_1_status="active",
                therapies=marker)
    assert p.conditions is not None and not p.conditions.complete
    assert [c.condition for c in p.conditions.items] == ["HIV"]
    assert p.therapies is not None and p.therapies.items == [] and not p.therapies.complete


def test_row_marker_partial_is_not_for_attestations() -> None:
    e = error(id="P1", attestations="partial")
    assert (e.column, e.message) == (
        "attestations",
        "the attestations take 'none' or nothing, not 'partial'",
    )


def test_row_marker_partial_is_not_for_diagnoses() -> None:
    e = error(id="P1", diagnoses="partial", dx_1_condition="MDS")
    assert (e.column, e.message) == (
        "diagnoses",
        "the diagnoses take 'none' or nothing, not 'partial'",
    )


def test_row_marker_none_with_items_names_the_marker_column() -> None:
    e = error(id="P1", conditions="none", cond_1_name="HIV")
    assert (e.column, e.message) == ("conditions", "says 'none' but items are given")
    assert str(e) == "row 4, column 'conditions': says 'none' but items are given"


@pytest.mark.parametrize("marker", ["nothing", "no", "n/a", "0", "[]"])
def test_row_marker_other_than_none(marker: str) -> None:
    e = error(id="P1", therapies=marker)
    assert e.column == "therapies"
    assert e.message == f"{marker!r}: the marker column takes 'none', 'partial' or nothing"


def test_row_values_are_parsed_and_stripped() -> None:
    p = patient(
        id=" P1 ",
        sex="female",
        ecog=" 2 ",
        ecog_date="2026-11-02",
        lab_creatinine=" 2.5 ",
        lab_creatinine_unit="mg/dL",
        tx_1_drugs=" lenalidomide ; dexamethasone ",
        tx_1_start="2024-01-01",
        tx_1_line="1",
        tx_2_regimen="VRd",
        tx_2_ongoing="yes",
        cond_1_name="HIV",
        dx_1_condition="MDS",
        dx_1_findings="del(5q);TP53",
        dx_1_findings_absent="+8",
        dx_1_risk_system="IPSS-R",
        dx_1_risk_category="low",
        donor_relation="unrelated",
        donor_hla_match="9/10",
        donor_mismatched_loci="HLA-C",
    )
    assert p.id == "P1"
    assert p.ecog is not None and (p.ecog.value, p.ecog.date) == (2, dt.date(2026, 11, 2))
    assert p.labs is not None and len(p.labs) == 1
    assert (p.labs[0].name, p.labs[0].value, p.labs[0].unit) == ("creatinine", 2.5, "mg/dL")
    assert p.therapies is not None and p.therapies.complete
    tx = p.therapies.items
    assert tx[0].drugs == ["lenalidomide", "dexamethasone"]
    assert tx[0].start == dt.date(2024, 1, 1) and tx[0].line == 1
    assert tx[1].regimen == "VRd" and tx[1].ongoing is True
    assert p.conditions is not None and p.conditions.items[0].status is None  # not recorded
    assert p.diagnoses is not None
    findings = p.diagnoses[0].findings
    assert findings is not None
    assert findings[:2] == ["del(5q)", "TP53"]
    assert (findings[2].name, findings[2].present) == ("+8", False)  # type: ignore[union-attr]
    risk = p.diagnoses[0].risk_scores
    assert risk is not None and (risk[0].system, risk[0].category) == ("IPSS-R", "low")
    assert p.donor is not None and p.donor.mismatched_loci == ["HLA-C"]


def test_row_slots_are_compacted() -> None:
    """An empty first slot is skipped: the second slot becomes the first therapy."""
    p = patient(id="P1", tx_2_drugs="azacitidine")
    assert p.therapies is not None and [t.drugs for t in p.therapies.items] == [["azacitidine"]]


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ({"sex": "F"}, "sex", "'F' is not allowed (allowed: female, male, other)"),
        ({"ecog": "two"}, "ecog", "'two' is not a whole number"),
        ({"ecog": "7"}, "ecog", "ECOG must be 0 to 5, got 7"),
        ({"birth_date": "2024-02-30"}, "birth_date", "'2024-02-30' is not a valid date"),
        ({"age": "131"}, "age", "must be at most 130 (got 131)"),
        (
            {"tx_1_drugs": "x", "tx_2_drugs": "y", "tx_2_start": "2024-02-30"},
            "tx_2_start",
            "'2024-02-30' is not a valid date",
        ),
        (
            {"tx_1_drugs": "x", "tx_2_drugs": "y", "tx_2_start": "2024-1-5"},
            "tx_2_start",
            "'2024-1-5' is not a date (YYYY-MM-DD)",
        ),
        (
            {"tx_2_drugs": "x", "tx_2_ongoing": "maybe"},
            "tx_2_ongoing",
            "'maybe' is not true/false (also yes/no)",
        ),
        (
            {"tx_1_drugs": "lenalidomide;;dexamethasone"},
            "tx_1_drugs",
            "empty item in list 'lenalidomide;;dexamethasone' (items are separated by ';')",
        ),
        ({"lab_creatinine": "2.5"}, "lab_creatinine_unit", "lab value given without its unit"),
        ({"lab_creatinine_unit": "mg/dL"}, "lab_creatinine", "lab details given without the value"),
        ({"lab_ast_uln": "40"}, "lab_ast", "lab details given without the value"),
        (
            {"lab_creatinine": "1e999", "lab_creatinine_unit": "mg/dL"},
            "lab_creatinine",
            "'1e999' is not a number",
        ),
        (
            {"lab_creatinine": "2.5 mg/dL", "lab_creatinine_unit": "mg/dL"},
            "lab_creatinine",
            "'2.5 mg/dL' is not a number",
        ),
        (
            {"cond_1_name": "HIV", "cond_1_status": "Active"},
            "cond_1_status",
            "'Active' is not allowed (allowed: active, controlled, uncontrolled, resolved, "
            "history, absent, unknown)",
        ),
        ({"att_1_holds": "sure"}, "att_1_holds", "'sure' is not true/false (also yes/no)"),
    ],
)
def test_row_cell_errors_name_the_column(cells: dict[str, str], column: str, message: str) -> None:
    e = error(id="P1", **cells)
    assert (e.column, e.message) == (column, message)
    assert str(e) == f"row 4, column {column!r}: {message}"


def test_row_end_before_start_names_a_column_of_that_therapy() -> None:
    e = error(
        id="P1",
        tx_1_drugs="x",
        tx_2_drugs="lenalidomide",
        tx_2_start="2024-03-01",
        tx_2_end="2024-01-01",
    )
    assert e.column is not None and e.column.startswith("tx_2_")
    assert "therapy ends (2024-01-01) before it starts (2024-03-01)" in e.message


def test_row_therapy_slot_without_drugs_or_regimen() -> None:
    e = error(id="P1", tx_2_start="2024-03-01")
    assert e.column is not None and e.column.startswith("tx_2_")
    assert "a therapy needs 'drugs' or a 'regimen'" in e.message


def test_row_model_range_error_names_the_slot_column() -> None:
    e = error(id="P1", tx_1_drugs="x", tx_2_drugs="y", tx_2_line="0")
    assert e.column == "tx_2_line"
    assert e.column == "tx_2_line" and e.message == "must be at least 1 (got 0)"


@pytest.mark.parametrize(
    ("cells", "column", "field"),
    [
        ({"ecog_date": "2026-01-01"}, "ecog_date", "value"),
        ({"rbc_1_status": "dependent"}, "rbc_1_start", "start"),
        ({"cond_1_status": "active"}, "cond_1_name", "condition"),
        ({"att_1_trial": "NCT01421927"}, "att_1_criterion", "criterion"),
        ({"donor_relation": "related"}, "donor_relation", "hla_match"),
    ],
)
def test_row_missing_required_field_names_a_column(
    cells: dict[str, str], column: str, field: str
) -> None:
    e = error(id="P1", **cells)
    assert (e.column, e.message) == (column, f"missing required field '{field}'")


def test_row_disease_status_needs_a_response_or_a_state() -> None:
    e = error(id="P1", disease_response_date="2026-01-01")
    assert e.column == "disease_response_date"
    assert e.message == (
        "a disease status needs a 'response' (e.g. PR) or a 'state' "
        "(newly_diagnosed, relapsed, refractory, relapsed_and_refractory)"
    )


def test_row_without_id() -> None:
    e = error(id="  ")
    assert e.message == "missing required field 'id'"
    assert str(e).startswith("row 4")


def test_row_unknown_values_are_kept_for_the_engine() -> None:
    """Terms the vocabulary does not know are data (they make criteria unknown), not errors."""
    p = patient(
        id="P1",
        tx_1_drugs="xyzumab",
        cond_1_name="mystery disease",
        hs_1_agent="lactose",
        lab_creatinine="2.5",
        lab_creatinine_unit="bananas",
    )
    assert p.therapies is not None and p.therapies.items[0].drugs == ["xyzumab"]
    assert p.labs is not None and p.labs[0].unit == "bananas"


def test_row_short_row_cells_are_missing() -> None:
    """A mapping without some columns reads them as empty (as a short CSV row)."""
    p = row_to_patient(HEADER, {"id": "P1", "sex": "male"}, 2)
    assert isinstance(p, Patient) and p.sex is not None and p.sex.value == "male"


# ------------------------------------------------------------------------------------------
# Round trip: patient -> row -> patient


def _strip(item: Any, drop: tuple[str, ...] = ("note",)) -> Any:
    data = item.model_dump(exclude_none=True, mode="json")
    for key in drop:
        data.pop(key, None)
    return data


def _findings(diag: Any, as_of: dt.date) -> tuple[list[str], list[str]]:
    present, absent = [], []
    for f in diag.findings or []:
        if isinstance(f, str):
            present.append(f)
        elif f.date is None or f.date <= as_of:
            (present if f.present else absent).append(f.name)
    return present, absent


def _latest_labs(p: Patient, as_of: dt.date) -> dict[str, tuple[Any, ...]]:
    by: dict[str, list[Any]] = {}
    for lab in p.labs or []:
        by.setdefault(VOCAB.lab_id(lab.name) or lab.name, []).append(lab)
    out = {}
    for lab_id, results in by.items():
        pool = [r for r in results if r.date is None or r.date <= as_of] or results
        r = max(pool, key=lambda x: x.date or dt.date.min)
        out[lab_id] = (r.value, r.unit, r.date, r.uln)
    return out


def roundtrip(p: Patient, as_of: dt.date = AS_OF) -> Patient:
    row = patient_to_row(p, as_of)
    header = parse_header(list(row), LABS)
    back = row_to_patient(header, row, 1)
    assert isinstance(back, Patient), back
    return back


@pytest.mark.parametrize("path", PATIENTS, ids=lambda p: p.stem)
def test_roundtrip_keeps_verdict_relevant_fields(path: Path) -> None:
    original = load_patient(path)
    back = roundtrip(original)
    for field in (
        "id",
        "birth_date",
        "age",
        "sex",
        "pregnant",
        "breastfeeding",
        "childbearing_potential",
        "ecog",
        "disease_status",
        "donor",
    ):
        assert getattr(back, field) == getattr(original, field), field
    for field, drop in (
        ("therapies", ("note",)),
        ("procedures", ("note",)),
        ("transfusions", ()),
        ("conditions", ("note",)),
        ("prior_malignancies", ()),
        ("hypersensitivities", ("severity",)),
        ("attestations", ("note",)),
    ):
        mine, theirs = getattr(original, field), getattr(back, field)
        if mine is None:
            assert theirs is None or field == "attestations", field
            continue
        assert theirs is not None, field
        if field != "attestations":
            assert theirs.complete == mine.complete, field
            mine, theirs = mine.items, theirs.items
        assert [_strip(x, drop) for x in theirs] == [_strip(x, drop) for x in mine], field
    assert _latest_labs(back, AS_OF) == _latest_labs(original, AS_OF)
    assert (back.diagnoses is None) == (original.diagnoses is None)
    for a, b in zip(original.diagnoses or [], back.diagnoses or [], strict=True):
        assert _strip(b, ("findings",)) == _strip(a, ("findings",))
        assert _findings(b, AS_OF) == _findings(a, AS_OF)


@pytest.mark.parametrize("path", PATIENTS, ids=lambda p: p.stem)
def test_roundtrip_keeps_every_verdict(path: Path) -> None:
    original = load_patient(path)
    back = roundtrip(original)
    for t in load_catalogue():
        before = evaluate_trial(t, original, AS_OF, VOCAB)
        after = evaluate_trial(t, back, AS_OF, VOCAB)
        assert after.verdict == before.verdict, t.trial.id
        assert [(c.criterion_id, c.verdict) for c in after.criteria] == [
            (c.criterion_id, c.verdict) for c in before.criteria
        ], t.trial.id


@pytest.mark.parametrize("path", PATIENTS, ids=lambda p: p.stem)
def test_roundtrip_is_a_fixed_point(path: Path) -> None:
    """Exporting the re-read patient gives the same row again."""
    row = patient_to_row(load_patient(path), AS_OF)
    assert patient_to_row(roundtrip(load_patient(path)), AS_OF) == row


def test_patient_to_row_writes_only_the_columns_it_needs() -> None:
    p = Patient(id="P1", sex="male", therapies=[], ecog={"value": 1})
    assert patient_to_row(p) == {
        "id": "P1",
        "sex": "male",
        "ecog": "1",
        "therapies": "none",
        "attestations": "none",  # the model's default is an empty list
    }


def test_patient_to_row_keeps_the_latest_lab_on_or_before_as_of() -> None:
    p = Patient(
        id="P1",
        labs=[
            {"name": "creatinine", "value": 1.0, "unit": "mg/dL", "date": "2026-01-01"},
            {"name": "creatinine", "value": 2.0, "unit": "mg/dL", "date": "2026-11-01"},
            {"name": "creatinine", "value": 3.0, "unit": "mg/dL", "date": "2026-12-01"},
        ],
    )
    row = patient_to_row(p, AS_OF)
    assert (row["lab_creatinine"], row["lab_creatinine_date"]) == ("2.0", "2026-11-01")
    assert patient_to_row(p)["lab_creatinine"] == "3.0"


def test_patient_to_row_latest_lab_across_synonyms() -> None:
    """Results under two names of one lab: the latest is exported (was a bug: grouped by the
    name as written, the last name won even with the older result)."""
    p = Patient(
        id="P1",
        labs=[
            {"name": "creatinine", "value": 3.0, "unit": "mg/dL", "date": "2026-11-01"},
            {"name": "serum creatinine", "value": 1.0, "unit": "mg/dL", "date": "2026-01-01"},
        ],
    )
    row = patient_to_row(p, AS_OF)
    # `check` reads the 2026-11-01 result (3.0 mg/dL > 2.5: inc-organ-creatinine not met);
    # the export must carry the same result, or `screen` on it says "met".
    assert (row["lab_creatinine"], row["lab_creatinine_date"]) == ("3.0", "2026-11-01")
    trial = next(t for t in load_catalogue() if t.trial.id == "NCT01673308")
    before = evaluate_trial(trial, p, AS_OF, VOCAB)
    after = evaluate_trial(trial, roundtrip(p), AS_OF, VOCAB)
    assert [c.verdict for c in after.criteria] == [c.verdict for c in before.criteria]


def test_patient_to_row_refuses_what_the_layout_cannot_hold() -> None:
    p = Patient(
        id="P1",
        diagnoses=[
            {
                "condition": "MDS",
                "risk_scores": [
                    {"system": "IPSS-R", "category": "low"},
                    {"system": "IPSS", "category": "low"},
                ],
            }
        ],
    )
    with pytest.raises(ValueError, match="one risk score per diagnosis"):
        patient_to_row(p, AS_OF)
    dated = Patient(
        id="P1",
        diagnoses=[{"condition": "MDS", "findings": [{"name": "del(5q)", "date": "2019-01-01"}]}],
    )
    with pytest.raises(ValueError, match="give as_of"):
        patient_to_row(dated)
    assert patient_to_row(dated, AS_OF)["dx_1_findings"] == "del(5q)"


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        # An earlier slot is empty: the message still names the CSV slot, not "therapies.0".
        (
            {"tx_2_end": "2023-01-01"},
            "tx_2_drugs",
            "tx_2: therapy ends (2023-01-01) before it starts (2024-01-05)",
        ),
        (
            {"tx_2_line": "0"},
            "tx_2_line",
            "must be at least 1 (got 0)",
        ),
        ({"ecog": "7"}, "ecog", "ECOG must be 0 to 5, got 7"),
    ],
)
def test_model_errors_name_the_csv_column_or_slot(
    cells: dict[str, str], column: str, message: str
) -> None:
    header = parse_header(
        ["id", "ecog", "tx_1_drugs", "tx_2_drugs", "tx_2_start", "tx_2_end", "tx_2_line"],
        VOCAB.labs,
    )
    row = {c: "" for c in header.columns}
    row.update(
        id="P1", tx_2_drugs="lenalidomide", tx_2_start="2024-01-05", tx_2_end="2025-01-01"
    )
    row.update(cells)
    error = row_to_patient(header, row, 7)
    assert isinstance(error, RowError)
    assert (error.row, error.column, error.message) == (7, column, message)
