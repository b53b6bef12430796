"""The ``age`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, UNKNOWN, case, check

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
