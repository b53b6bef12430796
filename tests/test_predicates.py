"""Leaf predicates, one section per predicate: real behaviour, boundaries and unhappy paths.

Every case builds a patient and a one-leaf rule, evaluates it on a fixed screening date and
checks the verdict and the evidence. Missing, stale or unconvertible data must give ``unknown``
(never met or not met) and name the datum that would decide it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from trialmatch.engine.criteria import Criterion
from trialmatch.engine.evaluate import evaluate_rule
from trialmatch.model.patient import Patient
from trialmatch.model.results import Evidence, Verdict
from trialmatch.model.vocab import Vocabulary
from trialmatch.predicates import Context, calendar_months

# ----------------------------------------------------------------------------------------------
# Helpers

AS_OF = date(2026, 11, 21)
MET, NOT_MET, UNKNOWN, REVIEW = (Verdict.met, Verdict.not_met, Verdict.unknown,
                                 Verdict.needs_review)


def rule(spec: dict[str, Any]) -> Any:
    """A validated rule node from its YAML-shaped mapping."""
    return Criterion.model_validate({"id": "x", "text": "t", "rule": spec}).rule


def evaluate(spec: dict[str, Any], as_of: date = AS_OF, **patient: Any) -> Evidence:
    """Evaluate a one-leaf rule for a patient built from keyword fields; return its evidence."""
    patient.setdefault("id", "P1")
    ctx = Context(patient=Patient.model_validate(patient), as_of=as_of,
                  vocab=Vocabulary.default())
    outcome = evaluate_rule(rule(spec), ctx)
    assert len(outcome.leaves) == 1
    evidence = outcome.leaves[0]
    assert evidence.verdict is outcome.verdict
    return evidence


def check(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict,
          as_of: date = AS_OF) -> Evidence:
    """Evaluate and assert the verdict; unknown verdicts must name what is missing."""
    evidence = evaluate(spec, as_of=as_of, **patient)
    assert evidence.verdict is expected, evidence.sentence
    if expected is UNKNOWN:
        assert evidence.missing, f"unknown without a missing item: {evidence.sentence}"
    else:
        assert evidence.missing == (), evidence.missing
    assert evidence.sentence
    return evidence


def case(case_id: str, spec: dict[str, Any], patient: dict[str, Any], expected: Verdict,
         **kw: Any) -> Any:
    """A readable parametrize entry."""
    return pytest.param(spec, patient, expected, id=case_id, **kw)


def missing_text(evidence: Evidence) -> str:
    return " | ".join(evidence.missing).lower()


def lab(name: str, value: float, unit: str, day: str | None = None, **kw: Any) -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit, "date": day, **kw}


def course(*drugs: str, **kw: Any) -> dict[str, Any]:
    return {"drugs": list(drugs), **kw}


def inclusive_end(start: date, days: int) -> date:
    """The end date of a course covering ``days`` calendar days, start and end included."""
    return start + timedelta(days=days - 1)


# ----------------------------------------------------------------------------------------------
# age

ADULT = {"age": {"at_least": 18}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("18th_birthday_is_met", ADULT, {"birth_date": "2008-11-21"}, MET),
    case("day_before_18th_birthday_not_met", ADULT, {"birth_date": "2008-11-22"}, NOT_MET),
    case("recorded_age_without_birth_date", ADULT, {"age": 30}, MET),
    case("recorded_age_too_young", ADULT, {"age": 17}, NOT_MET),
    case("birth_date_wins_over_recorded_age", ADULT, {"birth_date": "2010-01-01", "age": 30},
         NOT_MET),
    case("neither_birth_date_nor_age", ADULT, {}, UNKNOWN),
    case("upper_bound_on_75th_birthday", {"age": {"at_most": 75}}, {"birth_date": "1951-11-21"},
         MET),
    case("upper_bound_day_after_76th_birthday", {"age": {"at_most": 75}},
         {"birth_date": "1950-11-20"}, NOT_MET),
    case("more_than_is_strict", {"age": {"more_than": 18}}, {"birth_date": "2008-11-21"},
         NOT_MET),
])
def test_age(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


def test_age_observed_and_threshold_on_the_birthday() -> None:
    ev = check(ADULT, {"birth_date": "2008-11-21"}, MET)
    assert ev.observed == "18 years"
    assert ev.threshold == "≥ 18 years"
    assert ev.changes_on is None  # an adult stays an adult


def test_age_changes_on_is_the_birthday_that_flips_it() -> None:
    ev = check(ADULT, {"birth_date": "2008-11-22"}, NOT_MET)
    assert ev.observed == "17 years"
    assert ev.changes_on == date(2026, 11, 22)


def test_age_upper_bound_changes_on_the_birthday_that_exceeds_it() -> None:
    ev = check({"age": {"at_most": 75}}, {"birth_date": "1951-11-22"}, MET)
    assert ev.observed == "74 years"
    assert ev.changes_on == date(2027, 11, 22)  # the 76th birthday


@pytest.mark.parametrize(("as_of", "age", "expected"), [
    pytest.param(date(2026, 2, 28), 17, NOT_MET, id="28_feb_non_leap_year_still_17"),
    pytest.param(date(2026, 3, 1), 18, MET, id="1_march_non_leap_year_turns_18"),
    pytest.param(date(2028, 2, 28), 19, MET, id="28_feb_leap_year_still_19"),
    pytest.param(date(2028, 2, 29), 20, MET, id="29_feb_leap_year_turns_20"),
])
def test_age_leap_day_birthday(as_of: date, age: int, expected: Verdict) -> None:
    ev = check(ADULT, {"birth_date": "2008-02-29"}, expected, as_of=as_of)
    assert ev.observed == f"{age} years"


def test_age_leap_day_birthday_changes_on_1_march() -> None:
    ev = check(ADULT, {"birth_date": "2008-02-29"}, NOT_MET, as_of=date(2026, 2, 28))
    assert ev.changes_on == date(2026, 3, 1)


def test_age_recorded_age_says_so_and_has_no_changes_on() -> None:
    ev = check(ADULT, {"age": 17}, NOT_MET)
    assert "recorded" in (ev.observed or "")
    assert ev.changes_on is None  # without a birth date the birthday is unknown


def test_age_unknown_names_the_missing_item() -> None:
    ev = check(ADULT, {}, UNKNOWN)
    assert ev.missing == ("birth date or age",)


# ----------------------------------------------------------------------------------------------
# sex, pregnancy, childbearing potential

FEMALE = {"sex": {"one_of": ["female"]}}
PREGNANT = {"pregnancy": {"states": ["pregnant"]}}
PREGNANT_OR_BF = {"pregnancy": {"states": ["pregnant", "breastfeeding"]}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("sex_female_is_female", FEMALE, {"sex": "female"}, MET),
    case("sex_male_is_not_female", FEMALE, {"sex": "male"}, NOT_MET),
    case("sex_other_is_not_female", FEMALE, {"sex": "other"}, NOT_MET),
    case("sex_one_of_two", {"sex": {"one_of": ["female", "male"]}}, {"sex": "male"}, MET),
    case("sex_not_recorded", FEMALE, {}, UNKNOWN),
    case("pregnancy_male_is_never_pregnant", PREGNANT, {"sex": "male"}, NOT_MET),
    case("pregnancy_male_ignores_unrecorded_state", PREGNANT_OR_BF, {"sex": "male"}, NOT_MET),
    case("pregnancy_pregnant_true", PREGNANT, {"sex": "female", "pregnant": True}, MET),
    case("pregnancy_pregnant_false", PREGNANT, {"sex": "female", "pregnant": False}, NOT_MET),
    case("pregnancy_not_recorded", PREGNANT, {"sex": "female"}, UNKNOWN),
    case("pregnancy_sex_unknown_not_recorded", PREGNANT, {}, UNKNOWN),
    case("pregnancy_breastfeeding_true", PREGNANT_OR_BF,
         {"sex": "female", "pregnant": False, "breastfeeding": True}, MET),
    case("pregnancy_breastfeeding_unrecorded", PREGNANT_OR_BF,
         {"sex": "female", "pregnant": False}, UNKNOWN),
    case("pregnancy_neither", PREGNANT_OR_BF,
         {"sex": "female", "pregnant": False, "breastfeeding": False}, NOT_MET),
    case("childbearing_is_true_recorded_true", {"childbearing_potential": {"is": True}},
         {"childbearing_potential": True}, MET),
    case("childbearing_is_true_recorded_false", {"childbearing_potential": {"is": True}},
         {"childbearing_potential": False}, NOT_MET),
    case("childbearing_is_false_recorded_false", {"childbearing_potential": {"is": False}},
         {"childbearing_potential": False}, MET),
    case("childbearing_not_recorded", {"childbearing_potential": {"is": True}}, {}, UNKNOWN),
])
def test_sex_pregnancy_childbearing(spec: dict[str, Any], patient: dict[str, Any],
                                    expected: Verdict) -> None:
    check(spec, patient, expected)


def test_pregnancy_unknown_names_the_unrecorded_state() -> None:
    ev = check(PREGNANT_OR_BF, {"sex": "female", "pregnant": False}, UNKNOWN)
    assert ev.missing == ("breastfeeding status",)


# ----------------------------------------------------------------------------------------------
# diagnosis, finding, risk score

def dx(**kw: Any) -> dict[str, Any]:
    return {"diagnoses": [kw]}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("ptcl_is_a_lymphoma", {"diagnosis": {"condition": "lymphoma"}}, dx(condition="PTCL"),
         MET),
    case("ptcl_is_a_t_cell_lymphoma", {"diagnosis": {"condition": "T-cell lymphoma"}},
         dx(condition="PTCL"), MET),
    case("ptcl_by_icd10_code_is_a_lymphoma", {"diagnosis": {"condition": "lymphoma"}},
         dx(code="C84.40"), MET),
    # A broader diagnosis may still be the subtype: unknown until the subtype is recorded.
    case("lymphoma_may_be_ptcl_subtype_unknown", {"diagnosis": {"condition": "PTCL"}},
         dx(condition="lymphoma"), UNKNOWN),
    case("t_cell_lymphoma_is_not_b_cell", {"diagnosis": {"condition": "PTCL"}},
         dx(condition="diffuse large B-cell lymphoma"), NOT_MET),
    case("plasma_cell_leukaemia_is_not_myeloma", {"diagnosis": {"condition": "multiple myeloma"}},
         dx(condition="plasma cell leukemia"), NOT_MET),
    case("myeloma_synonym", {"diagnosis": {"condition": "multiple myeloma"}},
         dx(condition="myeloma"), MET),
    case("subtype_is_more_specific", {"diagnosis": {"condition": "MDS with isolated del(5q)"}},
         dx(condition="MDS", subtype="del(5q) MDS"), MET),
    case("unknown_term_is_unknown_not_not_met", {"diagnosis": {"condition": "multiple myeloma"}},
         dx(condition="smouldering something"), UNKNOWN),
    case("unknown_term_beside_a_match_is_met", {"diagnosis": {"condition": "MDS"}},
         {"diagnoses": [{"condition": "smouldering something"}, {"condition": "MDS"}]}, MET),
    case("no_diagnoses_field", {"diagnosis": {"condition": "MDS"}}, {}, UNKNOWN),
    case("empty_diagnoses_list", {"diagnosis": {"condition": "MDS"}}, {"diagnoses": []}, NOT_MET),
    case("classification_missing", {"diagnosis": {"condition": "MDS",
                                                  "classification_in": ["WHO 2016"]}},
         dx(condition="MDS"), UNKNOWN),
    case("classification_matches_by_prefix", {"diagnosis": {"condition": "MDS",
                                                            "classification_in": ["WHO 2016"]}},
         dx(condition="MDS", classification="WHO 2016 (revised 4th edition)"), MET),
    case("classification_other_system", {"diagnosis": {"condition": "MDS",
                                                       "classification_in": ["WHO 2016"]}},
         dx(condition="MDS", classification="ICC 2022"), NOT_MET),
])
def test_diagnosis(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


def test_diagnosis_unknown_term_names_the_term() -> None:
    ev = check({"diagnosis": {"condition": "multiple myeloma"}},
               dx(condition="smouldering something"), UNKNOWN)
    assert "smouldering something" in missing_text(ev)


def test_diagnosis_missing_classification_is_named() -> None:
    ev = check({"diagnosis": {"condition": "MDS", "classification_in": ["WHO 2016"]}},
               dx(condition="MDS"), UNKNOWN)
    assert ev.missing == ("diagnosis classification",)


DEL5Q = {"finding": {"name": "del(5q)", "aliases": ["5q-"]}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("finding_listed_as_text", DEL5Q, dx(condition="MDS", findings=["del(5q)"]), MET),
    case("finding_listed_present", DEL5Q,
         dx(condition="MDS", findings=[{"name": "del(5q)", "present": True}]), MET),
    case("finding_alias_and_spelling", DEL5Q, dx(condition="MDS", findings=["5Q-"]), MET),
    case("finding_recorded_absent", DEL5Q,
         dx(condition="MDS", findings=[{"name": "del(5q)", "present": False}]), NOT_MET),
    case("finding_unlisted_is_unknown", DEL5Q, dx(condition="MDS", findings=["TP53"]), UNKNOWN),
    case("finding_no_findings_recorded", DEL5Q, dx(condition="MDS"), UNKNOWN),
    case("finding_no_diagnoses", DEL5Q, {}, UNKNOWN),
    case("finding_dated_after_screening_is_ignored", DEL5Q,
         dx(condition="MDS", findings=[{"name": "del(5q)", "date": "2027-01-15"}]), UNKNOWN),
])
def test_finding(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


IPSS_LOW = {"risk_score": {"system": "IPSS-R", "category_in": ["very low", "low"]}}


def scores(*items: tuple[str, str | None]) -> dict[str, Any]:
    return dx(condition="MDS", risk_scores=[{"system": "IPSS-R", "category": c, "date": d}
                                            for c, d in items])


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("risk_category_in_list_case_folded", IPSS_LOW, scores(("Low", None)), MET),
    case("risk_category_not_in_list", IPSS_LOW, scores(("high", None)), NOT_MET),
    case("risk_score_not_recorded", IPSS_LOW, dx(condition="MDS"), UNKNOWN),
    case("risk_score_no_diagnoses", IPSS_LOW, {}, UNKNOWN),
    case("risk_score_latest_is_used", IPSS_LOW,
         scores(("low", "2025-01-01"), ("high", "2026-10-01")), NOT_MET),
    case("risk_score_after_screening_ignored_beside_older", IPSS_LOW,
         scores(("low", "2026-10-01"), ("high", "2027-01-15")), MET),
    case("risk_score_only_after_screening_is_unknown", IPSS_LOW, scores(("low", "2027-01-15")),
         UNKNOWN),
])
def test_risk_score(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


# ----------------------------------------------------------------------------------------------
# ECOG

ECOG_2 = {"ecog": {"at_most": 2}}
ECOG_2_RECENT = {"ecog": {"at_most": 2, "max_age_days": 28}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("ecog_2_at_most_2", ECOG_2, {"ecog": 2}, MET),
    case("ecog_3_at_most_2", ECOG_2, {"ecog": 3}, NOT_MET),
    case("ecog_0_at_most_2", ECOG_2, {"ecog": {"value": 0, "date": "2026-11-01"}}, MET),
    case("ecog_missing", ECOG_2, {}, UNKNOWN),
    case("ecog_exactly_max_age_days_old", ECOG_2_RECENT,
         {"ecog": {"value": 1, "date": "2026-10-24"}}, MET),
    case("ecog_one_day_too_old", ECOG_2_RECENT, {"ecog": {"value": 1, "date": "2026-10-23"}},
         UNKNOWN),
    case("ecog_stale_even_if_it_would_fail", ECOG_2_RECENT,
         {"ecog": {"value": 4, "date": "2026-01-01"}}, UNKNOWN),
    case("ecog_undated_with_max_age", ECOG_2_RECENT, {"ecog": 1}, UNKNOWN),
    case("ecog_dated_after_screening", ECOG_2, {"ecog": {"value": 1, "date": "2026-11-22"}},
         UNKNOWN),
    case("ecog_on_screening_day", ECOG_2_RECENT, {"ecog": {"value": 2, "date": "2026-11-21"}},
         MET),
])
def test_ecog(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


def test_ecog_stale_evidence_keeps_the_observation_and_asks_for_a_recent_one() -> None:
    ev = check(ECOG_2_RECENT, {"ecog": {"value": 1, "date": "2026-10-01"}}, UNKNOWN)
    assert ev.observed == "ECOG 1"
    assert ev.observed_date == date(2026, 10, 1)
    assert "recent" in missing_text(ev)


# ----------------------------------------------------------------------------------------------
# lab: absolute limits, unit conversion, ULN, dates

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


# ----------------------------------------------------------------------------------------------
# lab: creatinine clearance (measured or derived by Cockcroft-Gault)

def crcl(bound: str, value: float, unit: str = "mL/min", **kw: Any) -> dict[str, Any]:
    return {"lab": {"analyte": "creatinine_clearance", bound: value, "unit": unit, **kw}}


CG_INPUTS = [crea(1.0), lab("weight", 60, "kg", "2026-11-10")]
CG_FEMALE = {"sex": "female", "age": 70, "labs": CG_INPUTS}
CG_MALE = {"sex": "male", "age": 70, "labs": CG_INPUTS}
# (140 - 70) * 60 / (72 * 1.0) = 58.333 mL/min for a man, x 0.85 = 49.583 mL/min for a woman.


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


# ----------------------------------------------------------------------------------------------
# prior_therapy

HMA = {"prior_therapy": {"classes": ["HMA"]}}
HMA_FAILED = {"prior_therapy": {"classes": ["hypomethylating agents"],
                                "outcome_in": ["progression", "refractory"]}}
LENALIDOMIDE = {"prior_therapy": {"drugs": ["lenalidomide"]}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("by_drug", {"prior_therapy": {"drugs": ["azacitidine"]}},
         {"therapies": [course("azacitidine", start="2025-01-01")]}, MET),
    case("by_brand_name", {"prior_therapy": {"drugs": ["azacitidine"]}},
         {"therapies": [course("Vidaza")]}, MET),
    case("by_class_azacitidine_is_hma", HMA, {"therapies": [course("azacitidine")]}, MET),
    case("by_class_decitabine_is_hma", HMA, {"therapies": [course("Dacogen")]}, MET),
    case("other_class_does_not_count", HMA, {"therapies": [course("lenalidomide")]}, NOT_MET),
    case("outcome_matches", HMA_FAILED,
         {"therapies": [course("azacitidine", outcome="progression")]}, MET),
    case("outcome_does_not_match", HMA_FAILED,
         {"therapies": [course("azacitidine", outcome="intolerance")]}, NOT_MET),
    case("outcome_missing", HMA_FAILED, {"therapies": [course("azacitidine")]}, UNKNOWN),
    case("outcome_missing_but_another_course_matches", HMA_FAILED,
         {"therapies": [course("azacitidine"), course("decitabine", outcome="refractory")]}, MET),
    case("setting_matches", {"prior_therapy": {"drugs": ["lenalidomide"],
                                               "setting_in": ["maintenance"]}},
         {"therapies": [course("lenalidomide", setting="maintenance")]}, MET),
    case("setting_missing", {"prior_therapy": {"drugs": ["lenalidomide"],
                                               "setting_in": ["maintenance"]}},
         {"therapies": [course("lenalidomide")]}, UNKNOWN),
    case("therapies_absent", HMA, {}, UNKNOWN),
    case("therapies_empty_list", HMA, {"therapies": []}, NOT_MET),
    case("unknown_drug_name", HMA, {"therapies": [course("mysterymab-xyz")]}, UNKNOWN),
    case("unknown_drug_beside_a_match", HMA,
         {"therapies": [course("mysterymab-xyz"), course("azacitidine")]}, MET),
    case("regimen_vrd_contains_lenalidomide", LENALIDOMIDE, {"therapies": [{"regimen": "VRd"}]},
         MET),
    case("regimen_synonym_rvd", LENALIDOMIDE, {"therapies": [{"regimen": "RVD"}]}, MET),
    case("regimen_in_drugs_list", LENALIDOMIDE, {"therapies": [course("VRd")]}, MET),
    case("course_starting_after_screening_ignored", LENALIDOMIDE,
         {"therapies": [course("lenalidomide", start="2027-01-01")]}, NOT_MET),
    case("indication_for_another_condition_ignored",
         {"prior_therapy": {"drugs": ["lenalidomide"], "for_condition": "myeloma"}},
         {"therapies": [course("lenalidomide", indication="MDS")]}, NOT_MET),
    # Issue 9 point 2: a therapy without an indication treats the patient's only diagnosis,
    # never the trial's disease by default.
    case("no_indication_and_no_diagnoses_is_unknown",
         {"prior_therapy": {"drugs": ["lenalidomide"], "for_condition": "myeloma"}},
         {"therapies": [course("lenalidomide")]}, UNKNOWN),
    case("no_indication_takes_the_only_diagnosis",
         {"prior_therapy": {"drugs": ["lenalidomide"], "for_condition": "myeloma"}},
         {"diagnoses": [{"condition": "multiple myeloma"}], "therapies": [course("lenalidomide")]},
         MET),
    case("no_indication_only_diagnosis_is_another_disease",
         {"prior_therapy": {"drugs": ["lenalidomide"], "for_condition": "myeloma"}},
         {"diagnoses": [{"condition": "MDS"}], "therapies": [course("lenalidomide")]}, NOT_MET),
    case("no_indication_one_lineage_counts_as_one_diagnosis",
         {"prior_therapy": {"drugs": ["lenalidomide"], "for_condition": "MDS"}},
         {"diagnoses": [{"condition": "MDS"}, {"condition": "MDS with isolated del(5q)"}],
          "therapies": [course("lenalidomide")]}, MET),
    case("no_indication_several_diagnoses_is_unknown",
         {"prior_therapy": {"drugs": ["lenalidomide"], "for_condition": "myeloma"}},
         {"diagnoses": [{"condition": "multiple myeloma"}, {"condition": "MDS"}],
          "therapies": [course("lenalidomide")]}, UNKNOWN),
    case("indication_given_with_several_diagnoses",
         {"prior_therapy": {"drugs": ["lenalidomide"], "for_condition": "myeloma"}},
         {"diagnoses": [{"condition": "multiple myeloma"}, {"condition": "MDS"}],
          "therapies": [course("lenalidomide", indication="multiple myeloma")]}, MET),
    case("no_indication_diagnosis_after_screening_not_counted",
         {"prior_therapy": {"drugs": ["lenalidomide"], "for_condition": "myeloma"}},
         {"diagnoses": [{"condition": "multiple myeloma"},
                        {"condition": "MDS", "date": "2027-01-05"}],
          "therapies": [course("lenalidomide")]}, MET),
    case("any_therapy_filter", {"prior_therapy": {}}, {"therapies": [course("cytarabine")]}, MET),
    case("known_regimen_with_an_unknown_extra_drug", LENALIDOMIDE,
         {"therapies": [{"regimen": "VRd", "drugs": ["mysterymab-xyz"]}]}, MET),
])
def test_prior_therapy(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


def test_prior_therapy_unknown_drug_is_named() -> None:
    ev = check(HMA, {"therapies": [course("mysterymab-xyz")]}, UNKNOWN)
    assert "mysterymab-xyz" in missing_text(ev)


def test_prior_therapy_missing_outcome_is_named() -> None:
    ev = check(HMA_FAILED, {"therapies": [course("azacitidine")]}, UNKNOWN)
    assert "outcome" in missing_text(ev)


# ----------------------------------------------------------------------------------------------
# cumulative_exposure

LEN_9_MONTHS = {"cumulative_exposure": {"drug": "lenalidomide", "at_most": 9}}
LEN_6_MONTHS_MIN = {"cumulative_exposure": {"drug": "lenalidomide", "at_least": 6}}
START = date(2025, 1, 1)


@pytest.mark.parametrize(("first", "last", "months"), [
    (date(2025, 1, 1), date(2025, 9, 30), 9.0),    # 273 days, nine calendar months
    (date(2024, 1, 1), date(2024, 9, 30), 9.0),    # 274 days in a leap year: still nine
    (date(2025, 1, 1), date(2025, 10, 1), 9 + 1 / 31),
    (date(2025, 1, 31), date(2025, 2, 27), 1.0),   # 31 Jan + 1 month = 28 Feb (clamped)
    (date(2025, 1, 15), date(2025, 1, 15), 1 / 31),
], ids=["jan_to_sep", "leap_year_jan_to_sep", "one_day_over", "end_of_month_start", "one_day"])
def test_calendar_months(first: date, last: date, months: float) -> None:
    assert calendar_months(first, last) == pytest.approx(months)


def span(days: int, drug: str = "lenalidomide", start: date = START) -> dict[str, Any]:
    return course(drug, start=str(start), end=str(inclusive_end(start, days)))


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("273_days_jan_to_sep_is_9_months", LEN_9_MONTHS, {"therapies": [span(273)]}, MET),
    case("275_days_is_over_9_calendar_months", LEN_9_MONTHS, {"therapies": [span(275)]}, NOT_MET),
    case("overlapping_courses_counted_once", LEN_9_MONTHS,
         {"therapies": [course("lenalidomide", start="2025-01-01", end="2025-06-30"),
                        {"regimen": "VRd", "start": "2025-03-01", "end": "2025-08-31"}]}, MET),
    case("separate_courses_add_up", LEN_9_MONTHS,
         {"therapies": [span(150), span(150, start=date(2026, 1, 1))]}, NOT_MET),
    case("other_drugs_do_not_count", LEN_9_MONTHS,
         {"therapies": [span(400, drug="azacitidine"), span(100)]}, MET),
    case("ongoing_course_counts_to_screening_date", LEN_9_MONTHS,
         {"therapies": [course("lenalidomide", start="2026-01-01", ongoing=True)]}, NOT_MET),
    case("ongoing_outcome_counts_to_screening_date", LEN_9_MONTHS,
         {"therapies": [course("lenalidomide", start="2026-05-01", outcome="ongoing")]}, MET),
    case("missing_end_date", LEN_9_MONTHS,
         {"therapies": [course("lenalidomide", start="2026-05-01")]}, UNKNOWN),
    case("missing_start_date", LEN_9_MONTHS,
         {"therapies": [course("lenalidomide", end="2026-05-01")]}, UNKNOWN),
    case("known_part_already_exceeds_upper_bound", LEN_9_MONTHS,
         {"therapies": [span(366), course("lenalidomide", start="2026-05-01")]}, NOT_MET),
    case("known_part_below_upper_bound_stays_unknown", LEN_9_MONTHS,
         {"therapies": [span(100), course("lenalidomide", start="2026-05-01")]}, UNKNOWN),
    case("therapies_absent", LEN_9_MONTHS, {}, UNKNOWN),
    case("no_exposure_meets_upper_bound", LEN_9_MONTHS, {"therapies": []}, MET),
    case("no_exposure_misses_lower_bound", LEN_6_MONTHS_MIN, {"therapies": []}, NOT_MET),
    case("days_unit_clips_course_at_screening_date",
         {"cumulative_exposure": {"drug": "lenalidomide", "at_most": 12, "unit": "days"}},
         {"therapies": [course("lenalidomide", start="2026-11-10", end="2026-12-31")]}, MET),
    case("days_unit_clip_boundary",
         {"cumulative_exposure": {"drug": "lenalidomide", "at_most": 11, "unit": "days"}},
         {"therapies": [course("lenalidomide", start="2026-11-10", end="2026-12-31")]}, NOT_MET),
    case("cycles_add_up",
         {"cumulative_exposure": {"drug": "lenalidomide", "at_most": 6, "unit": "cycles"}},
         {"therapies": [course("lenalidomide", cycles=4), course("lenalidomide", cycles=3)]},
         NOT_MET),
    case("cycles_missing",
         {"cumulative_exposure": {"drug": "lenalidomide", "at_most": 6, "unit": "cycles"}},
         {"therapies": [course("lenalidomide", cycles=4), course("lenalidomide")]}, UNKNOWN),
    case("known_part_already_meets_lower_bound", LEN_6_MONTHS_MIN,
         {"therapies": [span(366), course("lenalidomide", start="2026-05-01")]}, MET),
])
def test_cumulative_exposure(spec: dict[str, Any], patient: dict[str, Any],
                             expected: Verdict) -> None:
    check(spec, patient, expected)


def test_exposure_evidence_counts_days_inclusively() -> None:
    ev = check(LEN_9_MONTHS, {"therapies": [span(273)]}, MET)
    assert ev.converted == "273 days = 9.00 calendar months"


def test_exposure_overlap_is_the_union_of_dates() -> None:
    ev = check(LEN_9_MONTHS, {"therapies": [
        course("lenalidomide", start="2025-01-01", end="2025-06-30"),
        {"regimen": "VRd", "start": "2025-03-01", "end": "2025-08-31"}]}, MET)
    assert ev.converted is not None and ev.converted.startswith("243 days")  # not 181 + 184


def test_exposure_ongoing_course_ends_on_the_screening_date() -> None:
    ev = check(LEN_9_MONTHS, {"therapies": [course("lenalidomide", start="2026-05-01",
                                                   ongoing=True)]}, MET)
    assert ev.converted is not None and ev.converted.startswith("205 days")


def test_exposure_missing_date_is_named() -> None:
    ev = check(LEN_9_MONTHS, {"therapies": [course("lenalidomide", start="2026-05-01")]},
               UNKNOWN)
    assert "end date" in missing_text(ev)


# ----------------------------------------------------------------------------------------------
# prior_therapy_except

NON_HMA = {"prior_therapy_except": {"for_condition": "MDS",
                                    "except_classes": ["HMA", "cytokines"],
                                    "except_settings": ["supportive"]}}
MDS_DX = [{"condition": "MDS"}]


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("only_hma_and_cytokines", NON_HMA,
         {"therapies": [course("azacitidine"), course("filgrastim"), course("epoetin alfa")]},
         NOT_MET),
    case("a_cytarabine_course", NON_HMA,
         {"diagnoses": MDS_DX, "therapies": [course("azacitidine"), course("cytarabine")]}, MET),
    case("combination_with_a_non_excepted_drug", NON_HMA,
         {"diagnoses": MDS_DX, "therapies": [course("azacitidine", "lenalidomide")]}, MET),
    case("a_cytarabine_course_without_indication_or_diagnosis", NON_HMA,
         {"therapies": [course("cytarabine")]}, UNKNOWN),
    case("a_myeloma_patients_vrd_is_not_mds_therapy", NON_HMA,
         {"diagnoses": [{"condition": "multiple myeloma"}], "therapies": [{"regimen": "VRd"}]},
         NOT_MET),
    case("supportive_setting_is_excepted", NON_HMA,
         {"therapies": [course("dexamethasone", setting="supportive")]}, NOT_MET),
    case("indication_for_another_condition_ignored", NON_HMA,
         {"therapies": [course("cytarabine", indication="breast cancer")]}, NOT_MET),
    case("indication_for_a_subtype_counts", NON_HMA,
         {"therapies": [course("cytarabine", indication="MDS with isolated del(5q)")]}, MET),
    case("unknown_indication", NON_HMA,
         {"therapies": [course("cytarabine", indication="mystery disease xyz")]}, UNKNOWN),
    case("unknown_drug", NON_HMA, {"therapies": [course("mysterymab-xyz")]}, UNKNOWN),
    case("course_after_screening_ignored", NON_HMA,
         {"therapies": [course("cytarabine", start="2027-01-01")]}, NOT_MET),
    case("no_prior_therapy", NON_HMA, {"therapies": []}, NOT_MET),
    case("therapies_absent", NON_HMA, {}, UNKNOWN),
    case("except_drugs_by_name",
         {"prior_therapy_except": {"for_condition": "MDS", "except_drugs": ["lenalidomide"]}},
         {"therapies": [course("Revlimid")]}, NOT_MET),
])
def test_prior_therapy_except(spec: dict[str, Any], patient: dict[str, Any],
                              expected: Verdict) -> None:
    check(spec, patient, expected)


# ----------------------------------------------------------------------------------------------
# response

PR_OR_BETTER = {"response": {"at_least": "PR"}}
PR_AFTER_2_OR_3 = {"response": {"at_least": "PR", "after_line_in": [2, 3]}}
PR_BY_CT = {"response": {"at_least": "PR", "assessed_by_in": ["CT"]}}


def status(response: str, **kw: Any) -> dict[str, Any]:
    return {"disease_status": {"response": response, **kw}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("cr_is_at_least_pr", PR_OR_BETTER, status("CR"), MET),
    case("pr_is_at_least_pr", PR_OR_BETTER, status("PR"), MET),
    case("sd_is_not_at_least_pr", PR_OR_BETTER, status("SD"), NOT_MET),
    case("spelled_out_category", PR_OR_BETTER, status("complete remission"), MET),
    case("unknown_category", PR_OR_BETTER, status("good"), UNKNOWN),
    case("no_disease_status", PR_OR_BETTER, {}, UNKNOWN),
    case("at_most_sd_with_pd", {"response": {"at_most": "SD"}}, status("PD"), MET),
    case("at_most_sd_with_vgpr", {"response": {"at_most": "SD"}}, status("VGPR"), NOT_MET),
    case("after_line_1_not_in_2_or_3", PR_AFTER_2_OR_3, status("CR", after_line=1), NOT_MET),
    case("after_line_2_in_2_or_3", PR_AFTER_2_OR_3, status("CR", after_line=2), MET),
    case("line_derived_from_therapies", PR_AFTER_2_OR_3,
         {**status("CR", date="2026-10-01"),
          "therapies": [course("lenalidomide", line=1, start="2025-01-01"),
                        {"regimen": "VRd", "line": 2, "start": "2026-01-01"}]}, MET),
    # A course started after the dated status supersedes it: the status is no longer the
    # current response (this was NOT_MET, from line 1 only, before issue 9's review).
    case("later_course_supersedes_the_status", PR_AFTER_2_OR_3,
         {**status("CR", date="2026-10-01"),
          "therapies": [course("lenalidomide", line=1, start="2025-01-01"),
                        {"regimen": "VRd", "line": 2, "start": "2026-10-15"}]}, UNKNOWN),
    case("later_course_that_progressed_settles_it", PR_AFTER_2_OR_3,
         {**status("CR", date="2026-10-01"),
          "therapies": [course("lenalidomide", line=1, start="2025-01-01"),
                        {"regimen": "VRd", "line": 2, "start": "2026-10-15",
                         "end": "2026-11-10", "outcome": "progression"}]}, NOT_MET),
    case("later_course_for_another_disease_does_not_supersede",
         {"response": {"at_least": "PR", "after_line_in": [1], "for_condition": "myeloma"}},
         {**status("CR", date="2026-10-01"),
          "diagnoses": [{"condition": "multiple myeloma", "date": "2024-01-01"}],
          "therapies": [course("lenalidomide", line=1, start="2025-01-01"),
                        course("letrozole", indication="breast cancer", start="2026-10-15",
                               outcome="progression")]}, MET),
    case("line_not_derivable", PR_AFTER_2_OR_3,
         {**status("CR"), "therapies": [course("lenalidomide", start="2025-01-01")]}, UNKNOWN),
    case("bad_response_decides_before_missing_line", PR_AFTER_2_OR_3, status("SD"), NOT_MET),
    case("assessed_by_pet_ct_counts_as_ct", PR_BY_CT, status("CR", assessed_by="PET-CT"), MET),
    case("assessed_by_other_method", PR_BY_CT, status("CR", assessed_by="PET"), NOT_MET),
    case("assessed_by_not_recorded", PR_BY_CT, status("CR"), UNKNOWN),
    case("stale_assessment", {"response": {"at_least": "PR", "max_age_days": 30}},
         status("CR", date="2026-01-01"), UNKNOWN),
    case("assessment_dated_after_screening", PR_OR_BETTER, status("CR", date="2027-01-15"),
         UNKNOWN),
])
def test_response(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


def test_response_line_evidence_names_the_line() -> None:
    ev = check(PR_AFTER_2_OR_3, status("CR", after_line=1), NOT_MET)
    assert ev.observed == "CR after line 1"


# ----------------------------------------------------------------------------------------------
# prior_malignancy

FREE_5Y = {"prior_malignancy": {"years": 5, "measure": "disease_free"}}
FREE_MORE_THAN_5Y = {"prior_malignancy": {"years": 5, "measure": "disease_free",
                                          "elapsed": "more_than"}}
FREE_5Y_EXCEPT = {"prior_malignancy": {
    "years": 5, "measure": "disease_free",
    "except_conditions": ["non-melanoma skin cancer", "carcinoma in situ", "CIN"],
    "exception_requires_curative_treatment": True}}
WITHIN_3Y = {"prior_malignancy": {"years": 3, "measure": "diagnosis_or_treatment"}}


def malignancy(condition: str = "breast cancer", **kw: Any) -> dict[str, Any]:
    return {"prior_malignancies": [{"condition": condition, **kw}]}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("disease_free_exactly_5_years", FREE_5Y, malignancy(disease_free_since="2021-11-21"),
         NOT_MET),
    case("disease_free_a_day_short_of_5_years", FREE_5Y,
         malignancy(disease_free_since="2021-11-22"), MET),
    case("more_than_5_years_needs_one_more_day", FREE_MORE_THAN_5Y,
         malignancy(disease_free_since="2021-11-21"), MET),
    case("more_than_5_years_passed", FREE_MORE_THAN_5Y,
         malignancy(disease_free_since="2021-11-20"), NOT_MET),
    case("not_in_remission", FREE_5Y, malignancy(in_remission=False), MET),
    case("disease_free_date_missing", FREE_5Y, malignancy(), UNKNOWN),
    case("empty_list", FREE_5Y, {"prior_malignancies": []}, NOT_MET),
    case("absent", FREE_5Y, {}, UNKNOWN),
    case("excepted_bcc_curatively_treated", FREE_5Y_EXCEPT,
         malignancy("basal cell carcinoma", curative_intent=True, disease_free_since="2026-01-01"),
         NOT_MET),
    case("excepted_bcc_curative_intent_missing", FREE_5Y_EXCEPT,
         malignancy("basal cell carcinoma", disease_free_since="2026-01-01"), UNKNOWN),
    case("excepted_bcc_not_curative_counts", FREE_5Y_EXCEPT,
         malignancy("basal cell carcinoma", curative_intent=False,
                    disease_free_since="2026-01-01"), MET),
    case("excepted_cin_curatively_treated", FREE_5Y_EXCEPT,
         malignancy("CIN", curative_intent=True), NOT_MET),
    case("exception_list_with_unknown_term", FREE_5Y_EXCEPT,
         malignancy("odd tumour xyz", disease_free_since="2001-01-01"), UNKNOWN),
    case("exception_beside_an_old_cancer", FREE_5Y_EXCEPT,
         {"prior_malignancies": [
             {"condition": "basal cell carcinoma", "curative_intent": True},
             {"condition": "breast cancer", "disease_free_since": "2015-01-01"}]}, NOT_MET),
    case("require_curative_intent_missing",
         {"prior_malignancy": {"years": 5, "measure": "disease_free",
                               "require_curative_intent": True}},
         malignancy(disease_free_since="2010-01-01"), UNKNOWN),
    case("require_curative_intent_false",
         {"prior_malignancy": {"years": 5, "measure": "disease_free",
                               "require_curative_intent": True}},
         malignancy(disease_free_since="2010-01-01", curative_intent=False), MET),
    case("treated_within_3_years", WITHIN_3Y,
         malignancy(diagnosed="2020-01-01", last_treatment="2024-01-01"), MET),
    case("treated_exactly_3_years_ago", WITHIN_3Y,
         malignancy(diagnosed="2020-01-01", last_treatment="2023-11-21"), NOT_MET),
    case("treated_more_than_3_years_ago", WITHIN_3Y,
         malignancy(diagnosed="2020-01-01", last_treatment="2023-11-20"), NOT_MET),
    case("diagnosed_recently_treatment_unknown", WITHIN_3Y, malignancy(diagnosed="2025-01-01"),
         MET),
    case("diagnosed_long_ago_treatment_unknown", WITHIN_3Y, malignancy(diagnosed="2015-01-01"),
         UNKNOWN),
    case("no_dates", WITHIN_3Y, malignancy(), UNKNOWN),
])
def test_prior_malignancy(spec: dict[str, Any], patient: dict[str, Any],
                          expected: Verdict) -> None:
    check(spec, patient, expected)


def test_prior_malignancy_changes_on_the_day_it_clears() -> None:
    ev = check(FREE_5Y, malignancy(disease_free_since="2021-11-22"), MET)
    assert ev.changes_on == date(2026, 11, 22)


def test_prior_malignancy_more_than_clears_a_day_later() -> None:
    ev = check(FREE_MORE_THAN_5Y, malignancy(disease_free_since="2021-11-21"), MET)
    assert ev.changes_on == date(2026, 11, 22)


def test_prior_malignancy_within_3_years_changes_on() -> None:
    ev = check(WITHIN_3Y, malignancy(diagnosed="2020-01-01", last_treatment="2024-01-01"), MET)
    assert ev.changes_on == date(2027, 1, 1)


def test_prior_malignancy_exception_needing_curative_intent_names_it() -> None:
    ev = check(FREE_5Y_EXCEPT, malignancy("basal cell carcinoma"), UNKNOWN)
    assert "curative" in missing_text(ev)


# ----------------------------------------------------------------------------------------------
# condition

UNCONTROLLED_HTN = {"condition": {"any_of": ["hypertension"], "status_in": ["uncontrolled"]}}
HIV_OR_HBV = {"condition": {"any_of": ["HIV", "hepatitis B"], "status_in": ["active"]}}


def conditions(*items: tuple[str, str]) -> dict[str, Any]:
    return {"conditions": [{"condition": c, "status": s} for c, s in items]}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("uncontrolled_hypertension", UNCONTROLLED_HTN,
         conditions(("hypertension", "uncontrolled")), MET),
    case("controlled_hypertension", UNCONTROLLED_HTN,
         conditions(("essential hypertension", "controlled")), NOT_MET),
    case("status_unknown", UNCONTROLLED_HTN, conditions(("hypertension", "unknown")), UNKNOWN),
    case("absent_list", UNCONTROLLED_HTN, {}, UNKNOWN),
    case("empty_list", UNCONTROLLED_HTN, {"conditions": []}, NOT_MET),
    case("unrecognised_term", UNCONTROLLED_HTN, conditions(("wobbly knees xyz", "active")),
         UNKNOWN),
    case("unrecognised_term_beside_a_match", HIV_OR_HBV,
         conditions(("wobbly knees xyz", "active"), ("HIV", "active")), MET),
    case("synonym_and_second_option", HIV_OR_HBV, conditions(("HBV", "active")), MET),
    case("tested_negative", HIV_OR_HBV, conditions(("HIV", "absent"), ("HBV", "absent")),
         NOT_MET),
    case("hierarchy_bcc_is_a_skin_cancer",
         {"condition": {"any_of": ["non-melanoma skin cancer"]}},
         conditions(("basal cell carcinoma", "history")), MET),
    case("hierarchy_does_not_go_upwards", {"condition": {"any_of": ["basal cell carcinoma"]}},
         conditions(("non-melanoma skin cancer", "active")), NOT_MET),
])
def test_condition(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


# ----------------------------------------------------------------------------------------------
# hypersensitivity

def allergies(*agents: str) -> dict[str, Any]:
    return {"hypersensitivities": [{"agent": a} for a in agents]}


TO_LENALIDOMIDE = {"hypersensitivity": {"drugs": ["lenalidomide"]}}
TO_IMIDS = {"hypersensitivity": {"classes": ["immunomodulatory drugs"]}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("to_lenalidomide", TO_LENALIDOMIDE, allergies("lenalidomide"), MET),
    case("to_lenalidomide_by_brand", TO_LENALIDOMIDE, allergies("Revlimid"), MET),
    case("to_thalidomide_when_asked_for_imids", TO_IMIDS, allergies("thalidomide"), MET),
    case("to_the_class_when_asked_for_the_drug", TO_LENALIDOMIDE, allergies("IMiDs"), MET),
    case("to_another_drug", TO_LENALIDOMIDE, allergies("azacitidine"), NOT_MET),
    case("to_another_class", TO_IMIDS, allergies("HMA"), NOT_MET),
    case("unknown_agent", TO_LENALIDOMIDE, allergies("unlisted-allergen-xyz"), UNKNOWN),
    case("unknown_agent_beside_a_match", TO_LENALIDOMIDE,
         allergies("unlisted-allergen-xyz", "lenalidomide"), MET),
    case("none_recorded", TO_LENALIDOMIDE, {"hypersensitivities": []}, NOT_MET),
    case("not_recorded", TO_LENALIDOMIDE, {}, UNKNOWN),
    case("component_of_a_listed_regimen", {"hypersensitivity": {"drugs": ["VRd"]}},
         allergies("Revlimid"), MET),
    case("to_a_regimen_does_not_say_which_drug", TO_LENALIDOMIDE, allergies("VRd"), UNKNOWN),
    case("broader_class_covers_a_subclass", TO_IMIDS, allergies("antineoplastic agents"), MET),
])
def test_hypersensitivity(spec: dict[str, Any], patient: dict[str, Any],
                          expected: Verdict) -> None:
    check(spec, patient, expected)


def test_hypersensitivity_broader_class_covers_the_drug() -> None:
    check(TO_LENALIDOMIDE, allergies("antineoplastic agents"), MET)


# ----------------------------------------------------------------------------------------------
# donor

DONOR = {"donor": {"relation_in": ["related", "unrelated"],
                   "matches": [{"hla": "10/10"},
                               {"hla": "9/10", "mismatched_locus_in": ["HLA-C", "HLA-DQB1"]}]}}


def donor(match: str, *loci: str, relation: str = "unrelated") -> dict[str, Any]:
    return {"donor": {"relation": relation, "hla_match": match, "mismatched_loci": list(loci)}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("10_of_10", DONOR, donor("10/10"), MET),
    case("9_of_10_at_hla_c", DONOR, donor("9/10", "HLA-C"), MET),
    case("9_of_10_at_hla_a", DONOR, donor("9/10", "HLA-A"), NOT_MET),
    case("9_of_10_without_loci", DONOR, donor("9/10"), UNKNOWN),
    case("8_of_10", DONOR, donor("8/10", "HLA-C", "HLA-A"), NOT_MET),
    case("no_donor", DONOR, {}, UNKNOWN),
    case("relation_not_accepted", {"donor": {"relation_in": ["related"],
                                             "matches": [{"hla": "10/10"}]}},
         donor("10/10"), NOT_MET),
    case("locus_written_without_hla_prefix", DONOR, donor("9/10", "C"), MET),
])
def test_donor(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


# ----------------------------------------------------------------------------------------------
# procedure, transfusion, review

AUTO = {"procedure": {"type": "autologous_sct"}}
ALLO_MAC = {"procedure": {"type": "allogeneic_sct", "conditioning_in": ["myeloablative"]}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("asct_abbreviation", AUTO, {"procedures": [{"type": "ASCT", "date": "2025-01-01"}]},
         MET),
    case("allo_is_not_auto", AUTO, {"procedures": [{"type": "allo-HSCT"}]}, NOT_MET),
    case("none_recorded", AUTO, {"procedures": []}, NOT_MET),
    case("not_recorded", AUTO, {}, UNKNOWN),
    case("after_screening_ignored", AUTO,
         {"procedures": [{"type": "autologous stem cell transplant", "date": "2027-01-01"}]},
         NOT_MET),
    case("conditioning_matches", ALLO_MAC,
         {"procedures": [{"type": "allo-HSCT", "conditioning": "Myeloablative"}]}, MET),
    case("conditioning_other", ALLO_MAC,
         {"procedures": [{"type": "allo-HSCT", "conditioning": "reduced intensity"}]}, NOT_MET),
    case("conditioning_missing", ALLO_MAC, {"procedures": [{"type": "allo-HSCT"}]}, UNKNOWN),
    # A type outside the vocabulary may be the one asked for: never "not met".
    case("unknown_type_is_unknown", AUTO, {"procedures": [{"type": "stem cell transplant"}]},
         UNKNOWN),
    case("unknown_type_beside_a_match", AUTO,
         {"procedures": [{"type": "stem cell transplant"}, {"type": "ASCT"}]}, MET),
    case("unknown_type_after_the_screening_date", AUTO,
         {"procedures": [{"type": "stem cell transplant", "date": "2027-01-01"}]}, NOT_MET),
])
def test_procedure(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


def transfusion(status: str, when: str) -> dict[str, Any]:
    return {"transfusion": {"status": status, "drug": "lenalidomide", "when": when}}


LEN_COURSE = [course("lenalidomide", start="2025-03-01", end="2025-12-31")]
TRANSFUSIONS = [{"status": "dependent", "start": "2024-06-01", "end": "2025-04-30"},
                {"status": "independent", "start": "2025-05-01"}]


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("dependent_before_lenalidomide", transfusion("dependent", "before_start"),
         {"therapies": LEN_COURSE, "transfusions": TRANSFUSIONS}, MET),
    case("not_independent_before_lenalidomide", transfusion("independent", "before_start"),
         {"therapies": LEN_COURSE, "transfusions": TRANSFUSIONS}, NOT_MET),
    case("independent_at_end", transfusion("independent", "at_end"),
         {"therapies": LEN_COURSE, "transfusions": TRANSFUSIONS}, MET),
    case("not_dependent_at_end", transfusion("dependent", "at_end"),
         {"therapies": LEN_COURSE, "transfusions": TRANSFUSIONS}, NOT_MET),
    case("transfusions_not_recorded", transfusion("dependent", "before_start"),
         {"therapies": LEN_COURSE}, UNKNOWN),
    case("no_period_covers_the_start", transfusion("dependent", "before_start"),
         {"therapies": LEN_COURSE,
          "transfusions": [{"status": "dependent", "start": "2025-06-01"}]}, UNKNOWN),
    case("no_lenalidomide_course", transfusion("dependent", "before_start"),
         {"therapies": [], "transfusions": TRANSFUSIONS}, NOT_MET),
    case("therapies_not_recorded", transfusion("dependent", "before_start"),
         {"transfusions": TRANSFUSIONS}, UNKNOWN),
    case("course_without_end_date_at_end", transfusion("independent", "at_end"),
         {"therapies": [course("lenalidomide", start="2025-03-01")],
          "transfusions": TRANSFUSIONS}, UNKNOWN),
])
def test_transfusion(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)



def test_transfusion_missing_end_date_names_the_end_date() -> None:
    ev = check(transfusion("independent", "at_end"),
               {"therapies": [course("lenalidomide", start="2025-03-01")],
                "transfusions": TRANSFUSIONS}, UNKNOWN)
    assert "date" in missing_text(ev)


@pytest.mark.parametrize("patient", [
    pytest.param({}, id="empty_patient"),
    pytest.param({"sex": "female", "age": 40, "ecog": 0, "labs": [], "therapies": []},
                 id="full_patient"),
])
def test_review_always_needs_review(patient: dict[str, Any]) -> None:
    ev = check({"review": {"reason": "investigator judges severe illness"}}, patient, REVIEW)
    assert ev.sentence == "investigator judges severe illness"


@pytest.mark.parametrize(("written", "expected"), [
    ("WHO2016", MET), ("who 2016", MET), ("WHO 2016 revision", MET), ("FAB", NOT_MET),
], ids=["no_space", "lower_case", "longer_name", "other_system"])
def test_classification_ignores_case_and_spacing(written: str, expected: Verdict) -> None:
    rule = {"diagnosis": {"condition": "MDS", "classification_in": ["WHO 2008", "WHO 2016"]}}
    check(rule, {"diagnoses": [{"condition": "MDS", "classification": written}]}, expected)


# ----------------------------------------------------------------------------------------------
# Issue 9: lists known in part, course records, new words, impossible values

PARTIAL = {"complete": False}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("partial_procedures_with_a_match", AUTO,
         {"procedures": {**PARTIAL, "items": [{"type": "ASCT"}]}}, MET),
    case("partial_procedures_without_a_match", AUTO,
         {"procedures": {**PARTIAL, "items": [{"type": "allo-HSCT"}]}}, UNKNOWN),
    case("partial_procedures_empty", AUTO, {"procedures": {**PARTIAL, "items": []}}, UNKNOWN),
    case("complete_list_written_as_a_mapping", AUTO,
         {"procedures": {"complete": True, "items": [{"type": "allo-HSCT"}]}}, NOT_MET),
])
def test_procedure_lists_known_in_part(spec: dict[str, Any], patient: dict[str, Any],
                                       expected: Verdict) -> None:
    check(spec, patient, expected)


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("ti_reached_on_the_course", transfusion("independent", "during"),
         {"therapies": [course("lenalidomide", start="2025-03-01", ti_reached=True)]}, MET),
    case("ti_not_reached_on_the_course", transfusion("independent", "during"),
         {"therapies": [course("lenalidomide", start="2025-03-01", ti_reached=False)]}, NOT_MET),
    case("ti_at_end_without_dates", transfusion("independent", "at_end"),
         {"therapies": [course("lenalidomide", ti_reached=True, ti_at_end=True,
                               outcome="intolerance")]}, MET),
    case("no_response_course_settles_ti", transfusion("independent", "during"),
         {"therapies": [course("lenalidomide", start="2025-03-01", end="2025-06-30",
                               outcome="no_response")]}, NOT_MET),
    case("progression_settles_ti_at_end", transfusion("independent", "at_end"),
         {"therapies": [course("lenalidomide", start="2025-03-01", end="2025-06-30",
                               outcome="progression")]}, NOT_MET),
    case("recorded_period_beats_the_outcome", transfusion("independent", "during"),
         {"therapies": [course("lenalidomide", start="2025-03-01", end="2025-12-31",
                               outcome="progression")],
          "transfusions": TRANSFUSIONS}, MET),
    case("outcome_does_not_settle_dependence", transfusion("dependent", "before_start"),
         {"therapies": [course("lenalidomide", start="2025-03-01", outcome="no_response")]},
         UNKNOWN),
    case("partial_history_without_a_course", transfusion("independent", "during"),
         {"therapies": {**PARTIAL, "items": [course("azacitidine")]}}, UNKNOWN),
    case("course_after_screening_is_no_course", transfusion("independent", "during"),
         {"therapies": [course("lenalidomide", start="2027-01-01")],
          "transfusions": TRANSFUSIONS}, NOT_MET),
    case("course_ending_after_screening_not_stopped", transfusion("independent", "at_end"),
         {"therapies": [course("lenalidomide", start="2025-03-01", end="2027-01-01")],
          "transfusions": TRANSFUSIONS}, NOT_MET),
    case("partial_periods_during_other_status_unknown", transfusion("independent", "during"),
         {"therapies": LEN_COURSE, "transfusions": {**PARTIAL, "items": TRANSFUSIONS[:1]}},
         UNKNOWN),
    case("complete_periods_during_other_status_not_met", transfusion("independent", "during"),
         {"therapies": LEN_COURSE, "transfusions": TRANSFUSIONS[:1]}, NOT_MET),
])
def test_transfusion_course_records(spec: dict[str, Any], patient: dict[str, Any],
                                    expected: Verdict) -> None:
    check(spec, patient, expected)


RELAPSED_TCL = {"disease_state": {"one_of": ["relapsed", "refractory"],
                                  "for_condition": "T-cell lymphoma"}}
TCL_DX = [{"condition": "peripheral T-cell lymphoma"}]


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("relapsed", RELAPSED_TCL,
         {"diagnoses": TCL_DX, "disease_status": {"state": "relapsed", "state_after_line": 1}},
         MET),
    case("newly_diagnosed", RELAPSED_TCL,
         {"diagnoses": TCL_DX, "disease_status": {"state": "newly_diagnosed"}}, NOT_MET),
    case("state_not_recorded", RELAPSED_TCL,
         {"diagnoses": TCL_DX, "disease_status": {"response": "PR"}}, UNKNOWN),
    case("status_not_recorded", RELAPSED_TCL, {"diagnoses": TCL_DX}, UNKNOWN),
    case("another_disease", RELAPSED_TCL,
         {"diagnoses": [{"condition": "MDS"}], "disease_status": {"state": "relapsed"}}, NOT_MET),
    case("broader_diagnosis", RELAPSED_TCL,
         {"diagnoses": [{"condition": "lymphoma"}], "disease_status": {"state": "relapsed"}},
         UNKNOWN),
    case("several_diagnoses", RELAPSED_TCL,
         {"diagnoses": [*TCL_DX, {"condition": "MDS"}], "disease_status": {"state": "relapsed"}},
         UNKNOWN),
    case("status_after_screening", RELAPSED_TCL,
         {"diagnoses": TCL_DX, "disease_status": {"state": "relapsed", "date": "2027-01-01"}},
         UNKNOWN),
    case("without_for_condition", {"disease_state": {"one_of": ["refractory"]}},
         {"disease_status": {"state": "relapsed_and_refractory"}}, NOT_MET),
])
def test_disease_state(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


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


def test_inferred_indication_is_named_in_the_evidence() -> None:
    ev = check({"prior_therapy": {"for_condition": "myeloma"}},
               {"diagnoses": [{"condition": "multiple myeloma"}],
                "therapies": [course("lenalidomide")]}, MET)
    assert "taken as for Multiple myeloma, the only diagnosis" in ev.sentence


def test_unresolved_subtype_is_named_not_called_missing() -> None:
    ev = check({"diagnosis": {"condition": "del(5q) MDS"}},
               {"diagnoses": [{"condition": "MDS", "subtype": "MDS with a rare variant xyz"}]},
               UNKNOWN)
    assert "subtype 'MDS with a rare variant xyz' is not in the vocabulary" in ev.sentence
    assert "not recorded" not in ev.sentence


def test_unknown_unit_gives_a_hint() -> None:
    ev = check({"lab": {"analyte": "creatinine", "at_most": 2.5, "unit": "mg/dL"}},
               {"labs": [lab("creatinine", 1.0, "mg/dl.")]}, UNKNOWN)
    assert "did you mean 'mg/dL'" in ev.sentence


def test_malignancy_inside_window_says_when_it_clears() -> None:
    spec = {"prior_malignancy": {"years": 5, "measure": "disease_free",
                                 "require_curative_intent": True}}
    ev = check(spec, {"prior_malignancies": [{"condition": "breast cancer",
                                              "disease_free_since": "2023-11-21",
                                              "curative_intent": True}]}, MET)
    assert ev.changes_on == date(2028, 11, 21)
    # With the intent unrecorded it does not become clear then (it becomes unknown).
    ev = check(spec, {"prior_malignancies": [{"condition": "breast cancer",
                                              "disease_free_since": "2023-11-21"}]}, MET)
    assert ev.changes_on is None


@pytest.mark.parametrize(("setting", "line", "wanted", "expected"), [
    (None, 1, ["first_line", "induction"], True),
    (None, 1, ["salvage"], False),
    (None, 1, ["maintenance"], None),
    (None, 2, ["first_line"], False),
    (None, 2, ["salvage"], None),
    (None, None, ["salvage"], None),
    ("maintenance", 1, ["first_line", "induction"], False),
])
def test_line_places_a_course_without_setting(setting: str | None, line: int | None,
                                              wanted: list[str], expected: bool | None) -> None:
    from trialmatch.model.patient import Setting
    from trialmatch.predicates import setting_matches

    got = setting_matches(Setting(setting) if setting else None, line, [Setting(w) for w in wanted])
    assert got is expected


def test_recorded_periods_decide_before_the_course_record() -> None:
    ev = check(transfusion("independent", "at_end"),
               {"therapies": [course("lenalidomide", start="2025-03-01", end="2025-12-31",
                                     ti_reached=True, ti_at_end=True)],
                "transfusions": [{"status": "dependent", "start": "2025-01-01"}]}, NOT_MET)
    assert "dependent when stopping (recorded period)" in ev.sentence


def test_partial_problem_list_names_what_it_records() -> None:
    ev = check({"condition": {"any_of": ["infection"], "status_in": ["uncontrolled"]}},
               {"conditions": {**PARTIAL, "items": [{"condition": "HIV", "status": "controlled"}]}},
               UNKNOWN)
    assert ev.sentence == ("the problem list is known only in part: it records HIV (controlled) "
                           "but does not say whether there is any other Infection")


def test_open_all_explains_the_missing_data_not_the_review_question() -> None:
    from trialmatch.engine.criteria import Criterion, Trial
    from trialmatch.engine.evaluate import evaluate_criterion
    from trialmatch.model.results import Kind

    crit = Criterion.model_validate({
        "id": "x", "text": "t",
        "rule": {"all": [{"condition": {"any_of": ["myocardial infarction"]}},
                         {"review": {"reason": "an MI is recorded: whether it is recent"}}]}})
    trial = Trial.model_validate({"id": "T", "title": "t", "type": "interventional",
                                  "status": "recruiting", "conditions": ["MDS"],
                                  "source": {"document": "d"}})
    ctx = Context(patient=Patient(id="P"), as_of=AS_OF, vocab=Vocabulary.default())
    result = evaluate_criterion(trial, Kind.exclusion, crit, ctx)
    assert result.verdict is UNKNOWN
    assert "an MI is recorded" not in result.reason
    assert result.review_reason is None
