"""The ``ecog`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, UNKNOWN, case, check, missing_text

ECOG_2 = {"ecog": {"at_most": 2}}


ECOG_2_RECENT = {"ecog": {"at_most": 2, "max_age_days": 28}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("ecog_2_at_most_2", ECOG_2, {"ecog": 2}, MET),
    case("ecog_3_at_most_2", ECOG_2, {"ecog": 3}, NOT_MET),
    case("ecog_0_at_most_2", ECOG_2, {"ecog": {"value": 0, "date": "2026-11-01"}}, MET),
    case("ecog_missing", ECOG_2, {}, UNKNOWN),
    case("ecog_exactly_max_age_days_old", ECOG_2_RECENT,
         {"ecog": {"value": 1, "date": "2026-10-24"}}, MET),
    case("ecog_one_day_too_old", ECOG_2_RECENT, {"ecog": {"value": 1, "date": "2026-10-23"}},
         UNKNOWN),
    case("ecog_stale_even_if_it_would_fail", ECOG_2_RECENT,
         {"ecog": {"value": 4, "date": "2026-01-01"}}, UNKNOWN),
    case("ecog_undated_with_max_age", ECOG_2_RECENT, {"ecog": 1}, UNKNOWN),
    case("ecog_dated_after_screening", ECOG_2, {"ecog": {"value": 1, "date": "2026-11-22"}},
         UNKNOWN),
    case("ecog_on_screening_day", ECOG_2_RECENT, {"ecog": {"value": 2, "date": "2026-11-21"}},
         MET),
])
def test_ecog(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


def test_ecog_stale_evidence_keeps_the_observation_and_asks_for_a_recent_one() -> None:
    ev = check(ECOG_2_RECENT, {"ecog": {"value": 1, "date": "2026-10-01"}}, UNKNOWN)
    assert ev.observed == "ECOG 1"
    assert ev.observed_date == date(2026, 10, 1)
    assert "recent" in missing_text(ev)
