"""Next steps for a trial still open for a patient: data to collect, checks a person must make,
and the attestation entries that record their answers. Shared by every report format.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from trialmatch.model.results import CriterionResult, Kind, TrialResult, TrialVerdict, Verdict


@dataclass(frozen=True)
class Collect:
    """A datum to collect and the criteria of the trial it would decide."""

    item: str
    criteria: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    """A criterion a person must judge (needs review), or an unknown that names no datum."""

    criterion_id: str
    kind: Kind
    verdict: Verdict
    reason: str
    text: str

    @property
    def question(self) -> str:
        """What the attestation answers: whether the criterion's statement holds."""
        return "Does it hold?" if self.kind is Kind.inclusion else "Does it apply?"


@dataclass(frozen=True)
class TrialSteps:
    """What would settle an open (possibly eligible) trial."""

    trial_id: str
    collect: tuple[Collect, ...]
    checks: tuple[Check, ...]


def _check(c: CriterionResult) -> Check:
    reason = c.review_reason or c.reason
    return Check(c.criterion_id, c.kind, c.verdict, reason, c.text)


def trial_steps(result: TrialResult) -> TrialSteps | None:
    """Next steps for one trial, or None when nothing is open (eligible or ineligible).

    Data items come in the order of the criteria they decide, each with every criterion it
    would decide; every needs-review criterion is a check, as is an unknown criterion that
    names no datum.
    """
    if result.verdict is not TrialVerdict.possibly_eligible:
        return None
    found: dict[str, list[str]] = {}
    checks: list[Check] = []
    for c in result.criteria:
        if c.verdict is Verdict.needs_review or (c.verdict is Verdict.unknown and not c.missing):
            checks.append(_check(c))
        elif c.verdict is Verdict.unknown:
            for m in c.missing:
                found.setdefault(m, []).append(c.criterion_id)
    collect = tuple(Collect(k, tuple(dict.fromkeys(v))) for k, v in found.items())
    return TrialSteps(result.trial_id, collect, tuple(checks))


def next_steps(results: Sequence[TrialResult]) -> list[TrialSteps]:
    """Next steps for every open trial, in report order.

    >>> next_steps([])
    []
    """
    return [s for s in map(trial_steps, results) if s is not None]


def _scalar(text: str) -> str:
    """A YAML flow scalar that reads back as ``text`` (JSON strings are YAML)."""
    plain = text.replace("-", "").replace("_", "").replace(".", "").replace("/", "")
    return text if plain.isalnum() and text[:1].isalpha() else json.dumps(text)


def attestation_entries(steps: TrialSteps) -> list[str]:
    """One YAML flow mapping per check, to paste under ``attestations:`` in the patient file
    once ``holds`` (true or false), ``by`` (who judged) and ``on`` (when it was judged) are
    filled in: nothing is prefilled, so an entry not filled in is an error, not an answer.

    >>> from trialmatch.model.results import Kind, Verdict
    >>> s = TrialSteps("NCT1", (), (Check("exc-x", Kind.exclusion, Verdict.needs_review, "", ""),))
    >>> attestation_entries(s)[0]
    '{trial: NCT1, criterion: exc-x, holds: , by: , on: }'
    """
    return [
        f"{{trial: {_scalar(steps.trial_id)}, criterion: {_scalar(c.criterion_id)}, "
        "holds: , by: , on: }"
        for c in steps.checks
    ]
