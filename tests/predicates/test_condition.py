"""The ``condition`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, PARTIAL, UNKNOWN, case, check

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


def test_partial_problem_list_names_what_it_records() -> None:
    ev = check({"condition": {"any_of": ["infection"], "status_in": ["uncontrolled"]}},
               {"conditions": {**PARTIAL, "items": [{"condition": "HIV", "status": "controlled"}]}},
               UNKNOWN)
    assert ev.sentence == ("the problem list is known only in part: it records HIV (controlled) "
                           "but does not say whether there is any other Infection")
