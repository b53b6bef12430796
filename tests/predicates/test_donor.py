"""The ``donor`` predicate: real behaviour, boundaries and unhappy paths."""

from __future__ import annotations

from typing import Any

import pytest

from trialmatch.model.results import Verdict

from .helpers import MET, NOT_MET, UNKNOWN, case, check

DONOR = {"donor": {"relation_in": ["related", "unrelated"],
                   "matches": [{"hla": "10/10"},
                               {"hla": "9/10", "mismatched_locus_in": ["HLA-C", "HLA-DQB1"]}]}}


def donor(match: str, *loci: str, relation: str = "unrelated") -> dict[str, Any]:
    return {"donor": {"relation": relation, "hla_match": match, "mismatched_loci": list(loci)}}


@pytest.mark.parametrize(("spec", "patient", "expected"), [
    case("10_of_10", DONOR, donor("10/10"), MET),
    case("9_of_10_at_hla_c", DONOR, donor("9/10", "HLA-C"), MET),
    case("9_of_10_at_hla_a", DONOR, donor("9/10", "HLA-A"), NOT_MET),
    case("9_of_10_without_loci", DONOR, donor("9/10"), UNKNOWN),
    case("8_of_10", DONOR, donor("8/10", "HLA-C", "HLA-A"), NOT_MET),
    case("no_donor", DONOR, {}, UNKNOWN),
    case("relation_not_accepted", {"donor": {"relation_in": ["related"],
                                             "matches": [{"hla": "10/10"}]}},
         donor("10/10"), NOT_MET),
    case("locus_written_without_hla_prefix", DONOR, donor("9/10", "C"), MET),
])
def test_donor(spec: dict[str, Any], patient: dict[str, Any], expected: Verdict) -> None:
    check(spec, patient, expected)


def test_donor_evidence_names_the_match_the_threshold_and_what_is_missing() -> None:
    wrong_locus = check(DONOR, donor("9/10", "HLA-A"), NOT_MET)
    assert wrong_locus.observed == "unrelated donor 9/10 (mismatched HLA-A)"
    assert wrong_locus.threshold == (
        "related/unrelated donor matched 10/10 or 9/10 (mismatch at HLA-C or HLA-DQB1)"
    )
    assert check(DONOR, {}, UNKNOWN).missing == ("donor and HLA match",)
    no_locus = check(DONOR, donor("9/10"), UNKNOWN)
    assert no_locus.observed == "unrelated donor 9/10"
    assert no_locus.missing == ("donor HLA mismatched locus",)
