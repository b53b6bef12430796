"""The ``pregnancy`` and ``childbearing_potential`` predicates: real behaviour, boundaries
and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, UNKNOWN, case, check

PREGNANT = {"pregnancy": {"states": ["pregnant"]}}


PREGNANT_OR_BF = {"pregnancy": {"states": ["pregnant", "breastfeeding"]}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
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
def test_pregnancy_and_childbearing(spec: dict[str, Any], patient: dict[str, Any],
                                    expected: Verdict) -> None:
    check(spec, patient, expected)


def test_pregnancy_unknown_names_the_unrecorded_state() -> None:
    ev = check(PREGNANT_OR_BF, {"sex": "female", "pregnant": False}, UNKNOWN)
    assert ev.missing == ("breastfeeding status",)
