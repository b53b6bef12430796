"""Polars expression helpers every leaf compiler uses: code literals, exact bounds, list
semantics (met / open / not met over a list's items), unambiguous string keys, and the Kleene
combinators over verdict codes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import polars as pl

from trialmatch.columnar.codes import MET, NOT_MET, REVIEW, UNKNOWN
from trialmatch.columnar.typed import KIND_DTYPE as KIND_DTYPE
from trialmatch.columnar.typed import lab_col as lab_col
from trialmatch.model.csvlayout import LIST_SEP
from trialmatch.model.numbers import threshold

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class Bounded(Protocol):
    """Arguments with numeric bounds (:class:`trialmatch.predicates.base.Bounds`)."""

    def bounds(self) -> list[tuple[str, float]]: ...

CODE = pl.Int8


def lit(code: int) -> pl.Expr:
    """A verdict code literal."""
    return pl.lit(code, dtype=CODE)


def key(*exprs: pl.Expr) -> pl.Expr:
    """An unambiguous string key for several (nullable) string columns: each part is written
    as ``<length>:<text>`` or ``~`` for null, so no cell content can shift the others."""
    parts = []
    for e in exprs:
        text = e.cast(pl.Utf8)
        parts.append(
            pl.when(text.is_null())
            .then(pl.lit("~"))
            .otherwise(pl.format("{}:{}", text.str.len_chars(), text))
        )
    return pl.concat_str(parts)


def split(key: str, n: int) -> list[str | None]:
    """The parts of a :func:`key`."""
    out: list[str | None] = []
    i = 0
    while i < len(key) and len(out) < n:
        if key[i] == "~":
            out.append(None)
            i += 1
            continue
        colon = key.index(":", i)
        length = int(key[i:colon])
        out.append(key[colon + 1 : colon + 1 + length])
        i = colon + 1 + length
    return out


def items(text: str | None) -> list[str]:
    return [x.strip() for x in text.split(LIST_SEP)] if text else []


def bounds(args: Bounded, x: pl.Expr) -> pl.Expr:
    """Boolean: x within every bound, compared with the reference's exact thresholds."""
    ops = {"≥": x.__ge__, "≤": x.__le__, ">": x.__gt__, "<": x.__lt__}
    return pl.all_horizontal([ops[sym](pl.lit(threshold(sym, v))) for sym, v in args.bounds()])


def tri(ok: pl.Expr) -> pl.Expr:
    return pl.when(ok).then(lit(MET)).otherwise(lit(NOT_MET))


def any_(exprs: Sequence[pl.Expr]) -> pl.Expr:
    return pl.any_horizontal([e.fill_null(False) for e in exprs]) if exprs else pl.lit(False)


def all_(exprs: Sequence[pl.Expr]) -> pl.Expr:
    return pl.all_horizontal([e.fill_null(False) for e in exprs]) if exprs else pl.lit(True)


def combine_items(
    recorded: pl.Expr,
    met: Sequence[pl.Expr],
    open_: Sequence[pl.Expr],
    partial_list: pl.Expr | None = None,
) -> pl.Expr:
    """List semantics: not recorded -> unknown; any item met -> met; any open -> unknown; a
    list known only in part (``partial_list``) -> unknown; otherwise not met."""
    undecided = any_(open_) if partial_list is None else any_(open_) | partial_list
    return (
        pl.when(~recorded)
        .then(lit(UNKNOWN))
        .when(any_(met))
        .then(lit(MET))
        .when(undecided)
        .then(lit(UNKNOWN))
        .otherwise(lit(NOT_MET))
    )


def stale(date: pl.Expr, max_age_days: int | None, b: Builder) -> pl.Expr:
    """Whether a dated value is too old (or undated) under ``max_age_days``."""
    if max_age_days is None:
        return pl.lit(False)
    return date.is_null() | ((b.day - date).dt.total_days() > max_age_days)


def all_of(kids: Sequence[pl.Expr]) -> pl.Expr:
    """Kleene AND of verdict codes: any not met -> not met; all met -> met; then unknown
    before needs review."""
    return _decide(kids, NOT_MET, MET)


def any_of(kids: Sequence[pl.Expr]) -> pl.Expr:
    """Kleene OR of verdict codes: any met -> met; all not met -> not met; then unknown
    before needs review."""
    return _decide(kids, MET, NOT_MET)


def _decide(kids: Sequence[pl.Expr], decisive: int, other: int) -> pl.Expr:
    if len(kids) == 1:
        return kids[0]
    return (
        pl.when(pl.any_horizontal([k == decisive for k in kids]))
        .then(lit(decisive))
        .when(pl.all_horizontal([k == other for k in kids]))
        .then(lit(other))
        .when(pl.any_horizontal([k == UNKNOWN for k in kids]))
        .then(lit(UNKNOWN))
        .otherwise(lit(REVIEW))
    )


def not_(kid: pl.Expr) -> pl.Expr:
    """Kleene NOT: met and not met swap; unknown and needs review stay."""
    return pl.when(kid == MET).then(lit(NOT_MET)).when(kid == NOT_MET).then(lit(MET)).otherwise(kid)


def at_least(n: int, kids: Sequence[pl.Expr]) -> pl.Expr:
    """At least ``n`` of ``kids`` met: met once n are; not met once too few can still be;
    otherwise unknown before needs review."""
    met = pl.sum_horizontal([(k == MET).cast(pl.Int32) for k in kids])
    n_open = pl.sum_horizontal([((k == UNKNOWN) | (k == REVIEW)).cast(pl.Int32) for k in kids])
    return (
        pl.when(met >= n)
        .then(lit(MET))
        .when(met + n_open < n)
        .then(lit(NOT_MET))
        .when(pl.any_horizontal([k == UNKNOWN for k in kids]))
        .then(lit(UNKNOWN))
        .otherwise(lit(REVIEW))
    )
