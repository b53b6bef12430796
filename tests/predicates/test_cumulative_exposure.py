"""The ``cumulative_exposure`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from trialmatch.model.results import Verdict
from trialmatch.predicates.dates import calendar_months

from .helpers import MET, NOT_MET, UNKNOWN, case, check, course, inclusive_end, missing_text

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
