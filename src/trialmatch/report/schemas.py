"""JSON Schemas for the files trialmatch reads and the JSON it writes, generated from models.

* ``patient`` and ``criteria``: from the loaders' own pydantic models
  (:class:`trialmatch.model.patient.Patient`, :class:`trialmatch.engine.criteria.Trial`),
  widened where a loader accepts a shorthand the model's schema cannot say: ``ecog: 1`` for
  ``{value: 1}``, a plain list for ``{items: [...]}`` (history lists), ``phase: 2`` for
  ``"2"``. A file the schema rejects is rejected by ``trialmatch validate``; ``validate``
  checks more (vocabulary terms, dates against the screening date, cross-field rules).
* ``report`` (``check --format json``), ``screen`` (``screen --format json`` and each
  ``--format jsonl`` line) and ``trials`` (``trials --format json``): from the models below,
  which mirror what the writers produce; the tests validate real output against them. They
  are exact (``additionalProperties: false``) for this release's ``schema_version``.

Only the ``schema`` command and the tests import this module (it builds many models).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from trialmatch.model.results import Kind, TrialVerdict, Verdict
from trialmatch.report.contract import SCHEMA_VERSION

DIALECT = "https://json-schema.org/draft/2020-12/schema"
VERSION_PATTERN = rf"^{SCHEMA_VERSION.split('.')[0]}\.[0-9]+$"  # any minor of this major
SHA256 = r"^[0-9a-f]{64}$"


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


SchemaVersion = Field(
    pattern=VERSION_PATTERN,
    description=f"Version of the JSON contract ({SCHEMA_VERSION} for this release). A new "
    "minor version only adds; a new major version renames, removes or changes something.",
)
CriterionIds = list[str]


class Counts(_Out):
    """How many criteria of the trial are in each state (they add up to all its criteria)."""

    passed: int = Field(ge=0, description="decided in the patient's favour")
    failed: int = Field(ge=0, description="rule the patient out")
    unknown: int = Field(ge=0, description="undecided for lack of data")
    needs_review: int = Field(ge=0, description="only a person can judge")


class EvidenceJson(_Out):
    """What one leaf predicate saw and concluded."""

    predicate: str
    verdict: Verdict
    sentence: str
    observed: str | None
    observed_date: dt.date | None
    converted: str | None
    threshold: str | None
    missing: list[str] = Field(description="data items that would decide it")
    changes_on: dt.date | None = Field(description="when the verdict would change by itself")


class CriterionJson(_Out):
    """One criterion's verdict, with its evidence and verbatim source text."""

    criterion_id: str
    kind: Kind
    verdict: Verdict = Field(
        description="met / not_met say whether the criterion's statement holds; with kind: "
        "an inclusion not_met or an exclusion met rules the patient out"
    )
    reason: str
    text: str = Field(description="the criterion as the source states it")
    encoding: str
    evidence: list[EvidenceJson]
    missing: list[str]
    changes_on: dt.date | None
    attestation: str | None
    review_reason: str | None


class TrialJson(_Out):
    """One trial's verdict for the patient."""

    trial_id: str
    title: str
    verdict: TrialVerdict
    criteria_file: str | None = Field(description="file name in the criteria catalogue")
    criteria_sha256: str | None = Field(pattern=SHA256)
    counts: Counts
    failed: CriterionIds = Field(description="ids of the criteria that rule the patient out")
    unknown: CriterionIds
    needs_review: CriterionIds
    criteria: list[CriterionJson]


class CriterionRef(_Out):
    """A criterion of a trial."""

    trial_id: str
    criterion_id: str


class DataItemJson(_Out):
    """A missing datum and the open criteria it would help decide."""

    item: str
    criteria: list[CriterionRef]


class StepItemJson(_Out):
    """A datum to collect for one open trial and the criteria it would decide."""

    item: str
    criteria: list[str]


class CheckJson(_Out):
    """A criterion a person must judge (or an unknown that names no datum)."""

    criterion_id: str
    kind: Literal["inclusion", "exclusion"]
    verdict: Literal["unknown", "needs_review"]
    reason: str
    text: str = Field(description="the criterion's verbatim source text")


class NextStepsJson(_Out):
    """What would settle an open (possibly eligible) trial."""

    trial_id: str
    data_to_collect: list[StepItemJson]
    checks: list[CheckJson] = Field(
        description="record each answer as an attestation {trial, criterion, holds, by, on}"
    )


class CheckReportJson(_Out):
    """``trialmatch check --format json``: one patient against the trials."""

    model_config = ConfigDict(title="trialmatch check report")

    schema_version: str = SchemaVersion
    trialmatch_version: str
    as_of: dt.date = Field(description="the screening date")
    patient_id: str
    trials: list[TrialJson] = Field(description="eligible first, then possibly eligible")
    data_to_collect: list[DataItemJson]
    next_steps: list[NextStepsJson] = Field(description="per open trial, in report order")


class CheckReportsJson(_Out):
    """``trialmatch check --format json`` with several patients: one report each."""

    schema_version: str = SchemaVersion
    trialmatch_version: str
    reports: list[CheckReportJson]


class CheckOutput(RootModel[CheckReportJson | CheckReportsJson]):
    """``check`` JSON output: one patient's report, or the reports of several patients."""

    model_config = ConfigDict(title="trialmatch check report")


class ScreenRecordJson(_Out):
    """One patient (CSV row) against one trial."""

    row: int = Field(ge=1, description="data row number in the CSV (the header is row 0)")
    patient_id: str
    trial_id: str
    verdict: Literal["eligible", "possibly_eligible", "ineligible", "error"]
    failed: CriterionIds
    unknown: CriterionIds
    needs_review: CriterionIds
    error: str | None = Field(description="why the row could not be screened (verdict error)")


class ScreenLineJson(ScreenRecordJson):
    """One line of ``trialmatch screen --format jsonl``: a record that carries the version."""

    schema_version: str = SchemaVersion


class ScreenJson(_Out):
    """``trialmatch screen --format json``: every record in one document."""

    schema_version: str = SchemaVersion
    trialmatch_version: str
    as_of: dt.date
    records: list[ScreenRecordJson]


class ScreenOutput(RootModel[ScreenJson | ScreenLineJson]):
    """``screen`` JSON output: the ``--format json`` document, or one ``--format jsonl``
    line."""

    model_config = ConfigDict(title="trialmatch screen output")


class ListedTrialJson(_Out):
    """A trial in a listing."""

    trial_id: str
    title: str
    phase: str | None
    type: str
    status: str
    conditions: list[str]
    matched_via: str | None = Field(description="which trial condition matched --condition")
    criteria_file: str
    criteria_sha256: str = Field(pattern=SHA256)


class TrialsJson(_Out):
    """``trialmatch trials --format json``."""

    model_config = ConfigDict(title="trialmatch trials listing")

    schema_version: str = SchemaVersion
    trialmatch_version: str
    trials: list[ListedTrialJson]


# -- the input files ---------------------------------------------------------------------------


def _plain_list_too(schema: dict[str, Any]) -> None:
    """History lists (:class:`trialmatch.model.patient.Listing`) may be written as a plain list."""
    for name, definition in list(schema["$defs"].items()):
        if name.startswith("Listing_"):
            items = definition["properties"]["items"]
            plain = {"type": "array", "items": items["items"],
                     "description": "a complete list (every item known)"}
            written_out = {**definition, "description": "a list known only in part: "
                           "{complete: false, items: [...]}"}
            schema["$defs"][name] = {"title": definition.get("title", name),
                                     "anyOf": [plain, written_out]}


def patient_schema() -> dict[str, Any]:
    """The JSON Schema of a patient profile (YAML or JSON), shorthands included.

    >>> s = patient_schema()
    >>> s["title"], "ecog" in s["properties"]
    ('trialmatch patient profile', True)
    """
    from trialmatch.model.patient import Patient

    schema = copy.deepcopy(Patient.model_json_schema())
    _plain_list_too(schema)
    # ecog: 1 is read as {value: 1}; either way ECOG is 0 to 5 (Patient._ecog_plain, _ecog_range)
    ecog = {"type": "integer", "minimum": 0, "maximum": 5}
    schema["$defs"]["ValueWithDate"]["properties"]["value"].update(minimum=0, maximum=5)
    schema["properties"]["ecog"] = {
        "anyOf": [ecog, {"$ref": "#/$defs/ValueWithDate"}, {"type": "null"}],
        "default": None,
        "description": "ECOG performance status: 1, or {value: 1, date: 2026-11-10}",
    }
    return _finish(schema, "trialmatch patient profile")


def criteria_schema() -> dict[str, Any]:
    """The JSON Schema of a criteria (trial) file.

    >>> "inclusion" in criteria_schema()["properties"]
    True
    """
    from trialmatch.engine.criteria import Phase, Trial

    schema = copy.deepcopy(Trial.model_json_schema())
    # phase: 2 is read as "2" (Trial._phase_text)
    numbers = sorted(int(p.value) for p in Phase if p.value.isdigit())
    phase = schema["properties"]["phase"]
    phase["anyOf"].insert(0, {"type": "integer", "enum": numbers})
    return _finish(schema, "trialmatch criteria file")


def _finish(schema: dict[str, Any], title: str) -> dict[str, Any]:
    return {"$schema": DIALECT, **schema, "title": title}


def _output(model: type[BaseModel]) -> dict[str, Any]:
    return _finish(model.model_json_schema(mode="serialization"), str(model.model_config["title"]))


SCHEMAS = ("patient", "criteria", "report", "screen", "trials")


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema called ``name`` (one of :data:`SCHEMAS`).

    >>> json_schema("trials")["properties"]["schema_version"]["pattern"]
    '^1\\\\.[0-9]+$'
    """
    if name == "patient":
        return patient_schema()
    if name == "criteria":
        return criteria_schema()
    if name == "report":
        return _output(CheckOutput)
    if name == "screen":
        return _output(ScreenOutput)
    if name == "trials":
        return _output(TrialsJson)
    raise ValueError(f"unknown schema {name!r}; allowed: {', '.join(SCHEMAS)}")


def render(name: str) -> str:
    """The schema as indented JSON text."""
    return json.dumps(json_schema(name), indent=2, ensure_ascii=False) + "\n"
