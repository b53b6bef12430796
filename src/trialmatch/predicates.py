"""The operator table: every leaf predicate, its argument model and its evaluation function.

A predicate is a pure function ``(args, ctx) -> Evidence``. It never reads the clock (the
screening date is ``ctx.as_of``) and never rounds an unknown: a missing, stale or unconvertible
datum gives ``Verdict.unknown`` with the data items that would decide it in ``missing``.

Predicates are registered with :func:`predicate`; the criteria schema admits only registered
names, so a typo fails at load time.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from trialmatch.model.patient import (
    NO_RESPONSE_OUTCOMES,
    DiseaseState,
    Lab,
    Listing,
    Patient,
    Setting,
    Sex,
    Therapy,
    TherapyOutcome,
)
from trialmatch.model.results import Evidence, Verdict
from trialmatch.model.vocab import Vocabulary, normalise

# ----------------------------------------------------------------------------------------------
# Dates


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` plus whole years; 29 February becomes 1 March in a non-leap year.

    >>> add_years(dt.date(2024, 2, 29), 1)
    datetime.date(2025, 3, 1)
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def add_span(day: dt.date, years: float) -> dt.date:
    """``day`` plus a span in years: whole years by calendar, a fraction in days (365.25/year)."""
    whole = math.floor(years)
    moved = add_years(day, whole)
    frac = years - whole
    return moved + dt.timedelta(days=round(frac * 365.25)) if frac else moved


def age_on(birth: dt.date, day: dt.date) -> int:
    """Age in whole years on ``day``. Someone born on 29 February turns a year older on 1 March
    in non-leap years.

    >>> leapling = dt.date(2008, 2, 29)
    >>> age_on(leapling, dt.date(2026, 2, 28)), age_on(leapling, dt.date(2026, 3, 1))
    (17, 18)
    """
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


# ----------------------------------------------------------------------------------------------
# Argument models


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
                        f"the bounds {ls} {_num(low)} and {hs} {_num(high)} admit no value"
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
        return all(_compare(value, sym, v) for sym, v in self.bounds())

    def describe(self, unit: str = "", scale: str = "") -> str:
        """The bounds as text, e.g. ``≤ 2.5 mg/dL``."""
        suffix = f" {unit}" if unit else ""
        return " and ".join(f"{sym} {_num(v)}{scale}{suffix}" for sym, v in self.bounds())


def threshold(sym: str, v: float) -> float:
    """The exact number a value is compared with for bound ``sym v``: the bound moved by a
    relative 1e-9 towards including the boundary (``≥``/``≤``) or excluding it (``>``/``<``).
    The columnar engine compares with the same numbers, so both engines agree exactly.

    >>> threshold("≤", 2.5) > 2.5, threshold("<", 2.5) < 2.5
    (True, True)
    """
    tol = 1e-9 * max(1.0, abs(v))
    return v - tol if sym in ("≥", "<") else v + tol


def _compare(x: float, sym: str, v: float) -> bool:
    t = threshold(sym, v)
    return {"≥": x >= t, "≤": x <= t, ">": x > t, "<": x < t}[sym]


def _num(v: float) -> str:
    return f"{v:g}" if abs(v) >= 0.01 or v == 0 else f"{v:.3g}"


def _fmt(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


class AgeArgs(Bounds):
    """Age in whole years at the screening date."""


class SexArgs(Args):
    """The patient's sex is one of these."""

    one_of: list[Sex] = Field(min_length=1)


class DiagnosisArgs(Args):
    """A diagnosis of ``condition`` or any of its subtypes."""

    condition: str
    classification_in: list[str] | None = Field(
        None, description="accepted classification systems, matched by prefix (e.g. 'WHO 2016')"
    )

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [(("condition",), "condition", self.condition)]


class FindingArgs(Args):
    """A cytogenetic or molecular finding recorded on a diagnosis."""

    name: str
    aliases: list[str] = Field(default_factory=list)


class RiskScoreArgs(Args):
    """A risk score's category is one of ``category_in``."""

    system: str
    category_in: list[str] = Field(min_length=1)


# The longest window a criterion may give: 150 years (in days for ``max_age_days``). Longer
# windows cannot be computed as dates and mean nothing for a person's history.
MAX_YEARS = 150
MAX_DAYS = 54_787


class EcogArgs(Bounds):
    """ECOG performance status within bounds; optionally no older than ``max_age_days``."""

    max_age_days: int | None = Field(None, ge=0, le=MAX_DAYS)


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


class DrugFilter(Args):
    """Which drugs count: named drugs/regimens and/or classes (none given = any therapy)."""

    drugs: list[str] = Field(default_factory=list)
    classes: list[str] = Field(default_factory=list)

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [
            *((("drugs", i), "drug", d) for i, d in enumerate(self.drugs)),
            *((("classes", i), "class", c) for i, c in enumerate(self.classes)),
        ]


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


class ExposureArgs(Bounds):
    """Cumulative exposure to a drug across therapies (overlaps counted once)."""

    drug: str
    unit: Literal["days", "months", "cycles"] = "months"

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [(("drug",), "drug", self.drug)]


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


RESPONSE_ORDER: dict[str, int] = {"sCR": 7, "CR": 6, "VGPR": 5, "PR": 4, "MR": 3, "SD": 2, "PD": 1}
_RESPONSE_SYNONYMS = {
    "scr": "sCR",
    "stringent complete response": "sCR",
    "cr": "CR",
    "complete response": "CR",
    "complete remission": "CR",
    "vgpr": "VGPR",
    "very good partial response": "VGPR",
    "pr": "PR",
    "partial response": "PR",
    "partial remission": "PR",
    "mr": "MR",
    "minimal response": "MR",
    "minor response": "MR",
    "sd": "SD",
    "stable disease": "SD",
    "stable": "SD",
    "pd": "PD",
    "progressive disease": "PD",
    "progression": "PD",
}


def response_category(term: str) -> str | None:
    """The canonical response category of a term, or None.

    >>> response_category("complete remission"), response_category("VGPR"), response_category("?")
    ('CR', 'VGPR', None)
    """
    return _RESPONSE_SYNONYMS.get(normalise(term))


ResponseName = Literal["sCR", "CR", "VGPR", "PR", "MR", "SD", "PD"]


class ResponseArgs(Args):
    """Current disease response (from ``disease_status``) at least / at most a category, after
    given lines or settings, assessed by given methods."""

    at_least: ResponseName | None = None
    at_most: ResponseName | None = None
    after_line_in: list[int] | None = None
    after_setting_in: list[Setting] | None = None
    assessed_by_in: list[str] | None = None
    max_age_days: int | None = Field(None, ge=0, le=MAX_DAYS)
    for_condition: str | None = Field(
        None, description="only courses for this disease count as the course the response followed"
    )

    @model_validator(mode="after")
    def _some(self) -> ResponseArgs:
        if self.at_least is None and self.at_most is None:
            raise ValueError("give at_least or at_most (a response category)")
        if (
            self.at_least is not None
            and self.at_most is not None
            and RESPONSE_ORDER[self.at_least] > RESPONSE_ORDER[self.at_most]
        ):
            raise ValueError(
                f"the bounds at_least {self.at_least} and at_most {self.at_most} admit no response"
            )
        return self

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [(("for_condition",), "condition", self.for_condition)] if self.for_condition else []


class DiseaseStateArgs(Args):
    """The disease status records one of these states (relapsed, refractory, ...); with
    ``for_condition``, the status must be of that disease: the patient's only diagnosis."""

    one_of: list[DiseaseState] = Field(min_length=1)
    for_condition: str | None = None

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [(("for_condition",), "condition", self.for_condition)] if self.for_condition else []


Measure = Literal["disease_free", "diagnosis_or_treatment"]


class PriorMalignancyArgs(Args):
    """Some prior malignancy (other than the exceptions) is recent.

    ``measure: disease_free``: recent unless disease-free for the span (and, with
    ``require_curative_intent``, treated with curative intent). ``measure:
    diagnosis_or_treatment``: diagnosed or treated within the span. ``elapsed`` says whether
    clearing needs at least or more than ``years`` to have passed.
    """

    years: float = Field(gt=0, le=MAX_YEARS, allow_inf_nan=False)
    measure: Measure
    elapsed: Literal["at_least", "more_than"] = "at_least"
    require_curative_intent: StrictBool = False
    except_conditions: list[str] = Field(default_factory=list)
    exception_requires_curative_treatment: StrictBool = False

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [
            (("except_conditions", i), "condition", c) for i, c in enumerate(self.except_conditions)
        ]


StatusName = Literal["active", "controlled", "uncontrolled", "resolved", "history"]
_ALL_STATUSES: tuple[StatusName, ...] = (
    "active",
    "controlled",
    "uncontrolled",
    "resolved",
    "history",
)


class ConditionArgs(Args):
    """The patient has one of ``any_of`` (or a subtype) with a status in ``status_in``."""

    any_of: list[str] = Field(min_length=1)
    status_in: list[StatusName] = Field(default_factory=lambda: list(_ALL_STATUSES))

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [(("any_of", i), "condition", c) for i, c in enumerate(self.any_of)]


class PregnancyArgs(Args):
    """The patient is pregnant and/or breastfeeding (whichever states are listed)."""

    states: list[Literal["pregnant", "breastfeeding"]] = Field(min_length=1)


class ChildbearingArgs(Args):
    """The patient is (``is: true``) or is not of childbearing potential."""

    is_: StrictBool = Field(alias="is")


class HypersensitivityArgs(DrugFilter):
    """A recorded hypersensitivity to one of the drugs or classes (or a drug in a class)."""


class DonorMatch(Args):
    """One accepted donor match, e.g. ``hla: 9/10`` with the mismatch at given loci."""

    hla: str = Field(pattern=r"^\d{1,2}/\d{1,2}$")
    mismatched_locus_in: list[str] | None = None


class DonorArgs(Args):
    """A donor of an accepted relation with one of the accepted HLA matches."""

    relation_in: list[Literal["related", "unrelated"]] = Field(min_length=1)
    matches: list[DonorMatch] = Field(min_length=1)


class ProcedureArgs(Args):
    """A recorded procedure of a given type (and conditioning)."""

    type: Literal["autologous_sct", "allogeneic_sct"]
    conditioning_in: list[str] | None = None


class TransfusionArgs(Args):
    """Red-cell transfusion status relative to a course of a drug."""

    status: Literal["dependent", "independent"]
    drug: str
    when: Literal["before_start", "during", "at_end"]

    def vocabulary_refs(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        return [(("drug",), "drug", self.drug)]


class ReviewArgs(Args):
    """A part only a person can judge."""

    reason: str = Field(min_length=3)


# ----------------------------------------------------------------------------------------------
# Context and registry


def therapy_terms(
    vocab: Vocabulary, drugs: Sequence[str], regimen: str | None
) -> tuple[frozenset[str], list[str]]:
    """(drug ids, unresolved terms) of a therapy's drugs and regimen. A regimen name the
    vocabulary does not know is not a problem when the drugs are given and all known: the
    therapy is judged on its drugs.

    >>> ids, unresolved = therapy_terms(Vocabulary.default(), ["lenalidomide"], "Len-X")
    >>> sorted(ids), unresolved
    (['lenalidomide'], [])
    """
    found: set[str] = set()
    unresolved: list[str] = []
    for term in drugs:
        ids = vocab.drug_ids(term)
        if ids is None:
            unresolved.append(term)
        else:
            found |= ids
    if regimen:
        ids = vocab.drug_ids(regimen)
        if ids is not None:
            found |= ids
        elif not drugs or unresolved:
            unresolved.append(regimen)
    return frozenset(found), unresolved


def dated_after(day: dt.date | None, as_of: dt.date) -> bool:
    """Whether a date lies after the screening date (its item is not yet known then)."""
    return day is not None and day > as_of


_ANY_PRESENT = ("active", "controlled", "uncontrolled", "resolved", "history")


@dataclass
class Context:
    """What a predicate may look at: the patient, the screening date and the vocabulary."""

    patient: Patient
    as_of: dt.date
    vocab: Vocabulary
    _therapy_drugs: dict[int, tuple[frozenset[str], list[str]]] = field(default_factory=dict)
    _treated: dict[str, tuple[str | None, str]] = field(default_factory=dict)

    def _terms(self, therapy: Therapy) -> tuple[frozenset[str], list[str]]:
        key = id(therapy)
        if key not in self._therapy_drugs:
            self._therapy_drugs[key] = therapy_terms(self.vocab, therapy.drugs, therapy.regimen)
        return self._therapy_drugs[key]

    def therapy_drugs(self, therapy: Therapy) -> frozenset[str]:
        """The drug ids of a therapy's terms that are in the vocabulary (regimens expanded);
        see :meth:`unresolved_therapy_terms` for the rest."""
        return self._terms(therapy)[0]

    def unresolved_therapy_terms(self, therapy: Therapy) -> list[str]:
        """The terms of a therapy that are not in the vocabulary (an unknown regimen name
        beside known drugs does not count)."""
        return self._terms(therapy)[1]

    def started(self, therapy: Therapy) -> bool:
        """Whether a therapy had started by the screening date (undated ones count)."""
        return not dated_after(therapy.start, self.as_of)

    def stopped_by(self, therapy: Therapy) -> bool:
        """Whether the course had stopped by the screening date: it has an end on or before
        it. A course ending after the screening date was still running then."""
        return therapy.end is not None and therapy.end <= self.as_of

    def running(self, therapy: Therapy) -> bool:
        """Whether the course was running on the screening date (recorded as ongoing, or
        ending after it)."""
        return therapy.is_ongoing or dated_after(therapy.end, self.as_of)

    def outcome(self, therapy: Therapy) -> TherapyOutcome | None:
        """The outcome as known on the screening date: a course ending after it was ongoing
        then, whatever its recorded outcome."""
        if dated_after(therapy.end, self.as_of):
            return TherapyOutcome.ongoing
        return therapy.outcome

    def diagnosis_treated(self) -> tuple[str | None, str]:
        """The condition a therapy without an indication is taken to treat: the patient's only
        diagnosis (diagnoses of one lineage, such as MDS and its subtype, count as one).
        Returns (condition id or None, why)."""
        key = "only"
        if key not in self._treated:
            self._treated[key] = only_diagnosis(self.patient, self.as_of, self.vocab)
        return self._treated[key]

    def treats(self, therapy: Therapy, condition: str | None) -> tuple[bool | None, str]:
        """Whether a therapy was for ``condition`` (None: cannot tell), and a note for the
        evidence saying which condition it was taken to treat."""
        if condition is None:
            return True, ""
        target = self.vocab.condition_id(condition) or condition
        if therapy.indication is not None:
            cid = self.vocab.condition_id(therapy.indication)
            if cid is None:
                return None, f"indication {therapy.indication!r} not in the vocabulary"
            if self.vocab.condition_is_a(cid, target):
                return True, ""
            if self.vocab.condition_is_a(target, cid):
                return None, f"indication {therapy.indication!r} is broader than {condition}"
            return False, ""
        cid, why = self.diagnosis_treated()
        label = _therapy_label(therapy)
        if cid is None:
            return None, f"{label}: indication not recorded and {why}"
        name = self.vocab.condition_name(cid)
        if self.vocab.condition_is_a(target, cid) and cid != target:
            return None, f"{label}: taken as for {name} ({why}), broader than {condition}"
        if not self.vocab.condition_is_a(cid, target):
            return False, f"{label} taken as for {name}, {why}"
        first = first_diagnosis_date(self.patient, self.as_of)
        if first is not None and therapy.end is not None and therapy.end < first:
            return False, f"{label} ended before the diagnosis of {name} ({first})"
        if first is not None and therapy.start is not None and therapy.start < first:
            return None, (
                f"{label} started before the diagnosis of {name} ({first}): what it treated is "
                "not recorded"
            )
        return True, f"taken as for {name}, {why}"


def first_diagnosis_date(patient: Patient, as_of: dt.date) -> dt.date | None:
    """The earliest date of the diagnoses made by the screening date, or None when one of them
    is undated (or none is recorded)."""
    days = [d.date for d in patient.diagnoses or [] if not dated_after(d.date, as_of)]
    if not days or any(d is None for d in days):
        return None
    return min(d for d in days if d is not None)


def only_diagnosis(patient: Patient, as_of: dt.date, vocab: Vocabulary) -> tuple[str | None, str]:
    """(condition id, why) of the patient's only diagnosis, or (None, why not).

    >>> only_diagnosis(Patient(id="x", diagnoses=[{"condition": "MDS"}]), dt.date(2026, 1, 1),
    ...                Vocabulary.default())
    ('myelodysplastic_syndrome', 'the only diagnosis')
    """
    if patient.diagnoses is None:
        return None, "no diagnoses are recorded"
    terms = [
        (d.condition, d.code, d.subtype)
        for d in patient.diagnoses
        if not dated_after(d.date, as_of)
    ]
    return only_condition(vocab, terms)


def only_condition(
    vocab: Vocabulary, diagnoses: Sequence[tuple[str | None, str | None, str | None]]
) -> tuple[str | None, str]:
    """The one condition that diagnoses given as (condition, code, subtype) name, when they
    are of one lineage (MDS and MDS with del(5q) are one), or None and why not."""
    ids: list[str] = []
    for condition, code, subtype in diagnoses:
        cid = condition_of(vocab, condition, code, subtype)
        if cid is None:
            return None, f"the diagnosis {condition or code!r} is not in the vocabulary"
        ids.append(cid)
    if not ids:
        return None, "no diagnosis is recorded"
    best = ids[0]
    for cid in ids[1:]:
        if vocab.condition_is_a(cid, best):
            best = cid
        elif not vocab.condition_is_a(best, cid):
            names = " and ".join(sorted({vocab.condition_name(i) for i in ids}))
            return None, f"the patient has several diagnoses ({names})"
    return best, "the only diagnosis"


def setting_matches(
    setting: Setting | None, line: int | None, wanted: Sequence[Setting]
) -> bool | None:
    """Whether a therapy's setting is one of ``wanted``; a course without a setting is placed by
    its line: line 1 is first-line therapy (induction, never salvage), a later line is not
    first line. None when it cannot be told.

    >>> setting_matches(None, 1, [Setting.first_line, Setting.induction])
    True
    >>> setting_matches(None, 1, [Setting.salvage]), setting_matches(None, 2, [Setting.salvage])
    (False, None)
    """
    if setting is not None:
        return setting in wanted
    if line == 1:
        if Setting.first_line in wanted or Setting.induction in wanted:
            return True
        return False if set(wanted) <= {Setting.salvage} else None
    if line is not None:
        return False if set(wanted) <= {Setting.first_line} else None
    return None


def listed(listing: Listing[Any] | None) -> tuple[list[Any] | None, bool]:
    """(items or None when not recorded, whether the list is complete)."""
    if listing is None:
        return None, False
    return listing.items, listing.complete


A = TypeVar("A", bound=Args)
Evaluator = Callable[[Any, Context], Evidence]


@dataclass(frozen=True)
class PredicateSpec:
    """A registered predicate."""

    name: str
    args: type[Args]
    evaluate: Evaluator
    summary: str


REGISTRY: dict[str, PredicateSpec] = {}


def predicate(
    name: str, args: type[A]
) -> Callable[[Callable[[A, Context], Evidence]], Callable[[A, Context], Evidence]]:
    """Register ``fn`` as the evaluator of predicate ``name`` taking ``args``."""

    def wrap(fn: Callable[[A, Context], Evidence]) -> Callable[[A, Context], Evidence]:
        REGISTRY[name] = PredicateSpec(name, args, fn, (args.__doc__ or "").strip().split("\n")[0])
        return fn

    return wrap


def _ev(name: str, verdict: Verdict, sentence: str, **kw: Any) -> Evidence:
    return Evidence(predicate=name, verdict=verdict, sentence=sentence, **kw)


def _tri(value: bool) -> Verdict:
    return Verdict.met if value else Verdict.not_met


def _latest_before(items: Iterable[Any], as_of: dt.date, attr: str = "date") -> list[Any]:
    """Items dated on or before ``as_of`` (latest first), then undated ones."""
    dated = [i for i in items if getattr(i, attr) is not None and getattr(i, attr) <= as_of]
    undated = [i for i in items if getattr(i, attr) is None]
    dated.sort(key=lambda i: getattr(i, attr), reverse=True)
    return dated + undated


# ----------------------------------------------------------------------------------------------
# Demographics


@predicate("age", AgeArgs)
def eval_age(args: AgeArgs, ctx: Context) -> Evidence:
    """Age at the screening date, from the birth date (or the recorded age)."""
    p = ctx.patient
    want = args.describe("years")
    if p.birth_date is not None and p.birth_date > ctx.as_of:
        return _ev(
            "age",
            Verdict.unknown,
            f"birth date {p.birth_date} is after the screening date {ctx.as_of}",
            threshold=want,
            missing=("birth date (correct)",),
        )
    if p.birth_date is not None:
        age = age_on(p.birth_date, ctx.as_of)
        ok = args.holds(age)
        changes = None
        for years in range(age + 1, 131):
            if args.holds(years) != ok:
                changes = add_years(p.birth_date, years)
                break
        return _ev(
            "age",
            _tri(ok),
            f"age {age} on {ctx.as_of} (born {p.birth_date}); needs {want}",
            observed=f"{age} years",
            threshold=want,
            changes_on=changes,
        )
    if p.age is not None:
        ok = args.holds(p.age)
        return _ev(
            "age",
            _tri(ok),
            f"recorded age {p.age}; needs {want}",
            observed=f"{p.age} years (recorded, no birth date)",
            threshold=want,
        )
    return _ev(
        "age",
        Verdict.unknown,
        f"no birth date or age recorded; needs {want}",
        threshold=want,
        missing=("birth date or age",),
    )


@predicate("sex", SexArgs)
def eval_sex(args: SexArgs, ctx: Context) -> Evidence:
    """Sex is one of the listed values."""
    want = " or ".join(s.value for s in args.one_of)
    if ctx.patient.sex is None:
        return _ev(
            "sex",
            Verdict.unknown,
            f"sex not recorded; needs {want}",
            threshold=want,
            missing=("sex",),
        )
    sex = ctx.patient.sex
    return _ev(
        "sex",
        _tri(sex in args.one_of),
        f"sex {sex.value}; needs {want}",
        observed=sex.value,
        threshold=want,
    )


@predicate("pregnancy", PregnancyArgs)
def eval_pregnancy(args: PregnancyArgs, ctx: Context) -> Evidence:
    """Pregnant and/or breastfeeding; male patients are neither."""
    p = ctx.patient
    want = " or ".join(args.states)
    if p.sex is Sex.male:
        return _ev(
            "pregnancy",
            Verdict.not_met,
            f"male patient: not {want}",
            observed="male",
            threshold=want,
        )
    values = {"pregnant": p.pregnant, "breastfeeding": p.breastfeeding}
    yes = [s for s in args.states if values[s] is True]
    if yes:
        return _ev(
            "pregnancy",
            Verdict.met,
            f"recorded as {' and '.join(yes)}",
            observed=", ".join(yes),
            threshold=want,
        )
    unknown = [s for s in args.states if values[s] is None]
    if unknown:
        return _ev(
            "pregnancy",
            Verdict.unknown,
            f"{' and '.join(unknown)} status not recorded",
            threshold=want,
            missing=tuple(f"{s} status" for s in unknown),
        )
    return _ev(
        "pregnancy",
        Verdict.not_met,
        f"recorded as not {want}",
        observed=f"not {want}",
        threshold=want,
    )


@predicate("childbearing_potential", ChildbearingArgs)
def eval_childbearing(args: ChildbearingArgs, ctx: Context) -> Evidence:
    """Whether the patient is of childbearing potential."""
    value = ctx.patient.childbearing_potential
    want = "of childbearing potential" if args.is_ else "not of childbearing potential"
    if value is None:
        return _ev(
            "childbearing_potential",
            Verdict.unknown,
            "childbearing potential not recorded",
            threshold=want,
            missing=("childbearing potential",),
        )
    seen = "of childbearing potential" if value else "not of childbearing potential"
    return _ev(
        "childbearing_potential",
        _tri(value == args.is_),
        f"recorded as {seen}",
        observed=seen,
        threshold=want,
    )


# ----------------------------------------------------------------------------------------------
# Diagnoses


def condition_of(
    vocab: Vocabulary, condition: str | None, code: str | None, subtype: str | None
) -> str | None:
    """The most specific condition id that a diagnosis's subtype, code or name resolves to.

    >>> condition_of(Vocabulary.default(), "MDS", None, "MDS with isolated del(5q)")
    'mds_del5q'
    """
    best: str | None = None
    for term in (subtype, code, condition):
        if term:
            cid = vocab.condition_id(term)
            if cid is not None and (best is None or best in vocab.condition_ancestors(cid)):
                best = cid
    return best


def classification_matches(text: str, accepted: Sequence[str]) -> bool:
    """Whether a classification is one of the accepted ones, matched by prefix with case and
    spacing ignored ("WHO2016" is "WHO 2016", and "WHO" accepts both).

    >>> classification_matches("WHO2016", ["WHO 2008", "WHO 2016"])
    True
    """
    key = normalise(text).replace(" ", "")
    return any(key.startswith(normalise(a).replace(" ", "")) for a in accepted)


def assessed_by_matches(text: str, methods: Sequence[str]) -> bool:
    """Whether an assessment method names one of ``methods`` (PET-CT counts as CT).

    >>> assessed_by_matches("PET-CT", ["CT"]), assessed_by_matches("bone marrow", ["CT"])
    (True, False)
    """
    tokens = set(normalise(text).replace("/", " ").split())
    return any(normalise(m) in tokens or normalise(m) == normalise(text) for m in methods)


def _diagnosis_condition(diag: Any, vocab: Vocabulary) -> tuple[str | None, str]:
    """The most specific condition id a diagnosis resolves to, and the term shown."""
    shown = diag.condition or diag.code or "?"
    return condition_of(vocab, diag.condition, diag.code, diag.subtype), shown


def _later(ignored: Sequence[str], as_of: dt.date) -> str:
    """The evidence clause for items dated after the screening date."""
    if not ignored:
        return ""
    return f" (ignored, dated after the screening date {as_of}: {', '.join(ignored)})"


@predicate("diagnosis", DiagnosisArgs)
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
        return _ev(
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
        return _ev(
            "diagnosis",
            Verdict.met,
            f"diagnosis {shown}{cls} is {want}",
            observed=f"{shown}{cls}",
            observed_date=d.date,
            threshold=want,
        )
    if unresolved:
        return _ev(
            "diagnosis",
            Verdict.unknown,
            f"diagnosis {', '.join(map(repr, unresolved))} is not in the vocabulary; "
            f"cannot tell whether it is {want}",
            threshold=want,
            missing=(f"diagnosis term in the vocabulary (not {unresolved[0]!r})",),
        )
    if odd_subtype:
        return _ev(
            "diagnosis",
            Verdict.unknown,
            f"{odd_subtype[0]} is not in the vocabulary; cannot tell whether it is {want}",
            threshold=want,
            missing=("diagnosis subtype in the vocabulary",),
        )
    if broader:
        return _ev(
            "diagnosis",
            Verdict.unknown,
            f"diagnosis {broader[0]} is broader than {want}; the subtype is not recorded",
            threshold=want,
            missing=("diagnosis subtype",),
        )
    if no_class:
        return _ev(
            "diagnosis",
            Verdict.unknown,
            f"diagnosis {no_class[0]} has no classification recorded; needs {want}",
            threshold=want,
            missing=("diagnosis classification",),
        )
    seen = ", ".join(others) if others else "none"
    return _ev(
        "diagnosis",
        Verdict.not_met,
        f"diagnoses recorded: {seen}; none is {want}{_later(later, ctx.as_of)}",
        observed=seen,
        threshold=want,
    )


def _finding_key(name: str) -> str:
    return normalise(name).replace(" ", "").replace("(", "").replace(")", "")


@predicate("finding", FindingArgs)
def eval_finding(args: FindingArgs, ctx: Context) -> Evidence:
    """A cytogenetic/molecular finding. Unlisted findings are unknown (maybe not tested)."""
    keys = {_finding_key(n) for n in [args.name, *args.aliases]}
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
            if _finding_key(name) in keys:
                if present:
                    return _ev(
                        "finding",
                        Verdict.met,
                        f"finding {name} present",
                        observed=name,
                        observed_date=date,
                        threshold=args.name,
                    )
                negative = (name, date)
    if negative is not None:
        return _ev(
            "finding",
            Verdict.not_met,
            f"finding {negative[0]} recorded as absent",
            observed=f"{negative[0]}: absent",
            observed_date=negative[1],
            threshold=args.name,
        )
    return _ev(
        "finding",
        Verdict.unknown,
        f"no result recorded for {args.name}",
        threshold=args.name,
        missing=(f"{args.name} (cytogenetics)",),
    )


@predicate("risk_score", RiskScoreArgs)
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
        return _ev(
            "risk_score",
            Verdict.unknown,
            f"no {args.system} score recorded",
            threshold=want,
            missing=(f"{args.system} score",),
        )
    latest = _latest_before(scores, ctx.as_of)
    if not latest:
        return _ev(
            "risk_score",
            Verdict.unknown,
            f"{args.system} score is dated after the screening date",
            threshold=want,
            missing=(f"{args.system} score",),
        )
    s = latest[0]
    ok = normalise(s.category) in {normalise(c) for c in args.category_in}
    return _ev(
        "risk_score",
        _tri(ok),
        f"{args.system} {s.category}; needs {want}",
        observed=f"{args.system} {s.category}",
        observed_date=s.date,
        threshold=want,
    )


# ----------------------------------------------------------------------------------------------
# Performance status and labs


def _stale(date: dt.date | None, max_age_days: int | None, as_of: dt.date) -> str | None:
    """Why a dated value cannot be used under ``max_age_days``, or None."""
    if max_age_days is None:
        return None
    if date is None:
        return f"undated; must be no older than {max_age_days} days"
    age = (as_of - date).days
    if age > max_age_days:
        return f"{age} days old on {as_of}; must be no older than {max_age_days} days"
    return None


@predicate("ecog", EcogArgs)
def eval_ecog(args: EcogArgs, ctx: Context) -> Evidence:
    """ECOG performance status within bounds."""
    want = f"ECOG {args.describe()}"
    e = ctx.patient.ecog
    if e is None:
        return _ev(
            "ecog",
            Verdict.unknown,
            f"ECOG not recorded; needs {want}",
            threshold=want,
            missing=("ECOG performance status",),
        )
    if e.date is not None and e.date > ctx.as_of:
        return _ev(
            "ecog",
            Verdict.unknown,
            f"ECOG dated {e.date}, after the screening date",
            threshold=want,
            missing=("ECOG performance status",),
        )
    stale = _stale(e.date, args.max_age_days, ctx.as_of)
    if stale:
        return _ev(
            "ecog",
            Verdict.unknown,
            f"ECOG {e.value} is stale ({stale})",
            observed=f"ECOG {e.value}",
            observed_date=e.date,
            threshold=want,
            missing=("ECOG performance status (recent)",),
        )
    return _ev(
        "ecog",
        _tri(args.holds(e.value)),
        f"ECOG {e.value}; needs {want}",
        observed=f"ECOG {e.value}",
        observed_date=e.date,
        threshold=want,
    )


@dataclass(frozen=True)
class _Value:
    value: float
    unit: str
    date: dt.date | None
    shown: str
    converted: str | None = None


def _lab_results(ctx: Context, lab_id: str) -> list[Lab]:
    labs = ctx.patient.labs or []
    return _latest_before([x for x in labs if ctx.vocab.lab_id(x.name) == lab_id], ctx.as_of)


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
        stale = _stale(r.date, args.max_age_days, ctx.as_of)
        conv = vocab.convert(lab_id, r.value, r.unit, unit)
        if stale:
            problems.append(f"{name} {stale}")
            missing.append(f"{name} (recent)")
        elif conv is None:
            problems.append(f"{name} unit {r.unit!r} cannot be converted to {unit}")
            missing.append(f"{name} in a known unit")
        else:
            inputs[lab_id] = _Value(conv, unit, r.date, f"{_fmt(r.value)} {r.unit}")
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
        return _ev(
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
        return _ev(
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
        f"Cockcroft-Gault: (140 − {age} y) × {_fmt(wt.value)} kg / "
        f"(72 × {_fmt(scr.value)} mg/dL){sex_part} = {crcl:.1f} mL/min"
    )
    dates = [d for d in (scr.date, wt.date) if d is not None]
    unit = args.unit or "mL/min"
    value = vocab.convert("creatinine_clearance", crcl, "mL/min", unit)
    if value is None:  # the loader rejects unknown units; kept for safety
        return _ev(
            "lab",
            Verdict.unknown,
            f"cannot express creatinine clearance in {unit}",
            threshold=want,
            missing=("creatinine clearance",),
        )
    if unit != "mL/min":
        formula += f" = {_fmt(value)} {unit}"
    ok = args.holds(value)
    return _ev(
        "lab",
        _tri(ok),
        f"derived creatinine clearance {crcl:.1f} mL/min; needs {want}",
        observed=f"{crcl:.1f} mL/min (derived)",
        observed_date=min(dates) if dates else None,
        converted=formula,
        threshold=want,
    )


@predicate("lab", LabArgs)
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
        return _ev(
            "lab",
            Verdict.unknown,
            f"{why}; needs {want}",
            threshold=want,
            missing=(f"{name} (lab)",),
        )
    r = results[0]
    observed = f"{_fmt(r.value)} {r.unit}"
    stale = _stale(r.date, args.max_age_days, ctx.as_of)
    if stale:
        return _ev(
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
            return _ev(
                "lab",
                Verdict.unknown,
                f"{name} {observed} has no upper limit of normal recorded with it",
                observed=observed,
                observed_date=r.date,
                threshold=want,
                missing=(f"{name} upper limit of normal",),
            )
        if r.uln <= 0:
            return _ev(
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
        return _ev(
            "lab",
            _tri(ok),
            f"{name} {observed} = {ratio:.2f} × ULN (ULN {_fmt(r.uln)} {r.unit}); "
            f"needs {args.describe(scale=' × ULN')}",
            observed=observed,
            observed_date=r.date,
            converted=f"{ratio:.2f} × ULN (ULN {_fmt(r.uln)} {r.unit})",
            threshold=want,
        )
    assert args.unit is not None
    value = vocab.convert(lab_id, r.value, r.unit, args.unit)
    if value is None:
        known = ", ".join(vocab.labs[lab_id].units)
        close = vocab.suggest_unit(lab_id, r.unit)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        return _ev(
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
        converted = f"{_fmt(r.value)} {r.unit} = {_fmt(value)} {args.unit}"
    ok = args.holds(value)
    shown = f"{observed}" + (f" ({_fmt(value)} {args.unit})" if converted else "")
    return _ev(
        "lab",
        _tri(ok),
        f"{name} {shown}; needs {args.describe(args.unit)}",
        observed=observed,
        observed_date=r.date,
        converted=converted,
        threshold=want,
    )


# ----------------------------------------------------------------------------------------------
# Therapies


def _filter_names(vocab: Vocabulary, f: DrugFilter) -> str:
    names = [
        vocab.drug_name(next(iter(vocab.drug_ids(d) or {d})))
        if len(vocab.drug_ids(d) or ()) == 1
        else d
        for d in f.drugs
    ]
    names += [vocab.class_name(vocab.class_id(c) or c) for c in f.classes]
    return " or ".join(names) if names else "any therapy"


def _filter_matches(vocab: Vocabulary, f: DrugFilter, drug_ids: frozenset[str]) -> bool:
    if not f.drugs and not f.classes:
        return True
    wanted: set[str] = set()
    for d in f.drugs:
        wanted |= vocab.drug_ids(d) or set()
    classes = {vocab.class_id(c) or c for c in f.classes}
    return any(vocab.drug_in(d, wanted, classes) for d in drug_ids)


def _therapy_label(t: Therapy) -> str:
    agents = t.regimen or "+".join(t.drugs)
    parts = [agents]
    if t.line:
        parts.append(f"line {t.line}")
    if t.setting:
        parts.append(t.setting.value)
    if t.start:
        parts.append(f"from {t.start}")
    if t.end:
        parts.append(f"to {t.end}")
    if t.outcome:
        parts.append(t.outcome.value.replace("_", " "))
    return f"{parts[0]} ({', '.join(parts[1:])})" if len(parts) > 1 else parts[0]


def _not_found(
    name: str, want: str, complete: bool, seen: str, what: str = "therapy history"
) -> Evidence:
    """Nothing matched: not met for a complete list, unknown for one known only in part."""
    if not complete:
        return _ev(
            name,
            Verdict.unknown,
            f"no {want.removeprefix('any ')} among the recorded items ({seen}), but the {what} "
            "is known only in part",
            observed=seen,
            threshold=want,
            missing=(f"{what} (complete)",),
        )
    shown = want.removeprefix("any ")
    return _ev(
        name,
        Verdict.not_met,
        f"no {shown} among prior therapies ({seen})"
        if what == "therapy history"
        else f"no {shown} ({seen})",
        observed=seen,
        threshold=want,
    )


@predicate("prior_therapy", PriorTherapyArgs)
def eval_prior_therapy(args: PriorTherapyArgs, ctx: Context) -> Evidence:
    """A prior therapy with a matching drug, outcome, setting and indication. A course without a
    setting is placed by its line (line 1 is first-line therapy); a course running on the
    screening date has no outcome yet; a therapy without an indication treats the patient's
    only diagnosis."""
    want = _filter_names(ctx.vocab, args)
    if args.outcome_in:
        want += f" with outcome {' or '.join(o.value.replace('_', ' ') for o in args.outcome_in)}"
    if args.setting_in:
        want += f" in setting {' or '.join(s.value for s in args.setting_in)}"
    if args.for_condition:
        cid = ctx.vocab.condition_id(args.for_condition) or args.for_condition
        want += f" for {ctx.vocab.condition_name(cid)}"
    therapies, complete = listed(ctx.patient.therapies)
    if therapies is None:
        return _ev(
            "prior_therapy",
            Verdict.unknown,
            f"therapy history not recorded; looking for {want}",
            threshold=want,
            missing=("therapy history",),
        )
    open_reasons: list[str] = []
    skipped: list[str] = []  # courses taken to treat another condition, said in the evidence
    for t in therapies:
        if not ctx.started(t):
            continue
        applies, why = ctx.treats(t, args.for_condition)
        if applies is False:
            if why:
                skipped.append(why)
            continue
        if not _filter_matches(ctx.vocab, args, ctx.therapy_drugs(t)):
            unresolved = ctx.unresolved_therapy_terms(t)
            if unresolved:
                open_reasons.append(f"{', '.join(unresolved)} not in the vocabulary")
            continue
        if applies is None:
            open_reasons.append(why)
            continue
        if args.setting_in is not None:
            fits = setting_matches(t.setting, t.line, args.setting_in)
            if fits is None:
                open_reasons.append(f"{_therapy_label(t)}: setting not recorded")
                continue
            if not fits:
                continue
        if args.outcome_in is not None:
            outcome = ctx.outcome(t)
            if outcome is None:
                open_reasons.append(f"{_therapy_label(t)}: outcome not recorded")
                continue
            if outcome not in args.outcome_in:
                continue
        note = f"; {why}" if why else ""
        placed = " (line 1: first-line therapy)" if args.setting_in and t.setting is None else ""
        return _ev(
            "prior_therapy",
            Verdict.met,
            f"prior {_therapy_label(t)}{placed} matches {want}{note}",
            observed=_therapy_label(t),
            observed_date=t.start,
            threshold=want,
        )
    if open_reasons:
        return _ev(
            "prior_therapy",
            Verdict.unknown,
            f"cannot tell whether there was {want}: {'; '.join(open_reasons)}",
            threshold=want,
            missing=tuple(f"therapy detail: {r}" for r in open_reasons[:3]),
        )
    seen = "; ".join(_therapy_label(t) for t in therapies if ctx.started(t)) or "none"
    if skipped:
        seen += f"; not for {want.split(' for ')[-1]}: {'; '.join(skipped)}"
    seen += _later([_therapy_label(t) for t in therapies if not ctx.started(t)], ctx.as_of)
    return _not_found("prior_therapy", want, complete, seen)


def merge_spans(spans: list[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """The union of inclusive date spans as disjoint spans (touching spans are joined)."""
    merged: list[tuple[dt.date, dt.date]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1] + dt.timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus calendar months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def calendar_months(first: dt.date, last: dt.date) -> float:
    """Calendar months covered by the inclusive span ``first``..``last``: whole months, then the
    remaining days as a fraction of the following month.

    >>> calendar_months(dt.date(2024, 1, 1), dt.date(2024, 9, 30))
    9.0
    """
    end = last + dt.timedelta(days=1)
    whole = (end.year - first.year) * 12 + end.month - first.month
    while whole > 0 and add_months(first, whole) > end:
        whole -= 1
    anchor = add_months(first, whole)
    rest = (end - anchor).days
    return whole + rest / calendar.monthrange(anchor.year, anchor.month)[1]


@predicate("cumulative_exposure", ExposureArgs)
def eval_exposure(args: ExposureArgs, ctx: Context) -> Evidence:
    """Total time (or cycles) on a drug, ongoing courses counted up to the screening date. With
    a therapy history known only in part, the recorded courses are a lower bound."""
    vocab = ctx.vocab
    wanted = vocab.drug_ids(args.drug) or frozenset()
    name = " + ".join(vocab.drug_name(d) for d in sorted(wanted)) or args.drug
    want = f"{name} exposure {args.describe(args.unit)}"
    therapies, complete = listed(ctx.patient.therapies)
    if therapies is None:
        return _ev(
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
        courses.append(_therapy_label(t))
        if args.unit == "cycles":
            if t.cycles is None:
                problems.append(f"{_therapy_label(t)}: cycles not recorded")
            elif dated_after(t.end, ctx.as_of):
                problems.append(
                    f"{_therapy_label(t)}: ends after the screening date, so the cycles given "
                    "by then are not known"
                )
            else:
                cycles += t.cycles
            continue
        end = t.end
        if end is None and t.is_ongoing:
            end = ctx.as_of
        if t.start is None or end is None:
            problems.append(f"{_therapy_label(t)}: start or end date not recorded")
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
    shown = f"{_fmt(round(amount, 2))} {args.unit}"
    if problems:
        # The known part is a lower bound on the true exposure: it decides the verdict when it
        # already breaks an upper limit, or meets every limit and all of them are lower ones.
        bounds = args.bounds()
        upper_broken = any(sym in ("≤", "<") and not _compare(amount, sym, v) for sym, v in bounds)
        lower_only_met = all(sym in ("≥", ">") for sym, _ in bounds) and args.holds(amount)
        if not upper_broken and not lower_only_met:
            return _ev(
                "cumulative_exposure",
                Verdict.unknown,
                f"at least {shown} on {name}, but {'; '.join(problems)}",
                observed=f"≥ {shown}",
                threshold=want,
                missing=tuple(f"therapy detail: {p}" for p in problems[:3]),
            )
    ok = args.holds(amount)
    detail = "; ".join(courses) if courses else f"no {name} recorded"
    return _ev(
        "cumulative_exposure",
        _tri(ok),
        f"{shown} on {name} ({detail}); needs {args.describe(args.unit)}",
        observed=shown,
        threshold=want,
        converted=f"{days} days = {months:.2f} calendar months" if args.unit == "months" else None,
    )


@predicate("prior_therapy_except", TherapyExceptArgs)
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
        return _ev(
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
        return _ev(
            "prior_therapy_except",
            Verdict.met,
            f"prior {_therapy_label(t)} is {want}{note}",
            observed=_therapy_label(t),
            observed_date=t.start,
            threshold=want,
        )
    if open_reasons:
        return _ev(
            "prior_therapy_except",
            Verdict.unknown,
            f"cannot classify prior therapy: {'; '.join(open_reasons)}",
            threshold=want,
            missing=tuple(f"therapy detail: {r}" for r in open_reasons[:3]),
        )
    seen = "; ".join(_therapy_label(t) for t in therapies if ctx.started(t)) or "no prior therapy"
    if skipped:
        seen += f"; not for {args.for_condition}: {'; '.join(skipped)}"
    if not complete:
        return _not_found("prior_therapy_except", want, complete, seen)
    return _ev(
        "prior_therapy_except",
        Verdict.not_met,
        f"no {want} (therapies recorded: {seen})",
        observed=seen,
        threshold=want,
    )


def course_before(
    ctx: Context, assessed: dt.date | None, condition: str | None = None
) -> tuple[Therapy | None, str]:
    """The latest course started before an assessment (dated ``assessed``, else the screening
    date), or None and why it cannot be told; supportive care and prophylaxis are not courses a
    response follows. With ``condition``, only courses for it count
    (a course whose indication cannot be told may be the one). A course without a start date
    could fall anywhere, unless it ended before a later course started: with several courses
    the order is then unknown, never guessed (with an undated assessment, an undated course
    counts as before it)."""
    therapies, complete = listed(ctx.patient.therapies)
    if therapies is None:
        return None, "therapy history not recorded"
    if not complete:
        return None, "the therapy history is known only in part"
    before = assessed or ctx.as_of
    relevance = {id(t): ctx.treats(t, condition) for t in therapies}
    candidates = [
        t
        for t in therapies
        if relevance[id(t)][0] is not False
        and not supportive(t)
        and ((t.start is None and ctx.started(t)) or (t.start is not None and t.start <= before))
    ]
    if not candidates:
        return None, "no therapy recorded before the assessment"
    if len(candidates) == 1:
        chosen = candidates[0]
    else:
        dated = [t for t in candidates if t.start is not None]
        latest = max((t.start for t in dated if t.start is not None), default=None)
        for t in candidates:
            ended_earlier = t.end is not None and latest is not None and t.end < latest
            if t.start is None and not ended_earlier:
                return None, f"{_therapy_label(t)} has no start date, so the order is not known"
        chosen = sorted(dated, key=lambda t: t.start or before)[-1]
    applies, why = relevance[id(chosen)]
    if applies is None:
        return None, why
    return chosen, ""


def line_before(
    ctx: Context, assessed: dt.date | None, condition: str | None = None
) -> int | None:
    """The line of therapy an assessment followed, from the courses' lines (for ``condition``
    only, when given): the highest line started before it, when every course has a line. An
    undated course, or one whose indication cannot be told, with a higher line may have been
    the one: then None."""
    therapies, complete = listed(ctx.patient.therapies)
    if therapies is None or not complete:
        return None
    before = assessed or ctx.as_of

    def ended_before(t: Therapy) -> bool:
        return t.end is not None and assessed is not None and t.end <= assessed

    definite: list[Therapy] = []
    ambiguous: list[Therapy] = []
    for t in therapies:
        applies = ctx.treats(t, condition)[0]
        if applies is False or supportive(t):
            continue
        if t.start is None and assessed is not None and not ended_before(t):
            ambiguous.append(t)
        elif (t.start is None and ctx.started(t)) or (t.start is not None and t.start <= before):
            (definite if applies else ambiguous).append(t)
    if not definite or any(t.line is None for t in [*definite, *ambiguous]):
        return None
    line = max(t.line or 0 for t in definite)
    if any((t.line or 0) > line for t in ambiguous):
        return None
    return line


def superseding_course(
    ctx: Context, status_date: dt.date | None, condition: str | None
) -> Therapy | None:
    """A course (for ``condition``, or of unknown indication) started after a dated disease
    status and by the screening date: the status no longer describes the current response."""
    if status_date is None:
        return None
    therapies, _ = listed(ctx.patient.therapies)
    t: Therapy
    for t in therapies or []:
        if (
            t.start is not None
            and status_date < t.start <= ctx.as_of
            and not supportive(t)
            and ctx.treats(t, condition)[0] is not False
        ):
            return t
    return None


SUPPORTIVE_SETTINGS = (Setting.supportive, Setting.prophylaxis)


def supportive(t: Therapy) -> bool:
    """Supportive care or prophylaxis: not a line of therapy a response follows."""
    return t.setting in SUPPORTIVE_SETTINGS


def _response_want(args: ResponseArgs) -> str:
    parts = []
    if args.at_least:
        parts.append(f"{args.at_least} or better")
    if args.at_most:
        parts.append(f"{args.at_most} or worse")
    want = "response " + " and ".join(parts)
    if args.after_line_in:
        want += f" after line {' or '.join(map(str, args.after_line_in))}"
    if args.after_setting_in:
        want += f" after {' or '.join(s.value for s in args.after_setting_in)} therapy"
    if args.assessed_by_in:
        want += f", assessed by {' or '.join(args.assessed_by_in)}"
    return want


def _rank_ok(args: ResponseArgs, rank: int) -> bool:
    return (args.at_least is None or rank >= RESPONSE_ORDER[args.at_least]) and (
        args.at_most is None or rank <= RESPONSE_ORDER[args.at_most]
    )


# What a course's outcome says of the response after it: no response means SD or PD.
_OUTCOME_RANKS = {
    TherapyOutcome.no_response: (RESPONSE_ORDER["SD"], RESPONSE_ORDER["PD"]),
    TherapyOutcome.progression: (RESPONSE_ORDER["PD"],),
}


def _response_from_course(args: ResponseArgs, ctx: Context, want: str, lead: str) -> Evidence:
    """No usable disease status: a latest course that ended without response (or with
    progression) still settles what response followed it."""
    latest, _ = course_before(ctx, None, args.for_condition)
    outcome = ctx.outcome(latest) if latest is not None else None
    if latest is None or outcome not in _OUTCOME_RANKS:
        return _ev(
            "response",
            Verdict.unknown,
            f"{lead}current response not recorded; needs {want}",
            threshold=want,
            missing=("current disease status (response)",),
        )
    ranks = _OUTCOME_RANKS[outcome]
    seen = "SD or PD" if len(ranks) > 1 else "PD"
    observed = f"{_therapy_label(latest)}: {seen}"
    said = f"{lead}the latest course {_therapy_label(latest)} ended "
    said += "without response" if outcome is TherapyOutcome.no_response else "in progression"
    oks = [_rank_ok(args, r) for r in ranks]
    if not any(oks):
        return _ev(
            "response",
            Verdict.not_met,
            f"{said}, so no response ({seen}) followed it; needs {want}",
            observed=observed,
            observed_date=latest.end,
            threshold=want,
        )
    missing: list[str] = []
    if not all(oks):
        missing.append("current disease status (response)")
    stale = _stale(latest.end, args.max_age_days, ctx.as_of)
    if stale:
        missing.append("current disease status (recent)")
    if args.after_line_in:
        if latest.line is None:
            missing.append("line of therapy the response followed")
        elif latest.line not in args.after_line_in:
            return _ev(
                "response",
                Verdict.not_met,
                f"{said} (line {latest.line}); needs {want}",
                observed=observed,
                observed_date=latest.end,
                threshold=want,
            )
    if args.after_setting_in:
        fits = setting_matches(latest.setting, latest.line, args.after_setting_in)
        if fits is None:
            missing.append("setting of the therapy the response followed")
        elif not fits:
            return _ev(
                "response",
                Verdict.not_met,
                f"{said}; needs {want}",
                observed=observed,
                observed_date=latest.end,
                threshold=want,
            )
    if args.assessed_by_in:
        missing.append("how the response was assessed")
    if missing:
        return _ev(
            "response",
            Verdict.unknown,
            f"{said} ({seen}); {', '.join(missing)} not recorded; needs {want}",
            observed=observed,
            observed_date=latest.end,
            threshold=want,
            missing=tuple(dict.fromkeys(missing)),
        )
    return _ev(
        "response",
        Verdict.met,
        f"{said} ({seen}); needs {want}",
        observed=observed,
        observed_date=latest.end,
        threshold=want,
    )


@predicate("response", ResponseArgs)
def eval_response(args: ResponseArgs, ctx: Context) -> Evidence:
    """Current response category (from disease_status) with line/setting/method filters.
    Without a disease status, a latest course that ended without response or in progression
    decides what it can (no PR after it)."""
    want = _response_want(args)
    s = ctx.patient.disease_status
    lead = "no disease status recorded; "
    if s is not None and dated_after(s.date, ctx.as_of):
        lead = f"disease status dated {s.date} is after the screening date (ignored); "
        s = None
    elif s is not None and s.response is None:
        lead = "the disease status records no response; "
    elif s is not None:
        later = superseding_course(ctx, s.date, args.for_condition)
        if later is not None:
            lead = (
                f"the response {s.response} of {s.date} predates {_therapy_label(later)}, so it "
                "is no longer the current one; "
            )
            s = None
    if s is None or s.response is None:
        return _response_from_course(args, ctx, want, lead)
    cat = response_category(s.response)
    observed = f"{s.response}" + (f" by {s.assessed_by}" if s.assessed_by else "")
    if cat is None:
        return _ev(
            "response",
            Verdict.unknown,
            f"response {s.response!r} is not a known category ({', '.join(RESPONSE_ORDER)})",
            observed=observed,
            observed_date=s.date,
            threshold=want,
            missing=("response as a standard category",),
        )
    stale = _stale(s.date, args.max_age_days, ctx.as_of)
    if stale:
        return _ev(
            "response",
            Verdict.unknown,
            f"response assessment is stale ({stale})",
            observed=observed,
            observed_date=s.date,
            threshold=want,
            missing=("current disease status (recent)",),
        )
    if not _rank_ok(args, RESPONSE_ORDER[cat]):
        return _ev(
            "response",
            Verdict.not_met,
            f"current response {observed}; needs {want}",
            observed=observed,
            observed_date=s.date,
            threshold=want,
        )
    missing: list[str] = []
    notes: list[str] = []
    if args.after_line_in:
        line = (
            s.after_line
            if s.after_line is not None
            else line_before(ctx, s.date, args.for_condition)
        )
        if line is None:
            missing.append("line of therapy the response followed")
        elif line not in args.after_line_in:
            return _ev(
                "response",
                Verdict.not_met,
                f"{observed} after line {line}; needs {want}",
                observed=f"{observed} after line {line}",
                observed_date=s.date,
                threshold=want,
            )
        else:
            notes.append(f"after line {line}")
    if args.after_setting_in:
        latest, why = course_before(ctx, s.date, args.for_condition)
        fits = (
            setting_matches(latest.setting, latest.line, args.after_setting_in)
            if latest is not None
            else None
        )
        if latest is None or fits is None:
            missing.append("setting of the therapy the response followed")
            if why:
                notes.append(why)
        elif not fits:
            return _ev(
                "response",
                Verdict.not_met,
                f"{observed} followed {_therapy_label(latest)}; needs {want}",
                observed=observed,
                observed_date=s.date,
                threshold=want,
            )
        else:
            notes.append(f"after {_therapy_label(latest)}")
    if args.assessed_by_in:
        if s.assessed_by is None:
            missing.append("how the response was assessed")
        elif not assessed_by_matches(s.assessed_by, args.assessed_by_in):
            return _ev(
                "response",
                Verdict.not_met,
                f"response assessed by {s.assessed_by}; needs {want}",
                observed=observed,
                observed_date=s.date,
                threshold=want,
            )
    extra = f" ({'; '.join(notes)})" if notes else ""
    if missing:
        return _ev(
            "response",
            Verdict.unknown,
            f"{observed}, but {', '.join(missing)} not recorded{extra}",
            observed=observed,
            observed_date=s.date,
            threshold=want,
            missing=tuple(missing),
        )
    return _ev(
        "response",
        Verdict.met,
        f"current response {observed}{extra}; needs {want}",
        observed=observed,
        observed_date=s.date,
        threshold=want,
    )


@predicate("disease_state", DiseaseStateArgs)
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
            return _ev(
                "disease_state",
                Verdict.not_met,
                f"the patient's only diagnosis is {name}; needs {want}",
                observed=name,
                threshold=want,
            )
    s = ctx.patient.disease_status
    if s is not None and dated_after(s.date, ctx.as_of):
        return _ev(
            "disease_state",
            Verdict.unknown,
            f"disease status dated {s.date} is after the screening date (ignored); needs {want}",
            threshold=want,
            missing=("disease state (relapsed / refractory)",),
        )
    if s is None or s.state is None:
        return _ev(
            "disease_state",
            Verdict.unknown,
            f"whether the disease is {want} is not recorded",
            threshold=want,
            missing=("disease state (relapsed / refractory)",),
        )
    shown = s.state.value.replace("_", " ")
    line = f" after line {s.state_after_line}" if s.state_after_line else ""
    if s.state in args.one_of and args.for_condition and cid is None:
        return _ev(
            "disease_state",
            Verdict.unknown,
            f"disease {shown}{line}, but which disease the status describes is not known ({why})",
            observed=f"{shown}{line}",
            observed_date=s.date,
            threshold=want,
            missing=("which diagnosis the disease status describes",),
        )
    return _ev(
        "disease_state",
        _tri(s.state in args.one_of),
        f"disease {shown}{line}; needs {want}",
        observed=f"{shown}{line}",
        observed_date=s.date,
        threshold=want,
    )


# ----------------------------------------------------------------------------------------------
# Conditions, malignancies, hypersensitivity, donor, procedures, transfusions


@predicate("prior_malignancy", PriorMalignancyArgs)
def eval_prior_malignancy(args: PriorMalignancyArgs, ctx: Context) -> Evidence:
    """Some prior malignancy, other than the exceptions, is recent (met = excluded-style).

    A cancer still inside its window is recent whatever its treatment intent; intent matters
    for an excepted condition, and once the window has passed. A malignancy diagnosed after the
    screening date is ignored; a disease-free or treatment date after it means the patient was
    not yet disease-free (or still treated) on it.
    """
    vocab = ctx.vocab
    span = f"{_fmt(args.years)} years"
    if args.measure == "disease_free":
        want = f"a prior malignancy not disease-free for {args.elapsed.replace('_', ' ')} {span}"
        if args.require_curative_intent:
            want += " after curative-intent therapy"
    else:
        want = f"a prior malignancy diagnosed or treated within {span}"
    excepted = [vocab.condition_id(c) or c for c in args.except_conditions]
    if excepted:
        names = ", ".join(vocab.condition_name(c) for c in excepted)
        cur = " (curatively treated)" if args.exception_requires_curative_treatment else ""
        want += f", except {names}{cur}"
    items, complete = listed(ctx.patient.prior_malignancies)
    if items is None:
        return _ev(
            "prior_malignancy",
            Verdict.unknown,
            "prior malignancies not recorded",
            threshold=want,
            missing=("prior malignancy history",),
        )
    recent: list[tuple[str, dt.date | None]] = []
    unknown: list[str] = []
    clear: list[str] = []
    later: list[str] = []

    def when(day: dt.date) -> str:
        return f"{day} (after the screening date)" if day > ctx.as_of else str(day)

    for m in items:
        cid = vocab.condition_id(m.condition)
        label = m.condition
        if dated_after(m.diagnosed, ctx.as_of):
            later.append(f"{label} ({m.diagnosed})")
            continue
        if excepted:
            if cid is None:
                unknown.append(f"{label!r} is not in the vocabulary (is it an exception?)")
                continue
            if any(vocab.condition_is_a(cid, e) for e in excepted):
                if not args.exception_requires_curative_treatment or m.curative_intent is True:
                    clear.append(f"{label} (excepted)")
                    continue
                if m.curative_intent is None:
                    unknown.append(f"{label}: whether curatively treated is not recorded")
                    continue
        if args.measure == "disease_free":
            if args.require_curative_intent and m.curative_intent is False:
                recent.append((f"{label}: not treated with curative intent", None))
                continue
            if m.disease_free_since is None:
                if m.in_remission is False:
                    recent.append((f"{label}: not disease-free", None))
                else:
                    unknown.append(f"{label}: disease-free date not recorded")
                continue
            event = m.disease_free_since
            clears_on = _clears_on(event, args)
            if ctx.as_of < clears_on:
                # Once the window passes, an unrecorded intent leaves it unknown, not clear.
                intent_open = args.require_curative_intent and m.curative_intent is None
                until = None if intent_open else clears_on
                recent.append((f"{label}: disease-free since {when(event)}", until))
            elif args.require_curative_intent and m.curative_intent is None:
                unknown.append(
                    f"{label}: disease-free since {event}, but whether the therapy had curative "
                    "intent is not recorded"
                )
            else:
                clear.append(f"{label}: disease-free since {event}")
            continue
        dates = [d for d in (m.diagnosed, m.last_treatment) if d is not None]
        if not dates:
            unknown.append(f"{label}: diagnosis and treatment dates not recorded")
            continue
        if m.last_treatment is None and m.diagnosed is not None:
            # Treatment date unknown: only decidable if diagnosis is itself recent.
            event = m.diagnosed
            if not _is_recent(event, args, ctx.as_of):
                unknown.append(f"{label}: last treatment date not recorded")
                continue
        else:
            event = max(dates)
        clears_on = _clears_on(event, args)
        if ctx.as_of < clears_on:
            recent.append((f"{label}: last diagnosed/treated {when(event)}", clears_on))
        else:
            clear.append(f"{label}: last diagnosed/treated {event}")
    if recent:
        ends = [d for _, d in recent if d is not None]
        changes = max(ends) if len(ends) == len(recent) else None
        return _ev(
            "prior_malignancy",
            Verdict.met,
            "; ".join(r for r, _ in recent),
            observed="; ".join(r for r, _ in recent),
            threshold=want,
            changes_on=changes if not unknown else None,
        )
    if unknown:
        return _ev(
            "prior_malignancy",
            Verdict.unknown,
            "; ".join(unknown),
            threshold=want,
            missing=tuple(f"prior malignancy: {u}" for u in unknown[:3]),
        )
    seen = "; ".join(clear) if clear else "none"
    if not complete:
        return _not_found(
            "prior_malignancy", want, complete, seen, what="prior malignancy history"
        )
    return _ev(
        "prior_malignancy",
        Verdict.not_met,
        f"prior malignancies: {seen}{_later(later, ctx.as_of)}",
        observed=seen,
        threshold=want,
    )


def _clears_on(event: dt.date, args: PriorMalignancyArgs) -> dt.date:
    """First screening date on which an event no longer counts as recent."""
    boundary = add_span(event, args.years)
    return boundary if args.elapsed == "at_least" else boundary + dt.timedelta(days=1)


def _is_recent(event: dt.date, args: PriorMalignancyArgs, as_of: dt.date) -> bool:
    return as_of < _clears_on(event, args)


@predicate("condition", ConditionArgs)
def eval_condition(args: ConditionArgs, ctx: Context) -> Evidence:
    """The patient has one of the conditions (or a subtype) with one of the statuses.

    A condition listed without a status is present in some status not recorded: it meets a
    criterion that accepts every status, and is unknown for one asking for some statuses. A
    list known only in part decides "not met" only for conditions it records (with a status,
    or as absent, directly or through a broader condition).
    """
    vocab = ctx.vocab
    targets = [vocab.condition_id(c) or c for c in args.any_of]
    names = " or ".join(vocab.condition_name(t) for t in targets)
    every = set(args.status_in) >= set(_ANY_PRESENT)
    want = names if every else f"{names} ({'/'.join(args.status_in)})"  # any status: no list
    conditions, complete = listed(ctx.patient.conditions)
    if conditions is None:
        return _ev(
            "condition",
            Verdict.unknown,
            f"other conditions not recorded; looking for {want}",
            threshold=want,
            missing=(f"{names} status (problem list)",),
        )
    unknown: list[str] = []
    others: list[str] = []
    later: list[str] = []
    settled: set[str] = set()
    every_status = every
    for c in conditions:
        if dated_after(c.since, ctx.as_of):
            later.append(f"{c.condition} (since {c.since})")
            continue
        cid = vocab.condition_id(c.condition)
        if cid is None:
            unknown.append(f"{c.condition!r} is not in the vocabulary")
            continue
        status = c.status.value if c.status is not None else None
        for t in targets:
            negative = status == "absent" and vocab.condition_is_a(t, cid)
            other = cid == t and status not in (None, "unknown") and status not in args.status_in
            if negative or other:
                settled.add(t)
        if not any(vocab.condition_is_a(cid, t) for t in targets):
            continue
        shown = f"{c.condition} ({status or 'status not recorded'})"
        if status is None and every_status:
            return _ev(
                "condition",
                Verdict.met,
                f"{c.condition} recorded (any status counts)",
                observed=shown,
                observed_date=c.since,
                threshold=want,
            )
        if status is None:
            unknown.append(f"{c.condition}: status not recorded")
        elif status == "unknown":
            unknown.append(f"{c.condition}: status unknown")
        elif status in args.status_in:
            return _ev(
                "condition",
                Verdict.met,
                f"{shown} recorded",
                observed=shown,
                observed_date=c.since,
                threshold=want,
            )
        else:
            others.append(shown)
    if unknown:
        return _ev(
            "condition",
            Verdict.unknown,
            f"cannot rule out {names}: {'; '.join(unknown)}",
            threshold=want,
            missing=tuple(f"condition: {u}" for u in unknown[:3]),
        )
    seen = ", ".join(others) if others else f"no {names} on the problem list"
    if not complete and not all(t in settled for t in targets):
        open_names = " or ".join(vocab.condition_name(t) for t in targets if t not in settled)
        recorded = f"records {', '.join(others)} but " if others else ""
        return _ev(
            "condition",
            Verdict.unknown,
            f"the problem list is known only in part: it {recorded}does not say whether there is "
            f"{'any other ' if others else 'any '}{open_names}",
            observed=", ".join(others) or None,
            threshold=want,
            missing=(f"{open_names} status (problem list)",),
        )
    return _ev(
        "condition",
        Verdict.not_met,
        seen + _later(later, ctx.as_of),
        observed=seen,
        threshold=want,
    )


@predicate("hypersensitivity", HypersensitivityArgs)
def eval_hypersensitivity(args: HypersensitivityArgs, ctx: Context) -> Evidence:
    """A recorded hypersensitivity to a listed drug or class (or a class containing a drug)."""
    vocab = ctx.vocab
    want = f"hypersensitivity to {_filter_names(vocab, args)}"
    items, complete = listed(ctx.patient.hypersensitivities)
    if items is None:
        return _ev(
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
    unknown: list[str] = []
    for h in items:
        if dated_after(h.date, ctx.as_of):
            continue  # a reaction not yet seen on the screening date
        drug_ids = vocab.drug_ids(h.agent)
        class_id = vocab.class_id(h.agent)
        hit = False
        if drug_ids is not None:
            hits = [vocab.drug_in(d, wanted, classes) for d in drug_ids]
            if vocab.is_regimen(h.agent) and any(hits) and not all(hits):
                unknown.append(
                    f"reaction to the regimen {h.agent!r}: which drug caused it is not recorded"
                )
                continue
            hit = any(hits)
        elif class_id is not None:
            # A class hypersensitivity covers a wanted drug in it, and a wanted class that
            # contains it or is contained in it.
            hit = any(class_id in vocab.drug_classes(d) for d in wanted) or any(
                c in vocab.class_ancestors(class_id) or class_id in vocab.class_ancestors(c)
                for c in classes
            )
        else:
            unknown.append(f"{h.agent!r} is not in the vocabulary")
            continue
        if hit:
            shown = h.agent + (f" ({h.reaction})" if h.reaction else "")
            return _ev(
                "hypersensitivity",
                Verdict.met,
                f"hypersensitivity to {shown} recorded",
                observed=shown,
                observed_date=h.date,
                threshold=want,
            )
    if unknown:
        return _ev(
            "hypersensitivity",
            Verdict.unknown,
            "; ".join(unknown),
            threshold=want,
            missing=tuple(f"hypersensitivity: {u}" for u in unknown[:3]),
        )
    seen = ", ".join(h.agent for h in items if not dated_after(h.date, ctx.as_of)) or "none"
    seen += _later(
        [f"{h.agent} ({h.date})" for h in items if dated_after(h.date, ctx.as_of)], ctx.as_of
    )
    if not complete:
        return _not_found("hypersensitivity", want, complete, seen, what="hypersensitivity list")
    return _ev(
        "hypersensitivity",
        Verdict.not_met,
        f"recorded hypersensitivities: {seen}",
        observed=seen,
        threshold=want,
    )


def hla_locus(name: str) -> str:
    """Canonical HLA locus name: ``C``, ``hla-c`` and ``HLA C`` are all ``HLA-C``.

    >>> hla_locus("c"), hla_locus("HLA-DQB1")
    ('HLA-C', 'HLA-DQB1')
    """
    core = normalise(name).upper().replace(" ", "")
    core = core.removeprefix("HLA")
    return f"HLA-{core}"


@predicate("donor", DonorArgs)
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
        return _ev(
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
        return _ev(
            "donor", Verdict.not_met, f"{shown}; needs {want}", observed=shown, threshold=want
        )
    unknown = False
    for m in args.matches:
        if m.hla != d.hla_match:
            continue
        if m.mismatched_locus_in is None:
            return _ev("donor", Verdict.met, f"{shown}", observed=shown, threshold=want)
        if not d.mismatched_loci:
            unknown = True
            continue
        allowed = {hla_locus(x) for x in m.mismatched_locus_in}
        if all(any(hla_locus(x).startswith(a) for a in allowed) for x in d.mismatched_loci):
            return _ev("donor", Verdict.met, f"{shown}", observed=shown, threshold=want)
    if unknown:
        return _ev(
            "donor",
            Verdict.unknown,
            f"{shown}: mismatched locus not recorded",
            observed=shown,
            threshold=want,
            missing=("donor HLA mismatched locus",),
        )
    return _ev("donor", Verdict.not_met, f"{shown}; needs {want}", observed=shown, threshold=want)


_PROCEDURE_TYPES = {
    "autologous_sct": {
        "autologous sct",
        "autologous stem cell transplant",
        "auto sct",
        "autologous stem cell transplantation",
        "asct",
        "auto hsct",
        "autologous hsct",
        "autologous_sct",
    },
    "allogeneic_sct": {
        "allogeneic sct",
        "allogeneic stem cell transplant",
        "allo sct",
        "allogeneic stem cell transplantation",
        "allo hsct",
        "allogeneic hsct",
        "allogeneic_sct",
    },
}


def procedure_type(term: str) -> str | None:
    """The canonical procedure type of a term, or None."""
    key = normalise(term)
    return next(
        (k for k, names in _PROCEDURE_TYPES.items() if key in {normalise(n) for n in names}), None
    )


@predicate("procedure", ProcedureArgs)
def eval_procedure(args: ProcedureArgs, ctx: Context) -> Evidence:
    """A recorded procedure of the given type (and conditioning)."""
    want = args.type.replace("_", " ")
    if args.conditioning_in:
        want += f" with {' or '.join(args.conditioning_in)} conditioning"
    items, complete = listed(ctx.patient.procedures)
    if items is None:
        return _ev(
            "procedure",
            Verdict.unknown,
            "procedures not recorded",
            threshold=want,
            missing=("procedures (transplants)",),
        )
    open_: list[str] = []
    missing: list[str] = []
    for pr in items:
        if pr.date and pr.date > ctx.as_of:
            continue
        kind = procedure_type(pr.type)
        if kind is None:  # a term trialmatch does not know: it may be the one asked for
            open_.append(f"{pr.type}: not a procedure type trialmatch knows")
            missing.append(f"procedure type in the vocabulary (not {pr.type!r})")
            continue
        if kind != args.type:
            continue
        if args.conditioning_in:
            if pr.conditioning is None:
                open_.append(f"{pr.type}: conditioning not recorded")
                missing.append("transplant conditioning")
                continue
            if normalise(pr.conditioning) not in {normalise(c) for c in args.conditioning_in}:
                continue
        return _ev(
            "procedure",
            Verdict.met,
            f"{pr.type} on {pr.date or 'undated'}",
            observed=pr.type,
            observed_date=pr.date,
            threshold=want,
        )
    if open_:
        return _ev(
            "procedure",
            Verdict.unknown,
            "; ".join(open_),
            threshold=want,
            missing=tuple(dict.fromkeys(missing)),
        )
    seen = ", ".join(p.type for p in items if not dated_after(p.date, ctx.as_of)) or "none"
    seen += _later(
        [f"{p.type} ({p.date})" for p in items if dated_after(p.date, ctx.as_of)], ctx.as_of
    )
    if not complete:
        return _not_found("procedure", want, complete, seen, what="procedure history")
    return _ev(
        "procedure", Verdict.not_met, f"procedures recorded: {seen}", observed=seen, threshold=want
    )


_RED = {"rbc", "red cells", "red blood cells"}


def responded(t: Therapy) -> bool:
    """Whether a course records a response on it (a best response better than SD, or one that
    is not a standard category)."""
    if t.best_response is None:
        return False
    cat = response_category(t.best_response)
    return cat is None or RESPONSE_ORDER[cat] > RESPONSE_ORDER["SD"]


def _course_ti(args: TransfusionArgs, ctx: Context, t: Therapy) -> tuple[bool | None, str]:
    """What a course's own record says of transfusion independence on it (None: nothing):
    ``ti_reached``/``ti_at_end``, and an outcome of no response or progression (no TI) when the
    course records no response. A course ending after the screening date may have reached it
    only after that date."""
    if args.status != "independent" or args.when == "before_start":
        return None, ""
    flag = t.ti_at_end if args.when == "at_end" else t.ti_reached
    if flag is True and dated_after(t.end, ctx.as_of):
        flag = None  # reached on the course, perhaps only after the screening date
    if flag is not None:
        what = "when stopping" if args.when == "at_end" else "on the course"
        return flag, f"transfusion independence {'recorded' if flag else 'not reached'} {what}"
    if args.when == "at_end" and t.ti_reached is False:
        return False, "transfusion independence not reached on the course"
    outcome = ctx.outcome(t)
    if outcome in NO_RESPONSE_OUTCOMES and not responded(t):
        assert outcome is not None
        return False, f"the course ended with {outcome.value.replace('_', ' ')}"
    return None, ""


@predicate("transfusion", TransfusionArgs)
def eval_transfusion(args: TransfusionArgs, ctx: Context) -> Evidence:
    """RBC transfusion status before, during or at the end of a course of a drug.

    Recorded transfusion periods decide first; then the course's own record (transfusion
    independence reached / held at the end; an outcome of no response or progression means
    none was reached). A course running on the screening date has not ended.
    """
    vocab = ctx.vocab
    wanted = vocab.drug_ids(args.drug) or frozenset()
    name = " + ".join(vocab.drug_name(d) for d in sorted(wanted))
    when = {"before_start": "before starting", "during": "during", "at_end": "when stopping"}[
        args.when
    ]
    want = f"RBC transfusion-{args.status} {when} {name}"
    p = ctx.patient
    therapies, tx_complete = listed(p.therapies)
    if therapies is None:
        return _ev(
            "transfusion",
            Verdict.unknown,
            "therapy history not recorded",
            threshold=want,
            missing=("therapy history",),
        )
    courses = [t for t in therapies if ctx.therapy_drugs(t) & wanted and ctx.started(t)]
    if not courses:
        if [t for t in therapies if ctx.started(t) and ctx.unresolved_therapy_terms(t)]:
            return _ev(
                "transfusion",
                Verdict.unknown,
                "some therapies are not in the vocabulary",
                threshold=want,
                missing=("therapy detail: drug names",),
            )
        if not tx_complete:
            return _ev(
                "transfusion",
                Verdict.unknown,
                f"no course of {name} among the recorded therapies, but the therapy history is "
                "known only in part",
                threshold=want,
                missing=("therapy history (complete)",),
            )
        return _ev("transfusion", Verdict.not_met, f"no course of {name} recorded", threshold=want)
    periods_listed, periods_complete = listed(p.transfusions)
    periods = [
        x
        for x in periods_listed or []
        if normalise(x.product) in _RED and not dated_after(x.start, ctx.as_of)
    ]
    open_: list[str] = []
    needed: list[str] = []
    settled: list[str] = []
    for t in courses:
        if args.when == "at_end" and ctx.running(t):
            # still on the drug on the screening date: it has not been stopped
            settled.append(f"{_therapy_label(t)}: still running on the screening date")
            continue
        own, own_why = _course_ti(args, ctx, t)
        hits: list[Any] = []
        reason = ""
        if periods_listed is None:
            reason = "transfusion history not recorded"
            need = "RBC transfusion history"
        elif t.start is None and args.when != "at_end":
            reason = f"{_therapy_label(t)}: start date not recorded"
            need = f"start date of the {name} course"
        elif args.when == "at_end" and t.end is None:
            reason = f"{_therapy_label(t)}: end date not recorded"
            need = f"end date of the {name} course"
        else:
            if args.when == "before_start":
                assert t.start is not None
                day = t.start - dt.timedelta(days=1)
                hits = [x for x in periods if x.start <= day and (x.end is None or x.end >= day)]
            elif args.when == "at_end":
                assert t.end is not None
                day = t.end
                hits = [x for x in periods if x.start <= day and (x.end is None or x.end >= day)]
            else:
                assert t.start is not None
                end = t.end if ctx.stopped_by(t) and t.end is not None else ctx.as_of
                start = t.start
                hits = [x for x in periods if x.start <= end and (x.end is None or x.end >= start)]
            reason = f"no transfusion status recorded {when} {_therapy_label(t)}"
            need = "RBC transfusion history"
        match = next((x for x in hits if x.status == args.status), None)
        if match is not None:
            return _ev(
                "transfusion",
                Verdict.met,
                f"transfusion-{match.status} from {match.start} {when} {_therapy_label(t)}",
                observed=f"{match.status} from {match.start}",
                observed_date=match.start,
                threshold=want,
            )
        if hits and (args.when != "during" or periods_complete):
            # Recorded periods decide before the course's own record.
            settled.append(f"{_therapy_label(t)}: {hits[0].status} {when} (recorded period)")
            continue
        if own is True:
            return _ev(
                "transfusion",
                Verdict.met,
                f"{_therapy_label(t)}: {own_why}",
                observed=own_why,
                observed_date=t.end,
                threshold=want,
            )
        if own is False:
            settled.append(f"{_therapy_label(t)}: {own_why}")
            continue
        open_.append(reason)
        needed.append(need)
    if not tx_complete:
        open_.append(f"the therapy history is known only in part (another course of {name}?)")
        needed.append("therapy history (complete)")
    if open_:
        return _ev(
            "transfusion",
            Verdict.unknown,
            "; ".join(open_),
            threshold=want,
            missing=tuple(dict.fromkeys(needed)),
        )
    detail = f" ({'; '.join(settled)})" if settled else ""
    return _ev(
        "transfusion",
        Verdict.not_met,
        f"not transfusion-{args.status} {when} {name}{detail}",
        threshold=want,
    )


@predicate("review", ReviewArgs)
def eval_review(args: ReviewArgs, ctx: Context) -> Evidence:
    """Always needs a person's judgement."""
    return _ev("review", Verdict.needs_review, args.reason)


def predicate_names() -> Sequence[str]:
    """Every registered predicate name, sorted."""
    return sorted(REGISTRY)
