"""``cumulative_exposure``: total exposure to a drug across therapies, overlaps counted once."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import TYPE_CHECKING, Literal

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.numbers import compare, fmt
from trialmatch.model.patient import (
    TherapyOutcome,
)
from trialmatch.model.results import Evidence, Verdict
from trialmatch.predicates.base import (
    Bounds,
    Predicate,
    Reads,
    cx,
    ev,
    listed,
    pl,
    tri,
)
from trialmatch.predicates.context import Context, therapy_label
from trialmatch.predicates.dates import calendar_months, dated_after, merge_spans
from trialmatch.predicates.history import drug_key_expr, known_and_unresolved_expr, started_expr

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class ExposureArgs(Bounds):
    """Cumulative exposure to a drug across therapies (overlaps counted once)."""

    drug: str
    unit: Literal["days", "months", "cycles"] = "months"

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [(("drug",), "drug", self.drug)]


def eval_exposure(args: ExposureArgs, ctx: Context) -> Evidence:
    """Total time (or cycles) on a drug, ongoing courses counted up to the screening date. With
    a therapy history known only in part, the recorded courses are a lower bound."""
    vocab = ctx.vocab
    wanted = vocab.drug_ids(args.drug) or frozenset()
    name = " + ".join(vocab.drug_name(d) for d in sorted(wanted)) or args.drug
    want = f"{name} exposure {args.describe(args.unit)}"
    therapies, complete = listed(ctx.patient.therapies)
    if therapies is None:
        return ev(
            "cumulative_exposure",
            Verdict.unknown,
            "therapy history not recorded",
            threshold=want,
            missing=("therapy history",),
        )
    spans: list[tuple[dt.date, dt.date]] = []
    cycles = 0
    problems: list[str] = []
    courses: list[str] = []
    if not complete:
        problems.append("the therapy history is known only in part")
    for t in therapies:
        if not ctx.therapy_drugs(t) & wanted:
            unresolved = ctx.unresolved_therapy_terms(t)
            if unresolved:
                problems.append(f"{', '.join(unresolved)} not in the vocabulary")
            continue
        if not ctx.started(t):
            continue
        courses.append(therapy_label(t))
        if args.unit == "cycles":
            if t.cycles is None:
                problems.append(f"{therapy_label(t)}: cycles not recorded")
            elif dated_after(t.end, ctx.as_of):
                problems.append(
                    f"{therapy_label(t)}: ends after the screening date, so the cycles given "
                    "by then are not known"
                )
            else:
                cycles += t.cycles
            continue
        end = t.end
        if end is None and t.is_ongoing:
            end = ctx.as_of
        if t.start is None or end is None:
            problems.append(f"{therapy_label(t)}: start or end date not recorded")
            continue
        spans.append((t.start, min(end, ctx.as_of)))
    merged = merge_spans(spans)
    days = sum((e - s).days + 1 for s, e in merged)
    months = sum(calendar_months(s, e) for s, e in merged)
    amount = (
        float(cycles)
        if args.unit == "cycles"
        else (months if args.unit == "months" else float(days))
    )
    shown = f"{fmt(round(amount, 2))} {args.unit}"
    if problems:
        # The known part is a lower bound on the true exposure: it decides the verdict when it
        # already breaks an upper limit, or meets every limit and all of them are lower ones.
        bounds = args.bounds()
        upper_broken = any(sym in ("≤", "<") and not compare(amount, sym, v) for sym, v in bounds)
        lower_only_met = all(sym in ("≥", ">") for sym, _ in bounds) and args.holds(amount)
        if not upper_broken and not lower_only_met:
            return ev(
                "cumulative_exposure",
                Verdict.unknown,
                f"at least {shown} on {name}, but {'; '.join(problems)}",
                observed=f"≥ {shown}",
                threshold=want,
                missing=tuple(f"therapy detail: {p}" for p in problems[:3]),
            )
    ok = args.holds(amount)
    detail = "; ".join(courses) if courses else f"no {name} recorded"
    return ev(
        "cumulative_exposure",
        tri(ok),
        f"{shown} on {name} ({detail}); needs {args.describe(args.unit)}",
        observed=shown,
        threshold=want,
        converted=f"{days} days = {months:.2f} calendar months" if args.unit == "months" else None,
    )


def _add_months_expr(day: pl.Expr, months: pl.Expr) -> pl.Expr:
    """Vectorized :func:`add_months` (clamped to the month's last day)."""
    index = day.dt.month().cast(pl.Int32) - 1 + months
    year = day.dt.year().cast(pl.Int32) + index.floordiv(12)
    month = index.mod(12) + 1
    last = pl.date(year, month, 1).dt.month_end().dt.day().cast(pl.Int32)
    return pl.date(year, month, pl.min_horizontal(day.dt.day().cast(pl.Int32), last))


def _measure_expr(frame: pl.DataFrame, unit: str) -> pl.Series:
    """Days, or calendar months (:func:`calendar_months`), of each row's span
    ``first``..``last`` (inclusive). Computed step by step so no sub-expression repeats."""
    if unit == "days":
        return frame.select(
            ((pl.col("last") - pl.col("first")).dt.total_days() + 1).cast(pl.Float64)
        ).to_series()
    f = (
        frame.select("first", "last")
        .with_columns(end=pl.col("last") + pl.duration(days=1))
        .with_columns(
            whole=(
                pl.col("end").dt.year().cast(pl.Int32) - pl.col("first").dt.year().cast(pl.Int32)
            )
            * 12
            + (pl.col("end").dt.month().cast(pl.Int32) - pl.col("first").dt.month().cast(pl.Int32))
        )
        .with_columns(anchor=_add_months_expr(pl.col("first"), pl.col("whole")))
    )
    f = (
        f.with_columns(over=pl.col("anchor") > pl.col("end"))
        .with_columns(
            whole=pl.when(pl.col("over")).then(pl.col("whole") - 1).otherwise(pl.col("whole"))
        )
        .with_columns(anchor=_add_months_expr(pl.col("first"), pl.col("whole")))
    )
    return f.select(
        pl.col("whole").cast(pl.Float64)
        + (pl.col("end") - pl.col("anchor")).dt.total_days().cast(pl.Float64)
        / pl.col("anchor").dt.month_end().dt.day().cast(pl.Float64)
    ).to_series()


def compile_exposure(args: ExposureArgs, b: Builder) -> pl.Expr:
    amount, problem = _exposure_amount_expr(args.drug, args.unit, b)
    bounds = args.bounds()
    upper_broken = cx.any_(
        [
            ~cx.bounds(Bounds(**{_WORD_expr[sym]: v}), amount)
            for sym, v in bounds
            if sym in ("≤", "<")
        ]
    )
    lower_only = all(sym in ("≥", ">") for sym, _ in bounds)
    lower_only_met = cx.bounds(args, amount) if lower_only else pl.lit(False)
    undecided = problem & ~upper_broken & ~lower_only_met
    return (
        pl.when(~b.recorded("therapies"))
        .then(cx.lit(UNKNOWN))
        .when(undecided)
        .then(cx.lit(UNKNOWN))
        .otherwise(cx.tri(cx.bounds(args, amount)))
    )


_WORD_expr = {"≥": "at_least", "≤": "at_most", ">": "more_than", "<": "less_than"}


def _exposure_amount_expr(drug: str, unit: str, b: Builder) -> tuple[pl.Expr, pl.Expr]:
    """(amount, "something unknown" flag) of exposure to a drug, computed once per batch.

    Mirrors :func:`eval_exposure`: courses with the drug, started by the screening
    date; ongoing ones run to it; overlapping or touching courses count once (calendar
    months). Rows with one course need no merging; only rows with several are merged.
    """
    memo_key = ("exposure", drug, unit)
    if memo_key in b._exposure:
        amount_col, problem_col = b._exposure[memo_key]
        return pl.col(amount_col), pl.col(problem_col)
    vocab = b.vocab
    wanted = vocab.drug_ids(drug) or frozenset()

    def kind(key: str) -> int:
        known, unresolved = known_and_unresolved_expr(vocab, key)
        if known & wanted:
            return MET
        return UNKNOWN if unresolved else NOT_MET

    problems: list[pl.Expr] = []
    spans: list[tuple[pl.Expr, pl.Expr, pl.Expr]] = []
    cycles_total: list[pl.Expr] = []
    for k in b.ks("therapies"):
        s = partial(b.s, "therapies", k)
        has = b.mapped(drug_key_expr(b, k), kind, cx.CODE)
        present = b.present("therapies", k)
        problems.append(present & (has == UNKNOWN))
        counted = present & (has == MET) & started_expr(b, k)
        if unit == "cycles":
            after = b.later(s("end"))
            problems.append(counted & (s("cycles").is_null() | after))
            cycles_total.append(pl.when(counted & ~after).then(s("cycles")).otherwise(0))
            continue
        ongoing = s("ongoing").eq(True).fill_null(False) | (
            s("outcome") == TherapyOutcome.ongoing.value
        ).fill_null(False)
        end = pl.when(s("end").is_null() & ongoing).then(b.day).otherwise(s("end"))
        ok = (counted & s("start").is_not_null() & end.is_not_null()).fill_null(False)
        problems.append(counted & ~ok)
        spans.append((ok, s("start"), pl.min_horizontal(end, b.day)))
    problems.append(b.partial("therapies"))  # the recorded courses are a lower bound
    name = f"__exp{len(b._exposure)}"
    problem = cx.any_(problems).alias(name + "p")
    if unit == "cycles":
        amount = pl.sum_horizontal(cycles_total).cast(pl.Float64) if cycles_total else pl.lit(0.0)
        b.step(lambda df: df.with_columns(amount.alias(name), problem))
    else:
        b.step(lambda df: df.with_columns(_span_totals_expr(df, spans, unit).alias(name), problem))
    b._exposure[memo_key] = (name, name + "p")
    return pl.col(name), pl.col(name + "p")


def _span_totals_expr(
    df: pl.DataFrame, spans: list[tuple[pl.Expr, pl.Expr, pl.Expr]], unit: str
) -> pl.Series:
    """Days or calendar months covered by the union of each row's spans (one batch)."""
    n = df.height
    if not spans:
        return pl.Series([0.0] * n, dtype=pl.Float64)
    cols = []
    for i, (ok, first, last) in enumerate(spans):
        cols += [ok.alias(f"ok{i}"), first.alias(f"first{i}"), last.alias(f"last{i}")]
    wide = df.select(*cols).with_columns(
        pl.sum_horizontal([pl.col(f"ok{i}").cast(pl.Int32) for i in range(len(spans))]).alias("n")
    )

    one = wide.select(
        pl.coalesce(
            [pl.when(pl.col(f"ok{i}")).then(pl.col(f"first{i}")) for i in range(len(spans))]
        ).alias("first"),
        pl.coalesce(
            [pl.when(pl.col(f"ok{i}")).then(pl.col(f"last{i}")) for i in range(len(spans))]
        ).alias("last"),
    )
    single = wide.select(
        pl.when(pl.col("n") == 0)
        .then(pl.lit(0.0))
        .when(pl.col("n") == 1)
        .then(_measure_expr(one, unit))
        .alias("v")
    )["v"]
    several = wide.with_row_index("row").filter(pl.col("n") > 1)
    if several.height == 0:
        return single
    long = (
        pl.concat(
            [
                several.select(
                    pl.col("row"),
                    pl.col(f"first{i}").alias("first"),
                    pl.col(f"last{i}").alias("last"),
                    pl.col(f"ok{i}").alias("ok"),
                )
                for i in range(len(spans))
            ]
        )
        .filter(pl.col("ok"))
        .sort("row", "first", "last")
    )
    reach = pl.col("last").cum_max().shift(1).over("row")
    merged = (
        long.with_columns(new=reach.is_null() | (pl.col("first") > reach + pl.duration(days=1)))
        .with_columns(group=pl.col("new").cast(pl.Int32).cum_sum().over("row"))
        .group_by("row", "group", maintain_order=True)
        .agg(pl.col("first").min(), pl.col("last").max())
    )
    merged = (
        merged.with_columns(v=_measure_expr(merged, unit))
        .group_by("row", maintain_order=True)
        .agg(pl.col("v").sum())
    )
    values = single.to_list()
    for row, v in merged.iter_rows():
        values[row] = v
    return pl.Series(values, dtype=pl.Float64)


PREDICATES = (
    Predicate(
        "cumulative_exposure",
        ExposureArgs,
        eval_exposure,
        compile_exposure,
        reads=Reads(lists=("therapies",)),
    ),
)
