"""The compile-time builder every leaf compiler receives: typed columns of the header, slot
flags, vocabulary answers mapped once per distinct value, shared sub-expressions and per-batch
steps. It knows nothing of predicates or trials."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from trialmatch.columnar.typed import col, presence_name, slot_col, typing_exprs
from trialmatch.model.csvlayout import (
    GROUPS,
    PARTIAL_MARKER,
    Group,
    Header,
)
from trialmatch.model.vocab import Vocabulary

# Answers kept per vocabulary mapping across batches; beyond this many distinct values the
# memo starts afresh (answers are recomputed, never wrong).
MEMO_LIMIT = 100_000


@dataclass
class _Mapping:
    """One vocabulary question, answered once per distinct key value over the whole run."""

    out: str
    key: str
    fn: Callable[[Any], Any]
    dtype: Any
    memo: dict[Any, Any] = field(default_factory=dict)


class Builder:
    """What a leaf compiler builds against: one CSV header, the vocabulary, the screening date.

    Compilers build expressions against the header (never against data); what depends on the
    data of a batch (per-value vocabulary answers, exposure totals) is computed per batch by
    :meth:`compute`, from the steps registered while compiling. The batch plan
    (:class:`trialmatch.batch.plan.Plan`) is a builder that compiles whole trials.

    >>> # b = Builder(header, vocab, as_of); column = b.c("ecog", "int")
    """

    def __init__(self, header: Header, vocab: Vocabulary, as_of: dt.date) -> None:
        self.header = header
        self.vocab = vocab
        self.as_of = as_of
        self.day = pl.lit(as_of, dtype=pl.Date)
        self._memo: dict[Any, pl.Expr] = {}
        self._names: dict[Any, str] = {}
        self._keys: dict[str, tuple[str, pl.Expr]] = {}
        self._maps: list[_Mapping] = []
        self._steps: list[Callable[[pl.DataFrame], pl.DataFrame]] = []
        self._shared: dict[Any, str] = {}
        self._stages: list[list[pl.Expr]] = []
        self._level: dict[str, int] = {}
        self._exposure: dict[Any, tuple[str, str]] = {}
        self._flags: list[pl.Expr] = []
        for group in GROUPS:
            ks = self.ks(group.marker)
            marker = (
                pl.col(group.marker).is_not_null()
                if group.marker in header.markers
                else pl.lit(False)
            )
            items = [pl.col(presence_name(group, k)) for k in ks]  # typed with the batch
            self._flags.append(pl.any_horizontal([marker, *items]).alias(f"__r_{group.prefix}"))
            partial_list = (
                (pl.col(group.marker) == PARTIAL_MARKER).fill_null(False)
                if group.marker in header.markers
                else pl.lit(False)
            )
            self._flags.append(partial_list.alias(f"__q_{group.prefix}"))
        self.typing = typing_exprs(header, as_of)
        self._leaves: list[pl.Expr] = []

    def seal(self) -> None:
        """Fix the leaves compiled so far as the columns :meth:`compute` adds."""
        self._leaves = [self._memo[k].alias(n) for k, n in self._names.items()]

    def compute(self, df: pl.DataFrame) -> pl.LazyFrame:
        """A typed batch with every compiled leaf added (slot flags, mapped vocabulary
        answers, shared columns and steps first), as a lazy frame: what follows the vocabulary
        answers is one query, so Polars' optimiser drops the columns nothing reads and
        computes a repeated sub-expression once."""
        df = df.with_columns(self._flags)
        if self._maps:
            df = df.with_columns([expr.alias(name) for name, expr in self._keys.values()])
            names = [name for name, _ in self._keys.values()]
            uniques = df.select(pl.col(n).drop_nulls().unique().implode() for n in names).row(0)
            distinct = dict(zip(names, uniques, strict=True))
            # Each key column becomes a code: the index of its value in the batch's distinct
            # values; every mapping is then a gather from a small Series of answers.
            df = df.with_columns(
                pl.col(n).replace_strict(
                    distinct[n], range(len(distinct[n])), return_dtype=pl.UInt32
                )
                for n in names
                if distinct[n]
            )
            outputs = []
            for m in self._maps:
                values = distinct[m.key]
                if not values:
                    outputs.append(pl.lit(None, dtype=m.dtype).alias(m.out))
                    continue
                memo = m.memo
                if len(memo) > MEMO_LIMIT:  # keep memory bounded on free-text keys
                    memo.clear()
                for v in values:
                    if v not in memo:
                        memo[v] = m.fn(v)
                answers = pl.Series([memo[v] for v in values], dtype=m.dtype)
                outputs.append(pl.lit(answers).gather(pl.col(m.key)).alias(m.out))
            df = df.with_columns(outputs).drop(names)
        lazy = df.lazy()
        for stage in self._stages:
            lazy = lazy.with_columns(stage)
        if self._steps:  # a step reads the batch itself
            df = lazy.collect()
            for step in self._steps:
                df = step(df)
            lazy = df.lazy()
        return lazy.with_columns(self._leaves)

    def leaf(self, key: Any, compile_leaf: Callable[[], pl.Expr]) -> pl.Expr:
        """The column of a leaf, compiled on first sight."""
        if key not in self._memo:
            self._memo[key] = compile_leaf()
            self._names[key] = f"__leaf{len(self._names)}"
        return pl.col(self._names[key])

    def shared(self, key: Any, build: Callable[[], pl.Expr]) -> pl.Expr:
        """A column computed once per batch, before the leaves, for a sub-expression several
        leaves (or several parts of one leaf) use: it keeps expression trees small, which
        is what Polars' per-batch planning time grows with. ``build`` may use mapped columns
        and other shared columns (computed in an earlier stage), not the output of a step;
        steps may use shared columns."""
        if key not in self._shared:
            expr = build()
            name = f"__sh{len(self._shared)}"
            level = 1 + max((self._level.get(n, -1) for n in expr.meta.root_names()), default=-1)
            while len(self._stages) <= level:
                self._stages.append([])
            self._stages[level].append(expr.alias(name))
            self._level[name] = level
            self._shared[key] = name
        return pl.col(self._shared[key])

    def c(self, name: str, kind: str = "str") -> pl.Expr:
        """A typed column (null literal when the file lacks it)."""
        return col(self.header, name, kind)

    def group(self, marker: str) -> Group:
        """The layout group of a list."""
        return next(g for g in GROUPS if g.marker == marker)

    def ks(self, marker: str) -> list[int]:
        """Slot numbers present for a list."""
        return sorted(self.header.slots.get(marker, {}))

    def s(self, marker: str, k: int, suffix: str) -> pl.Expr:
        """A slot column."""
        return slot_col(self.header, self.group(marker), k, suffix)

    def present(self, marker: str, k: int) -> pl.Expr:
        """Whether slot k of a list holds an item (precomputed)."""
        return pl.col(presence_name(self.group(marker), k))

    def recorded(self, marker: str) -> pl.Expr:
        """Whether the list is recorded at all (marker 'none', or any item; precomputed)."""
        return pl.col(f"__r_{self.group(marker).prefix}")

    def partial(self, marker: str) -> pl.Expr:
        """Whether the list is known only in part (marker 'partial'; precomputed)."""
        return pl.col(f"__q_{self.group(marker).prefix}")

    def later(self, date: pl.Expr) -> pl.Expr:
        """Whether a date lies after the screening date (false when null)."""
        return (date > self.day).fill_null(False)

    def mapped(self, key: pl.Expr, fn: Callable[[Any], Any], dtype: Any) -> pl.Expr:
        """A column holding ``fn`` of ``key``: per batch, ``fn`` is called only for distinct
        values not seen earlier in the run, and the answers are mapped back. ``key`` may read
        typed columns and the slot flags (:meth:`present`, :meth:`recorded`, :meth:`partial`),
        never a shared column (keys are computed first)."""
        cache_key = str(key)
        if cache_key not in self._keys:
            self._keys[cache_key] = (f"__key{len(self._keys)}", key)
        out = f"__map{len(self._maps)}"
        self._maps.append(_Mapping(out, self._keys[cache_key][0], fn, dtype))
        return pl.col(out)

    def step(self, fn: Callable[[pl.DataFrame], pl.DataFrame]) -> None:
        """Register a per-batch step (run after mappings and shared columns, before leaves)."""
        self._steps.append(fn)

    def lab_id(self, term: str) -> str:
        """Canonical lab id of a term."""
        return self.vocab.lab_id(term) or term
