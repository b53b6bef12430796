"""The ``lab`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, UNKNOWN, case, check, lab, missing_text

CREA_MAX = {"lab": {"analyte": "creatinine", "at_most": 2.5, "unit": "mg/dL"}}


CREA_MAX_RECENT = {"lab": {"analyte": "creatinine", "at_most": 2.5, "unit": "mg/dL",
                           "max_age_days": 14}}


AST_3ULN = {"lab": {"analyte": "AST", "at_most": 3, "relative_to": "uln"}}


def crea(value: float, unit: str = "mg/dL", day: str | None = "2026-11-10") -> dict[str, Any]:
    return lab("creatinine", value, unit, day)


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("same_unit_below_limit", CREA_MAX, {"labs": [crea(1.2)]}, MET),
    case("same_unit_at_limit", CREA_MAX, {"labs": [crea(2.5)]}, MET),
    case("same_unit_above_limit", CREA_MAX, {"labs": [crea(2.6)]}, NOT_MET),
    case("umol_221_is_2_5_mg_dl_boundary", CREA_MAX, {"labs": [crea(221, "umol/L")]}, MET),
    case("umol_222_is_above_2_5_mg_dl", CREA_MAX, {"labs": [crea(222, "umol/L")]}, NOT_MET),
    case("unit_spelling_is_case_folded", CREA_MAX, {"labs": [crea(2.0, "mg/dl")]}, MET),
    case("micro_sign_unit", CREA_MAX, {"labs": [crea(100, "µmol/L")]}, MET),
    case("limit_in_umol_result_in_mg", {"lab": {"analyte": "creatinine", "at_most": 221,
                                                "unit": "umol/L"}},
         {"labs": [crea(2.5)]}, MET),
    case("unconvertible_unit", CREA_MAX, {"labs": [crea(2.0, "mmHg")]}, UNKNOWN),
    case("lab_by_synonym_in_patient_file", CREA_MAX,
         {"labs": [lab("serum creatinine", 1.0, "mg/dL")]}, MET),
    case("bilirubin_umol_conversion", {"lab": {"analyte": "bilirubin_total", "at_most": 1.5,
                                               "unit": "mg/dL"}},
         {"labs": [lab("bilirubin", 25.65, "umol/L")]}, MET),
    case("lvef_percent", {"lab": {"analyte": "lvef", "at_least": 45, "unit": "%"}},
         {"labs": [lab("LVEF", 40, "%")]}, NOT_MET),
    case("no_result_for_analyte", CREA_MAX, {"labs": [lab("AST", 20, "U/L")]}, UNKNOWN),
    case("no_labs_at_all", CREA_MAX, {}, UNKNOWN),
    case("ast_exactly_3_uln", AST_3ULN, {"labs": [lab("AST", 105, "U/L", uln=35)]}, MET),
    case("ast_above_3_uln", AST_3ULN, {"labs": [lab("AST", 106, "U/L", uln=35)]}, NOT_MET),
    case("ast_without_uln", AST_3ULN, {"labs": [lab("AST", 20, "U/L")]}, UNKNOWN),
    case("alt_uln_relative_more_than", {"lab": {"analyte": "ALT", "more_than": 2.5,
                                                "relative_to": "uln"}},
         {"labs": [lab("ALT", 100, "U/L", uln=40)]}, NOT_MET),
    case("latest_result_is_used", CREA_MAX,
         {"labs": [crea(3.0, day="2026-10-01"), crea(2.0, day="2026-11-20")]}, MET),
    case("latest_result_is_used_whatever_the_order", CREA_MAX,
         {"labs": [crea(3.0, day="2026-11-20"), crea(2.0, day="2026-10-01")]}, NOT_MET),
    case("result_after_screening_is_ignored", CREA_MAX,
         {"labs": [crea(2.0, day="2026-11-20"), crea(3.0, day="2026-11-25")]}, MET),
    case("only_results_after_screening", CREA_MAX, {"labs": [crea(1.0, day="2026-11-25")]},
         UNKNOWN),
    case("stale_result", CREA_MAX_RECENT, {"labs": [crea(1.0, day="2026-11-01")]}, UNKNOWN),
    case("exactly_max_age_days_old", CREA_MAX_RECENT, {"labs": [crea(1.0, day="2026-11-07")]},
         MET),
    case("undated_result_with_max_age", CREA_MAX_RECENT, {"labs": [crea(1.0, day=None)]},
         UNKNOWN),
])
def test_lab(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


def test_lab_conversion_shows_the_converted_value() -> None:
    ev = check(CREA_MAX, {"labs": [crea(221, "umol/L")]}, MET)
    assert ev.observed == "221 umol/L"
    assert ev.observed_date == date(2026, 11, 10)
    assert ev.converted == "221 umol/L = 2.5 mg/dL"
    assert ev.threshold is not None and "2.5 mg/dL" in ev.threshold


def test_lab_unknown_unit_names_the_missing_item() -> None:
    ev = check(CREA_MAX, {"labs": [crea(2.0, "mmHg")]}, UNKNOWN)
    assert ev.missing == ("Serum creatinine in a known unit",)
    assert "mmHg" in ev.sentence


def test_lab_uln_ratio_is_in_the_evidence() -> None:
    ev = check(AST_3ULN, {"labs": [lab("AST", 105, "U/L", uln=35)]}, MET)
    assert ev.converted is not None and ev.converted.startswith("3.00 × ULN")


def test_lab_missing_uln_is_named() -> None:
    ev = check(AST_3ULN, {"labs": [lab("AST", 20, "U/L")]}, UNKNOWN)
    assert "upper limit of normal" in missing_text(ev)


def test_lab_stale_result_asks_for_a_recent_one() -> None:
    ev = check(CREA_MAX_RECENT, {"labs": [crea(1.0, day="2026-11-01")]}, UNKNOWN)
    assert "recent" in missing_text(ev)
    assert "20 days old" in ev.sentence


def crcl(bound: str, value: float, unit: str = "mL/min", **kw: Any) -> dict[str, Any]:
    return {"lab": {"analyte": "creatinine_clearance", bound: value, "unit": unit, **kw}}


CG_INPUTS = [crea(1.0), lab("weight", 60, "kg", "2026-11-10")]


CG_FEMALE = {"sex": "female", "age": 70, "labs": CG_INPUTS}


CG_MALE = {"sex": "male", "age": 70, "labs": CG_INPUTS}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("female_49_58_meets_49_58", crcl("at_least", 49.58), CG_FEMALE, MET),
    case("female_49_58_misses_49_59", crcl("at_least", 49.59), CG_FEMALE, NOT_MET),
    case("male_58_33_meets_58_33", crcl("at_least", 58.33), CG_MALE, MET),
    case("male_58_33_misses_58_34", crcl("at_least", 58.34), CG_MALE, NOT_MET),
    case("inputs_in_other_units", crcl("at_least", 58.33),
         {"sex": "male", "birth_date": "1956-11-21",
          "labs": [crea(88.4, "umol/L"), lab("body weight", 132.27735, "lb")]}, MET),
    case("missing_weight", crcl("at_least", 50), {"sex": "female", "age": 70,
                                                  "labs": [crea(1.0)]}, UNKNOWN),
    case("missing_creatinine", crcl("at_least", 50),
         {"sex": "female", "age": 70, "labs": [lab("weight", 60, "kg")]}, UNKNOWN),
    case("missing_age", crcl("at_least", 50), {"sex": "female", "labs": CG_INPUTS}, UNKNOWN),
    case("missing_sex", crcl("at_least", 50), {"age": 70, "labs": CG_INPUTS}, UNKNOWN),
    case("sex_other_cannot_use_the_formula", crcl("at_least", 50),
         {"sex": "other", "age": 70, "labs": CG_INPUTS}, UNKNOWN),
    case("stale_input", crcl("at_least", 50, max_age_days=30),
         {"sex": "male", "age": 70,
          "labs": [crea(1.0, day="2026-01-01"), lab("weight", 60, "kg", "2026-11-10")]},
         UNKNOWN),
    case("derive_false_does_not_derive", crcl("at_least", 50, derive=False), CG_MALE, UNKNOWN),
    case("measured_takes_precedence_over_derived", crcl("at_least", 50),
         {"sex": "male", "age": 70,
          "labs": [*CG_INPUTS, lab("CrCl", 40, "mL/min", "2026-11-10")]}, NOT_MET),
    case("measured_in_ml_per_s", crcl("at_least", 50),
         {"sex": "male", "age": 70, "labs": [lab("creatinine clearance", 1.0, "mL/s")]}, MET),
    case("derived_value_compared_in_the_criterion_unit", crcl("at_least", 1.0, "mL/s"),
         CG_MALE, NOT_MET),
])
def test_creatinine_clearance(spec: dict[str, Any], patient: dict[str, Any],
                              expected: Verdict) -> None:
    check(spec, patient, expected)


def test_cockcroft_gault_female_formula_in_evidence() -> None:
    ev = check(crcl("at_least", 50), CG_FEMALE, NOT_MET)
    expected_value = (140 - 70) * 60 / (72 * 1.0) * 0.85
    assert round(expected_value, 2) == 49.58
    assert ev.converted is not None
    assert "Cockcroft-Gault" in ev.converted
    assert "0.85" in ev.converted
    assert ev.converted.endswith("= 49.6 mL/min")
    assert ev.observed == "49.6 mL/min (derived)"


def test_cockcroft_gault_male_has_no_sex_factor() -> None:
    ev = check(crcl("at_least", 50), CG_MALE, MET)
    assert ev.converted is not None and "0.85" not in ev.converted
    assert ev.converted.endswith("= 58.3 mL/min")


def test_cockcroft_gault_missing_weight_names_weight() -> None:
    ev = check(crcl("at_least", 50), {"sex": "female", "age": 70, "labs": [crea(1.0)]},
               UNKNOWN)
    assert "weight" in missing_text(ev)


def test_cockcroft_gault_missing_sex_names_sex() -> None:
    ev = check(crcl("at_least", 50), {"age": 70, "labs": CG_INPUTS}, UNKNOWN)
    assert "sex" in missing_text(ev)


def test_measured_clearance_is_reported_not_the_formula() -> None:
    ev = check(crcl("at_least", 50), {"sex": "male", "age": 70,
                                      "labs": [*CG_INPUTS, lab("CrCl", 40, "mL/min")]}, NOT_MET)
    assert ev.observed == "40 mL/min"
    assert ev.converted is None


RENAL = {"lab": {"analyte": "creatinine clearance", "less_than": 30, "unit": "mL/min",
                 "condition_settles": {"any_of": ["end-stage renal disease",
                                                  "dialysis dependence"], "verdict": "met"}}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("esrd_settles_without_a_result", RENAL,
         {"conditions": [{"condition": "ESRD", "status": "active"}]}, MET),
    case("dialysis_settles_without_a_result", RENAL,
         {"conditions": [{"condition": "peritoneal dialysis", "status": "controlled"}]}, MET),
    case("a_result_decides_first", RENAL,
         {"labs": [lab("creatinine clearance", 45, "mL/min")],
          "conditions": [{"condition": "ESRD", "status": "active"}]}, NOT_MET),
    case("resolved_esrd_settles_nothing", RENAL,
         {"conditions": [{"condition": "ESRD", "status": "resolved"}]}, UNKNOWN),
    case("no_status_settles_nothing", RENAL, {"conditions": [{"condition": "ESRD"}]}, UNKNOWN),
    case("no_such_condition", RENAL, {"conditions": []}, UNKNOWN),
])
def test_condition_settles_a_lab(spec: dict[str, Any], patient: dict[str, Any],
                                 expected: Verdict) -> None:
    check(spec, patient, expected)


def test_condition_settling_a_lab_is_explained() -> None:
    ev = check(RENAL, {"conditions": [{"condition": "ESRD", "status": "active"}]}, MET)
    assert "ESRD (active) is recorded, which settles it (met by definition)" in ev.sentence


def test_unknown_unit_gives_a_hint() -> None:
    ev = check({"lab": {"analyte": "creatinine", "at_most": 2.5, "unit": "mg/dL"}},
               {"labs": [lab("creatinine", 1.0, "mg/dl.")]}, UNKNOWN)
    assert "did you mean 'mg/dL'" in ev.sentence
