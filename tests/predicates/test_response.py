"""The ``response`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, UNKNOWN, case, check, course, status

PR_OR_BETTER = {"response": {"at_least": "PR"}}


PR_AFTER_2_OR_3 = {"response": {"at_least": "PR", "after_line_in": [2, 3]}}


PR_BY_CT = {"response": {"at_least": "PR", "assessed_by_in": ["CT"]}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("cr_is_at_least_pr", PR_OR_BETTER, status("CR"), MET),
    case("pr_is_at_least_pr", PR_OR_BETTER, status("PR"), MET),
    case("sd_is_not_at_least_pr", PR_OR_BETTER, status("SD"), NOT_MET),
    case("spelled_out_category", PR_OR_BETTER, status("complete remission"), MET),
    case("unknown_category", PR_OR_BETTER, status("good"), UNKNOWN),
    case("no_disease_status", PR_OR_BETTER, {}, UNKNOWN),
    case("at_most_sd_with_pd", {"response": {"at_most": "SD"}}, status("PD"), MET),
    case("at_most_sd_with_vgpr", {"response": {"at_most": "SD"}}, status("VGPR"), NOT_MET),
    case("after_line_1_not_in_2_or_3", PR_AFTER_2_OR_3, status("CR", after_line=1), NOT_MET),
    case("after_line_2_in_2_or_3", PR_AFTER_2_OR_3, status("CR", after_line=2), MET),
    case("line_derived_from_therapies", PR_AFTER_2_OR_3,
         {**status("CR", date="2026-10-01"),
          "therapies": [course("lenalidomide", line=1, start="2025-01-01"),
                        {"regimen": "VRd", "line": 2, "start": "2026-01-01"}]}, MET),
    # A course started after the dated status supersedes it: the status is no longer the
    # current response (this was NOT_MET, from line 1 only, before issue 9's review).
    case("later_course_supersedes_the_status", PR_AFTER_2_OR_3,
         {**status("CR", date="2026-10-01"),
          "therapies": [course("lenalidomide", line=1, start="2025-01-01"),
                        {"regimen": "VRd", "line": 2, "start": "2026-10-15"}]}, UNKNOWN),
    case("later_course_that_progressed_settles_it", PR_AFTER_2_OR_3,
         {**status("CR", date="2026-10-01"),
          "therapies": [course("lenalidomide", line=1, start="2025-01-01"),
                        {"regimen": "VRd", "line": 2, "start": "2026-10-15",
                         "end": "2026-11-10", "outcome": "progression"}]}, NOT_MET),
    case("later_course_for_another_disease_does_not_supersede",
         {"response": {"at_least": "PR", "after_line_in": [1], "for_condition": "myeloma"}},
         {**status("CR", date="2026-10-01"),
          "diagnoses": [{"condition": "multiple myeloma", "date": "2024-01-01"}],
          "therapies": [course("lenalidomide", line=1, start="2025-01-01"),
                        course("letrozole", indication="breast cancer", start="2026-10-15",
                               outcome="progression")]}, MET),
    case("line_not_derivable", PR_AFTER_2_OR_3,
         {**status("CR"), "therapies": [course("lenalidomide", start="2025-01-01")]}, UNKNOWN),
    case("bad_response_decides_before_missing_line", PR_AFTER_2_OR_3, status("SD"), NOT_MET),
    case("assessed_by_pet_ct_counts_as_ct", PR_BY_CT, status("CR", assessed_by="PET-CT"), MET),
    case("assessed_by_other_method", PR_BY_CT, status("CR", assessed_by="PET"), NOT_MET),
    case("assessed_by_not_recorded", PR_BY_CT, status("CR"), UNKNOWN),
    case("stale_assessment", {"response": {"at_least": "PR", "max_age_days": 30}},
         status("CR", date="2026-01-01"), UNKNOWN),
    case("assessment_dated_after_screening", PR_OR_BETTER, status("CR", date="2027-01-15"),
         UNKNOWN),
])
def test_response(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


def test_response_line_evidence_names_the_line() -> None:
    ev = check(PR_AFTER_2_OR_3, status("CR", after_line=1), NOT_MET)
    assert ev.observed == "CR after line 1"
