"""``pregnancy`` (pregnant and/or breastfeeding) and ``childbearing_potential``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, StrictBool

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.patient import (
    Sex,
)
from trialmatch.model.results import Evidence, Verdict
from trialmatch.predicates.base import Args, Predicate, Reads, cx, ev, pl, tri
from trialmatch.predicates.context import Context

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class PregnancyArgs(Args):
    """The patient is pregnant and/or breastfeeding (whichever states are listed)."""

    states: list[Literal["pregnant", "breastfeeding"]] = Field(min_length=1)


class ChildbearingArgs(Args):
    """The patient is (``is: true``) or is not of childbearing potential."""

    is_: StrictBool = Field(alias="is")


def eval_pregnancy(args: PregnancyArgs, ctx: Context) -> Evidence:
    """Pregnant and/or breastfeeding; male patients are neither."""
    p = ctx.patient
    want = " or ".join(args.states)
    if p.sex is Sex.male:
        return ev(
            "pregnancy",
            Verdict.not_met,
            f"male patient: not {want}",
            observed="male",
            threshold=want,
        )
    values = {"pregnant": p.pregnant, "breastfeeding": p.breastfeeding}
    yes = [s for s in args.states if values[s] is True]
    if yes:
        return ev(
            "pregnancy",
            Verdict.met,
            f"recorded as {' and '.join(yes)}",
            observed=", ".join(yes),
            threshold=want,
        )
    unknown = [s for s in args.states if values[s] is None]
    if unknown:
        return ev(
            "pregnancy",
            Verdict.unknown,
            f"{' and '.join(unknown)} status not recorded",
            threshold=want,
            missing=tuple(f"{s} status" for s in unknown),
        )
    return ev(
        "pregnancy",
        Verdict.not_met,
        f"recorded as not {want}",
        observed=f"not {want}",
        threshold=want,
    )


def eval_childbearing(args: ChildbearingArgs, ctx: Context) -> Evidence:
    """Whether the patient is of childbearing potential."""
    value = ctx.patient.childbearing_potential
    want = "of childbearing potential" if args.is_ else "not of childbearing potential"
    if value is None:
        return ev(
            "childbearing_potential",
            Verdict.unknown,
            "childbearing potential not recorded",
            threshold=want,
            missing=("childbearing potential",),
        )
    seen = "of childbearing potential" if value else "not of childbearing potential"
    return ev(
        "childbearing_potential",
        tri(value == args.is_),
        f"recorded as {seen}",
        observed=seen,
        threshold=want,
    )


def compile_pregnancy(args: PregnancyArgs, b: Builder) -> pl.Expr:
    values = {"pregnant": b.c("pregnant", "bool"), "breastfeeding": b.c("breastfeeding", "bool")}
    yes = cx.any_([values[s].eq(True) for s in args.states])
    unknown = cx.any_([values[s].is_null() for s in args.states])
    return (
        pl.when((b.c("sex") == "male").fill_null(False))
        .then(cx.lit(NOT_MET))
        .when(yes)
        .then(cx.lit(MET))
        .when(unknown)
        .then(cx.lit(UNKNOWN))
        .otherwise(cx.lit(NOT_MET))
    )


def compile_childbearing(args: ChildbearingArgs, b: Builder) -> pl.Expr:
    v = b.c("childbearing_potential", "bool")
    return pl.when(v.is_null()).then(cx.lit(UNKNOWN)).otherwise(cx.tri(v == args.is_))


PREDICATES = (
    Predicate(
        "pregnancy",
        PregnancyArgs,
        eval_pregnancy,
        compile_pregnancy,
        reads=Reads(scalars=("sex", "pregnant", "breastfeeding")),
    ),
    Predicate(
        "childbearing_potential",
        ChildbearingArgs,
        eval_childbearing,
        compile_childbearing,
        reads=Reads(scalars=("childbearing_potential",)),
    ),
)
