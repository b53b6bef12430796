"""``prior_malignancy``: a prior malignancy, other than the exceptions, that is recent."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import TYPE_CHECKING, Literal

from pydantic import Field, StrictBool

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.numbers import fmt
from trialmatch.model.results import Evidence, Verdict
from trialmatch.predicates.base import (
    MAX_YEARS,
    Args,
    Predicate,
    Reads,
    cx,
    ev,
    later_clause,
    listed,
    not_found,
    pl,
)
from trialmatch.predicates.context import Context
from trialmatch.predicates.dates import add_span, dated_after

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


Measure = Literal["disease_free", "diagnosis_or_treatment"]


class PriorMalignancyArgs(Args):
    """Some prior malignancy (other than the exceptions) is recent.

    ``measure: disease_free``: recent unless disease-free for the span (and, with
    ``require_curative_intent``, treated with curative intent). ``measure:
    diagnosis_or_treatment``: diagnosed or treated within the span. ``elapsed`` says whether
    clearing needs at least or more than ``years`` to have passed.
    """

    years: float = Field(gt=0, le=MAX_YEARS, allow_inf_nan=False)
    measure: Measure
    elapsed: Literal["at_least", "more_than"] = "at_least"
    require_curative_intent: StrictBool = False
    except_conditions: list[str] = Field(default_factory=list)
    exception_requires_curative_treatment: StrictBool = False

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [
            (("except_conditions", i), "condition", c) for i, c in enumerate(self.except_conditions)
        ]


def eval_prior_malignancy(args: PriorMalignancyArgs, ctx: Context) -> Evidence:
    """Some prior malignancy, other than the exceptions, is recent (met = excluded-style).

    A cancer still inside its window is recent whatever its treatment intent; intent matters
    for an excepted condition, and once the window has passed. A malignancy diagnosed after the
    screening date is ignored; a disease-free or treatment date after it means the patient was
    not yet disease-free (or still treated) on it.
    """
    vocab = ctx.vocab
    span = f"{fmt(args.years)} years"
    if args.measure == "disease_free":
        want = f"a prior malignancy not disease-free for {args.elapsed.replace('_', ' ')} {span}"
        if args.require_curative_intent:
            want += " after curative-intent therapy"
    else:
        want = f"a prior malignancy diagnosed or treated within {span}"
    excepted = [vocab.condition_id(c) or c for c in args.except_conditions]
    if excepted:
        names = ", ".join(vocab.condition_name(c) for c in excepted)
        cur = " (curatively treated)" if args.exception_requires_curative_treatment else ""
        want += f", except {names}{cur}"
    items, complete = listed(ctx.patient.prior_malignancies)
    if items is None:
        return ev(
            "prior_malignancy",
            Verdict.unknown,
            "prior malignancies not recorded",
            threshold=want,
            missing=("prior malignancy history",),
        )
    recent: list[tuple[str, dt.date | None]] = []
    unknown: list[str] = []
    clear: list[str] = []
    later: list[str] = []

    def when(day: dt.date) -> str:
        return f"{day} (after the screening date)" if day > ctx.as_of else str(day)

    for m in items:
        cid = vocab.condition_id(m.condition)
        label = m.condition
        if dated_after(m.diagnosed, ctx.as_of):
            later.append(f"{label} ({m.diagnosed})")
            continue
        if excepted:
            if cid is None:
                unknown.append(f"{label!r} is not in the vocabulary (is it an exception?)")
                continue
            if any(vocab.condition_is_a(cid, e) for e in excepted):
                if not args.exception_requires_curative_treatment or m.curative_intent is True:
                    clear.append(f"{label} (excepted)")
                    continue
                if m.curative_intent is None:
                    unknown.append(f"{label}: whether curatively treated is not recorded")
                    continue
        if args.measure == "disease_free":
            if args.require_curative_intent and m.curative_intent is False:
                recent.append((f"{label}: not treated with curative intent", None))
                continue
            if m.disease_free_since is None:
                if m.in_remission is False:
                    recent.append((f"{label}: not disease-free", None))
                else:
                    unknown.append(f"{label}: disease-free date not recorded")
                continue
            event = m.disease_free_since
            clears_on = _clears_on(event, args)
            if ctx.as_of < clears_on:
                # Once the window passes, an unrecorded intent leaves it unknown, not clear.
                intent_open = args.require_curative_intent and m.curative_intent is None
                until = None if intent_open else clears_on
                recent.append((f"{label}: disease-free since {when(event)}", until))
            elif args.require_curative_intent and m.curative_intent is None:
                unknown.append(
                    f"{label}: disease-free since {event}, but whether the therapy had curative "
                    "intent is not recorded"
                )
            else:
                clear.append(f"{label}: disease-free since {event}")
            continue
        dates = [d for d in (m.diagnosed, m.last_treatment) if d is not None]
        if not dates:
            unknown.append(f"{label}: diagnosis and treatment dates not recorded")
            continue
        if m.last_treatment is None and m.diagnosed is not None:
            # Treatment date unknown: only decidable if diagnosis is itself recent.
            event = m.diagnosed
            if not _is_recent(event, args, ctx.as_of):
                unknown.append(f"{label}: last treatment date not recorded")
                continue
        else:
            event = max(dates)
        clears_on = _clears_on(event, args)
        if ctx.as_of < clears_on:
            recent.append((f"{label}: last diagnosed/treated {when(event)}", clears_on))
        else:
            clear.append(f"{label}: last diagnosed/treated {event}")
    if recent:
        ends = [d for _, d in recent if d is not None]
        changes = max(ends) if len(ends) == len(recent) else None
        return ev(
            "prior_malignancy",
            Verdict.met,
            "; ".join(r for r, _ in recent),
            observed="; ".join(r for r, _ in recent),
            threshold=want,
            changes_on=changes if not unknown else None,
        )
    if unknown:
        return ev(
            "prior_malignancy",
            Verdict.unknown,
            "; ".join(unknown),
            threshold=want,
            missing=tuple(f"prior malignancy: {u}" for u in unknown[:3]),
        )
    seen = "; ".join(clear) if clear else "none"
    if not complete:
        return not_found("prior_malignancy", want, complete, seen, what="prior malignancy history")
    return ev(
        "prior_malignancy",
        Verdict.not_met,
        f"prior malignancies: {seen}{later_clause(later, ctx.as_of)}",
        observed=seen,
        threshold=want,
    )


def _clears_on(event: dt.date, args: PriorMalignancyArgs) -> dt.date:
    """First screening date on which an event no longer counts as recent."""
    boundary = add_span(event, args.years)
    return boundary if args.elapsed == "at_least" else boundary + dt.timedelta(days=1)


def _is_recent(event: dt.date, args: PriorMalignancyArgs, as_of: dt.date) -> bool:
    return as_of < _clears_on(event, args)


def _malignancy_items_expr(
    args: PriorMalignancyArgs, b: Builder, k: int
) -> tuple[pl.Expr, pl.Expr]:
    """(recent, open) for prior malignancy slot k, before exceptions (shared columns: the
    same measure and period give the same answer in every criterion that asks)."""
    whole = int(args.years // 1)
    extra_days = round((args.years - whole) * 365.25) if args.years != whole else 0
    shift = 1 if args.elapsed == "more_than" else 0
    s = partial(b.s, "prior_malignancies", k)
    curative = s("curative_intent")

    def clears_on(event: pl.Expr) -> pl.Expr:
        moved = event.dt.offset_by(f"{whole}y")
        feb29 = (event.dt.month() == 2) & (event.dt.day() == 29)
        moved = (
            pl.when(feb29 & (moved.dt.day() == 28))
            .then(moved + pl.duration(days=1))
            .otherwise(moved)
        )  # 29 Feb -> 1 Mar, as add_years
        return moved + pl.duration(days=extra_days + shift)

    def within(event: pl.Expr) -> pl.Expr:
        key = ("malignancy", "within", args.measure, whole, extra_days + shift, k)
        return b.shared(key, lambda: (b.day < clears_on(event)).fill_null(False))

    if args.measure == "disease_free":
        # Inside the window: recent whatever the intent; past it, intent decides (if asked).
        dfs = s("disease_free_since")
        not_curative = pl.lit(args.require_curative_intent) & curative.eq(False)
        recent_now = not_curative.fill_null(False) | (
            dfs.is_null() & s("in_remission").eq(False).fill_null(False)
        )
        inside = dfs.is_not_null() & within(dfs)
        intent_open = pl.lit(args.require_curative_intent) & curative.is_null()
        open_here = dfs.is_null() | (dfs.is_not_null() & ~inside & intent_open)
        return recent_now | inside, ~recent_now & open_here
    dx, tr = s("diagnosed"), s("last_treatment")
    no_dates = dx.is_null() & tr.is_null()
    event = pl.when(tr.is_null()).then(dx).otherwise(pl.max_horizontal(dx, tr))
    only_dx = tr.is_null() & dx.is_not_null()
    return ~no_dates & within(event), no_dates | (only_dx & ~within(event))


def compile_prior_malignancy(args: PriorMalignancyArgs, b: Builder) -> pl.Expr:
    vocab = b.vocab
    excepted = [vocab.condition_id(c) or c for c in args.except_conditions]

    def exception(name: str) -> int:  # MET: excepted, NOT_MET: not, UNKNOWN: unresolved
        if not excepted:
            return NOT_MET
        cid = vocab.condition_id(name)
        if cid is None:
            return UNKNOWN
        return MET if any(vocab.condition_is_a(cid, e) for e in excepted) else NOT_MET

    met, open_ = [], []
    for k in b.ks("prior_malignancies"):
        s = partial(b.s, "prior_malignancies", k)
        present = b.present("prior_malignancies", k) & ~b.later(s("diagnosed"))
        exc = b.mapped(s("condition"), exception, cx.CODE)
        curative = s("curative_intent")
        # Exception handling, as in the reference: unresolved -> open; excepted -> clear
        # (unless it must be curative and is not known to be).
        exc_open = (exc == UNKNOWN) | (
            (exc == MET) & pl.lit(args.exception_requires_curative_treatment) & curative.is_null()
        )
        exc_clear = (exc == MET) & (
            pl.lit(not args.exception_requires_curative_treatment) | curative.eq(True)
        )
        item_met, item_open = _malignancy_items_expr(args, b, k)
        decided_by_exception = exc_open.fill_null(False) | exc_clear.fill_null(False)
        met.append(present & ~decided_by_exception & item_met)
        open_.append(present & (exc_open.fill_null(False) | (~decided_by_exception & item_open)))
    return cx.combine_items(
        b.recorded("prior_malignancies"), met, open_, b.partial("prior_malignancies")
    )


PREDICATES = (
    Predicate(
        "prior_malignancy",
        PriorMalignancyArgs,
        eval_prior_malignancy,
        compile_prior_malignancy,
        reads=Reads(lists=("prior_malignancies",)),
    ),
)
