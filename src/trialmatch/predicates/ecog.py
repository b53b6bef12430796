"""``ecog``: ECOG performance status within bounds, optionally no older than a number of days."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from trialmatch.columnar.codes import UNKNOWN
from trialmatch.model.results import Evidence, Verdict
from trialmatch.predicates.base import (
    MAX_DAYS,
    Bounds,
    Predicate,
    Reads,
    cx,
    ev,
    pl,
    stale_reason,
    tri,
)
from trialmatch.predicates.context import Context

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class EcogArgs(Bounds):
    """ECOG performance status within bounds; optionally no older than ``max_age_days``."""

    max_age_days: int | None = Field(None, ge=0, le=MAX_DAYS)


def eval_ecog(args: EcogArgs, ctx: Context) -> Evidence:
    """ECOG performance status within bounds."""
    want = f"ECOG {args.describe()}"
    e = ctx.patient.ecog
    if e is None:
        return ev(
            "ecog",
            Verdict.unknown,
            f"ECOG not recorded; needs {want}",
            threshold=want,
            missing=("ECOG performance status",),
        )
    if e.date is not None and e.date > ctx.as_of:
        return ev(
            "ecog",
            Verdict.unknown,
            f"ECOG dated {e.date}, after the screening date",
            threshold=want,
            missing=("ECOG performance status",),
        )
    stale = stale_reason(e.date, args.max_age_days, ctx.as_of)
    if stale:
        return ev(
            "ecog",
            Verdict.unknown,
            f"ECOG {e.value} is stale ({stale})",
            observed=f"ECOG {e.value}",
            observed_date=e.date,
            threshold=want,
            missing=("ECOG performance status (recent)",),
        )
    return ev(
        "ecog",
        tri(args.holds(e.value)),
        f"ECOG {e.value}; needs {want}",
        observed=f"ECOG {e.value}",
        observed_date=e.date,
        threshold=want,
    )


def compile_ecog(args: EcogArgs, b: Builder) -> pl.Expr:
    v, d = b.c("ecog", "int"), b.c("ecog_date", "date")
    return (
        pl.when(v.is_null())
        .then(cx.lit(UNKNOWN))
        .when((d > b.day).fill_null(False))
        .then(cx.lit(UNKNOWN))
        .when(cx.stale(d, args.max_age_days, b))
        .then(cx.lit(UNKNOWN))
        .otherwise(cx.tri(cx.bounds(args, v)))
    )


PREDICATES = (
    Predicate(
        "ecog", EcogArgs, eval_ecog, compile_ecog, reads=Reads(scalars=("ecog", "ecog_date"))
    ),
)
