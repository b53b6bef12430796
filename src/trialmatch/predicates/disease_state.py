"""``disease_state``: the disease status records one of the given states (relapsed,
refractory, ...), optionally of the patient's only diagnosis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.patient import (
    DiseaseState,
)
from trialmatch.model.results import Evidence, Verdict
from trialmatch.predicates.base import Args, Predicate, Reads, cx, ev, pl, tri
from trialmatch.predicates.context import Context
from trialmatch.predicates.dates import dated_after
from trialmatch.predicates.history import only_diagnosis_is_expr

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class DiseaseStateArgs(Args):
    """The disease status records one of these states (relapsed, refractory, ...); with
    ``for_condition``, the status must be of that disease: the patient's only diagnosis."""

    one_of: list[DiseaseState] = Field(min_length=1)
    for_condition: str | None = None

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [(("for_condition",), "condition", self.for_condition)] if self.for_condition else []


def eval_disease_state(args: DiseaseStateArgs, ctx: Context) -> Evidence:
    """The disease status records a state such as relapsed or refractory. The status describes
    the patient's disease: with ``for_condition``, a patient whose only diagnosis is another
    disease does not meet it, and one with several diagnoses is unknown."""
    want = " or ".join(x.value.replace("_", " ") for x in args.one_of)
    cid: str | None = None
    why = ""
    if args.for_condition:
        target = ctx.vocab.condition_id(args.for_condition) or args.for_condition
        want += f" {ctx.vocab.condition_name(target)}"
        cid, why = ctx.diagnosis_treated()
        if cid is not None and ctx.vocab.condition_is_a(target, cid) and cid != target:
            why = f"the only diagnosis, {ctx.vocab.condition_name(cid)}, is broader"
            cid = None
        if cid is not None and not ctx.vocab.condition_is_a(cid, target):
            name = ctx.vocab.condition_name(cid)
            return ev(
                "disease_state",
                Verdict.not_met,
                f"the patient's only diagnosis is {name}; needs {want}",
                observed=name,
                threshold=want,
            )
    s = ctx.patient.disease_status
    if s is not None and dated_after(s.date, ctx.as_of):
        return ev(
            "disease_state",
            Verdict.unknown,
            f"disease status dated {s.date} is after the screening date (ignored); needs {want}",
            threshold=want,
            missing=("disease state (relapsed / refractory)",),
        )
    if s is None or s.state is None:
        return ev(
            "disease_state",
            Verdict.unknown,
            f"whether the disease is {want} is not recorded",
            threshold=want,
            missing=("disease state (relapsed / refractory)",),
        )
    shown = s.state.value.replace("_", " ")
    line = f" after line {s.state_after_line}" if s.state_after_line else ""
    if s.state in args.one_of and args.for_condition and cid is None:
        return ev(
            "disease_state",
            Verdict.unknown,
            f"disease {shown}{line}, but which disease the status describes is not known ({why})",
            observed=f"{shown}{line}",
            observed_date=s.date,
            threshold=want,
            missing=("which diagnosis the disease status describes",),
        )
    return ev(
        "disease_state",
        tri(s.state in args.one_of),
        f"disease {shown}{line}; needs {want}",
        observed=f"{shown}{line}",
        observed_date=s.date,
        threshold=want,
    )


def compile_disease_state(args: DiseaseStateArgs, b: Builder) -> pl.Expr:
    state, date = b.c("disease_state"), b.c("disease_response_date", "date")
    listed = state.is_in([x.value for x in args.one_of]).fill_null(False)
    if args.for_condition:
        target = b.vocab.condition_id(args.for_condition) or args.for_condition
        only = only_diagnosis_is_expr(b, target)
        other_disease = only == NOT_MET
        found = pl.when(only == MET).then(cx.lit(MET)).otherwise(cx.lit(UNKNOWN))
    else:
        other_disease = pl.lit(False)
        found = cx.lit(MET)
    return (
        pl.when(other_disease)
        .then(cx.lit(NOT_MET))
        .when(b.later(date))
        .then(cx.lit(UNKNOWN))
        .when(state.is_null())
        .then(cx.lit(UNKNOWN))
        .when(listed)
        .then(found)
        .otherwise(cx.lit(NOT_MET))
    )


PREDICATES = (
    Predicate(
        "disease_state",
        DiseaseStateArgs,
        eval_disease_state,
        compile_disease_state,
        reads=Reads(
            scalars=(
                "disease_response",
                "disease_response_date",
                "disease_state",
                "disease_state_after_line",
            ),
            lists=("diagnoses",),
        ),
    ),
)
