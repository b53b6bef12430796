"""The ``transfusion`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, PARTIAL, UNKNOWN, case, check, course, missing_text


def transfusion(status: str, when: str) -> dict[str, Any]:
    return {"transfusion": {"status": status, "drug": "lenalidomide", "when": when}}


LEN_COURSE = [course("lenalidomide", start="2025-03-01", end="2025-12-31")]


TRANSFUSIONS = [{"status": "dependent", "start": "2024-06-01", "end": "2025-04-30"},
                {"status": "independent", "start": "2025-05-01"}]


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("dependent_before_lenalidomide", transfusion("dependent", "before_start"),
         {"therapies": LEN_COURSE, "transfusions": TRANSFUSIONS}, MET),
    case("not_independent_before_lenalidomide", transfusion("independent", "before_start"),
         {"therapies": LEN_COURSE, "transfusions": TRANSFUSIONS}, NOT_MET),
    case("independent_at_end", transfusion("independent", "at_end"),
         {"therapies": LEN_COURSE, "transfusions": TRANSFUSIONS}, MET),
    case("not_dependent_at_end", transfusion("dependent", "at_end"),
         {"therapies": LEN_COURSE, "transfusions": TRANSFUSIONS}, NOT_MET),
    case("transfusions_not_recorded", transfusion("dependent", "before_start"),
         {"therapies": LEN_COURSE}, UNKNOWN),
    case("no_period_covers_the_start", transfusion("dependent", "before_start"),
         {"therapies": LEN_COURSE,
          "transfusions": [{"status": "dependent", "start": "2025-06-01"}]}, UNKNOWN),
    case("no_lenalidomide_course", transfusion("dependent", "before_start"),
         {"therapies": [], "transfusions": TRANSFUSIONS}, NOT_MET),
    case("therapies_not_recorded", transfusion("dependent", "before_start"),
         {"transfusions": TRANSFUSIONS}, UNKNOWN),
    case("course_without_end_date_at_end", transfusion("independent", "at_end"),
         {"therapies": [course("lenalidomide", start="2025-03-01")],
          "transfusions": TRANSFUSIONS}, UNKNOWN),
])
def test_transfusion(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


def test_transfusion_missing_end_date_names_the_end_date() -> None:
    ev = check(transfusion("independent", "at_end"),
               {"therapies": [course("lenalidomide", start="2025-03-01")],
                "transfusions": TRANSFUSIONS}, UNKNOWN)
    assert "date" in missing_text(ev)


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("ti_reached_on_the_course", transfusion("independent", "during"),
         {"therapies": [course("lenalidomide", start="2025-03-01", ti_reached=True)]}, MET),
    case("ti_not_reached_on_the_course", transfusion("independent", "during"),
         {"therapies": [course("lenalidomide", start="2025-03-01", ti_reached=False)]}, NOT_MET),
    case("ti_at_end_without_dates", transfusion("independent", "at_end"),
         {"therapies": [course("lenalidomide", ti_reached=True, ti_at_end=True,
                               outcome="intolerance")]}, MET),
    case("no_response_course_settles_ti", transfusion("independent", "during"),
         {"therapies": [course("lenalidomide", start="2025-03-01", end="2025-06-30",
                               outcome="no_response")]}, NOT_MET),
    case("progression_settles_ti_at_end", transfusion("independent", "at_end"),
         {"therapies": [course("lenalidomide", start="2025-03-01", end="2025-06-30",
                               outcome="progression")]}, NOT_MET),
    case("recorded_period_beats_the_outcome", transfusion("independent", "during"),
         {"therapies": [course("lenalidomide", start="2025-03-01", end="2025-12-31",
                               outcome="progression")],
          "transfusions": TRANSFUSIONS}, MET),
    case("outcome_does_not_settle_dependence", transfusion("dependent", "before_start"),
         {"therapies": [course("lenalidomide", start="2025-03-01", outcome="no_response")]},
         UNKNOWN),
    case("partial_history_without_a_course", transfusion("independent", "during"),
         {"therapies": {**PARTIAL, "items": [course("azacitidine")]}}, UNKNOWN),
    case("course_after_screening_is_no_course", transfusion("independent", "during"),
         {"therapies": [course("lenalidomide", start="2027-01-01")],
          "transfusions": TRANSFUSIONS}, NOT_MET),
    case("course_ending_after_screening_not_stopped", transfusion("independent", "at_end"),
         {"therapies": [course("lenalidomide", start="2025-03-01", end="2027-01-01")],
          "transfusions": TRANSFUSIONS}, NOT_MET),
    case("partial_periods_during_other_status_unknown", transfusion("independent", "during"),
         {"therapies": LEN_COURSE, "transfusions": {**PARTIAL, "items": TRANSFUSIONS[:1]}},
         UNKNOWN),
    case("complete_periods_during_other_status_not_met", transfusion("independent", "during"),
         {"therapies": LEN_COURSE, "transfusions": TRANSFUSIONS[:1]}, NOT_MET),
])
def test_transfusion_course_records(spec: dict[str, Any], patient: dict[str, Any],
                                    expected: Verdict) -> None:
    check(spec, patient, expected)


def test_recorded_periods_decide_before_the_course_record() -> None:
    ev = check(transfusion("independent", "at_end"),
               {"therapies": [course("lenalidomide", start="2025-03-01", end="2025-12-31",
                                     ti_reached=True, ti_at_end=True)],
                "transfusions": [{"status": "dependent", "start": "2025-01-01"}]}, NOT_MET)
    assert "dependent when stopping (recorded period)" in ev.sentence
