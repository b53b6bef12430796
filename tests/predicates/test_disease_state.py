"""The ``disease_state`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, UNKNOWN, case, check

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


def test_disease_state_evidence_names_the_diagnosis_and_an_ignored_date() -> None:
    ev = check(RELAPSED_TCL, {"diagnoses": [{"condition": "MDS"}],
                              "disease_status": {"state": "relapsed"}}, NOT_MET)
    assert ev.observed == "Myelodysplastic syndrome"
    ev = check(RELAPSED_TCL, {"diagnoses": TCL_DX,
                              "disease_status": {"state": "relapsed", "date": "2027-01-01"}},
               UNKNOWN)
    assert "after the screening date (ignored)" in ev.sentence
    assert ev.missing == ("disease state (relapsed / refractory)",)
