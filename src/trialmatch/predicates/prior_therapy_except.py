"""``prior_therapy_except``: some prior therapy for a condition falls outside the exceptions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.patient import (
    Setting,
)
from trialmatch.model.results import Evidence, Verdict
from trialmatch.predicates.base import Args, Predicate, Reads, cx, ev, listed, not_found, pl
from trialmatch.predicates.context import Context, therapy_label
from trialmatch.predicates.history import (
    applies_expr,
    drug_key_expr,
    known_and_unresolved_expr,
    started_expr,
)

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class TherapyExceptArgs(Args):
    """Some prior therapy for ``for_condition`` falls outside the listed exceptions."""

    for_condition: str
    except_drugs: list[str] = Field(default_factory=list)
    except_classes: list[str] = Field(default_factory=list)
    except_settings: list[Setting] = Field(default_factory=list)

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [
            (("for_condition",), "condition", self.for_condition),
            *((("except_drugs", i), "drug", d) for i, d in enumerate(self.except_drugs)),
            *((("except_classes", i), "class", c) for i, c in enumerate(self.except_classes)),
        ]


def eval_therapy_except(args: TherapyExceptArgs, ctx: Context) -> Evidence:
    """Some prior therapy for the condition falls outside the exceptions (met = such therapy)."""
    vocab = ctx.vocab
    exc_drugs: set[str] = set()
    for d in args.except_drugs:
        exc_drugs |= vocab.drug_ids(d) or set()
    exc_classes = {vocab.class_id(c) or c for c in args.except_classes}
    parts = [vocab.drug_name(d) for d in sorted(exc_drugs)]
    parts += [vocab.class_name(c) for c in sorted(exc_classes)]
    parts += [f"{s.value} care" for s in args.except_settings]
    want = f"therapy for {args.for_condition} other than {', '.join(parts) or 'nothing'}"
    therapies, complete = listed(ctx.patient.therapies)
    if therapies is None:
        return ev(
            "prior_therapy_except",
            Verdict.unknown,
            "therapy history not recorded",
            threshold=want,
            missing=("therapy history",),
        )
    open_reasons: list[str] = []
    skipped: list[str] = []
    for t in therapies:
        if not ctx.started(t):
            continue
        applies, why = ctx.treats(t, args.for_condition)
        if applies is False:
            if why:
                skipped.append(why)
            continue
        if t.setting is not None and t.setting in args.except_settings:
            continue
        outside = [d for d in ctx.therapy_drugs(t) if not vocab.drug_in(d, exc_drugs, exc_classes)]
        if not outside:
            unresolved = ctx.unresolved_therapy_terms(t)
            if unresolved:
                open_reasons.append(f"{', '.join(unresolved)} not in the vocabulary")
            continue
        if applies is None:
            open_reasons.append(why)
            continue
        note = f"; {why}" if why else ""
        return ev(
            "prior_therapy_except",
            Verdict.met,
            f"prior {therapy_label(t)} is {want}{note}",
            observed=therapy_label(t),
            observed_date=t.start,
            threshold=want,
        )
    if open_reasons:
        return ev(
            "prior_therapy_except",
            Verdict.unknown,
            f"cannot classify prior therapy: {'; '.join(open_reasons)}",
            threshold=want,
            missing=tuple(f"therapy detail: {r}" for r in open_reasons[:3]),
        )
    seen = "; ".join(therapy_label(t) for t in therapies if ctx.started(t)) or "no prior therapy"
    if skipped:
        seen += f"; not for {args.for_condition}: {'; '.join(skipped)}"
    if not complete:
        return not_found("prior_therapy_except", want, complete, seen)
    return ev(
        "prior_therapy_except",
        Verdict.not_met,
        f"no {want} (therapies recorded: {seen})",
        observed=seen,
        threshold=want,
    )


def compile_therapy_except(args: TherapyExceptArgs, b: Builder) -> pl.Expr:
    vocab = b.vocab
    exc_drugs: set[str] = set()
    for d in args.except_drugs:
        exc_drugs |= vocab.drug_ids(d) or set()
    exc_classes = {vocab.class_id(c) or c for c in args.except_classes}

    def kind(key: str) -> int:  # MET: a drug outside the exceptions; UNKNOWN: unresolved
        known, unresolved = known_and_unresolved_expr(vocab, key)
        if any(not vocab.drug_in(d, exc_drugs, exc_classes) for d in known):
            return MET
        return UNKNOWN if unresolved else NOT_MET

    excepted_settings = [s.value for s in args.except_settings]
    met, open_ = [], []
    for k in b.ks("therapies"):
        setting = b.s("therapies", k, "setting")
        applies = applies_expr(b, k, args.for_condition)
        live = (
            started_expr(b, k)
            & (applies != NOT_MET)
            & ~setting.is_in(excepted_settings).fill_null(False)
        )
        outside = b.mapped(drug_key_expr(b, k), kind, cx.CODE)
        met.append(live & (outside == MET) & (applies == MET))
        open_.append(live & ((outside == UNKNOWN) | ((outside == MET) & (applies == UNKNOWN))))
    return cx.combine_items(b.recorded("therapies"), met, open_, b.partial("therapies"))


PREDICATES = (
    Predicate(
        "prior_therapy_except",
        TherapyExceptArgs,
        eval_therapy_except,
        compile_therapy_except,
        reads=Reads(lists=("therapies", "diagnoses")),
    ),
)
