"""The ``prior_therapy`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, UNKNOWN, case, check, course, missing_text

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


def test_inferred_indication_is_named_in_the_evidence() -> None:
    ev = check({"prior_therapy": {"for_condition": "myeloma"}},
               {"diagnoses": [{"condition": "multiple myeloma"}],
                "therapies": [course("lenalidomide")]}, MET)
    assert "taken as for Multiple myeloma, the only diagnosis" in ev.sentence


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
    from trialmatch.predicates.context import setting_matches

    got = setting_matches(Setting(setting) if setting else None, line, [Setting(w) for w in wanted])
    assert got is expected
