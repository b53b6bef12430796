"""``transfusion``: red-cell transfusion status relative to a course of a drug."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.patient import (
    NO_RESPONSE_OUTCOMES,
    Therapy,
)
from trialmatch.model.results import Evidence, Verdict
from trialmatch.model.vocab import normalise
from trialmatch.predicates.base import Args, Predicate, Reads, cx, ev, listed, pl
from trialmatch.predicates.context import Context, therapy_label
from trialmatch.predicates.dates import dated_after
from trialmatch.predicates.history import (
    RESPONSE_ORDER,
    drug_key_expr,
    known_and_unresolved_expr,
    outcome_expr,
    responded,
    response_category,
    running_expr,
    started_expr,
)

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class TransfusionArgs(Args):
    """Red-cell transfusion status relative to a course of a drug."""

    status: Literal["dependent", "independent"]
    drug: str
    when: Literal["before_start", "during", "at_end"]

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [(("drug",), "drug", self.drug)]


RED = {"rbc", "red cells", "red blood cells"}


def _course_ti(args: TransfusionArgs, ctx: Context, t: Therapy) -> tuple[bool | None, str]:
    """What a course's own record says of transfusion independence on it (None: nothing):
    ``ti_reached``/``ti_at_end``, and an outcome of no response or progression (no TI) when the
    course records no response. A course ending after the screening date may have reached it
    only after that date."""
    if args.status != "independent" or args.when == "before_start":
        return None, ""
    flag = t.ti_at_end if args.when == "at_end" else t.ti_reached
    if flag is True and dated_after(t.end, ctx.as_of):
        flag = None  # reached on the course, perhaps only after the screening date
    if flag is not None:
        what = "when stopping" if args.when == "at_end" else "on the course"
        return flag, f"transfusion independence {'recorded' if flag else 'not reached'} {what}"
    if args.when == "at_end" and t.ti_reached is False:
        return False, "transfusion independence not reached on the course"
    outcome = ctx.outcome(t)
    if outcome in NO_RESPONSE_OUTCOMES and not responded(t):
        assert outcome is not None
        return False, f"the course ended with {outcome.value.replace('_', ' ')}"
    return None, ""


def eval_transfusion(args: TransfusionArgs, ctx: Context) -> Evidence:
    """RBC transfusion status before, during or at the end of a course of a drug.

    Recorded transfusion periods decide first; then the course's own record (transfusion
    independence reached / held at the end; an outcome of no response or progression means
    none was reached). A course running on the screening date has not ended.
    """
    vocab = ctx.vocab
    wanted = vocab.drug_ids(args.drug) or frozenset()
    name = " + ".join(vocab.drug_name(d) for d in sorted(wanted))
    when = {"before_start": "before starting", "during": "during", "at_end": "when stopping"}[
        args.when
    ]
    want = f"RBC transfusion-{args.status} {when} {name}"
    p = ctx.patient
    therapies, tx_complete = listed(p.therapies)
    if therapies is None:
        return ev(
            "transfusion",
            Verdict.unknown,
            "therapy history not recorded",
            threshold=want,
            missing=("therapy history",),
        )
    courses = [t for t in therapies if ctx.therapy_drugs(t) & wanted and ctx.started(t)]
    if not courses:
        if [t for t in therapies if ctx.started(t) and ctx.unresolved_therapy_terms(t)]:
            return ev(
                "transfusion",
                Verdict.unknown,
                "some therapies are not in the vocabulary",
                threshold=want,
                missing=("therapy detail: drug names",),
            )
        if not tx_complete:
            return ev(
                "transfusion",
                Verdict.unknown,
                f"no course of {name} among the recorded therapies, but the therapy history is "
                "known only in part",
                threshold=want,
                missing=("therapy history (complete)",),
            )
        return ev("transfusion", Verdict.not_met, f"no course of {name} recorded", threshold=want)
    periods_listed, periods_complete = listed(p.transfusions)
    periods = [
        x
        for x in periods_listed or []
        if normalise(x.product) in RED and not dated_after(x.start, ctx.as_of)
    ]
    open_: list[str] = []
    needed: list[str] = []
    settled: list[str] = []
    for t in courses:
        if args.when == "at_end" and ctx.running(t):
            # still on the drug on the screening date: it has not been stopped
            settled.append(f"{therapy_label(t)}: still running on the screening date")
            continue
        own, own_why = _course_ti(args, ctx, t)
        hits: list[Any] = []
        reason = ""
        if periods_listed is None:
            reason = "transfusion history not recorded"
            need = "RBC transfusion history"
        elif t.start is None and args.when != "at_end":
            reason = f"{therapy_label(t)}: start date not recorded"
            need = f"start date of the {name} course"
        elif args.when == "at_end" and t.end is None:
            reason = f"{therapy_label(t)}: end date not recorded"
            need = f"end date of the {name} course"
        else:
            if args.when == "before_start":
                assert t.start is not None
                day = t.start - dt.timedelta(days=1)
                hits = [x for x in periods if x.start <= day and (x.end is None or x.end >= day)]
            elif args.when == "at_end":
                assert t.end is not None
                day = t.end
                hits = [x for x in periods if x.start <= day and (x.end is None or x.end >= day)]
            else:
                assert t.start is not None
                end = t.end if ctx.stopped_by(t) and t.end is not None else ctx.as_of
                start = t.start
                hits = [x for x in periods if x.start <= end and (x.end is None or x.end >= start)]
            reason = f"no transfusion status recorded {when} {therapy_label(t)}"
            need = "RBC transfusion history"
        match = next((x for x in hits if x.status == args.status), None)
        if match is not None:
            return ev(
                "transfusion",
                Verdict.met,
                f"transfusion-{match.status} from {match.start} {when} {therapy_label(t)}",
                observed=f"{match.status} from {match.start}",
                observed_date=match.start,
                threshold=want,
            )
        if hits and (args.when != "during" or periods_complete):
            # Recorded periods decide before the course's own record.
            settled.append(f"{therapy_label(t)}: {hits[0].status} {when} (recorded period)")
            continue
        if own is True:
            return ev(
                "transfusion",
                Verdict.met,
                f"{therapy_label(t)}: {own_why}",
                observed=own_why,
                observed_date=t.end,
                threshold=want,
            )
        if own is False:
            settled.append(f"{therapy_label(t)}: {own_why}")
            continue
        open_.append(reason)
        needed.append(need)
    if not tx_complete:
        open_.append(f"the therapy history is known only in part (another course of {name}?)")
        needed.append("therapy history (complete)")
    if open_:
        return ev(
            "transfusion",
            Verdict.unknown,
            "; ".join(open_),
            threshold=want,
            missing=tuple(dict.fromkeys(needed)),
        )
    detail = f" ({'; '.join(settled)})" if settled else ""
    return ev(
        "transfusion",
        Verdict.not_met,
        f"not transfusion-{args.status} {when} {name}{detail}",
        threshold=want,
    )


def compile_transfusion(args: TransfusionArgs, b: Builder) -> pl.Expr:
    vocab = b.vocab
    wanted = vocab.drug_ids(args.drug) or frozenset()

    def kind(key: str) -> int:
        known, unresolved = known_and_unresolved_expr(vocab, key)
        if known & wanted:
            return MET
        return UNKNOWN if unresolved else NOT_MET

    def live_period(p: int) -> pl.Expr:  # a red-cell period in slot p, started by the date
        is_red = b.mapped(
            b.s("transfusions", p, "product").fill_null("RBC"),
            lambda v: normalise(v) in RED,
            pl.Boolean,
        ).fill_null(False)
        return b.present("transfusions", p) & is_red & ~b.later(b.s("transfusions", p, "start"))

    def hit(k: int, p: int) -> pl.Expr:  # period p covers the moment asked of therapy k
        start, end = b.s("therapies", k, "start"), b.s("therapies", k, "end")
        live = b.shared(("transfusion", "red", p), lambda: live_period(p))
        p_start, p_end = b.s("transfusions", p, "start"), b.s("transfusions", p, "end")
        if args.when == "during":
            stopped = end.is_not_null() & ~b.later(end)
            until = pl.when(stopped).then(end).otherwise(b.day)
            found = live & (p_start <= until) & (p_end.is_null() | (p_end >= start))
        else:
            day = start - pl.duration(days=1) if args.when == "before_start" else end
            found = live & (p_start <= day) & (p_end.is_null() | (p_end >= day))
        return found.fill_null(False)

    def own_record(k: int) -> pl.Expr:  # Int8 or null, as predicates._course_ti
        s = partial(b.s, "therapies", k)
        responded = b.mapped(s("best_response"), _responded_expr, pl.Boolean).fill_null(False)
        no_response = outcome_expr(b, k).is_in([o.value for o in NO_RESPONSE_OUTCOMES]) & ~responded
        none = pl.lit(None, dtype=cx.CODE)
        if args.status != "independent" or args.when == "before_start":
            return none
        flag = s("ti_at_end") if args.when == "at_end" else s("ti_reached")
        # reached on a course ending after the screening date: perhaps only after it
        flag = pl.when(flag.eq(True) & b.later(s("end"))).then(pl.lit(None)).otherwise(flag)
        not_reached = s("ti_reached").eq(False).fill_null(False)
        if args.when != "at_end":
            not_reached = pl.lit(False)
        return (
            pl.when(flag.is_not_null())
            .then(cx.tri(flag.fill_null(False)))
            .when(not_reached)
            .then(cx.lit(NOT_MET))
            .when(no_response.fill_null(False))
            .then(cx.lit(NOT_MET))
            .otherwise(none)
        )

    has_key = ("transfusion", "has", args.drug)
    periods_recorded = b.recorded("transfusions")
    periods_complete = ~b.partial("transfusions")
    course_met, course_open, any_course, any_unresolved = [], [], [], []
    for k in b.ks("therapies"):
        s = partial(b.s, "therapies", k)
        has = b.shared((*has_key, k), partial(b.mapped, drug_key_expr(b, k), kind, cx.CODE))
        course = b.shared((*has_key, "course", k), partial(started_expr(b, k).__and__, has == MET))
        any_course.append(course)
        any_unresolved.append(started_expr(b, k) & (has == UNKNOWN))
        start, end = s("start"), s("end")
        if args.when == "at_end":
            skip = running_expr(b, k)
            dateless = end.is_null()
        else:
            skip = pl.lit(False)
            dateless = start.is_null()
        hits, matches = [], []
        for p in b.ks("transfusions"):
            found = b.shared(("transfusion", "hit", args.when, k, p), partial(hit, k, p))
            hits.append(found)
            status = b.s("transfusions", p, "status")
            matches.append(found & (status == args.status).fill_null(False))
        own = b.shared(("transfusion", "own", args.status, args.when, k), partial(own_record, k))
        considered = course & ~skip
        by_periods = periods_recorded & ~dateless
        period_met = by_periods & cx.any_(matches)
        other_status = by_periods & cx.any_(hits)  # recorded periods decide before the course
        if args.when == "during":
            other_status = other_status & periods_complete
        met_here = period_met | (~other_status & (own == MET).fill_null(False))
        settled = other_status | (own == NOT_MET).fill_null(False)
        course_met.append(considered & met_here)
        course_open.append(considered & ~met_here & ~settled)
    partial_tx = b.partial("therapies")
    return (
        pl.when(~b.recorded("therapies"))
        .then(cx.lit(UNKNOWN))
        .when(~cx.any_(any_course))
        .then(
            pl.when(cx.any_(any_unresolved) | partial_tx)
            .then(cx.lit(UNKNOWN))
            .otherwise(cx.lit(NOT_MET))
        )
        .when(cx.any_(course_met))
        .then(cx.lit(MET))
        .when(cx.any_(course_open) | partial_tx)
        .then(cx.lit(UNKNOWN))
        .otherwise(cx.lit(NOT_MET))
    )


def _responded_expr(best: str) -> bool:
    """:func:`responded` of a course's best response."""
    cat = response_category(best)
    return cat is None or RESPONSE_ORDER[cat] > RESPONSE_ORDER["SD"]


PREDICATES = (
    Predicate(
        "transfusion",
        TransfusionArgs,
        eval_transfusion,
        compile_transfusion,
        reads=Reads(lists=("transfusions", "therapies")),
    ),
)
