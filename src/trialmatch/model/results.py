"""Result records: plain frozen data shared by the engine and every reporter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    """A criterion's verdict. Values are what JSON and CSV carry."""

    met = "met"
    not_met = "not_met"
    unknown = "unknown"
    needs_review = "needs_review"


class TrialVerdict(StrEnum):
    """A trial's verdict for a patient."""

    eligible = "eligible"
    possibly_eligible = "possibly_eligible"
    ineligible = "ineligible"


class Kind(StrEnum):
    """Whether a criterion includes or excludes."""

    inclusion = "inclusion"
    exclusion = "exclusion"


def display(kind: Kind, verdict: Verdict) -> str:
    """How a verdict reads in a row of the given kind.

    >>> display(Kind.exclusion, Verdict.met), display(Kind.inclusion, Verdict.not_met)
    ('EXCLUDED', 'NOT MET')
    """
    if verdict is Verdict.unknown:
        return "unknown"
    if verdict is Verdict.needs_review:
        return "needs review"
    if kind is Kind.inclusion:
        return "met" if verdict is Verdict.met else "NOT MET"
    return "EXCLUDED" if verdict is Verdict.met else "clear"


def favourable(kind: Kind, verdict: Verdict) -> bool:
    """Whether the verdict is decided in the patient's favour."""
    return verdict is (Verdict.met if kind is Kind.inclusion else Verdict.not_met)


def failing(kind: Kind, verdict: Verdict) -> bool:
    """Whether the verdict rules the patient out."""
    return verdict is (Verdict.not_met if kind is Kind.inclusion else Verdict.met)


@dataclass(frozen=True)
class Evidence:
    """What one leaf predicate saw and concluded.

    ``missing`` names the data items that would decide it; ``changes_on`` is the date on which
    the verdict would change if nothing else changed (time windows, ages).
    """

    predicate: str
    verdict: Verdict
    sentence: str
    observed: str | None = None
    observed_date: dt.date | None = None
    converted: str | None = None
    threshold: str | None = None
    missing: tuple[str, ...] = ()
    changes_on: dt.date | None = None


@dataclass(frozen=True)
class CriterionResult:
    """The verdict for one criterion, with its evidence and verbatim source text."""

    trial_id: str
    criterion_id: str
    kind: Kind
    verdict: Verdict
    reason: str
    text: str
    encoding: str
    evidence: tuple[Evidence, ...] = ()
    missing: tuple[str, ...] = ()
    changes_on: dt.date | None = None
    attestation: str | None = None
    review_reason: str | None = None

    @property
    def label(self) -> str:
        """The row label: met / NOT MET / EXCLUDED / clear / unknown / needs review."""
        return display(self.kind, self.verdict)


@dataclass(frozen=True)
class TrialResult:
    """All criterion results for one trial and the trial verdict."""

    trial_id: str
    title: str
    verdict: TrialVerdict
    criteria: tuple[CriterionResult, ...]
    criteria_file: str | None = None
    criteria_sha256: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> tuple[CriterionResult, ...]:
        """Criteria that rule the patient out."""
        return tuple(c for c in self.criteria if failing(c.kind, c.verdict))

    @property
    def unknown(self) -> tuple[CriterionResult, ...]:
        """Criteria left unknown for lack of data."""
        return tuple(c for c in self.criteria if c.verdict is Verdict.unknown)

    @property
    def review(self) -> tuple[CriterionResult, ...]:
        """Criteria only a person can judge."""
        return tuple(c for c in self.criteria if c.verdict is Verdict.needs_review)

    @property
    def open_items(self) -> int:
        """How many criteria are still open (unknown or needing review)."""
        return len(self.unknown) + len(self.review)
