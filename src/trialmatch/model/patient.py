"""The patient profile: a strict pydantic model loaded from YAML or JSON.

"None" and "not recorded" are different things: an explicit empty list (``prior_malignancies:
[]``) says the patient has none; an absent field says nobody knows, and every criterion that
needs it is unknown. A plain list is taken as complete for what it lists; a history list known
only in part is written ``{complete: false, items: [...]}``: its items count, and criteria that
need the rest stay unknown.

Values no patient can have (a negative lab value, ECOG 7, a birth date after the screening date
or more than 130 years before it) are input errors, never verdicts.
"""

from __future__ import annotations

import datetime as dt
import difflib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from trialmatch.errors import InputError
from trialmatch.io.yamlio import Document, DocumentProblems, load_document, require_mapping
from trialmatch.model.schema_errors import Place, message_for, resolve_loc

# Dates a patient record can hold: anything outside is a typing slip (9999-12-31, 0001-01-01)
# and date arithmetic (windows of up to 150 years) stays within the calendar.
DATE_MIN = dt.date(1800, 1, 1)
DATE_MAX = dt.date(2199, 12, 31)


def _in_range(day: dt.date) -> dt.date:
    if not DATE_MIN <= day <= DATE_MAX:
        raise ValueError(f"dates must lie between {DATE_MIN} and {DATE_MAX} (got {day})")
    return day


Day = Annotated[dt.date, AfterValidator(_in_range)]


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True
    )


class Sex(StrEnum):
    """Sex recorded for the patient (used by sex criteria and Cockcroft-Gault)."""

    female = "female"
    male = "male"
    other = "other"


class TherapyOutcome(StrEnum):
    """Why a therapy ended, or how it went."""

    ongoing = "ongoing"
    completed = "completed"
    progression = "progression"
    refractory = "refractory"
    relapse = "relapse"
    no_response = "no_response"
    intolerance = "intolerance"
    toxicity = "toxicity"
    patient_decision = "patient_decision"
    physician_decision = "physician_decision"
    response = "response"
    other = "other"


# Outcomes saying the course gave no response: no transfusion independence and no response
# (PR or better) was achieved on it.
NO_RESPONSE_OUTCOMES = frozenset({TherapyOutcome.no_response, TherapyOutcome.progression})


class Setting(StrEnum):
    """The setting a therapy was given in."""

    induction = "induction"
    consolidation = "consolidation"
    maintenance = "maintenance"
    salvage = "salvage"
    conditioning = "conditioning"
    first_line = "first_line"
    supportive = "supportive"
    prophylaxis = "prophylaxis"
    other = "other"


class ConditionStatus(StrEnum):
    """Status of a recorded condition. ``absent`` records a negative finding (tested negative)."""

    active = "active"
    controlled = "controlled"
    uncontrolled = "uncontrolled"
    resolved = "resolved"
    history = "history"
    absent = "absent"
    unknown = "unknown"


Response = Annotated[
    str, Field(min_length=1, description="A response category such as CR, VGPR, PR, SD, PD")
]


class ValueWithDate(_Strict):
    """A value with the date it was assessed."""

    value: StrictInt
    date: Day | None = None


class Finding(_Strict):
    """A cytogenetic or molecular finding. ``present: false`` records a negative result."""

    name: str
    present: StrictBool = True
    date: Day | None = None


class RiskScore(_Strict):
    """A risk score such as IPSS-R with its category."""

    system: str
    category: str
    date: Day | None = None


class Diagnosis(_Strict):
    """A diagnosis of the disease under study (or another diagnosis)."""

    condition: str | None = None
    code: str | None = None
    date: Day | None = None
    subtype: str | None = None
    classification: str | None = Field(None, description="e.g. 'WHO 2016'")
    findings: list[Finding | str] | None = None
    risk_scores: list[RiskScore] | None = None

    @model_validator(mode="after")
    def _named(self) -> Diagnosis:
        if self.condition is None and self.code is None:
            raise ValueError("a diagnosis needs a condition name or a code")
        return self


class Lab(_Strict):
    """A lab result or measurement, with its own reference limits when known (same unit).
    Values are never negative; a limit of normal is positive."""

    name: str
    value: float = Field(allow_inf_nan=False, ge=0)
    unit: str
    date: Day | None = None
    uln: float | None = Field(
        None, allow_inf_nan=False, gt=0, description="upper limit of normal, in the result's unit"
    )
    lln: float | None = Field(
        None, allow_inf_nan=False, ge=0, description="lower limit of normal, in the result's unit"
    )

    @field_validator("value", "uln", "lln", mode="before")
    @classmethod
    def _no_bool(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("expected a number, not true/false")
        return v


class Therapy(_Strict):
    """One line or course of therapy.

    ``indication`` is the condition treated; when absent it is taken from the patient's own
    diagnoses (their only one), never from the trial. ``ti_reached`` and ``ti_at_end`` record
    red-cell transfusion independence reached on the course and still holding when it stopped,
    for when the dates of the transfusion periods are not known.
    """

    drugs: list[str] = Field(default_factory=list)
    regimen: str | None = None
    indication: str | None = Field(
        None, description="condition treated; absent = the patient's only diagnosis"
    )
    start: Day | None = None
    end: Day | None = None
    ongoing: StrictBool | None = None
    line: int | None = Field(None, ge=1)
    setting: Setting | None = None
    cycles: int | None = Field(None, ge=0)
    best_response: Response | None = None
    response_assessed_by: str | None = None
    outcome: TherapyOutcome | None = None
    ti_reached: StrictBool | None = Field(
        None, description="RBC transfusion independence reached on this course"
    )
    ti_at_end: StrictBool | None = Field(
        None, description="RBC transfusion independent when this course stopped"
    )
    note: str | None = None

    @model_validator(mode="after")
    def _has_agent(self) -> Therapy:
        if not self.drugs and not self.regimen:
            raise ValueError("a therapy needs 'drugs' or a 'regimen'")
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"therapy ends ({self.end}) before it starts ({self.start})")
        if self.ti_at_end is True and self.ti_reached is False:
            raise ValueError("ti_at_end: true needs transfusion independence reached (ti_reached)")
        if self.ti_at_end is not None and self.is_ongoing:
            raise ValueError(
                "ti_at_end says how a course stopped, but this course is ongoing "
                "(leave ti_at_end out, or give the end)"
            )
        return self

    @property
    def is_ongoing(self) -> bool:
        """Whether the course is recorded as still running (no end, ongoing)."""
        return self.end is None and (self.ongoing is True or self.outcome is TherapyOutcome.ongoing)


class Procedure(_Strict):
    """A procedure such as autologous or allogeneic stem cell transplant."""

    type: str
    date: Day | None = None
    conditioning: str | None = None
    note: str | None = None


class TransfusionPeriod(_Strict):
    """A period of red-cell transfusion dependence or independence."""

    status: Annotated[str, Field(pattern="^(dependent|independent)$")]
    start: Day
    end: Day | None = None
    product: str = "RBC"


class DiseaseState(StrEnum):
    """The course of the disease so far: newly diagnosed (never relapsed, not refractory),
    relapsed, refractory, or both."""

    newly_diagnosed = "newly_diagnosed"
    relapsed = "relapsed"
    refractory = "refractory"
    relapsed_and_refractory = "relapsed_and_refractory"


class DiseaseStatus(_Strict):
    """Current disease status: a response category (when and how it was assessed, and the
    line of therapy it followed) and/or the state of the disease (relapsed, refractory, ...)
    with the line it relapsed after or was refractory to. Neither needs a therapy outcome."""

    response: Response | None = None
    date: Day | None = None
    assessed_by: str | None = None
    after_line: int | None = Field(None, ge=1, description="the line the response followed")
    state: DiseaseState | None = None
    state_after_line: int | None = Field(
        None, ge=1, description="the line the disease relapsed after or was refractory to"
    )

    @model_validator(mode="after")
    def _says_something(self) -> DiseaseStatus:
        if self.response is None and self.state is None:
            raise ValueError(
                "a disease status needs a 'response' (e.g. PR) or a 'state' "
                f"({', '.join(s.value for s in DiseaseState)})"
            )
        if self.response is None and (self.after_line is not None or self.assessed_by):
            raise ValueError(
                "after_line and assessed_by describe the response, and no response is given "
                "(the line a relapse followed is state_after_line)"
            )
        if self.state_after_line is not None and self.state is None:
            raise ValueError("state_after_line needs a state (relapsed, refractory, ...)")
        return self


class OtherCondition(_Strict):
    """Another condition (comorbidity, infection, ...). ``status`` absent means the status is
    not recorded: the condition is present (or was), but whether it is active, controlled or
    resolved is unknown. ``absent`` records a negative (tested negative, ruled out)."""

    condition: str
    status: ConditionStatus | None = None
    since: Day | None = None
    until: Day | None = None
    note: str | None = None


class PriorMalignancy(_Strict):
    """A prior malignancy other than the disease under study."""

    condition: str
    diagnosed: Day | None = None
    last_treatment: Day | None = None
    disease_free_since: Day | None = Field(
        None, description="absent = not disease-free or unknown"
    )
    curative_intent: StrictBool | None = None
    in_remission: StrictBool | None = None


class Hypersensitivity(_Strict):
    """A hypersensitivity or allergy to a drug, class or excipient."""

    agent: str
    reaction: str | None = None
    severity: str | None = None
    date: Day | None = None


class Donor(_Strict):
    """A stem-cell donor and the HLA match (e.g. '10/10', '9/10' with the mismatched locus)."""

    relation: Annotated[str, Field(pattern="^(related|unrelated)$")]
    hla_match: Annotated[str, Field(pattern=r"^\d{1,2}/\d{1,2}$")]
    mismatched_loci: list[str] = Field(default_factory=list)


T = TypeVar("T")

PARTIAL_HINT = (
    "expected a list, or {complete: false, items: [...]} for a list known only in part"
)


class Listing(_Strict, Generic[T]):
    """A history list and whether it is complete. Written as a plain list (complete) or as
    ``{complete: false, items: [...]}`` when only some items are known: then the items count,
    and a criterion the rest could decide stays unknown.

    >>> Listing[int].model_validate([1, 2]).complete
    True
    """

    items: list[T]
    complete: StrictBool = True

    @model_validator(mode="before")
    @classmethod
    def _plain_list(cls, v: Any) -> Any:
        if isinstance(v, list):
            return {"items": v}
        if isinstance(v, dict | Listing):
            return v
        raise ValueError(PARTIAL_HINT)


class Attestation(_Strict):
    """A person's recorded answer to a criterion: ``holds`` says whether its statement is true."""

    trial: str
    criterion: str
    holds: StrictBool
    by: str
    on: Day
    note: str | None = None


class Patient(_Strict):
    """A patient profile.

    >>> Patient(id="P1", sex="female", ecog={"value": 1}).ecog.value
    1
    """

    id: str
    birth_date: Day | None = None
    age: int | None = Field(None, ge=0, le=130, description="age in years at the screening date")
    sex: Sex | None = None
    pregnant: StrictBool | None = None
    breastfeeding: StrictBool | None = None
    childbearing_potential: StrictBool | None = None
    diagnoses: list[Diagnosis] | None = None
    ecog: ValueWithDate | None = None
    labs: list[Lab] | None = None
    therapies: Listing[Therapy] | None = None
    procedures: Listing[Procedure] | None = None
    transfusions: Listing[TransfusionPeriod] | None = None
    disease_status: DiseaseStatus | None = None
    conditions: Listing[OtherCondition] | None = None
    prior_malignancies: Listing[PriorMalignancy] | None = None
    hypersensitivities: Listing[Hypersensitivity] | None = None
    donor: Donor | None = None
    attestations: list[Attestation] = Field(default_factory=list)

    @field_validator("ecog", mode="before")
    @classmethod
    def _ecog_plain(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            return {"value": v}
        shown = v.get("value") if isinstance(v, dict) else v
        if isinstance(shown, str | float | bool):
            n = shown.strip() if isinstance(shown, str) and shown.strip().isdigit() else "1"
            if isinstance(shown, float) and shown.is_integer():
                n = str(int(shown))
            raise ValueError(
                f"ECOG is a whole number 0 to 5 without quotes: write ecog: {n} or "
                f"ecog: {{value: {n}, date: YYYY-MM-DD}} (got {shown!r})"
            )
        return v

    @field_validator("ecog")
    @classmethod
    def _ecog_range(cls, v: ValueWithDate | None) -> ValueWithDate | None:
        if v is not None and not 0 <= v.value <= 5:
            raise ValueError(f"ECOG must be 0 to 5, got {v.value}")
        return v


LISTINGS = (
    "therapies",
    "procedures",
    "transfusions",
    "conditions",
    "prior_malignancies",
    "hypersensitivities",
)
MAX_AGE = 130


def file_loc(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """A model error location as the file spells it: a history list written as a plain list
    has no ``items`` key (``conditions.0.status``, not ``conditions.items.0.status``).

    >>> file_loc({"conditions": []}, ("conditions", "items", 0, "status"))
    ('conditions', 0, 'status')
    """
    if (
        len(loc) > 1
        and loc[0] in LISTINGS
        and loc[1] == "items"
        and isinstance(data, dict)
        and isinstance(data.get(loc[0]), list)
    ):
        return (loc[0], *loc[2:])
    return loc


def screening_problems(patient: Patient, as_of: dt.date) -> list[tuple[tuple[str, ...], str]]:
    """(location, message) for values impossible on the screening date: a birth date after it,
    or one giving an age over 130.

    >>> p = Patient(id="P1", birth_date=dt.date(2030, 1, 1))
    >>> screening_problems(p, dt.date(2026, 11, 21))[0][1]
    'birth_date: 2030-01-01 is after the screening date 2026-11-21'
    """
    out: list[tuple[tuple[str, ...], str]] = []
    born = patient.birth_date
    if born is not None:
        if born > as_of:
            out.append((("birth_date",), f"birth_date: {born} is after the screening date {as_of}"))
        else:
            age = as_of.year - born.year - ((as_of.month, as_of.day) < (born.month, born.day))
            if age > MAX_AGE:
                out.append(
                    (
                        ("birth_date",),
                        f"birth_date: {born} gives an age of {age} on the screening date "
                        f"{as_of} (at most {MAX_AGE})",
                    )
                )
    return out


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    """The value at a model location in the file's data (``items`` of a plain list skipped)."""
    node = data
    for part in loc:
        if part == "items" and isinstance(node, list):
            continue
        found = isinstance(node, dict) and part in node
        if not found and not (isinstance(node, list) and isinstance(part, int)):
            return None
        try:
            node = node[part]
        except (IndexError, KeyError):
            return None
    return node


def _plain_errors(data: Any, errors: list[Any]) -> list[tuple[Any, Place]]:
    """Pydantic errors with one message per mistake: at a ``Finding | str`` union only the
    alternative the value was written as speaks (a mapping is a finding, not a string), and a
    missing field is not reported beside an unknown field that is its misspelling."""
    placed = [(e, resolve_loc(Patient, tuple(e["loc"]))) for e in errors]
    kept = []
    for e, place in placed:
        if place.union_at is not None:
            written = _value_at(data, place.loc[: place.union_at])
            if place.via_model != isinstance(written, dict):
                continue
        kept.append((e, place))
    misspelt = set()
    for e, place in kept:
        if e["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(place.loc[-1]), place.fields, n=1, cutoff=0.7)
            if close:
                misspelt.add((*place.loc[:-1], close[0]))
    return [(e, p) for e, p in kept if not (e["type"] == "missing" and p.loc in misspelt)]


def patient_from_document(doc: Document, as_of: dt.date | None = None) -> Patient:
    """Validate a parsed document as a patient; every problem is reported with its line, in
    file order. With ``as_of``, values impossible on that screening date are problems too.

    >>> from trialmatch.io.yamlio import parse_yaml
    >>> doc = parse_yaml("id: P1\\nbirthdate: 1950-01-01\\necog: '1'\\n", "p.yaml")
    >>> patient_from_document(doc)
    Traceback (most recent call last):
    trialmatch.errors.InputError: p.yaml:2:1: unknown field 'birthdate'; did you mean 'birth_date'?
    p.yaml:3:1: ecog: ECOG is a whole number 0 to 5 without quotes: write ecog: 1 or ecog: {value: 1, date: YYYY-MM-DD} (got '1')
    """  # noqa: E501
    data = require_mapping(doc, "a patient profile")
    try:
        patient = Patient.model_validate(data)
    except ValidationError as exc:
        problems = []
        for e, place in _plain_errors(data, exc.errors()):
            loc = file_loc(data, place.loc)
            problems.append(doc.problem(loc, *message_for({**e, "loc": loc}, place.fields)))
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        raise InputError(problems) from None
    if as_of is not None:
        found = screening_problems(patient, as_of)
        if found:
            raise InputError([doc.problem(loc, message) for loc, message in found])
    return patient


def all_problems(exc: InputError, as_of: dt.date | None = None) -> InputError:
    """The error to report for a patient file YAML found problems in: when the document
    could still be read, its patient problems too, in file order (one pass shows them all).
    A model problem on the line of a YAML problem is left out (it is the same mistake: an
    impossible date is also not a date).

    >>> from trialmatch.io.yamlio import parse_yaml
    >>> try:
    ...     parse_yaml("id: P1\\nsex: male\\nsex: female\\nbirthdate: 1950-01-01\\n", "p.yaml")
    ... except InputError as exc:
    ...     print(all_problems(exc))
    p.yaml:3:1: duplicate key 'sex'
    p.yaml:4:1: unknown field 'birthdate'; did you mean 'birth_date'?
    """
    if not isinstance(exc, DocumentProblems) or not isinstance(exc.document.data, dict):
        return exc
    try:
        patient_from_document(exc.document, as_of)
    except InputError as more:
        lines = {p.line for p in exc.problems}
        extra = [p for p in more.problems if p.line not in lines]
        merged = sorted([*exc.problems, *extra], key=lambda p: (p.line or 0, p.column or 0))
        return InputError(merged)
    return exc


def load_patient(path: Path | str, as_of: dt.date | None = None) -> Patient:
    """Load a patient profile from a YAML or JSON file (checked against the screening date
    ``as_of`` when given).

    >>> load_patient("examples/patients/mds-hma-failure-eligible.yaml").id  # doctest: +SKIP
    'MDS-001'
    """
    return load_patient_document(path, as_of)[1]


def load_patient_document(
    path: Path | str, as_of: dt.date | None = None
) -> tuple[Document, Patient]:
    """The parsed file (for located warnings) and the patient profile; every problem of the
    file in one :class:`InputError`.

    >>> doc, p = load_patient_document("examples/patients/tcl-salvage-pr-eligible.yaml")
    >>> p.id, doc.path.endswith(".yaml")
    ('TCL-001', True)
    """
    try:
        doc = load_document(path)
    except InputError as exc:
        raise all_problems(exc, as_of) from None
    return doc, patient_from_document(doc, as_of)
