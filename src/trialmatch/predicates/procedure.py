"""``procedure``: a recorded procedure of a given type (and conditioning)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Literal

from trialmatch.model.patient import Procedure
from trialmatch.model.results import Evidence, Verdict
from trialmatch.model.vocab import normalise
from trialmatch.predicates.base import (
    Args,
    Open,
    Predicate,
    Reads,
    cx,
    ev,
    first_match,
    listed,
    not_found,
    pl,
    seen_items,
)
from trialmatch.predicates.context import Context
from trialmatch.predicates.dates import dated_after

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class ProcedureArgs(Args):
    """A recorded procedure of a given type (and conditioning)."""

    type: Literal["autologous_sct", "allogeneic_sct"]
    conditioning_in: list[str] | None = None


_PROCEDURE_TYPES = {
    "autologous_sct": {
        "autologous sct",
        "autologous stem cell transplant",
        "auto sct",
        "autologous stem cell transplantation",
        "asct",
        "auto hsct",
        "autologous hsct",
        "autologous_sct",
    },
    "allogeneic_sct": {
        "allogeneic sct",
        "allogeneic stem cell transplant",
        "allo sct",
        "allogeneic stem cell transplantation",
        "allo hsct",
        "allogeneic hsct",
        "allogeneic_sct",
    },
}


def procedure_type(term: str) -> str | None:
    """The canonical procedure type of a term, or None."""
    key = normalise(term)
    return next(
        (k for k, names in _PROCEDURE_TYPES.items() if key in {normalise(n) for n in names}), None
    )


def eval_procedure(args: ProcedureArgs, ctx: Context) -> Evidence:
    """A recorded procedure of the given type (and conditioning)."""
    want = args.type.replace("_", " ")
    if args.conditioning_in:
        want += f" with {' or '.join(args.conditioning_in)} conditioning"
    items, complete = listed(ctx.patient.procedures)
    if items is None:
        return ev(
            "procedure",
            Verdict.unknown,
            "procedures not recorded",
            threshold=want,
            missing=("procedures (transplants)",),
        )

    def judge(pr: Procedure) -> Evidence | Open | None:
        if dated_after(pr.date, ctx.as_of):
            return None
        kind = procedure_type(pr.type)
        if kind is None:  # a term trialmatch does not know: it may be the one asked for
            return Open(
                f"{pr.type}: not a procedure type trialmatch knows",
                f"procedure type in the vocabulary (not {pr.type!r})",
            )
        if kind != args.type:
            return None
        if args.conditioning_in:
            if pr.conditioning is None:
                return Open(f"{pr.type}: conditioning not recorded", "transplant conditioning")
            if normalise(pr.conditioning) not in {normalise(c) for c in args.conditioning_in}:
                return None
        return ev(
            "procedure",
            Verdict.met,
            f"{pr.type} on {pr.date or 'undated'}",
            observed=pr.type,
            observed_date=pr.date,
            threshold=want,
        )

    def undecided(opens: list[Open]) -> Evidence:
        return ev(
            "procedure",
            Verdict.unknown,
            "; ".join(o.reason for o in opens),
            threshold=want,
            missing=tuple(dict.fromkeys(o.missing for o in opens)),
        )

    def none_found() -> Evidence:
        seen = seen_items(items, lambda p: p.type, ctx.as_of)
        return not_found(
            "procedure",
            want,
            complete,
            seen,
            what="procedure history",
            recorded=f"procedures recorded: {seen}",
        )

    return first_match(items, judge, undecided, none_found)


def compile_procedure(args: ProcedureArgs, b: Builder) -> pl.Expr:
    wanted = {normalise(c) for c in args.conditioning_in or []}
    met, open_ = [], []
    for k in b.ks("procedures"):
        s = partial(b.s, "procedures", k)
        is_type = b.mapped(s("type"), lambda t: procedure_type(t) == args.type, pl.Boolean)
        unknown_type = b.mapped(s("type"), lambda t: procedure_type(t) is None, pl.Boolean)
        before = b.present("procedures", k) & ~((s("date") > b.day).fill_null(False))
        counts = before & is_type.fill_null(False)
        open_.append(before & unknown_type.fill_null(False))  # a type trialmatch does not know
        if args.conditioning_in:
            cond_ok = b.mapped(s("conditioning"), lambda c: normalise(c) in wanted, pl.Boolean)
            met.append(counts & cond_ok.fill_null(False))
            open_.append(counts & s("conditioning").is_null())
        else:
            met.append(counts)
    return cx.combine_items(b.recorded("procedures"), met, open_, b.partial("procedures"))


PREDICATES = (
    Predicate(
        "procedure",
        ProcedureArgs,
        eval_procedure,
        compile_procedure,
        reads=Reads(lists=("procedures",)),
    ),
)
