"""The patient profile: a strict pydantic model loaded from YAML or JSON.

"None" and "not recorded" are different things: an explicit empty list (``prior_malignancies:
[]``) says the patient has none; an absent field says nobody knows, and every criterion that
needs it is unknown. A present list is taken as complete for what it lists.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
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
from trialmatch.schema_errors import message_for
from trialmatch.yamlio import Document, load_document, require_mapping


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
    other = "other"


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
    date: dt.date | None = None


class Finding(_Strict):
    """A cytogenetic or molecular finding. ``present: false`` records a negative result."""

    name: str
    present: StrictBool = True
    date: dt.date | None = None


class RiskScore(_Strict):
    """A risk score such as IPSS-R with its category."""

    system: str
    category: str
    date: dt.date | None = None


class Diagnosis(_Strict):
    """A diagnosis of the disease under study (or another diagnosis)."""

    condition: str | None = None
    code: str | None = None
    date: dt.date | None = None
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
    """A lab result or measurement, with its own reference limits when known (same unit)."""

    name: str
    value: float = Field(allow_inf_nan=False)
    unit: str
    date: dt.date | None = None
    uln: float | None = Field(
        None, allow_inf_nan=False, description="upper limit of normal, in the result's unit"
    )
    lln: float | None = Field(
        None, allow_inf_nan=False, description="lower limit of normal, in the result's unit"
    )

    @field_validator("value", "uln", "lln", mode="before")
    @classmethod
    def _no_bool(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("expected a number, not true/false")
        return v


class Therapy(_Strict):
    """One line or course of therapy."""

    drugs: list[str] = Field(default_factory=list)
    regimen: str | None = None
    indication: str | None = Field(
        None, description="condition treated; absent = the disease under study"
    )
    start: dt.date | None = None
    end: dt.date | None = None
    ongoing: StrictBool | None = None
    line: int | None = Field(None, ge=1)
    setting: Setting | None = None
    cycles: int | None = Field(None, ge=0)
    best_response: Response | None = None
    response_assessed_by: str | None = None
    outcome: TherapyOutcome | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _has_agent(self) -> Therapy:
        if not self.drugs and not self.regimen:
            raise ValueError("a therapy needs 'drugs' or a 'regimen'")
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"therapy ends ({self.end}) before it starts ({self.start})")
        return self


class Procedure(_Strict):
    """A procedure such as autologous or allogeneic stem cell transplant."""

    type: str
    date: dt.date | None = None
    conditioning: str | None = None
    note: str | None = None


class TransfusionPeriod(_Strict):
    """A period of red-cell transfusion dependence or independence."""

    status: Annotated[str, Field(pattern="^(dependent|independent)$")]
    start: dt.date
    end: dt.date | None = None
    product: str = "RBC"


class DiseaseStatus(_Strict):
    """Current disease status: a response category, when and how it was assessed."""

    response: Response
    date: dt.date | None = None
    assessed_by: str | None = None
    after_line: int | None = Field(None, ge=1)


class OtherCondition(_Strict):
    """Another condition (comorbidity, infection, ...). A present list is the complete list."""

    condition: str
    status: ConditionStatus = ConditionStatus.active
    since: dt.date | None = None
    until: dt.date | None = None
    note: str | None = None


class PriorMalignancy(_Strict):
    """A prior malignancy other than the disease under study."""

    condition: str
    diagnosed: dt.date | None = None
    last_treatment: dt.date | None = None
    disease_free_since: dt.date | None = Field(
        None, description="absent = not disease-free or unknown"
    )
    curative_intent: StrictBool | None = None
    in_remission: StrictBool | None = None


class Hypersensitivity(_Strict):
    """A hypersensitivity or allergy to a drug, class or excipient."""

    agent: str
    reaction: str | None = None
    severity: str | None = None
    date: dt.date | None = None


class Donor(_Strict):
    """A stem-cell donor and the HLA match (e.g. '10/10', '9/10' with the mismatched locus)."""

    relation: Annotated[str, Field(pattern="^(related|unrelated)$")]
    hla_match: Annotated[str, Field(pattern=r"^\d{1,2}/\d{1,2}$")]
    mismatched_loci: list[str] = Field(default_factory=list)


class Attestation(_Strict):
    """A person's recorded answer to a criterion: ``holds`` says whether its statement is true."""

    trial: str
    criterion: str
    holds: StrictBool
    by: str
    on: dt.date
    note: str | None = None


class Patient(_Strict):
    """A patient profile.

    >>> Patient(id="P1", sex="female", ecog={"value": 1}).ecog.value
    1
    """

    id: str
    birth_date: dt.date | None = None
    age: int | None = Field(None, ge=0, le=130, description="age in years at the screening date")
    sex: Sex | None = None
    pregnant: StrictBool | None = None
    breastfeeding: StrictBool | None = None
    childbearing_potential: StrictBool | None = None
    diagnoses: list[Diagnosis] | None = None
    ecog: ValueWithDate | None = None
    labs: list[Lab] | None = None
    therapies: list[Therapy] | None = None
    procedures: list[Procedure] | None = None
    transfusions: list[TransfusionPeriod] | None = None
    disease_status: DiseaseStatus | None = None
    conditions: list[OtherCondition] | None = None
    prior_malignancies: list[PriorMalignancy] | None = None
    hypersensitivities: list[Hypersensitivity] | None = None
    donor: Donor | None = None
    attestations: list[Attestation] = Field(default_factory=list)

    @field_validator("ecog", mode="before")
    @classmethod
    def _ecog_plain(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            return {"value": v}
        return v

    @field_validator("ecog")
    @classmethod
    def _ecog_range(cls, v: ValueWithDate | None) -> ValueWithDate | None:
        if v is not None and not 0 <= v.value <= 5:
            raise ValueError(f"ECOG must be 0 to 5, got {v.value}")
        return v


def patient_from_document(doc: Document) -> Patient:
    """Validate a parsed document as a patient; every problem is reported with its line."""
    data = require_mapping(doc, "a patient profile")
    try:
        return Patient.model_validate(data)
    except ValidationError as exc:
        raise InputError([doc.problem(e["loc"], *message_for(e)) for e in exc.errors()]) from None


def load_patient(path: Path | str) -> Patient:
    """Load a patient profile from a YAML or JSON file.

    >>> load_patient("examples/patients/mds-hma-failure-eligible.yaml").id  # doctest: +SKIP
    'MDS-001'
    """
    return patient_from_document(load_document(path))
