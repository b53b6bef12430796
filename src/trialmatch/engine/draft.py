"""Criteria files from ClinicalTrials.gov study records: a draft of a new trial (metadata, the
registry's age and sex limits as computable criteria, every statement of the eligibility text
as a needs-review criterion with its verbatim text), and a refresh of an encoded trial's
metadata that reports the criteria whose source text the record no longer has.

Nothing is invented: a value the record does not give stays out (or "unknown" for the
status), and a value trialmatch cannot encode exactly (an age in months or weeks) becomes a
needs-review criterion that says why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from trialmatch.engine.criteria import Trial, trial_from_document
from trialmatch.errors import InputError
from trialmatch.io.ctgov import MAX_STATEMENTS, Record, Statement, split_eligibility
from trialmatch.io.yamlio import parse_yaml
from trialmatch.model.vocab import Vocabulary

PROTOCOL = "protocolSection"
MANUAL = "Not yet encoded: drafted from the registry eligibility text."
_PHASES = {
    frozenset({"EARLY_PHASE1"}): "early 1",
    frozenset({"PHASE1"}): "1",
    frozenset({"PHASE1", "PHASE2"}): "1/2",
    frozenset({"PHASE2"}): "2",
    frozenset({"PHASE2", "PHASE3"}): "2/3",
    frozenset({"PHASE3"}): "3",
    frozenset({"PHASE4"}): "4",
    frozenset({"NA"}): "n/a",
}
_TYPES = {"INTERVENTIONAL": "interventional", "OBSERVATIONAL": "observational"}
_STATUSES = {
    "NOT_YET_RECRUITING": "not_yet_recruiting",
    "RECRUITING": "recruiting",
    "ENROLLING_BY_INVITATION": "enrolling_by_invitation",
    "ACTIVE_NOT_RECRUITING": "active_not_recruiting",
    "SUSPENDED": "suspended",
    "TERMINATED": "terminated",
    "COMPLETED": "completed",
    "WITHDRAWN": "withdrawn",
    "UNKNOWN": "unknown",
    "WITHHELD": "unknown",
}
_EXPANDED_ACCESS = (
    "AVAILABLE",
    "NO_LONGER_AVAILABLE",
    "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING",
)
_AGE = re.compile(r"^(?P<n>\d{1,4}) (?P<unit>Years?|Months?|Weeks?|Days?|Hours?|Minutes?)$")


@dataclass
class Metadata:
    """What a record says of a trial besides its criteria, with warnings for what it lacks."""

    nct_id: str
    title: str
    phase: str | None
    type: str
    status: str
    status_note: str | None
    conditions: list[str]
    sponsor: str | None
    intervention: str | None
    start_date: str | None
    completion_date: str | None
    retrieved: str | None
    official_title: str | None
    warnings: list[str] = field(default_factory=list)
    unknown_conditions: list[str] = field(default_factory=list)


def metadata(record: Record, vocab: Vocabulary, extra_conditions: Sequence[str] = ()) -> Metadata:
    """The trial metadata of a record (located errors for what a trial cannot lack).

    Registry conditions the vocabulary does not know are left out with a warning;
    ``extra_conditions`` (vocabulary terms) are added. No known condition is an error.
    """
    ident = f"{PROTOCOL}.identificationModule"
    nct = record.get(f"{ident}.nctId", str)
    if not nct or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", nct.strip()):
        shown = "missing" if not nct else f"{nct!r} is not a usable id"
        raise record.error(f"{ident}.nctId", f"{shown}; a trial needs its registry id")
    nct = nct.strip()
    brief = (record.get(f"{ident}.briefTitle", str) or "").strip()
    official = (record.get(f"{ident}.officialTitle", str) or "").strip() or None
    title = brief or official
    if not title:
        raise record.error(f"{ident}.briefTitle", "missing, and no officialTitle either")
    warnings: list[str] = []
    meta = Metadata(
        nct_id=nct,
        title=title,
        phase=_phase(record, warnings),
        type=_study_type(record),
        status="unknown",
        status_note=None,
        conditions=[],
        sponsor=(
            record.get(f"{PROTOCOL}.sponsorCollaboratorsModule.leadSponsor.name", str) or None
        ),
        intervention=_interventions(record),
        start_date=record.get(f"{PROTOCOL}.statusModule.startDateStruct.date", str),
        completion_date=record.get(f"{PROTOCOL}.statusModule.completionDateStruct.date", str),
        retrieved=record.get("derivedSection.miscInfoModule.versionHolder", str),
        official_title=official if official != title else None,
        warnings=warnings,
    )
    meta.status, meta.status_note = _status(record, warnings)
    meta.conditions, meta.unknown_conditions = _conditions(
        record, vocab, extra_conditions, warnings
    )
    return meta


def _phase(record: Record, warnings: list[str]) -> str | None:
    where = f"{PROTOCOL}.designModule.phases"
    phases = record.strings(where)
    if not phases:
        return None
    phase = _PHASES.get(frozenset(phases))
    if phase is None:
        warnings.append(f"{where}: {', '.join(phases)} is not a phase trialmatch records; left out")
    return phase


def _study_type(record: Record) -> str:
    where = f"{PROTOCOL}.designModule.studyType"
    kind = record.get(where, str)
    if kind is None:
        raise record.error(where, "missing; a trial is INTERVENTIONAL or OBSERVATIONAL")
    if kind not in _TYPES:
        raise record.error(
            where,
            f"{kind}: trialmatch screens for interventional trials and observational studies "
            "(allowed: INTERVENTIONAL, OBSERVATIONAL)",
        )
    return _TYPES[kind]


def _status(record: Record, warnings: list[str]) -> tuple[str, str | None]:
    where = f"{PROTOCOL}.statusModule.overallStatus"
    status = record.get(where, str)
    if status is None:
        warnings.append(f"{where}: missing; status recorded as unknown")
        return "unknown", None
    if status in _EXPANDED_ACCESS:
        raise record.error(where, f"{status} is an expanded-access status, not a trial's")
    if status not in _STATUSES:
        warnings.append(f"{where}: {status!r} is not a registry status; recorded as unknown")
        return "unknown", f"The registry record gives the status {status!r}."
    notes = []
    if status == "WITHHELD":
        notes.append("The registry withholds the status.")
    last = record.get(f"{PROTOCOL}.statusModule.lastKnownStatus", str)
    if status == "UNKNOWN" and last:
        notes.append(f"Last known status in the registry: {last}.")
    why = record.get(f"{PROTOCOL}.statusModule.whyStopped", str)
    if why:
        notes.append(f"Why stopped (registry): {why.strip()}")
    return _STATUSES[status], " ".join(notes) or None


def _conditions(
    record: Record, vocab: Vocabulary, extra: Sequence[str], warnings: list[str]
) -> tuple[list[str], list[str]]:
    where = f"{PROTOCOL}.conditionsModule.conditions"
    out: list[str] = []
    unknown: list[str] = []
    for i, term in enumerate(record.strings(where)):
        if vocab.condition_id(term) is None:
            hint = vocab.suggest(term, "condition")
            close = f"; did you mean {' or '.join(map(repr, hint))}?" if hint else ""
            warnings.append(
                f"{where}[{i}]: {term!r} is not in the vocabulary; left out (add a synonym to "
                f"the vocabulary, or name the condition with --condition TERM){close}"
            )
            unknown.append(term.strip())
        elif term.strip() not in out:
            out.append(term.strip())
    for term in extra:
        if vocab.condition_id(term) is None:
            raise InputError.single("--condition", f"{term!r} is not a condition in the vocabulary")
        if term not in out:
            out.append(term)
    if not out:
        raise record.error(
            where,
            "no condition the vocabulary knows; name one with --condition TERM (a vocabulary "
            "condition the trial is for)",
        )
    return out, unknown


def _interventions(record: Record) -> str | None:
    where = f"{PROTOCOL}.armsInterventionsModule.interventions"
    parts = []
    for i, item in enumerate(record.objects(where)):
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            continue
        kind = item.get("type")
        label = str(kind).replace("_", " ").capitalize() + ": " if isinstance(kind, str) else ""
        text = f"{label}{name.strip()}"
        if text not in parts:
            parts.append(text)
        del i
    return "; ".join(parts) or None


# ------------------------------------------------------------------------------------------
# Criteria


def registry_criteria(record: Record, warnings: list[str]) -> list[dict[str, Any]]:
    """The registry's minimum/maximum age and sex as criteria (computable where exact)."""
    where = f"{PROTOCOL}.eligibilityModule"
    out: list[dict[str, Any]] = []
    for field_name, key, bound, label in (
        ("minimumAge", "registry-min-age", "at_least", "Minimum age"),
        ("maximumAge", "registry-max-age", "at_most", "Maximum age"),
    ):
        value = record.get(f"{where}.{field_name}", str)
        if value is None or value.strip().upper() in ("N/A", "NA", ""):
            continue
        text = f"{label} (registry {field_name}): {value.strip()}"
        years = _whole_years(value.strip())
        if years is None:
            out.append({"id": key, "text": text, "manual": _age_reason(value.strip())})
        else:
            out.append({"id": key, "text": text, "rule": {"age": {bound: years}}})
    sex = record.get(f"{where}.sex", str)
    if sex in ("FEMALE", "MALE"):
        text = f"Sex (registry sex): {sex}"
        if record.get(f"{where}.genderBased", bool):
            description = (record.get(f"{where}.genderDescription", str) or "").strip()
            text += f"; gender-based eligibility: {description}" if description else ""
            out.append(
                {
                    "id": "registry-sex",
                    "text": text,
                    "manual": "The registry says eligibility is based on gender identity, which "
                    "the patient profile does not record.",
                }
            )
        else:
            out.append(
                {"id": "registry-sex", "text": text, "rule": {"sex": {"one_of": [sex.lower()]}}}
            )
    elif sex not in (None, "ALL"):
        warnings.append(f"{where}.sex: {sex!r} is not FEMALE, MALE or ALL; left out")
    return out


def _whole_years(value: str) -> int | None:
    """Whole years of a registry age ("18 Years", "24 Months"), or None when the age in
    whole years cannot say it exactly."""
    m = _AGE.match(value)
    if m is None:
        return None
    n, unit = int(m.group("n")), m.group("unit").rstrip("s")
    if unit == "Year":
        return n
    if unit == "Month" and n % 12 == 0:
        return n // 12
    return None


def _age_reason(value: str) -> str:
    if _AGE.match(value) is None:
        return f"The registry gives the age as {value!r}, which is not a number of years."
    return (
        f"The registry gives {value}; trialmatch's age predicate counts whole years, so a "
        "person checks this limit."
    )


def statement_criteria(statements: Sequence[Statement]) -> tuple[list[dict[str, Any]], ...]:
    """(inclusion, exclusion) criteria, one per statement, needs review with its verbatim
    text; statements under no heading are inclusion criteria that say so."""
    inclusion: list[dict[str, Any]] = []
    exclusion: list[dict[str, Any]] = []
    prefix = {"inclusion": "inc", "exclusion": "exc", "": "txt"}
    for s in statements:
        crit: dict[str, Any] = {
            "id": f"{prefix[s.section]}-{s.number}",
            "text": s.text,
            "manual": MANUAL,
        }
        notes = []
        if s.heading:
            notes.append(f"Heading: {s.heading}")
        if s.parent is not None:
            notes.append(f"An item of {prefix[s.section]}-{s.parent}")
        if s.items:
            tag = prefix[s.section]
            items = f"{tag}-{s.number}.1"
            if s.items > 1:
                items += f" to {tag}-{s.number}.{s.items}"
            notes.append(
                f"Its items follow as {items}: encode them here together (all, any, "
                "at_least) or one by one"
            )
        if not s.section:
            notes.append(
                "The record gives this statement under no inclusion or exclusion "
                "heading; check which it is"
            )
        if notes:
            crit["note"] = ". ".join(notes) + "."
        (exclusion if s.section == "exclusion" else inclusion).append(crit)
    return inclusion, exclusion


@dataclass(frozen=True)
class Draft:
    """A draft criteria file: its YAML text, the trial it validates to, and warnings."""

    text: str
    trial: Trial
    warnings: list[str]


def draft(
    record: Record,
    vocab: Vocabulary,
    extra_conditions: Sequence[str] = (),
    name: str = "draft.yaml",
) -> Draft:
    """The draft criteria file of a record, validated as trialmatch loads it."""
    meta = metadata(record, vocab, extra_conditions)
    warnings = meta.warnings
    where = f"{PROTOCOL}.eligibilityModule.eligibilityCriteria"
    criteria_text = record.get(where, str)
    if not criteria_text or not criteria_text.strip():
        warnings.append(f"{where}: no eligibility text; the draft has no criteria from it")
        statements: list[Statement] = []
    else:
        statements = split_eligibility(criteria_text)
        if len(statements) > MAX_STATEMENTS:
            raise record.error(
                where,
                f"more than {MAX_STATEMENTS:,} statements: more than one criteria file can "
                "hold; is this an eligibility text?",
            )
    inclusion, exclusion = statement_criteria(statements)
    inclusion = registry_criteria(record, warnings) + inclusion
    notes = [
        f"Drafted by trialmatch import ctgov from the registry record ({Path(record.path).name}):"
        " every statement of the eligibility text is a criterion to encode or to leave to a "
        "person.",
    ]
    if meta.official_title:
        notes.append(f"Official title: {meta.official_title}")
    if meta.unknown_conditions:
        notes.append(
            "Registry conditions not in the vocabulary, left out of conditions: "
            + "; ".join(meta.unknown_conditions)
        )
    data: dict[str, Any] = {
        "id": meta.nct_id,
        "title": meta.title,
        "registry_id": meta.nct_id,
        "phase": meta.phase,
        "type": meta.type,
        "status": meta.status,
        "status_note": meta.status_note,
        "conditions": meta.conditions,
        "sponsor": meta.sponsor,
        "intervention": meta.intervention,
        "start_date": meta.start_date,
        "completion_date": meta.completion_date,
        "source": {
            "document": f"ClinicalTrials.gov study record {meta.nct_id} (API v2)",
            "url": f"https://clinicaltrials.gov/study/{meta.nct_id}",
            "retrieved": meta.retrieved,
        },
        "notes": notes,
        "inclusion": inclusion,
        "exclusion": exclusion,
    }
    data = _without_nulls(data)
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=96)
    header = (
        f"# Draft criteria for {meta.nct_id} from its ClinicalTrials.gov record. The registry's\n"
        "# age and sex limits are encoded; every other criterion needs review until a curator\n"
        "# encodes it (README: Criteria language). `trialmatch validate` checks the file.\n"
    )
    text = header + body
    trial = trial_from_document(parse_yaml(text, name), vocab)
    return Draft(text, trial, warnings)


class _Dumper(yaml.SafeDumper):
    """Safe YAML with list items indented under their key, as the catalogue writes them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _without_nulls(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_nulls(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_without_nulls(v) for v in data]
    return data
