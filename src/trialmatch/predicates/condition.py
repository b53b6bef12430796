"""``condition``: a current comorbidity (or a subtype) with a status in the accepted ones."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from pydantic import Field

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.results import Evidence, Verdict
from trialmatch.predicates.base import (
    Args,
    Predicate,
    Reads,
    StatusName,
    cx,
    ev,
    later_clause,
    listed,
    pl,
)
from trialmatch.predicates.context import Context
from trialmatch.predicates.dates import dated_after

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


_ALL_STATUSES: tuple[StatusName, ...] = (
    "active",
    "controlled",
    "uncontrolled",
    "resolved",
    "history",
)


class ConditionArgs(Args):
    """The patient has one of ``any_of`` (or a subtype) with a status in ``status_in``."""

    any_of: list[str] = Field(min_length=1)
    status_in: list[StatusName] = Field(default_factory=lambda: list(_ALL_STATUSES))

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [(("any_of", i), "condition", c) for i, c in enumerate(self.any_of)]


ANY_PRESENT = ("active", "controlled", "uncontrolled", "resolved", "history")


def eval_condition(args: ConditionArgs, ctx: Context) -> Evidence:
    """The patient has one of the conditions (or a subtype) with one of the statuses.

    A condition listed without a status is present in some status not recorded: it meets a
    criterion that accepts every status, and is unknown for one asking for some statuses. A
    list known only in part decides "not met" only for conditions it records (with a status,
    or as absent, directly or through a broader condition).
    """
    vocab = ctx.vocab
    targets = [vocab.condition_id(c) or c for c in args.any_of]
    names = " or ".join(vocab.condition_name(t) for t in targets)
    every = set(args.status_in) >= set(ANY_PRESENT)
    want = names if every else f"{names} ({'/'.join(args.status_in)})"  # any status: no list
    conditions, complete = listed(ctx.patient.conditions)
    if conditions is None:
        return ev(
            "condition",
            Verdict.unknown,
            f"other conditions not recorded; looking for {want}",
            threshold=want,
            missing=(f"{names} status (problem list)",),
        )
    unknown: list[str] = []
    others: list[str] = []
    later: list[str] = []
    settled: set[str] = set()
    every_status = every
    for c in conditions:
        if dated_after(c.since, ctx.as_of):
            later.append(f"{c.condition} (since {c.since})")
            continue
        cid = vocab.condition_id(c.condition)
        if cid is None:
            unknown.append(f"{c.condition!r} is not in the vocabulary")
            continue
        status = c.status.value if c.status is not None else None
        for t in targets:
            negative = status == "absent" and vocab.condition_is_a(t, cid)
            other = cid == t and status not in (None, "unknown") and status not in args.status_in
            if negative or other:
                settled.add(t)
        if not any(vocab.condition_is_a(cid, t) for t in targets):
            continue
        shown = f"{c.condition} ({status or 'status not recorded'})"
        if status is None and every_status:
            return ev(
                "condition",
                Verdict.met,
                f"{c.condition} recorded (any status counts)",
                observed=shown,
                observed_date=c.since,
                threshold=want,
            )
        if status is None:
            unknown.append(f"{c.condition}: status not recorded")
        elif status == "unknown":
            unknown.append(f"{c.condition}: status unknown")
        elif status in args.status_in:
            return ev(
                "condition",
                Verdict.met,
                f"{shown} recorded",
                observed=shown,
                observed_date=c.since,
                threshold=want,
            )
        else:
            others.append(shown)
    if unknown:
        return ev(
            "condition",
            Verdict.unknown,
            f"cannot rule out {names}: {'; '.join(unknown)}",
            threshold=want,
            missing=tuple(f"condition: {u}" for u in unknown[:3]),
        )
    seen = ", ".join(others) if others else f"no {names} on the problem list"
    if not complete and not all(t in settled for t in targets):
        open_names = " or ".join(vocab.condition_name(t) for t in targets if t not in settled)
        recorded = f"records {', '.join(others)} but " if others else ""
        return ev(
            "condition",
            Verdict.unknown,
            f"the problem list is known only in part: it {recorded}does not say whether there is "
            f"{'any other ' if others else 'any '}{open_names}",
            observed=", ".join(others) or None,
            threshold=want,
            missing=(f"{open_names} status (problem list)",),
        )
    return ev(
        "condition",
        Verdict.not_met,
        seen + later_clause(later, ctx.as_of),
        observed=seen,
        threshold=want,
    )


def compile_condition(args: ConditionArgs, b: Builder) -> pl.Expr:
    vocab = b.vocab
    targets = [vocab.condition_id(c) or c for c in args.any_of]
    every_status = set(args.status_in) >= set(ANY_PRESENT)

    def kind(name: str) -> int:
        cid = vocab.condition_id(name)
        if cid is None:
            return UNKNOWN
        return MET if any(vocab.condition_is_a(cid, t) for t in targets) else NOT_MET

    def relation(target: str, name: str) -> int:  # 1: the target, 2: broader than it, 0: other
        cid = vocab.condition_id(name)
        if cid is None or not vocab.condition_is_a(target, cid):
            return 0
        return 1 if cid == target else 2

    met, open_ = [], []
    settled: dict[str, list[pl.Expr]] = {t: [] for t in targets}
    for k in b.ks("conditions"):
        name = b.s("conditions", k, "name")
        cat = b.mapped(name, kind, cx.CODE)
        status = b.s("conditions", k, "status")
        since = b.s("conditions", k, "since")
        present = b.shared(
            ("condition", "now", k), partial(b.present("conditions", k).__and__, ~b.later(since))
        )
        no_status = status.is_null()
        accepted = status.is_in(list(args.status_in)).fill_null(False)
        if every_status:
            accepted = accepted | no_status
        met.append(present & (cat == MET) & accepted)
        unsure = (status == "unknown").fill_null(False)
        if not every_status:
            unsure = unsure | no_status
        open_.append(present & ((cat == UNKNOWN) | ((cat == MET) & unsure)))
        for t in targets:
            rel = b.mapped(name, partial(relation, t), cx.CODE)
            decided = status.is_not_null() & (status != "unknown") & ~accepted
            settled[t].append(
                present & (((rel == 1) & decided) | ((rel >= 1) & (status == "absent")))
            )
    open_list = b.partial("conditions") & ~cx.all_([cx.any_(v) for v in settled.values()])
    return cx.combine_items(b.recorded("conditions"), met, open_, open_list)


PREDICATES = (
    Predicate(
        "condition",
        ConditionArgs,
        eval_condition,
        compile_condition,
        reads=Reads(lists=("conditions",)),
    ),
)
