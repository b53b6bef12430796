"""The ``diagnosis`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, UNKNOWN, case, check, dx, missing_text


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


@pytest.mark.parametrize(("written", "expected"), [
    ("WHO2016", MET), ("who 2016", MET), ("WHO 2016 revision", MET), ("FAB", NOT_MET),
], ids=["no_space", "lower_case", "longer_name", "other_system"])
def test_classification_ignores_case_and_spacing(written: str, expected: Verdict) -> None:
    rule = {"diagnosis": {"condition": "MDS", "classification_in": ["WHO 2008", "WHO 2016"]}}
    check(rule, {"diagnoses": [{"condition": "MDS", "classification": written}]}, expected)


def test_unresolved_subtype_is_named_not_called_missing() -> None:
    ev = check({"diagnosis": {"condition": "del(5q) MDS"}},
               {"diagnoses": [{"condition": "MDS", "subtype": "MDS with a rare variant xyz"}]},
               UNKNOWN)
    assert "subtype 'MDS with a rare variant xyz' is not in the vocabulary" in ev.sentence
    assert "not recorded" not in ev.sentence
