"""The rule engine: evaluate rule trees with three-valued (Kleene) logic.

Pure: takes a patient, trials, the screening date and the vocabulary; returns result records.
It prints nothing and never reads the clock.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from trialmatch.engine.criteria import (
    AllNode,
    AnyNode,
    AtLeastNode,
    Criterion,
    LoadedTrial,
    NotNode,
    Trial,
)
from trialmatch.model.patient import Attestation, Patient
from trialmatch.model.results import (
    CriterionResult,
    Evidence,
    Kind,
    TrialResult,
    TrialVerdict,
    Verdict,
    failing,
    favourable,
)
from trialmatch.model.vocab import Vocabulary
from trialmatch.predicates import REGISTRY
from trialmatch.predicates.context import Context


@dataclass(frozen=True)
class Outcome:
    """A rule's verdict, the leaves that decided it, every leaf seen, and the date on which the
    verdict would change if nothing else changed (None when unknown or never)."""

    verdict: Verdict
    deciding: tuple[Evidence, ...]
    leaves: tuple[Evidence, ...]
    changes_on: dt.date | None = None


def _open(outcomes: Sequence[Outcome]) -> Verdict:
    """Verdict of undecided children: unknown wins over needs-review (collect data first)."""
    return (
        Verdict.unknown
        if any(o.verdict is Verdict.unknown for o in outcomes)
        else Verdict.needs_review
    )


def _open_deciding(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """The undecided children that explain an open verdict: the unknown ones when there are
    any (a review reason such as "an infection is recorded: ..." does not apply before the data
    that would reach it are collected), else the ones needing review."""
    unknown = [o for o in outcomes if o.verdict is Verdict.unknown]
    return unknown or [o for o in outcomes if o.verdict is Verdict.needs_review]


def _first_change(outcomes: Sequence[Outcome]) -> dt.date | None:
    """The verdict flips when any one of these flips."""
    dates = [o.changes_on for o in outcomes if o.changes_on is not None]
    return min(dates) if dates else None


def _last_change(outcomes: Sequence[Outcome]) -> dt.date | None:
    """The verdict flips only when every one of these has flipped."""
    dates = [o.changes_on for o in outcomes]
    return max(d for d in dates if d is not None) if dates and None not in dates else None


def _combine(
    verdict: Verdict,
    children: Sequence[Outcome],
    deciding: Sequence[Outcome],
    changes_on: dt.date | None = None,
) -> Outcome:
    return Outcome(
        verdict,
        tuple(e for o in deciding for e in o.deciding),
        tuple(e for o in children for e in o.leaves),
        changes_on,
    )


def evaluate_rule(node: BaseModel, ctx: Context) -> Outcome:
    """Evaluate a rule tree node.

    ``all``: not met if any child is not met, met if all are met, otherwise open.
    ``any``: met if any child is met, not met if all are not met, otherwise open.
    ``not``: swaps met and not met. ``at_least``: met when n children are met, not met when
    too few could still be met.
    """
    if isinstance(node, AllNode | AnyNode):
        is_all = isinstance(node, AllNode)
        kids = [
            evaluate_rule(c, ctx) for c in (node.all if isinstance(node, AllNode) else node.any)
        ]
        # For `all`, not met decides; for `any`, met decides.
        decisive, other = (
            (Verdict.not_met, Verdict.met) if is_all else (Verdict.met, Verdict.not_met)
        )
        hits = [k for k in kids if k.verdict is decisive]
        if hits:
            return _combine(decisive, kids, hits, _last_change(hits))
        if all(k.verdict is other for k in kids):
            return _combine(other, kids, kids, _first_change(kids))
        undecided = [k for k in kids if k.verdict is not other]
        return _combine(_open(kids), kids, _open_deciding(undecided))
    if isinstance(node, NotNode):
        kid = evaluate_rule(node.not_, ctx)
        flipped = {Verdict.met: Verdict.not_met, Verdict.not_met: Verdict.met}.get(
            kid.verdict, kid.verdict
        )
        return Outcome(flipped, kid.deciding, kid.leaves, kid.changes_on)
    if isinstance(node, AtLeastNode):
        kids = [evaluate_rule(c, ctx) for c in node.at_least.of]
        n = node.at_least.n
        met = [k for k in kids if k.verdict is Verdict.met]
        undecided = [k for k in kids if k.verdict in (Verdict.unknown, Verdict.needs_review)]
        if len(met) >= n:
            return _combine(Verdict.met, kids, met)
        if len(met) + len(undecided) < n:
            return _combine(
                Verdict.not_met, kids, [k for k in kids if k.verdict is Verdict.not_met]
            )
        return _combine(_open(undecided), kids, _open_deciding(undecided))
    name = next(iter(type(node).model_fields))
    evidence = REGISTRY[name].evaluate(getattr(node, name), ctx)
    return Outcome(evidence.verdict, (evidence,), (evidence,), evidence.changes_on)


def describe_rule(node: BaseModel) -> str:
    """A compact one-line rendering of a rule tree, for ``show`` and reports.

    >>> from trialmatch.engine.criteria import Criterion
    >>> describe_rule(Criterion(id="a", text="t", rule={"ecog": {"at_most": 2}}).rule)
    'ecog(at_most=2)'
    """
    if isinstance(node, AllNode):
        return "all(" + ", ".join(describe_rule(c) for c in node.all) + ")"
    if isinstance(node, AnyNode):
        return "any(" + ", ".join(describe_rule(c) for c in node.any) + ")"
    if isinstance(node, NotNode):
        return "not(" + describe_rule(node.not_) + ")"
    if isinstance(node, AtLeastNode):
        inner = ", ".join(describe_rule(c) for c in node.at_least.of)
        return f"at_least({node.at_least.n} of: {inner})"
    name = next(iter(type(node).model_fields))
    args = getattr(node, name).model_dump(exclude_defaults=True, by_alias=True, mode="json")
    parts = ", ".join(f"{k}={_short(v)}" for k, v in args.items())
    return f"{name}({parts})"


def _short(v: object) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_short(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={_short(x)}" for k, x in v.items()) + "}"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def encoding_of(criterion: Criterion) -> str:
    """How a criterion is encoded, as one line."""
    if criterion.rule is not None:
        return describe_rule(criterion.rule)
    return f"needs review: {criterion.manual}"


def join_clauses(sentences: Iterable[str]) -> str:
    """Evidence sentences as one reason, each clause ("; "-separated, outside brackets) once.

    >>> join_clauses(["no status; needs CR", "no status; needs PR (a; b)", "needs CR"])
    'no status; needs CR; needs PR (a; b)'
    """
    clauses: dict[str, None] = {}
    for sentence in sentences:
        depth, start = 0, 0
        for k, ch in enumerate(sentence):
            depth += (ch in "([") - (ch in ")]")
            if depth == 0 and sentence.startswith("; ", k):
                clauses.setdefault(sentence[start:k], None)
                start = k + 2
        clauses.setdefault(sentence[start:], None)
    return "; ".join(c for c in clauses if c)


def evaluate_criterion(
    trial: Trial, kind: Kind, criterion: Criterion, ctx: Context
) -> CriterionResult:
    """Evaluate one criterion, applying a matching attestation to an open verdict."""
    encoding = encoding_of(criterion)
    if criterion.rule is None:
        outcome = Outcome(Verdict.needs_review, (), ())
        reason = criterion.manual or ""
        review_reason: str | None = criterion.manual
    else:
        outcome = evaluate_rule(criterion.rule, ctx)
        reason = join_clauses(e.sentence for e in outcome.deciding) or "no evidence"
        review_reason = (
            "; ".join(e.sentence for e in outcome.deciding if e.verdict is Verdict.needs_review)
            or None
        )
    verdict = outcome.verdict
    missing: tuple[str, ...] = ()
    if verdict is Verdict.unknown:
        missing = tuple(dict.fromkeys(m for e in outcome.deciding for m in e.missing))
    attestation = None
    attestation_used = False
    att = _attestation(ctx.patient, trial.id, criterion.id, ctx.as_of)
    later = [
        a
        for a in ctx.patient.attestations
        if a.trial == trial.id and a.criterion == criterion.id and a.on > ctx.as_of
    ]
    if att is None and later:
        attestation = (
            f"attestation by {later[0].by} on {later[0].on} not used: it is dated after the "
            f"screening date {ctx.as_of}"
        )
    if att is not None:
        if verdict in (Verdict.unknown, Verdict.needs_review):
            attestation_used = True
            verdict = Verdict.met if att.holds else Verdict.not_met
            attestation = (
                f"attested by {att.by} on {att.on}: "
                f"{'holds' if att.holds else 'does not hold'}"
                + (f" ({att.note})" if att.note else "")
            )
            reason = f"{attestation}; data alone: {reason}"
            missing = ()
        else:
            attestation = (
                f"attestation by {att.by} on {att.on} not used: the data decide this criterion"
            )
    return CriterionResult(
        trial_id=trial.id,
        criterion_id=criterion.id,
        kind=kind,
        verdict=verdict,
        reason=reason,
        text=criterion.text,
        encoding=encoding,
        evidence=outcome.leaves,
        missing=missing,
        changes_on=None if attestation_used else outcome.changes_on,
        attestation=attestation,
        review_reason=review_reason,
    )


def _attestation(
    patient: Patient, trial_id: str, criterion_id: str, as_of: dt.date
) -> Attestation | None:
    """The latest attestation of a criterion made on or before the screening date."""
    matches = [
        a
        for a in patient.attestations
        if a.trial == trial_id and a.criterion == criterion_id and a.on <= as_of
    ]
    return max(matches, key=lambda a: a.on) if matches else None


def trial_verdict(results: Sequence[CriterionResult]) -> TrialVerdict:
    """Ineligible if any criterion fails; eligible only if every one is favourable."""
    if any(failing(r.kind, r.verdict) for r in results):
        return TrialVerdict.ineligible
    if all(favourable(r.kind, r.verdict) for r in results):
        return TrialVerdict.eligible
    return TrialVerdict.possibly_eligible


def evaluate_trial(
    loaded: LoadedTrial | Trial, patient: Patient, as_of: dt.date, vocab: Vocabulary | None = None
) -> TrialResult:
    """Evaluate every criterion of a trial for a patient on a screening date.

    >>> # evaluate_trial(load_trial("criteria/NCT01673308.yaml"), patient, date(2026, 11, 21))
    """
    trial = loaded.trial if isinstance(loaded, LoadedTrial) else loaded
    ctx = Context(patient=patient, as_of=as_of, vocab=vocab or Vocabulary.default())
    results = tuple(evaluate_criterion(trial, Kind(kind), c, ctx) for kind, c in trial.criteria)
    counts: Counter[str] = Counter()
    for r in results:
        if favourable(r.kind, r.verdict):
            counts["passed"] += 1
        elif failing(r.kind, r.verdict):
            counts["failed"] += 1
        elif r.verdict is Verdict.unknown:
            counts["unknown"] += 1
        else:
            counts["review"] += 1
    return TrialResult(
        trial_id=trial.id,
        title=trial.title,
        verdict=trial_verdict(results),
        criteria=results,
        criteria_file=loaded.path if isinstance(loaded, LoadedTrial) else None,
        criteria_sha256=loaded.sha256 if isinstance(loaded, LoadedTrial) else None,
        counts={k: counts.get(k, 0) for k in ("passed", "failed", "unknown", "review")},
    )


_RANK = {TrialVerdict.eligible: 0, TrialVerdict.possibly_eligible: 1, TrialVerdict.ineligible: 2}


def rank_results(results: Iterable[TrialResult]) -> list[TrialResult]:
    """Eligible first, then possibly eligible (fewest open items first), then ineligible."""
    return sorted(results, key=lambda r: (_RANK[r.verdict], r.open_items, r.trial_id))


def screen_patient(
    trials: Sequence[LoadedTrial], patient: Patient, as_of: dt.date, vocab: Vocabulary | None = None
) -> list[TrialResult]:
    """Evaluate a patient against several trials, ranked."""
    vocab = vocab or Vocabulary.default()
    return rank_results(evaluate_trial(t, patient, as_of, vocab) for t in trials)


@dataclass(frozen=True)
class DataItem:
    """A missing datum and the criteria (trial/criterion ids) it would help decide."""

    item: str
    criteria: tuple[str, ...]


def data_to_collect(results: Iterable[TrialResult]) -> list[DataItem]:
    """Missing data items ranked by how many unknown criteria across trials name them.

    Ineligible trials are skipped: collecting data for them changes nothing.
    """
    found: dict[str, list[str]] = {}
    for tr in results:
        if tr.verdict is TrialVerdict.ineligible:
            continue
        for c in tr.criteria:
            for m in c.missing:
                found.setdefault(m, []).append(f"{c.trial_id}/{c.criterion_id}")
    items = [DataItem(k, tuple(v)) for k, v in found.items()]
    return sorted(items, key=lambda d: (-len(d.criteria), d.item))
