"""``donor``: a donor of an accepted relation with an accepted HLA match."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from trialmatch.columnar.codes import MET, NOT_MET, UNKNOWN
from trialmatch.model.patient import (
    Patient,
)
from trialmatch.model.results import Evidence, Verdict
from trialmatch.model.vocab import normalise
from trialmatch.predicates.base import Args, Predicate, Reads, cx, ev, pl
from trialmatch.predicates.context import Context

if TYPE_CHECKING:
    from trialmatch.columnar.builder import Builder


class DonorMatch(Args):
    """One accepted donor match, e.g. ``hla: 9/10`` with the mismatch at given loci."""

    hla: str = Field(pattern=r"^\d{1,2}/\d{1,2}$")
    mismatched_locus_in: list[str] | None = None


class DonorArgs(Args):
    """A donor of an accepted relation with one of the accepted HLA matches."""

    relation_in: list[Literal["related", "unrelated"]] = Field(min_length=1)
    matches: list[DonorMatch] = Field(min_length=1)


def hla_locus(name: str) -> str:
    """Canonical HLA locus name: ``C``, ``hla-c`` and ``HLA C`` are all ``HLA-C``.

    >>> hla_locus("c"), hla_locus("HLA-DQB1")
    ('HLA-C', 'HLA-DQB1')
    """
    core = normalise(name).upper().replace(" ", "")
    core = core.removeprefix("HLA")
    return f"HLA-{core}"


def eval_donor(args: DonorArgs, ctx: Context) -> Evidence:
    """A donor whose relation and HLA match are accepted."""
    options = []
    for m in args.matches:
        loci = (
            f" (mismatch at {' or '.join(m.mismatched_locus_in)})" if m.mismatched_locus_in else ""
        )
        options.append(f"{m.hla}{loci}")
    want = f"{'/'.join(args.relation_in)} donor matched {' or '.join(options)}"
    d = ctx.patient.donor
    if d is None:
        return ev(
            "donor",
            Verdict.unknown,
            "no donor recorded",
            threshold=want,
            missing=("donor and HLA match",),
        )
    shown = f"{d.relation} donor {d.hla_match}" + (
        f" (mismatched {', '.join(d.mismatched_loci)})" if d.mismatched_loci else ""
    )
    if d.relation not in args.relation_in:
        return ev(
            "donor", Verdict.not_met, f"{shown}; needs {want}", observed=shown, threshold=want
        )
    unknown = False
    for m in args.matches:
        if m.hla != d.hla_match:
            continue
        if m.mismatched_locus_in is None:
            return ev("donor", Verdict.met, f"{shown}", observed=shown, threshold=want)
        if not d.mismatched_loci:
            unknown = True
            continue
        allowed = {hla_locus(x) for x in m.mismatched_locus_in}
        if all(any(hla_locus(x).startswith(a) for a in allowed) for x in d.mismatched_loci):
            return ev("donor", Verdict.met, f"{shown}", observed=shown, threshold=want)
    if unknown:
        return ev(
            "donor",
            Verdict.unknown,
            f"{shown}: mismatched locus not recorded",
            observed=shown,
            threshold=want,
            missing=("donor HLA mismatched locus",),
        )
    return ev("donor", Verdict.not_met, f"{shown}; needs {want}", observed=shown, threshold=want)


def compile_donor(args: DonorArgs, b: Builder) -> pl.Expr:
    def verdict(key: str) -> int:
        from trialmatch.model.patient import Donor

        relation, hla, loci = cx.split(key, 3)
        if relation is None or hla is None:
            return UNKNOWN
        donor = Donor(relation=relation, hla_match=hla, mismatched_loci=cx.items(loci))
        ev = eval_donor(args, Context(Patient(id="x", donor=donor), b.as_of, b.vocab))
        return {"met": MET, "not_met": NOT_MET}.get(ev.verdict.value, UNKNOWN)

    key = cx.key(b.c("donor_relation"), b.c("donor_hla_match"), b.c("donor_mismatched_loci"))
    return (
        pl.when(b.c("donor_relation").is_null())
        .then(cx.lit(UNKNOWN))
        .otherwise(b.mapped(key, verdict, cx.CODE))
    )


PREDICATES = (
    Predicate(
        "donor",
        DonorArgs,
        eval_donor,
        compile_donor,
        reads=Reads(scalars=("donor_relation", "donor_hla_match", "donor_mismatched_loci")),
    ),
)
