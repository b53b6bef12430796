"""``lab``: a lab or measurement within bounds, in a unit or relative to its ULN; creatinine
clearance estimated by Cockcroft-Gault when asked; a current condition that settles it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Literal

from pydantic import Field, StrictBool, model_validator

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.numbers import fmt
from trialmatch.model.patient import (
    Lab,
    Sex,
)
from trialmatch.model.results import Evidence, Verdict
from trialmatch.model.vocab import Vocabulary
from trialmatch.predicates.age import age_years_expr
from trialmatch.predicates.base import (
    MAX_DAYS,
    Args,
    Bounds,
    Predicate,
    Reads,
    StatusName,
    cx,
    ev,
    latest_before,
    pl,
    stale_reason,
    tri,
)
from trialmatch.predicates.condition import ConditionArgs, compile_condition, eval_condition
from trialmatch.predicates.context import Context
from trialmatch.predicates.dates import age_on

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class ConditionSettles(Args):
    """Conditions that settle a lab criterion by definition when no usable result decides it
    (end-stage renal disease for a creatinine-clearance limit), and the verdict they give."""

    any_of: list[str] = Field(min_length=1)
    verdict: Literal["met", "not_met"]


# A condition settles a lab criterion only while it is current.
CURRENT_STATUSES: list[StatusName] = ["active", "controlled", "uncontrolled"]


class LabArgs(Bounds):
    """A lab or measurement within bounds, in ``unit`` or relative to the result's own ULN."""

    analyte: str
    unit: str | None = None
    relative_to: Literal["uln"] | None = None
    max_age_days: int | None = Field(None, ge=0, le=MAX_DAYS)
    derive: StrictBool = Field(
        True, description="derive the value (Cockcroft-Gault) when not measured"
    )
    condition_settles: ConditionSettles | None = None

    @model_validator(mode="after")
    def _unit_or_uln(self) -> LabArgs:
        if self.relative_to is None and self.unit is None:
            raise ValueError("give a 'unit' for an absolute limit, or 'relative_to: uln'")
        if self.relative_to is not None and self.unit is not None:
            raise ValueError("a limit relative to the ULN takes no 'unit'")
        return self

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        refs: list[tuple[tuple[str | int, ...], str, str]] = [(("analyte",), "lab", self.analyte)]
        if self.unit is not None:
            refs.append((("unit",), f"unit:{self.analyte}", self.unit))
        if self.condition_settles is not None:
            refs += [
                (("condition_settles", "any_of", i), "condition", c)
                for i, c in enumerate(self.condition_settles.any_of)
            ]
        return refs

    def settling_condition(self) -> ConditionArgs | None:
        """The condition check of ``condition_settles``, as a ``condition`` predicate."""
        if self.condition_settles is None:
            return None
        return ConditionArgs(any_of=self.condition_settles.any_of, status_in=CURRENT_STATUSES)


@dataclass(frozen=True)
class _Value:
    value: float
    unit: str
    date: dt.date | None
    shown: str
    converted: str | None = None


def _lab_results(ctx: Context, lab_id: str) -> list[Lab]:
    labs = ctx.patient.labs or []
    return latest_before([x for x in labs if ctx.vocab.lab_id(x.name) == lab_id], ctx.as_of)


def _cockcroft_gault(args: LabArgs, ctx: Context, want: str) -> Evidence:
    """Creatinine clearance by Cockcroft-Gault from creatinine, age, weight and sex."""
    p, vocab = ctx.patient, ctx.vocab
    missing: list[str] = []
    problems: list[str] = []
    inputs: dict[str, _Value] = {}
    for lab_id, unit in (("creatinine", "mg/dL"), ("weight", "kg")):
        results = _lab_results(ctx, lab_id)
        name = vocab.labs[lab_id].name.lower()
        if not results:
            missing.append(f"{vocab.labs[lab_id].name} (lab)")
            continue
        r = results[0]
        stale = stale_reason(r.date, args.max_age_days, ctx.as_of)
        conv = vocab.convert(lab_id, r.value, r.unit, unit)
        if stale:
            problems.append(f"{name} {stale}")
            missing.append(f"{name} (recent)")
        elif conv is None:
            problems.append(f"{name} unit {r.unit!r} cannot be converted to {unit}")
            missing.append(f"{name} in a known unit")
        else:
            inputs[lab_id] = _Value(conv, unit, r.date, f"{fmt(r.value)} {r.unit}")
    age: int | None = None
    if p.birth_date is not None and p.birth_date <= ctx.as_of:
        age = age_on(p.birth_date, ctx.as_of)
    elif p.birth_date is not None:
        missing.append("birth date (correct)")
    elif p.age is not None:
        age = p.age
    else:
        missing.append("birth date or age")
    if p.sex is None or p.sex is Sex.other:
        missing.append("sex (female/male, for Cockcroft-Gault)")
    if missing or age is None or p.sex is None or len(inputs) < 2:
        detail = "; ".join(problems) if problems else "inputs missing"
        return ev(
            "lab",
            Verdict.unknown,
            f"creatinine clearance not measured and cannot be derived ({detail})",
            threshold=want,
            missing=(
                "creatinine clearance"
                + (f" (or {' and '.join(missing)}, to estimate it)" if missing else ""),
            ),
        )
    scr, wt = inputs["creatinine"], inputs["weight"]
    if scr.value <= 0:
        return ev(
            "lab",
            Verdict.unknown,
            f"creatinine {scr.shown} cannot be used for Cockcroft-Gault",
            threshold=want,
            missing=("creatinine (lab)",),
        )
    factor = 0.85 if p.sex is Sex.female else 1.0
    crcl = (140 - age) * wt.value / (72 * scr.value) * factor
    sex_part = " × 0.85 (female)" if factor != 1.0 else ""
    formula = (
        f"Cockcroft-Gault: (140 − {age} y) × {fmt(wt.value)} kg / "
        f"(72 × {fmt(scr.value)} mg/dL){sex_part} = {crcl:.1f} mL/min"
    )
    dates = [d for d in (scr.date, wt.date) if d is not None]
    unit = args.unit or "mL/min"
    value = vocab.convert("creatinine_clearance", crcl, "mL/min", unit)
    if value is None:  # the loader rejects unknown units; kept for safety
        return ev(
            "lab",
            Verdict.unknown,
            f"cannot express creatinine clearance in {unit}",
            threshold=want,
            missing=("creatinine clearance",),
        )
    if unit != "mL/min":
        formula += f" = {fmt(value)} {unit}"
    ok = args.holds(value)
    return ev(
        "lab",
        tri(ok),
        f"derived creatinine clearance {crcl:.1f} mL/min; needs {want}",
        observed=f"{crcl:.1f} mL/min (derived)",
        observed_date=min(dates) if dates else None,
        converted=formula,
        threshold=want,
    )


def eval_lab(args: LabArgs, ctx: Context) -> Evidence:
    """Latest result on or before the screening date against an absolute or ULN-relative limit.
    When no result decides it, a current condition in ``condition_settles`` does (by
    definition, as the criterion's note explains)."""
    evidence = _lab_result(args, ctx)
    settling = args.settling_condition()
    lab_id = ctx.vocab.lab_id(args.analyte) or args.analyte
    derived = not _lab_results(ctx, lab_id)  # a Cockcroft-Gault estimate, not a result
    if settling is None or (evidence.verdict is not Verdict.unknown and not derived):
        return evidence
    assert args.condition_settles is not None
    found = eval_condition(settling, ctx)
    if found.verdict is not Verdict.met:
        return evidence
    verdict = Verdict(args.condition_settles.verdict)
    return Evidence(
        predicate="lab",
        verdict=verdict,
        sentence=f"{evidence.sentence}; {found.observed} is recorded, which settles it "
        f"({'met' if verdict is Verdict.met else 'not met'} by definition)",
        observed=found.observed,
        observed_date=found.observed_date,
        threshold=evidence.threshold,
    )


def _lab_result(args: LabArgs, ctx: Context) -> Evidence:
    vocab = ctx.vocab
    lab_id = vocab.lab_id(args.analyte) or args.analyte
    name = vocab.labs[lab_id].name if lab_id in vocab.labs else args.analyte
    if args.relative_to == "uln":
        want = f"{name} {args.describe(scale=' × ULN')}"
    else:
        want = f"{name} {args.describe(args.unit or '')}"
    results = _lab_results(ctx, lab_id)
    if not results:
        if args.derive and lab_id == "creatinine_clearance" and args.unit is not None:
            return _cockcroft_gault(args, ctx, want)
        why = "no labs recorded" if ctx.patient.labs is None else f"no {name} result recorded"
        return ev(
            "lab",
            Verdict.unknown,
            f"{why}; needs {want}",
            threshold=want,
            missing=(f"{name} (lab)",),
        )
    r = results[0]
    observed = f"{fmt(r.value)} {r.unit}"
    stale = stale_reason(r.date, args.max_age_days, ctx.as_of)
    if stale:
        return ev(
            "lab",
            Verdict.unknown,
            f"{name} {observed} is stale ({stale})",
            observed=observed,
            observed_date=r.date,
            threshold=want,
            missing=(f"{name} (recent result)",),
        )
    if args.relative_to == "uln":
        if r.uln is None:
            return ev(
                "lab",
                Verdict.unknown,
                f"{name} {observed} has no upper limit of normal recorded with it",
                observed=observed,
                observed_date=r.date,
                threshold=want,
                missing=(f"{name} upper limit of normal",),
            )
        if r.uln <= 0:
            return ev(
                "lab",
                Verdict.unknown,
                f"{name} ULN {r.uln} is not positive",
                observed=observed,
                observed_date=r.date,
                threshold=want,
                missing=(f"{name} upper limit of normal",),
            )
        ratio = r.value / r.uln
        ok = args.holds(ratio)
        return ev(
            "lab",
            tri(ok),
            f"{name} {observed} = {ratio:.2f} × ULN (ULN {fmt(r.uln)} {r.unit}); "
            f"needs {args.describe(scale=' × ULN')}",
            observed=observed,
            observed_date=r.date,
            converted=f"{ratio:.2f} × ULN (ULN {fmt(r.uln)} {r.unit})",
            threshold=want,
        )
    assert args.unit is not None
    value = vocab.convert(lab_id, r.value, r.unit, args.unit)
    if value is None:
        known = ", ".join(vocab.labs[lab_id].units)
        close = vocab.suggest_unit(lab_id, r.unit)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        return ev(
            "lab",
            Verdict.unknown,
            f"{name} unit {r.unit!r} is not one trialmatch can convert (known: {known}){hint}",
            observed=observed,
            observed_date=r.date,
            threshold=want,
            missing=(f"{name} in a known unit",),
        )
    converted = None
    if value != r.value or r.unit != args.unit:
        converted = f"{fmt(r.value)} {r.unit} = {fmt(value)} {args.unit}"
    ok = args.holds(value)
    shown = f"{observed}" + (f" ({fmt(value)} {args.unit})" if converted else "")
    return ev(
        "lab",
        tri(ok),
        f"{name} {shown}; needs {args.describe(args.unit)}",
        observed=observed,
        observed_date=r.date,
        converted=converted,
        threshold=want,
    )


def _lab_expr(b: Builder, lab_id: str) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """(usable, value, unit, date, uln) of the CSV's result for a lab: a result dated after
    the screening date is not usable (as in the reference, which ignores it)."""
    cols = b.header.labs.get(lab_id, {})
    get = {
        p: (pl.col(cols[p]) if p in cols else pl.lit(None, dtype=cx.KIND_DTYPE[cx.lab_col(p).kind]))
        for p in ("value", "unit", "date", "uln")
    }
    usable = get["value"].is_not_null() & (get["date"].is_null() | (get["date"] <= b.day))
    return usable.fill_null(False), get["value"], get["unit"], get["date"], get["uln"]


def _to_unit_expr(b: Builder, lab_id: str, value: pl.Expr, unit: pl.Expr, to_unit: str) -> pl.Expr:
    """``value / src * dst`` exactly as :meth:`Vocabulary.convert`; null if not convertible."""
    dst = b.vocab.lab_factor(lab_id, to_unit)
    src = b.mapped(unit, lambda u: b.vocab.lab_factor(lab_id, u), pl.Float64)
    if dst is None:
        return pl.lit(None, dtype=pl.Float64)
    return value / src * pl.lit(float(dst))


def compile_lab(args: LabArgs, b: Builder) -> pl.Expr:
    lab_id = b.lab_id(args.analyte)
    usable, value, unit, date, uln = _lab_expr(b, lab_id)
    if args.derive and lab_id == "creatinine_clearance" and args.unit is not None:
        absent: pl.Expr = _cockcroft_gault_expr(args, b)
    else:
        absent = cx.lit(UNKNOWN)
    stale = cx.stale(date, args.max_age_days, b)
    settling = args.settling_condition()
    if settling is None or args.condition_settles is None:
        return _lab_code_expr(args, b, usable, value, unit, uln, stale, absent, lab_id)
    found = b.shared(
        ("settles", settling.model_dump_json()), partial(compile_condition, settling, b)
    )
    verdict = cx.lit(MET if args.condition_settles.verdict == "met" else NOT_MET)
    # A current condition settles it before a derived (Cockcroft-Gault) estimate; a measured
    # result decides first.
    absent = pl.when(found == MET).then(verdict).otherwise(absent)
    result = _lab_code_expr(args, b, usable, value, unit, uln, stale, absent, lab_id)
    return pl.when((result == UNKNOWN) & (found == MET)).then(verdict).otherwise(result)


def _lab_code_expr(
    args: LabArgs,
    b: Builder,
    usable: pl.Expr,
    value: pl.Expr,
    unit: pl.Expr,
    uln: pl.Expr,
    stale: pl.Expr,
    absent: pl.Expr,
    lab_id: str,
) -> pl.Expr:
    if args.relative_to == "uln":
        ratio = value / uln
        decided = (
            pl.when(uln.is_null() | (uln <= 0))
            .then(cx.lit(UNKNOWN))
            .otherwise(cx.tri(cx.bounds(args, ratio)))
        )
    else:
        assert args.unit is not None
        conv = _to_unit_expr(b, lab_id, value, unit, args.unit)
        decided = (
            pl.when(conv.is_null()).then(cx.lit(UNKNOWN)).otherwise(cx.tri(cx.bounds(args, conv)))
        )
    return pl.when(~usable).then(absent).when(stale).then(cx.lit(UNKNOWN)).otherwise(decided)


def _cockcroft_gault_expr(args: LabArgs, b: Builder) -> pl.Expr:
    scr_ok, scr_v, scr_u, scr_d, _ = _lab_expr(b, "creatinine")
    wt_ok, wt_v, wt_u, wt_d, _ = _lab_expr(b, "weight")
    scr = _to_unit_expr(b, "creatinine", scr_v, scr_u, "mg/dL")
    wt = _to_unit_expr(b, "weight", wt_v, wt_u, "kg")
    inputs_ok = (
        scr_ok
        & ~cx.stale(scr_d, args.max_age_days, b)
        & scr.is_not_null()
        & wt_ok
        & ~cx.stale(wt_d, args.max_age_days, b)
        & wt.is_not_null()
    )
    bd, age_col = b.c("birth_date", "date"), b.c("age", "int")
    age = (
        pl.when(bd.is_not_null() & (bd <= b.day))
        .then(age_years_expr(b))
        .when(bd.is_null())
        .then(age_col)
    )
    sex = b.c("sex")
    sex_ok = sex.is_in(["female", "male"]).fill_null(False)
    factor = pl.when(sex == "female").then(pl.lit(0.85)).otherwise(pl.lit(1.0))
    crcl = (pl.lit(140) - age).cast(pl.Float64) * wt / (pl.lit(72.0) * scr) * factor
    dst = b.vocab.lab_factor("creatinine_clearance", args.unit or "mL/min")
    value = crcl / pl.lit(1.0) * pl.lit(float(dst or 1.0))
    ready = (inputs_ok & age.is_not_null() & sex_ok).fill_null(False)
    return (
        pl.when(~ready)
        .then(cx.lit(UNKNOWN))
        .when(scr <= 0)
        .then(cx.lit(UNKNOWN))
        .otherwise(cx.tri(cx.bounds(args, value)))
    )


def reads_lab(args: LabArgs, vocab: Vocabulary) -> Reads:
    """The lab's own columns; creatinine, weight, age and sex for a Cockcroft-Gault estimate;
    the conditions list when a condition settles the criterion."""
    lab_id = vocab.lab_id(args.analyte) or args.analyte
    if lab_id == "creatinine_clearance" and args.derive:
        labs: tuple[str, ...] = (lab_id, "creatinine", "weight")
        scalars: tuple[str, ...] = ("birth_date", "age", "sex")
    else:
        labs, scalars = (lab_id,), ()
    lists = ("conditions",) if args.condition_settles is not None else ()
    return Reads(scalars=scalars, labs=labs, lists=lists)


PREDICATES = (Predicate("lab", LabArgs, eval_lab, compile_lab, reads_for=reads_lab),)
