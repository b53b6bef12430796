"""What every predicate shares: the argument base models, the :class:`Predicate` record,
the evidence helpers, and lazy handles on Polars and the columnar toolkit.

A predicate module imports ``pl`` and ``cx`` (:mod:`trialmatch.columnar.exprs`) from here:
both are loaded on first use, so checking one patient never imports Polars.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trialmatch.lazy import LazyModule
from trialmatch.model.numbers import compare, num
from trialmatch.model.patient import (
    Listing,
)
from trialmatch.model.results import Evidence, Verdict
from trialmatch.model.vocab import Vocabulary
from trialmatch.predicates.dates import dated_after

if TYPE_CHECKING:
    import polars as pl

    from trialmatch.columnar import exprs as cx
    from trialmatch.columnar.builder import Builder
    from trialmatch.predicates.context import Context
else:
    pl = LazyModule("polars")
    cx = LazyModule("trialmatch.columnar.exprs")

__all__ = ["Args", "Bounds", "DrugFilter", "Predicate", "Reads", "cx", "pl"]


class Args(BaseModel):
    """Base of every predicate's arguments: strict, frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        """(location, kind, term) for every vocabulary term the arguments name."""
        return []


class Bounds(Args):
    """Numeric bounds in words: at_least (≥), at_most (≤), more_than (>), less_than (<).
    Bounds are finite numbers and must admit some value (``at_least: 3, at_most: 1`` is an
    error)."""

    at_least: float | None = Field(None, allow_inf_nan=False)
    at_most: float | None = Field(None, allow_inf_nan=False)
    more_than: float | None = Field(None, allow_inf_nan=False)
    less_than: float | None = Field(None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _some_bound(self) -> Bounds:
        if self.bounds() == [] and type(self).requires_bound():
            raise ValueError("give at least one of at_least, at_most, more_than, less_than")
        lows = [(v, s) for s, v in self.bounds() if s in ("≥", ">")]
        highs = [(v, s) for s, v in self.bounds() if s in ("≤", "<")]
        for low, ls in lows:
            for high, hs in highs:
                if low > high or (low == high and (ls == ">" or hs == "<")):
                    raise ValueError(
                        f"the bounds {ls} {num(low)} and {hs} {num(high)} admit no value"
                    )
        return self

    @classmethod
    def requires_bound(cls) -> bool:
        """Whether at least one bound must be given."""
        return True

    def bounds(self) -> list[tuple[str, float]]:
        """The given bounds as (symbol, value) pairs."""
        pairs = (
            ("≥", self.at_least),
            ("≤", self.at_most),
            (">", self.more_than),
            ("<", self.less_than),
        )
        return [(sym, v) for sym, v in pairs if v is not None]

    def holds(self, value: float) -> bool:
        """Whether ``value`` lies within every bound. A boundary value counts as on the
        boundary within a relative 1e-9 (see :func:`threshold`), so a unit conversion cannot
        tip it: 221 umol/L is 2.5 mg/dL for ``at_most: 2.5``."""
        return all(compare(value, sym, v) for sym, v in self.bounds())

    def describe(self, unit: str = "", scale: str = "") -> str:
        """The bounds as text, e.g. ``≤ 2.5 mg/dL``."""
        suffix = f" {unit}" if unit else ""
        return " and ".join(f"{sym} {num(v)}{scale}{suffix}" for sym, v in self.bounds())


# The longest window a criterion may give: 150 years (in days for ``max_age_days``). Longer
# windows cannot be computed as dates and mean nothing for a person's history.
MAX_YEARS = 150


MAX_DAYS = 54_787


class DrugFilter(Args):
    """Which drugs count: named drugs/regimens and/or classes (none given = any therapy)."""

    drugs: list[str] = Field(default_factory=list)
    classes: list[str] = Field(default_factory=list)

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [
            *((("drugs", i), "drug", d) for i, d in enumerate(self.drugs)),
            *((("classes", i), "class", c) for i, c in enumerate(self.classes)),
        ]


StatusName = Literal["active", "controlled", "uncontrolled", "resolved", "history"]


def listed(listing: Listing[Any] | None) -> tuple[list[Any] | None, bool]:
    """(items or None when not recorded, whether the list is complete)."""
    if listing is None:
        return None, False
    return listing.items, listing.complete


@dataclass(frozen=True)
class Reads:
    """The CSV columns a predicate reads: scalar columns, lab ids and lists (by marker)."""

    scalars: tuple[str, ...] = ()
    labs: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()


@dataclass(frozen=True)
class Predicate:
    """One leaf predicate, whole: its name, its argument model, its per-patient evaluation
    (``(args, ctx) -> Evidence``), its columnar compilation (``(args, builder) -> verdict-code
    expression``) and the CSV columns it reads (``reads``, or ``reads_for(args, vocab)`` when
    the columns depend on the arguments). Each predicate module lists its own in
    ``PREDICATES``; :data:`trialmatch.predicates.REGISTRY` is the one operator table.

    >>> from trialmatch.predicates import REGISTRY
    >>> REGISTRY["ecog"].reads.scalars
    ('ecog', 'ecog_date')
    """

    name: str
    args: type[Args]
    evaluate: Callable[[Any, Context], Evidence]
    compile: Callable[[Any, Builder], pl.Expr]
    reads: Reads = Reads()
    reads_for: Callable[[Any, Vocabulary], Reads] | None = None

    def columns(self, args: Args, vocab: Vocabulary) -> Reads:
        """The columns these arguments read (``vocab`` resolves lab names)."""
        if self.reads_for is None:
            return self.reads
        return self.reads_for(args, vocab)


def ev(name: str, verdict: Verdict, sentence: str, **kw: Any) -> Evidence:
    return Evidence(predicate=name, verdict=verdict, sentence=sentence, **kw)


def tri(value: bool) -> Verdict:
    return Verdict.met if value else Verdict.not_met


def latest_before(items: Iterable[Any], as_of: dt.date, attr: str = "date") -> list[Any]:
    """Items dated on or before ``as_of`` (latest first), then undated ones."""
    dated = [i for i in items if getattr(i, attr) is not None and getattr(i, attr) <= as_of]
    undated = [i for i in items if getattr(i, attr) is None]
    dated.sort(key=lambda i: getattr(i, attr), reverse=True)
    return dated + undated


def later_clause(ignored: Sequence[str], as_of: dt.date) -> str:
    """The evidence clause for items dated after the screening date."""
    if not ignored:
        return ""
    return f" (ignored, dated after the screening date {as_of}: {', '.join(ignored)})"


def stale_reason(date: dt.date | None, max_age_days: int | None, as_of: dt.date) -> str | None:
    """Why a dated value cannot be used under ``max_age_days``, or None."""
    if max_age_days is None:
        return None
    if date is None:
        return f"undated; must be no older than {max_age_days} days"
    age = (as_of - date).days
    if age > max_age_days:
        return f"{age} days old on {as_of}; must be no older than {max_age_days} days"
    return None


def filter_names(vocab: Vocabulary, f: DrugFilter) -> str:
    names = [
        vocab.drug_name(next(iter(vocab.drug_ids(d) or {d})))
        if len(vocab.drug_ids(d) or ()) == 1
        else d
        for d in f.drugs
    ]
    names += [vocab.class_name(vocab.class_id(c) or c) for c in f.classes]
    return " or ".join(names) if names else "any therapy"


def filter_matches(vocab: Vocabulary, f: DrugFilter, drug_ids: frozenset[str]) -> bool:
    if not f.drugs and not f.classes:
        return True
    wanted: set[str] = set()
    for d in f.drugs:
        wanted |= vocab.drug_ids(d) or set()
    classes = {vocab.class_id(c) or c for c in f.classes}
    return any(vocab.drug_in(d, wanted, classes) for d in drug_ids)


@dataclass(frozen=True)
class Open:
    """A listed item that may be the one asked for but cannot be judged: why, and the datum
    that would decide it."""

    reason: str
    missing: str = ""


def first_match(
    items: Sequence[Any],
    judge: Callable[[Any], Evidence | Open | None],
    undecided: Callable[[list[Open]], Evidence],
    none_found: Callable[[], Evidence],
) -> Evidence:
    """The "some listed item matches" shape, written once: the first item ``judge`` finds
    matching gives its evidence (met); otherwise an item that cannot be judged leaves the
    question open (``undecided``, unknown); otherwise ``none_found`` (not met for a complete
    list, unknown for one known only in part: see :func:`not_found`). ``judge`` returns None
    for an item that does not match (or is dated after the screening date).

    >>> met = Evidence(predicate="p", verdict=Verdict.met, sentence="b matches")
    >>> judge = lambda x: met if x == "b" else (Open(f"{x}?") if x == "?" else None)
    >>> unknown = lambda opens: Evidence(predicate="p", verdict=Verdict.unknown, sentence="?")
    >>> none = lambda: Evidence(predicate="p", verdict=Verdict.not_met, sentence="none")
    >>> lists = (["a", "b"], ["?", "a"], ["a"])
    >>> [first_match(xs, judge, unknown, none).verdict.value for xs in lists]
    ['met', 'unknown', 'not_met']
    """
    opens: list[Open] = []
    for item in items:
        verdict = judge(item)
        if isinstance(verdict, Evidence):
            return verdict
        if verdict is not None:
            opens.append(verdict)
    return undecided(opens) if opens else none_found()


def seen_items(items: Sequence[Any], label: Callable[[Any], str], as_of: dt.date) -> str:
    """The items of a list as evidence: those known on the screening date (or "none"), then
    those dated after it, each with its date.

    >>> from trialmatch.model.patient import Procedure
    >>> items = [Procedure(type="ASCT"), Procedure(type="allo-HSCT", date=dt.date(2027, 1, 5))]
    >>> seen_items(items, lambda p: p.type, dt.date(2026, 11, 21))
    'ASCT (ignored, dated after the screening date 2026-11-21: allo-HSCT (2027-01-05))'
    """
    known = ", ".join(label(i) for i in items if not dated_after(i.date, as_of)) or "none"
    later = [f"{label(i)} ({i.date})" for i in items if dated_after(i.date, as_of)]
    return known + later_clause(later, as_of)


def not_found(
    name: str,
    want: str,
    complete: bool,
    seen: str,
    what: str = "therapy history",
    recorded: str | None = None,
) -> Evidence:
    """Nothing matched: not met for a complete list (``recorded``, when given, is its
    sentence), unknown for one known only in part."""
    if not complete:
        return ev(
            name,
            Verdict.unknown,
            f"no {want.removeprefix('any ')} among the recorded items ({seen}), but the {what} "
            "is known only in part",
            observed=seen,
            threshold=want,
            missing=(f"{what} (complete)",),
        )
    shown = want.removeprefix("any ")
    if recorded is None:
        recorded = (
            f"no {shown} among prior therapies ({seen})"
            if what == "therapy history"
            else f"no {shown} ({seen})"
        )
    return ev(name, Verdict.not_met, recorded, observed=seen, threshold=want)
