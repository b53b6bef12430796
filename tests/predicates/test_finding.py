"""The ``finding`` and ``risk_score`` predicates: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, UNKNOWN, case, check, dx

DEL5Q = {"finding": {"name": "del(5q)", "aliases": ["5q-"]}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("finding_listed_as_text", DEL5Q, dx(condition="MDS", findings=["del(5q)"]), MET),
    case("finding_listed_present", DEL5Q,
         dx(condition="MDS", findings=[{"name": "del(5q)", "present": True}]), MET),
    case("finding_alias_and_spelling", DEL5Q, dx(condition="MDS", findings=["5Q-"]), MET),
    case("finding_recorded_absent", DEL5Q,
         dx(condition="MDS", findings=[{"name": "del(5q)", "present": False}]), NOT_MET),
    case("finding_unlisted_is_unknown", DEL5Q, dx(condition="MDS", findings=["TP53"]), UNKNOWN),
    case("finding_no_findings_recorded", DEL5Q, dx(condition="MDS"), UNKNOWN),
    case("finding_no_diagnoses", DEL5Q, {}, UNKNOWN),
    case("finding_dated_after_screening_is_ignored", DEL5Q,
         dx(condition="MDS", findings=[{"name": "del(5q)", "date": "2027-01-15"}]), UNKNOWN),
])
def test_finding(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


IPSS_LOW = {"risk_score": {"system": "IPSS-R", "category_in": ["very low", "low"]}}


def scores(*items: tuple[str, str | None]) -> dict[str, Any]:
    return dx(condition="MDS", risk_scores=[{"system": "IPSS-R", "category": c, "date": d}
                                            for c, d in items])


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("risk_category_in_list_case_folded", IPSS_LOW, scores(("Low", None)), MET),
    case("risk_category_not_in_list", IPSS_LOW, scores(("high", None)), NOT_MET),
    case("risk_score_not_recorded", IPSS_LOW, dx(condition="MDS"), UNKNOWN),
    case("risk_score_no_diagnoses", IPSS_LOW, {}, UNKNOWN),
    case("risk_score_latest_is_used", IPSS_LOW,
         scores(("low", "2025-01-01"), ("high", "2026-10-01")), NOT_MET),
    case("risk_score_after_screening_ignored_beside_older", IPSS_LOW,
         scores(("low", "2026-10-01"), ("high", "2027-01-15")), MET),
    case("risk_score_only_after_screening_is_unknown", IPSS_LOW, scores(("low", "2027-01-15")),
         UNKNOWN),
])
def test_risk_score(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


def test_finding_evidence_names_the_recorded_result_and_what_is_missing() -> None:
    absent = check(DEL5Q, dx(condition="MDS", findings=[{"name": "del(5q)", "present": False}]),
                   NOT_MET)
    assert (absent.observed, absent.threshold) == ("del(5q): absent", "del(5q)")
    assert check(DEL5Q, dx(condition="MDS"), UNKNOWN).missing == ("del(5q) (cytogenetics)",)


def test_risk_score_evidence_names_the_category_the_threshold_and_a_future_date() -> None:
    high = check(IPSS_LOW, scores(("high", "2026-10-01")), NOT_MET)
    assert (high.observed, high.threshold) == ("IPSS-R high", "IPSS-R very low or low")
    future = check(IPSS_LOW, scores(("low", "2027-01-15")), UNKNOWN)
    assert future.missing == ("IPSS-R score",)
    assert "after the screening date" in future.sentence
