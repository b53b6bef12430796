"""``diagnosis``: a diagnosis of a condition or any of its subtypes, with its classification."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import Field

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.results import Evidence, Verdict
from trialmatch.model.vocab import Vocabulary, normalise
from trialmatch.predicates.base import Args, Predicate, Reads, cx, ev, later_clause, pl
from trialmatch.predicates.context import Context, condition_of
from trialmatch.predicates.dates import dated_after
from trialmatch.predicates.history import dx_now_expr

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class DiagnosisArgs(Args):
    """A diagnosis of ``condition`` or any of its subtypes."""

    condition: str
    classification_in: list[str] | None = Field(
        None, description="accepted classification systems, matched by prefix (e.g. 'WHO 2016')"
    )

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [(("condition",), "condition", self.condition)]


def classification_matches(text: str, accepted: Sequence[str]) -> bool:
    """Whether a classification is one of the accepted ones, matched by prefix with case and
    spacing ignored ("WHO2016" is "WHO 2016", and "WHO" accepts both).

    >>> classification_matches("WHO2016", ["WHO 2008", "WHO 2016"])
    True
    """
    key = normalise(text).replace(" ", "")
    return any(key.startswith(normalise(a).replace(" ", "")) for a in accepted)


def _diagnosis_condition(diag: Any, vocab: Vocabulary) -> tuple[str | None, str]:
    """The most specific condition id a diagnosis resolves to, and the term shown."""
    shown = diag.condition or diag.code or "?"
    return condition_of(vocab, diag.condition, diag.code, diag.subtype), shown


def eval_diagnosis(args: DiagnosisArgs, ctx: Context) -> Evidence:
    """A diagnosis of the condition or a subtype (through the vocabulary hierarchy).
    Diagnoses dated after the screening date are not yet made on it and are ignored."""
    vocab = ctx.vocab
    target = vocab.condition_id(args.condition) or args.condition
    want = vocab.condition_name(target)
    if args.classification_in:
        want += f" (classification: {' or '.join(args.classification_in)})"
    diagnoses = ctx.patient.diagnoses
    if diagnoses is None:
        return ev(
            "diagnosis",
            Verdict.unknown,
            f"no diagnoses recorded; needs {want}",
            threshold=want,
            missing=("diagnosis",),
        )
    unresolved: list[str] = []
    no_class: list[str] = []
    others: list[str] = []
    broader: list[str] = []
    odd_subtype: list[str] = []
    later: list[str] = []
    for d in diagnoses:
        cid, shown = _diagnosis_condition(d, vocab)
        if dated_after(d.date, ctx.as_of):
            later.append(f"{shown} ({d.date})")
            continue
        if cid is None:
            unresolved.append(shown)
            continue
        if not vocab.condition_is_a(cid, target):
            if vocab.condition_is_a(target, cid):
                # e.g. "lymphoma" when T-cell lymphoma is asked for
                if d.subtype and vocab.condition_id(d.subtype) is None:
                    odd_subtype.append(f"{shown}: subtype {d.subtype!r}")
                else:
                    broader.append(shown)
            else:
                others.append(shown)
            continue
        if args.classification_in:
            if d.classification is None:
                no_class.append(shown)
                continue
            if not classification_matches(d.classification, args.classification_in):
                others.append(f"{shown} ({d.classification})")
                continue
        cls = f" ({d.classification})" if d.classification else ""
        return ev(
            "diagnosis",
            Verdict.met,
            f"diagnosis {shown}{cls} is {want}",
            observed=f"{shown}{cls}",
            observed_date=d.date,
            threshold=want,
        )
    if unresolved:
        return ev(
            "diagnosis",
            Verdict.unknown,
            f"diagnosis {', '.join(map(repr, unresolved))} is not in the vocabulary; "
            f"cannot tell whether it is {want}",
            threshold=want,
            missing=(f"diagnosis term in the vocabulary (not {unresolved[0]!r})",),
        )
    if odd_subtype:
        return ev(
            "diagnosis",
            Verdict.unknown,
            f"{odd_subtype[0]} is not in the vocabulary; cannot tell whether it is {want}",
            threshold=want,
            missing=("diagnosis subtype in the vocabulary",),
        )
    if broader:
        return ev(
            "diagnosis",
            Verdict.unknown,
            f"diagnosis {broader[0]} is broader than {want}; the subtype is not recorded",
            threshold=want,
            missing=("diagnosis subtype",),
        )
    if no_class:
        return ev(
            "diagnosis",
            Verdict.unknown,
            f"diagnosis {no_class[0]} has no classification recorded; needs {want}",
            threshold=want,
            missing=("diagnosis classification",),
        )
    seen = ", ".join(others) if others else "none"
    return ev(
        "diagnosis",
        Verdict.not_met,
        f"diagnoses recorded: {seen}; none is {want}{later_clause(later, ctx.as_of)}",
        observed=seen,
        threshold=want,
    )


def compile_diagnosis(args: DiagnosisArgs, b: Builder) -> pl.Expr:
    vocab = b.vocab
    target = vocab.condition_id(args.condition) or args.condition

    def category(key: str) -> int:
        condition, code, subtype, classification = cx.split(key, 4)
        cid = condition_of(vocab, condition, code, subtype)
        if cid is None:
            return UNKNOWN
        if not vocab.condition_is_a(cid, target):
            return UNKNOWN if vocab.condition_is_a(target, cid) else NOT_MET
        if args.classification_in:
            if classification is None:
                return UNKNOWN
            if not classification_matches(classification, args.classification_in):
                return NOT_MET
        return MET

    met, open_ = [], []
    for k in b.ks("diagnoses"):
        s = partial(b.s, "diagnoses", k)
        cat = b.mapped(
            cx.key(s("condition"), s("code"), s("subtype"), s("classification")), category, cx.CODE
        )
        present = dx_now_expr(b, k)
        met.append(present & (cat == MET))
        open_.append(present & (cat == UNKNOWN))
    return cx.combine_items(b.recorded("diagnoses"), met, open_)


PREDICATES = (
    Predicate(
        "diagnosis",
        DiagnosisArgs,
        eval_diagnosis,
        compile_diagnosis,
        reads=Reads(lists=("diagnoses",)),
    ),
)
