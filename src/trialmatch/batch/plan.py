"""The batch plan: every criterion of the selected trials compiled once per run into one
verdict-code column (Kleene logic over the leaves, as the reference engine), attestations
applied per batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import polars as pl
from pydantic import BaseModel

from trialmatch.columnar.builder import Builder
from trialmatch.columnar.codes import MET, NOT_MET, REVIEW, UNKNOWN
from trialmatch.columnar.exprs import all_of, any_of, at_least, lit, not_
from trialmatch.engine.criteria import AllNode, AnyNode, AtLeastNode, NotNode, Trial
from trialmatch.model.csvlayout import (
    Header,
)
from trialmatch.model.vocab import Vocabulary
from trialmatch.predicates import REGISTRY


@dataclass
class _Criterion:
    name: str
    trial: str
    criterion: str
    plain: pl.Expr
    attested: pl.Expr | None


def compile_rule(node: BaseModel, b: Builder) -> pl.Expr:
    """Compile a rule tree into one verdict-code expression (Kleene logic, as the engine)."""
    if isinstance(node, AllNode):
        return all_of([compile_rule(c, b) for c in node.all])
    if isinstance(node, AnyNode):
        return any_of([compile_rule(c, b) for c in node.any])
    if isinstance(node, NotNode):
        return not_(compile_rule(node.not_, b))
    if isinstance(node, AtLeastNode):
        return at_least(node.at_least.n, [compile_rule(c, b) for c in node.at_least.of])
    name = next(iter(type(node).model_fields))
    args = getattr(node, name)
    return b.leaf(("leaf", name, args.model_dump_json()), partial(REGISTRY[name].compile, args, b))


def attested(b: Builder, trial_id: str, criterion_id: str, verdict: pl.Expr) -> pl.Expr:
    """Apply the latest matching attestation to an open verdict (as the engine does)."""
    slots = []
    for k in b.ks("attestations"):
        s = partial(b.s, "attestations", k)
        match = (
            (s("trial") == trial_id) & (s("criterion") == criterion_id) & (s("on") <= b.day)
        ).fill_null(False)
        slots.append((match, s("on"), s("holds")))
    best_on = pl.max_horizontal([pl.when(m).then(on) for m, on, _ in slots])
    holds = pl.coalesce([pl.when(m & (on == best_on)).then(h) for m, on, h in slots])
    open_ = (verdict == UNKNOWN) | (verdict == REVIEW)
    return (
        pl.when(open_ & holds.is_not_null())
        .then(pl.when(holds).then(lit(MET)).otherwise(lit(NOT_MET)))
        .otherwise(verdict)
    )


class Plan(Builder):
    """Every criterion of the selected trials compiled once per run, for one CSV header.

    >>> # plan = Plan(trials, header, vocab, as_of); codes = plan.run(typed_rows)
    """

    def __init__(
        self, trials: Sequence[Trial], header: Header, vocab: Vocabulary, as_of: dt.date
    ) -> None:
        super().__init__(header, vocab, as_of)
        self._criteria: list[_Criterion] = []
        for trial in trials:
            for kind, criterion in trial.criteria:
                code = lit(REVIEW) if criterion.rule is None else compile_rule(criterion.rule, self)
                self._criteria.append(
                    _Criterion(
                        f"{trial.id}/{kind}:{criterion.id}",
                        trial.id,
                        criterion.id,
                        code,
                        attested(self, trial.id, criterion.id, code)
                        if self.ks("attestations")
                        else None,
                    )
                )
        self.seal()

    def run(self, df: pl.DataFrame) -> pl.DataFrame:
        """Verdict codes of every criterion for a typed batch (columns ``row``, ``id`` and
        ``<trial id>/<kind>:<criterion id>``)."""
        attested_here = self._attestation_keys(df)
        return self.compute(df).select(
            pl.col("row"),
            pl.col("id"),
            *(
                (
                    c.attested
                    if c.attested is not None and (c.trial, c.criterion) in attested_here
                    else c.plain
                ).alias(c.name)
                for c in self._criteria
            ),
        ).collect()

    def _attestation_keys(self, df: pl.DataFrame) -> set[tuple[str, str]]:
        """(trial, criterion) pairs attested anywhere in this batch."""
        pairs: set[tuple[str, str]] = set()
        for k in self.ks("attestations"):
            frame = df.select(
                self.s("attestations", k, "trial").alias("t"),
                self.s("attestations", k, "criterion").alias("c"),
            )
            pairs |= {(t, c) for t, c in frame.unique().iter_rows() if t and c}
        return pairs
