"""The ``prior_malignancy`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, UNKNOWN, case, check, missing_text

FREE_5Y = {"prior_malignancy": {"years": 5, "measure": "disease_free"}}


FREE_MORE_THAN_5Y = {"prior_malignancy": {"years": 5, "measure": "disease_free",
                                          "elapsed": "more_than"}}


FREE_5Y_EXCEPT = {"prior_malignancy": {
    "years": 5, "measure": "disease_free",
    "except_conditions": ["non-melanoma skin cancer", "carcinoma in situ", "CIN"],
    "exception_requires_curative_treatment": True}}


WITHIN_3Y = {"prior_malignancy": {"years": 3, "measure": "diagnosis_or_treatment"}}


def malignancy(condition: str = "breast cancer", **kw: Any) -> dict[str, Any]:
    return {"prior_malignancies": [{"condition": condition, **kw}]}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("disease_free_exactly_5_years", FREE_5Y, malignancy(disease_free_since="2021-11-21"),
         NOT_MET),
    case("disease_free_a_day_short_of_5_years", FREE_5Y,
         malignancy(disease_free_since="2021-11-22"), MET),
    case("more_than_5_years_needs_one_more_day", FREE_MORE_THAN_5Y,
         malignancy(disease_free_since="2021-11-21"), MET),
    case("more_than_5_years_passed", FREE_MORE_THAN_5Y,
         malignancy(disease_free_since="2021-11-20"), NOT_MET),
    case("not_in_remission", FREE_5Y, malignancy(in_remission=False), MET),
    case("disease_free_date_missing", FREE_5Y, malignancy(), UNKNOWN),
    case("empty_list", FREE_5Y, {"prior_malignancies": []}, NOT_MET),
    case("absent", FREE_5Y, {}, UNKNOWN),
    case("excepted_bcc_curatively_treated", FREE_5Y_EXCEPT,
         malignancy("basal cell carcinoma", curative_intent=True, disease_free_since="2026-01-01"),
         NOT_MET),
    case("excepted_bcc_curative_intent_missing", FREE_5Y_EXCEPT,
         malignancy("basal cell carcinoma", disease_free_since="2026-01-01"), UNKNOWN),
    case("excepted_bcc_not_curative_counts", FREE_5Y_EXCEPT,
         malignancy("basal cell carcinoma", curative_intent=False,
                    disease_free_since="2026-01-01"), MET),
    case("excepted_cin_curatively_treated", FREE_5Y_EXCEPT,
         malignancy("CIN", curative_intent=True), NOT_MET),
    case("exception_list_with_unknown_term", FREE_5Y_EXCEPT,
         malignancy("odd tumour xyz", disease_free_since="2001-01-01"), UNKNOWN),
    case("exception_beside_an_old_cancer", FREE_5Y_EXCEPT,
         {"prior_malignancies": [
             {"condition": "basal cell carcinoma", "curative_intent": True},
             {"condition": "breast cancer", "disease_free_since": "2015-01-01"}]}, NOT_MET),
    case("require_curative_intent_missing",
         {"prior_malignancy": {"years": 5, "measure": "disease_free",
                               "require_curative_intent": True}},
         malignancy(disease_free_since="2010-01-01"), UNKNOWN),
    case("require_curative_intent_false",
         {"prior_malignancy": {"years": 5, "measure": "disease_free",
                               "require_curative_intent": True}},
         malignancy(disease_free_since="2010-01-01", curative_intent=False), MET),
    case("treated_within_3_years", WITHIN_3Y,
         malignancy(diagnosed="2020-01-01", last_treatment="2024-01-01"), MET),
    case("treated_exactly_3_years_ago", WITHIN_3Y,
         malignancy(diagnosed="2020-01-01", last_treatment="2023-11-21"), NOT_MET),
    case("treated_more_than_3_years_ago", WITHIN_3Y,
         malignancy(diagnosed="2020-01-01", last_treatment="2023-11-20"), NOT_MET),
    case("diagnosed_recently_treatment_unknown", WITHIN_3Y, malignancy(diagnosed="2025-01-01"),
         MET),
    case("diagnosed_long_ago_treatment_unknown", WITHIN_3Y, malignancy(diagnosed="2015-01-01"),
         UNKNOWN),
    case("no_dates", WITHIN_3Y, malignancy(), UNKNOWN),
])
def test_prior_malignancy(spec: dict[str, Any], patient: dict[str, Any],
                          expected: Verdict) -> None:
    check(spec, patient, expected)


def test_prior_malignancy_changes_on_the_day_it_clears() -> None:
    ev = check(FREE_5Y, malignancy(disease_free_since="2021-11-22"), MET)
    assert ev.changes_on == date(2026, 11, 22)


def test_prior_malignancy_more_than_clears_a_day_later() -> None:
    ev = check(FREE_MORE_THAN_5Y, malignancy(disease_free_since="2021-11-21"), MET)
    assert ev.changes_on == date(2026, 11, 22)


def test_prior_malignancy_within_3_years_changes_on() -> None:
    ev = check(WITHIN_3Y, malignancy(diagnosed="2020-01-01", last_treatment="2024-01-01"), MET)
    assert ev.changes_on == date(2027, 1, 1)


def test_prior_malignancy_exception_needing_curative_intent_names_it() -> None:
    ev = check(FREE_5Y_EXCEPT, malignancy("basal cell carcinoma"), UNKNOWN)
    assert "curative" in missing_text(ev)


def test_malignancy_inside_window_says_when_it_clears() -> None:
    spec = {"prior_malignancy": {"years": 5, "measure": "disease_free",
                                 "require_curative_intent": True}}
    ev = check(spec, {"prior_malignancies": [{"condition": "breast cancer",
                                              "disease_free_since": "2023-11-21",
                                              "curative_intent": True}]}, MET)
    assert ev.changes_on == date(2028, 11, 21)
    # With the intent unrecorded it does not become clear then (it becomes unknown).
    ev = check(spec, {"prior_malignancies": [{"condition": "breast cancer",
                                              "disease_free_since": "2023-11-21"}]}, MET)
    assert ev.changes_on is None
