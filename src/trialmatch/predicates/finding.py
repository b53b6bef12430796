"""``finding`` (a cytogenetic or molecular finding on a diagnosis) and ``risk_score`` (a risk
score's category)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.results import Evidence, Verdict
from trialmatch.model.vocab import normalise
from trialmatch.predicates.base import (
    Args,
    Predicate,
    Reads,
    cx,
    ev,
    latest_before,
    pl,
    tri,
)
from trialmatch.predicates.context import Context
from trialmatch.predicates.dates import dated_after
from trialmatch.predicates.history import dx_now_expr

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class FindingArgs(Args):
    """A cytogenetic or molecular finding recorded on a diagnosis."""

    name: str
    aliases: list[str] = Field(default_factory=list)


class RiskScoreArgs(Args):
    """A risk score's category is one of ``category_in``."""

    system: str
    category_in: list[str] = Field(min_length=1)


def finding_key(name: str) -> str:
    return normalise(name).replace(" ", "").replace("(", "").replace(")", "")


def eval_finding(args: FindingArgs, ctx: Context) -> Evidence:
    """A cytogenetic/molecular finding. Unlisted findings are unknown (maybe not tested)."""
    keys = {finding_key(n) for n in [args.name, *args.aliases]}
    diagnoses = ctx.patient.diagnoses
    negative = None
    for d in diagnoses or []:
        if dated_after(d.date, ctx.as_of):
            continue  # a diagnosis not yet made on the screening date, with its findings
        for f in d.findings or []:
            name, present, date = (
                (f, True, None) if isinstance(f, str) else (f.name, f.present, f.date)
            )
            if date is not None and date > ctx.as_of:
                continue  # not yet known on the screening date
            if finding_key(name) in keys:
                if present:
                    return ev(
                        "finding",
                        Verdict.met,
                        f"finding {name} present",
                        observed=name,
                        observed_date=date,
                        threshold=args.name,
                    )
                negative = (name, date)
    if negative is not None:
        return ev(
            "finding",
            Verdict.not_met,
            f"finding {negative[0]} recorded as absent",
            observed=f"{negative[0]}: absent",
            observed_date=negative[1],
            threshold=args.name,
        )
    return ev(
        "finding",
        Verdict.unknown,
        f"no result recorded for {args.name}",
        threshold=args.name,
        missing=(f"{args.name} (cytogenetics)",),
    )


def eval_risk_score(args: RiskScoreArgs, ctx: Context) -> Evidence:
    """A risk score (e.g. IPSS-R) category is one of the listed categories."""
    want = f"{args.system} {' or '.join(args.category_in)}"
    scores = [
        s
        for d in ctx.patient.diagnoses or []
        if not dated_after(d.date, ctx.as_of)
        for s in d.risk_scores or []
        if normalise(s.system) == normalise(args.system)
    ]
    if not scores:
        return ev(
            "risk_score",
            Verdict.unknown,
            f"no {args.system} score recorded",
            threshold=want,
            missing=(f"{args.system} score",),
        )
    latest = latest_before(scores, ctx.as_of)
    if not latest:
        return ev(
            "risk_score",
            Verdict.unknown,
            f"{args.system} score is dated after the screening date",
            threshold=want,
            missing=(f"{args.system} score",),
        )
    s = latest[0]
    ok = normalise(s.category) in {normalise(c) for c in args.category_in}
    return ev(
        "risk_score",
        tri(ok),
        f"{args.system} {s.category}; needs {want}",
        observed=f"{args.system} {s.category}",
        observed_date=s.date,
        threshold=want,
    )


def compile_finding(args: FindingArgs, b: Builder) -> pl.Expr:
    keys = {finding_key(n) for n in [args.name, *args.aliases]}

    def has(text: str) -> bool:
        return any(finding_key(x) in keys for x in cx.items(text))

    present, absent = [], []
    for k in b.ks("diagnoses"):
        now = dx_now_expr(b, k)
        present.append(now & b.mapped(b.s("diagnoses", k, "findings"), has, pl.Boolean))
        absent.append(now & b.mapped(b.s("diagnoses", k, "findings_absent"), has, pl.Boolean))
    return (
        pl.when(cx.any_(present))
        .then(cx.lit(MET))
        .when(cx.any_(absent))
        .then(cx.lit(NOT_MET))
        .otherwise(cx.lit(UNKNOWN))
    )


def compile_risk_score(args: RiskScoreArgs, b: Builder) -> pl.Expr:
    system = normalise(args.system)
    wanted = {normalise(c) for c in args.category_in}
    dated: list[tuple[pl.Expr, pl.Expr, pl.Expr]] = []
    undated: list[tuple[pl.Expr, pl.Expr]] = []
    for k in b.ks("diagnoses"):
        sys_k = dx_now_expr(b, k) & b.mapped(
            b.s("diagnoses", k, "risk_system"), lambda v: normalise(v) == system, pl.Boolean
        ).fill_null(False)
        cat_k = b.mapped(
            b.s("diagnoses", k, "risk_category"), lambda v: normalise(v) in wanted, pl.Boolean
        )
        date_k = b.s("diagnoses", k, "risk_date")
        dated.append(((sys_k & (date_k <= b.day)).fill_null(False), date_k, cat_k))
        undated.append((sys_k & date_k.is_null(), cat_k))
    if not dated:
        return cx.lit(UNKNOWN)
    # The latest dated score on or before the screening date (first slot on ties), else the
    # first undated one: as the reference's stable sort.
    best = pl.max_horizontal([pl.when(ok).then(d) for ok, d, _ in dated])
    from_dated = pl.coalesce([pl.when(ok & (d == best)).then(c) for ok, d, c in dated])
    from_undated = pl.coalesce([pl.when(u).then(c) for u, c in undated])
    chosen = pl.when(best.is_not_null()).then(from_dated).otherwise(from_undated)
    return pl.when(chosen.is_null()).then(cx.lit(UNKNOWN)).otherwise(cx.tri(chosen))


PREDICATES = (
    Predicate(
        "finding", FindingArgs, eval_finding, compile_finding, reads=Reads(lists=("diagnoses",))
    ),
    Predicate(
        "risk_score",
        RiskScoreArgs,
        eval_risk_score,
        compile_risk_score,
        reads=Reads(lists=("diagnoses",)),
    ),
)
