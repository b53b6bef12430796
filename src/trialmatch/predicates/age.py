"""``age``: age in whole years at the screening date (from the birth date, or a recorded age)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trialmatch.columnar.codes import UNKNOWN
from trialmatch.model.results import Evidence, Verdict
from trialmatch.predicates.base import Bounds, Predicate, Reads, cx, ev, pl, tri
from trialmatch.predicates.context import Context
from trialmatch.predicates.dates import add_years, age_on

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class AgeArgs(Bounds):
    """Age in whole years at the screening date."""


def eval_age(args: AgeArgs, ctx: Context) -> Evidence:
    """Age at the screening date, from the birth date (or the recorded age)."""
    p = ctx.patient
    want = args.describe("years")
    if p.birth_date is not None and p.birth_date > ctx.as_of:
        return ev(
            "age",
            Verdict.unknown,
            f"birth date {p.birth_date} is after the screening date {ctx.as_of}",
            threshold=want,
            missing=("birth date (correct)",),
        )
    if p.birth_date is not None:
        age = age_on(p.birth_date, ctx.as_of)
        ok = args.holds(age)
        changes = None
        for years in range(age + 1, 131):
            if args.holds(years) != ok:
                changes = add_years(p.birth_date, years)
                break
        return ev(
            "age",
            tri(ok),
            f"age {age} on {ctx.as_of} (born {p.birth_date}); needs {want}",
            observed=f"{age} years",
            threshold=want,
            changes_on=changes,
        )
    if p.age is not None:
        ok = args.holds(p.age)
        return ev(
            "age",
            tri(ok),
            f"recorded age {p.age}; needs {want}",
            observed=f"{p.age} years (recorded, no birth date)",
            threshold=want,
        )
    return ev(
        "age",
        Verdict.unknown,
        f"no birth date or age recorded; needs {want}",
        threshold=want,
        missing=("birth date or age",),
    )


def age_years_expr(b: Builder) -> pl.Expr:
    bd = b.c("birth_date", "date")
    m, d = b.as_of.month, b.as_of.day
    later = (bd.dt.month() > m) | ((bd.dt.month() == m) & (bd.dt.day() > d))
    return pl.lit(b.as_of.year) - bd.dt.year().cast(pl.Int64) - later.cast(pl.Int64)


def compile_age(args: AgeArgs, b: Builder) -> pl.Expr:
    bd, age = b.c("birth_date", "date"), b.c("age", "int")
    return (
        pl.when(bd.is_not_null() & (bd > b.day))
        .then(cx.lit(UNKNOWN))
        .when(bd.is_not_null())
        .then(cx.tri(cx.bounds(args, age_years_expr(b))))
        .when(age.is_not_null())
        .then(cx.tri(cx.bounds(args, age)))
        .otherwise(cx.lit(UNKNOWN))
    )


PREDICATES = (
    Predicate("age", AgeArgs, eval_age, compile_age, reads=Reads(scalars=("birth_date", "age"))),
)
