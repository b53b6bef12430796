"""``review``: a part only a person can judge (always needs review)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from trialmatch.columnar.codes import REVIEW
from trialmatch.model.results import Evidence, Verdict
from trialmatch.predicates.base import Args, Predicate, cx, ev, pl
from trialmatch.predicates.context import Context

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class ReviewArgs(Args):
    """A part only a person can judge."""

    reason: str = Field(min_length=3)


def eval_review(args: ReviewArgs, ctx: Context) -> Evidence:
    """Always needs a person's judgement."""
    return ev("review", Verdict.needs_review, args.reason)


def compile_review(args: ReviewArgs, b: Builder) -> pl.Expr:
    return cx.lit(REVIEW)


PREDICATES = (Predicate("review", ReviewArgs, eval_review, compile_review),)
