"""``sex``: the patient's sex is one of the given ones."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from trialmatch.columnar.codes import UNKNOWN
from trialmatch.model.patient import (
    Sex,
)
from trialmatch.model.results import Evidence, Verdict
from trialmatch.predicates.base import Args, Predicate, Reads, cx, ev, pl, tri
from trialmatch.predicates.context import Context

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class SexArgs(Args):
    """The patient's sex is one of these."""

    one_of: list[Sex] = Field(min_length=1)


def eval_sex(args: SexArgs, ctx: Context) -> Evidence:
    """Sex is one of the listed values."""
    want = " or ".join(s.value for s in args.one_of)
    if ctx.patient.sex is None:
        return ev(
            "sex",
            Verdict.unknown,
            f"sex not recorded; needs {want}",
            threshold=want,
            missing=("sex",),
        )
    sex = ctx.patient.sex
    return ev(
        "sex",
        tri(sex in args.one_of),
        f"sex {sex.value}; needs {want}",
        observed=sex.value,
        threshold=want,
    )


def compile_sex(args: SexArgs, b: Builder) -> pl.Expr:
    sex = b.c("sex")
    return (
        pl.when(sex.is_null())
        .then(cx.lit(UNKNOWN))
        .otherwise(cx.tri(sex.is_in([s.value for s in args.one_of])))
    )


PREDICATES = (Predicate("sex", SexArgs, eval_sex, compile_sex, reads=Reads(scalars=("sex",))),)
