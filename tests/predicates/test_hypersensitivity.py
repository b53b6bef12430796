"""The ``hypersensitivity`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, UNKNOWN, case, check


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


def test_hypersensitivity_evidence_names_the_recorded_agent() -> None:
    ev = check(TO_LENALIDOMIDE, allergies("antineoplastic agents"), MET)
    assert ev.observed == "antineoplastic agents"
    assert ev.threshold == "hypersensitivity to Lenalidomide"
