"""The ``procedure`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, PARTIAL, UNKNOWN, case, check

AUTO = {"procedure": {"type": "autologous_sct"}}


ALLO_MAC = {"procedure": {"type": "allogeneic_sct", "conditioning_in": ["myeloablative"]}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("asct_abbreviation", AUTO, {"procedures": [{"type": "ASCT", "date": "2025-01-01"}]},
         MET),
    case("allo_is_not_auto", AUTO, {"procedures": [{"type": "allo-HSCT"}]}, NOT_MET),
    case("none_recorded", AUTO, {"procedures": []}, NOT_MET),
    case("not_recorded", AUTO, {}, UNKNOWN),
    case("after_screening_ignored", AUTO,
         {"procedures": [{"type": "autologous stem cell transplant", "date": "2027-01-01"}]},
         NOT_MET),
    case("conditioning_matches", ALLO_MAC,
         {"procedures": [{"type": "allo-HSCT", "conditioning": "Myeloablative"}]}, MET),
    case("conditioning_other", ALLO_MAC,
         {"procedures": [{"type": "allo-HSCT", "conditioning": "reduced intensity"}]}, NOT_MET),
    case("conditioning_missing", ALLO_MAC, {"procedures": [{"type": "allo-HSCT"}]}, UNKNOWN),
    # A type outside the vocabulary may be the one asked for: never "not met".
    case("unknown_type_is_unknown", AUTO, {"procedures": [{"type": "stem cell transplant"}]},
         UNKNOWN),
    case("unknown_type_beside_a_match", AUTO,
         {"procedures": [{"type": "stem cell transplant"}, {"type": "ASCT"}]}, MET),
    case("unknown_type_after_the_screening_date", AUTO,
         {"procedures": [{"type": "stem cell transplant", "date": "2027-01-01"}]}, NOT_MET),
])
def test_procedure(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("partial_procedures_with_a_match", AUTO,
         {"procedures": {**PARTIAL, "items": [{"type": "ASCT"}]}}, MET),
    case("partial_procedures_without_a_match", AUTO,
         {"procedures": {**PARTIAL, "items": [{"type": "allo-HSCT"}]}}, UNKNOWN),
    case("partial_procedures_empty", AUTO, {"procedures": {**PARTIAL, "items": []}}, UNKNOWN),
    case("complete_list_written_as_a_mapping", AUTO,
         {"procedures": {"complete": True, "items": [{"type": "allo-HSCT"}]}}, NOT_MET),
])
def test_procedure_lists_known_in_part(spec: dict[str, Any], patient: dict[str, Any],
                                       expected: Verdict) -> None:
    check(spec, patient, expected)


def test_procedure_evidence_and_an_unknown_type() -> None:
    ev = check(AUTO, {"procedures": [{"type": "ASCT", "date": "2025-03-01"}]}, MET)
    assert ev.observed == "ASCT" and ev.sentence == "ASCT on 2025-03-01"
    ev = check(AUTO, {"procedures": [{"type": "kidney biopsy"}]}, UNKNOWN)  # never not met
    assert ev.missing == ("procedure type in the vocabulary (not 'kidney biopsy')",)
