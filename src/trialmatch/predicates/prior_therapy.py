"""``prior_therapy``: a prior therapy with a matching drug and every given filter."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.patient import (
    Setting,
    Therapy,
    TherapyOutcome,
)
from trialmatch.model.results import Evidence, Verdict
from trialmatch.predicates.base import (
    DrugFilter,
    Open,
    Predicate,
    Reads,
    cx,
    ev,
    filter_matches,
    filter_names,
    first_match,
    later_clause,
    listed,
    not_found,
    pl,
)
from trialmatch.predicates.context import Context, setting_matches, therapy_label
from trialmatch.predicates.history import (
    applies_expr,
    drug_key_expr,
    known_and_unresolved_expr,
    outcome_expr,
    setting_code_expr,
    started_expr,
)

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class PriorTherapyArgs(DrugFilter):
    """A prior therapy with a matching drug and every given filter."""

    outcome_in: list[TherapyOutcome] | None = None
    setting_in: list[Setting] | None = None
    for_condition: str | None = None

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        refs = super().vocabulary_refs()
        if self.for_condition:
            refs.append((("for_condition",), "condition", self.for_condition))
        return refs


def eval_prior_therapy(args: PriorTherapyArgs, ctx: Context) -> Evidence:
    """A prior therapy with a matching drug, outcome, setting and indication. A course without a
    setting is placed by its line (line 1 is first-line therapy); a course running on the
    screening date has no outcome yet; a therapy without an indication treats the patient's
    only diagnosis."""
    want = filter_names(ctx.vocab, args)
    if args.outcome_in:
        want += f" with outcome {' or '.join(o.value.replace('_', ' ') for o in args.outcome_in)}"
    if args.setting_in:
        want += f" in setting {' or '.join(s.value for s in args.setting_in)}"
    if args.for_condition:
        cid = ctx.vocab.condition_id(args.for_condition) or args.for_condition
        want += f" for {ctx.vocab.condition_name(cid)}"
    therapies, complete = listed(ctx.patient.therapies)
    if therapies is None:
        return ev(
            "prior_therapy",
            Verdict.unknown,
            f"therapy history not recorded; looking for {want}",
            threshold=want,
            missing=("therapy history",),
        )
    skipped: list[str] = []  # courses taken to treat another condition, said in the evidence

    def judge(t: Therapy) -> Evidence | Open | None:
        if not ctx.started(t):
            return None
        applies, why = ctx.treats(t, args.for_condition)
        if applies is False:
            if why:
                skipped.append(why)
            return None
        if not filter_matches(ctx.vocab, args, ctx.therapy_drugs(t)):
            unresolved = ctx.unresolved_therapy_terms(t)
            return Open(f"{', '.join(unresolved)} not in the vocabulary") if unresolved else None
        if applies is None:
            return Open(why)
        if args.setting_in is not None:
            fits = setting_matches(t.setting, t.line, args.setting_in)
            if fits is None:
                return Open(f"{therapy_label(t)}: setting not recorded")
            if not fits:
                return None
        if args.outcome_in is not None:
            outcome = ctx.outcome(t)
            if outcome is None:
                return Open(f"{therapy_label(t)}: outcome not recorded")
            if outcome not in args.outcome_in:
                return None
        note = f"; {why}" if why else ""
        placed = " (line 1: first-line therapy)" if args.setting_in and t.setting is None else ""
        return ev(
            "prior_therapy",
            Verdict.met,
            f"prior {therapy_label(t)}{placed} matches {want}{note}",
            observed=therapy_label(t),
            observed_date=t.start,
            threshold=want,
        )

    def undecided(opens: list[Open]) -> Evidence:
        reasons = [o.reason for o in opens]
        return ev(
            "prior_therapy",
            Verdict.unknown,
            f"cannot tell whether there was {want}: {'; '.join(reasons)}",
            threshold=want,
            missing=tuple(f"therapy detail: {r}" for r in reasons[:3]),
        )

    def none_found() -> Evidence:
        seen = "; ".join(therapy_label(t) for t in therapies if ctx.started(t)) or "none"
        if skipped:
            seen += f"; not for {want.split(' for ')[-1]}: {'; '.join(skipped)}"
        seen += later_clause([therapy_label(t) for t in therapies if not ctx.started(t)], ctx.as_of)
        return not_found("prior_therapy", want, complete, seen)

    return first_match(therapies, judge, undecided, none_found)


def compile_prior_therapy(args: PriorTherapyArgs, b: Builder) -> pl.Expr:
    vocab = b.vocab

    def kind(key: str) -> int:  # MET: matches; UNKNOWN: no match but unresolved terms
        known, unresolved = known_and_unresolved_expr(vocab, key)
        if filter_matches(vocab, args, known):
            return MET
        return UNKNOWN if unresolved else NOT_MET

    met, open_ = [], []
    for k in b.ks("therapies"):
        s = partial(b.s, "therapies", k)
        applies = applies_expr(b, k, args.for_condition)
        live = b.shared(
            ("therapy", "live", args.for_condition, k),
            partial(started_expr(b, k).__and__, applies != NOT_MET),
        )
        match = b.mapped(drug_key_expr(b, k), kind, cx.CODE)
        opens = [match == UNKNOWN]
        ok = (match == MET) & (applies == MET)
        opens.append((match == MET) & (applies == UNKNOWN))
        if args.setting_in is not None:
            fits = setting_code_expr(args.setting_in, s("setting"), s("line"))
            opens.append(ok & (fits == UNKNOWN))
            ok = ok & (fits == MET)
        if args.outcome_in is not None:
            outcome = outcome_expr(b, k)
            opens.append(ok & outcome.is_null())
            ok = ok & outcome.is_in([x.value for x in args.outcome_in]).fill_null(False)
        met.append(live & ok)
        open_.append(live & cx.any_(opens))
    return cx.combine_items(b.recorded("therapies"), met, open_, b.partial("therapies"))


PREDICATES = (
    Predicate(
        "prior_therapy",
        PriorTherapyArgs,
        eval_prior_therapy,
        compile_prior_therapy,
        reads=Reads(lists=("therapies", "diagnoses")),
    ),
)
