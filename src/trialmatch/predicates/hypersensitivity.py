"""``hypersensitivity``: a recorded hypersensitivity to a drug or class (or a drug in a class)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.patient import (
    Hypersensitivity,
    Patient,
)
from trialmatch.model.results import Evidence, Verdict
from trialmatch.predicates.base import (
    DrugFilter,
    Open,
    Predicate,
    Reads,
    cx,
    ev,
    filter_names,
    first_match,
    listed,
    not_found,
    pl,
    seen_items,
)
from trialmatch.predicates.context import Context
from trialmatch.predicates.dates import dated_after

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class HypersensitivityArgs(DrugFilter):
    """A recorded hypersensitivity to one of the drugs or classes (or a drug in a class)."""


def eval_hypersensitivity(args: HypersensitivityArgs, ctx: Context) -> Evidence:
    """A recorded hypersensitivity to a listed drug or class (or a class containing a drug)."""
    vocab = ctx.vocab
    want = f"hypersensitivity to {filter_names(vocab, args)}"
    items, complete = listed(ctx.patient.hypersensitivities)
    if items is None:
        return ev(
            "hypersensitivity",
            Verdict.unknown,
            "hypersensitivities not recorded",
            threshold=want,
            missing=("hypersensitivities / allergies",),
        )
    wanted: set[str] = set()
    for d in args.drugs:
        wanted |= vocab.drug_ids(d) or set()
    classes = {vocab.class_id(c) or c for c in args.classes}

    def judge(h: Hypersensitivity) -> Evidence | Open | None:
        if dated_after(h.date, ctx.as_of):
            return None  # a reaction not yet seen on the screening date
        drug_ids = vocab.drug_ids(h.agent)
        class_id = vocab.class_id(h.agent)
        if drug_ids is not None:
            hits = [vocab.drug_in(d, wanted, classes) for d in drug_ids]
            if vocab.is_regimen(h.agent) and any(hits) and not all(hits):
                return Open(
                    f"reaction to the regimen {h.agent!r}: which drug caused it is not recorded"
                )
            hit = any(hits)
        elif class_id is not None:
            # A class hypersensitivity covers a wanted drug in it, and a wanted class that
            # contains it or is contained in it.
            hit = any(class_id in vocab.drug_classes(d) for d in wanted) or any(
                c in vocab.class_ancestors(class_id) or class_id in vocab.class_ancestors(c)
                for c in classes
            )
        else:
            return Open(f"{h.agent!r} is not in the vocabulary")
        if not hit:
            return None
        shown = h.agent + (f" ({h.reaction})" if h.reaction else "")
        return ev(
            "hypersensitivity",
            Verdict.met,
            f"hypersensitivity to {shown} recorded",
            observed=shown,
            observed_date=h.date,
            threshold=want,
        )

    def undecided(opens: list[Open]) -> Evidence:
        reasons = [o.reason for o in opens]
        return ev(
            "hypersensitivity",
            Verdict.unknown,
            "; ".join(reasons),
            threshold=want,
            missing=tuple(f"hypersensitivity: {u}" for u in reasons[:3]),
        )

    def none_found() -> Evidence:
        seen = seen_items(items, lambda h: h.agent, ctx.as_of)
        return not_found(
            "hypersensitivity",
            want,
            complete,
            seen,
            what="hypersensitivity list",
            recorded=f"recorded hypersensitivities: {seen}",
        )

    return first_match(items, judge, undecided, none_found)


def compile_hypersensitivity(args: HypersensitivityArgs, b: Builder) -> pl.Expr:
    probe = HypersensitivityArgs(drugs=args.drugs, classes=args.classes)

    def kind(agent: str) -> int:
        from trialmatch.model.patient import Hypersensitivity

        patient = Patient(id="x", hypersensitivities=[Hypersensitivity(agent=agent)])
        ev = eval_hypersensitivity(probe, Context(patient, b.as_of, b.vocab))
        return {"met": MET, "not_met": NOT_MET}.get(ev.verdict.value, UNKNOWN)

    met, open_ = [], []
    for k in b.ks("hypersensitivities"):
        cat = b.mapped(b.s("hypersensitivities", k, "agent"), kind, cx.CODE)
        seen_on = b.s("hypersensitivities", k, "date")
        present = b.present("hypersensitivities", k) & ~b.later(seen_on)
        met.append(present & (cat == MET))
        open_.append(present & (cat == UNKNOWN))
    return cx.combine_items(
        b.recorded("hypersensitivities"), met, open_, b.partial("hypersensitivities")
    )


PREDICATES = (
    Predicate(
        "hypersensitivity",
        HypersensitivityArgs,
        eval_hypersensitivity,
        compile_hypersensitivity,
        reads=Reads(lists=("hypersensitivities",)),
    ),
)
