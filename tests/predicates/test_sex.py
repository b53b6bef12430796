"""The ``sex`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, UNKNOWN, case, check

FEMALE = {"sex": {"one_of": ["female"]}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("sex_female_is_female", FEMALE, {"sex": "female"}, MET),
    case("sex_male_is_not_female", FEMALE, {"sex": "male"}, NOT_MET),
    case("sex_other_is_not_female", FEMALE, {"sex": "other"}, NOT_MET),
    case("sex_one_of_two", {"sex": {"one_of": ["female", "male"]}}, {"sex": "male"}, MET),
    case("sex_not_recorded", FEMALE, {}, UNKNOWN),
])
def test_sex(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


def test_sex_evidence_names_the_recorded_sex_and_what_is_needed() -> None:
    ev = check(FEMALE, {"sex": "male"}, NOT_MET)
    assert (ev.observed, ev.threshold) == ("male", "female")
    assert check(FEMALE, {}, UNKNOWN).missing == ("sex",)
