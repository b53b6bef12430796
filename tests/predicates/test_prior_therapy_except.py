"""The ``prior_therapy_except`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, UNKNOWN, case, check, course

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


def test_prior_therapy_except_evidence_names_the_course_and_why_it_is_open() -> None:
    ev = check(NON_HMA, {"diagnoses": MDS_DX,
                         "therapies": [course("azacitidine"), course("cytarabine")]}, MET)
    assert ev.observed == "cytarabine" and "taken as for Myelodysplastic syndrome" in ev.sentence
    ev = check(NON_HMA, {"therapies": [course("cytarabine")]}, UNKNOWN)
    assert "indication not recorded and no diagnoses are recorded" in ev.missing[0]
