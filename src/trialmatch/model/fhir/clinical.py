"""Patient, Condition, Procedure and AllergyIntolerance resources.

Conditions: a condition the vocabulary marks malignant is a **diagnosis** (whatever its
clinical status: a myeloma in remission is still the patient's myeloma; a past cancer other
than the disease under study is for the coordinator to move to ``prior_malignancies``, and an
inactive one is warned about so); any other known condition goes on the **problem list**
(``conditions``) with its clinical status. ``refuted`` is not a diagnosis: a refuted cancer is
skipped with a warning, a refuted comorbidity is recorded as ``absent`` (ruled out, the
patient file's recorded negative). ``entered-in-error`` is skipped with a warning, and so are
``unconfirmed``, ``provisional`` and ``differential`` (neither present nor absent).
"""

from __future__ import annotations

from typing import Any

from trialmatch.io.jsonio import JsonPath
from trialmatch.model.fhir.common import (
    ICD10CM,
    RXNORM,
    SNOMED,
    Code,
    ResourceError,
    choice,
    codings,
    concept_text,
    fhir_day,
    get,
    items,
    point_day,
    said_status,
    status_code,
)
from trialmatch.model.fhir.draft import Draft, checked
from trialmatch.model.patient import (
    Diagnosis,
    Hypersensitivity,
    OtherCondition,
    Procedure,
)

GENDERS = {"male": "male", "female": "female", "other": "other"}

# Condition.clinicalStatus -> the problem list's status (relapse and recurrence are active).
CLINICAL = {
    "active": "active",
    "recurrence": "active",
    "relapse": "active",
    "inactive": "history",
    "remission": "resolved",
    "resolved": "resolved",
}
NOT_A_FINDING = {"unconfirmed", "provisional", "differential"}
MCODE_HISTOLOGY = (
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
)


def map_patient(draft: Draft, res: dict[str, Any], path: JsonPath, full_url: str | None) -> None:
    """Patient: id, birthDate, gender (male/female/other; unknown = not recorded)."""
    pid = get(res, "id", str, path)
    if not pid or not pid.strip():
        raise ResourceError((*path, "id"), "the Patient has no id; trialmatch needs one")
    draft.patient_id = pid.strip()
    draft.patient_refs |= {f"Patient/{draft.patient_id}", *([full_url] if full_url else [])}
    if "birthDate" in res:
        day = fhir_day(res["birthDate"], (*path, "birthDate"), draft.notes, "age not recorded")
        if day is not None:
            draft.top["birth_date"] = day
    gender = get(res, "gender", str, path)
    if gender is not None:
        if gender in GENDERS:
            draft.top["sex"] = GENDERS[gender]
        elif gender == "unknown":
            draft.notes.warn((*path, "gender"), "gender 'unknown': sex not recorded")
        else:
            raise ResourceError(
                (*path, "gender"),
                f"gender {gender!r} is not a FHIR gender (male, female, other, unknown)",
            )
    if get(res, "deceasedBoolean", bool, path) or "deceasedDateTime" in res:
        draft.notes.warn(
            (*path, "deceased"), "the patient is recorded as deceased; trialmatch does not read it"
        )


def resolve_condition(
    draft: Draft, concept: dict[str, Any], path: JsonPath
) -> tuple[str, Code | None] | None:
    """(condition id, the coding that named it) of a Condition.code: ICD-10-CM and SNOMED CT
    codes the vocabulary lists, else the text as a vocabulary term (exact, after folding
    case and spaces; never fuzzy). Codings naming unrelated conditions are a conflict: None,
    warned. Nothing known: None, warned with each code."""
    vocab = draft.vocab
    found: list[tuple[str, Code]] = []
    unknown: list[Code] = []
    all_codes = codings(concept, path)
    for c in all_codes:
        if not c.code:
            continue
        cid = None
        if c.system in ICD10CM:
            cid = vocab.condition_by_icd10cm(c.code)
        elif c.system == SNOMED:
            cid = vocab.condition_by_snomed(c.code)
        if cid is None:
            unknown.append(c)
        else:
            found.append((cid, c))
    ids = {cid for cid, _ in found}
    if len(ids) > 1:
        # the most specific, when every other is one of its broader conditions
        narrow = [i for i in ids if all(vocab.condition_is_a(i, j) for j in ids)]
        if len(narrow) != 1:
            draft.notes.warn(
                path,
                "the codings name different conditions ("
                + ", ".join(c.shown() for _, c in found)
                + "); not imported",
            )
            return None
        return narrow[0], next(c for cid, c in found if cid == narrow[0])
    if found:
        return found[0]
    text = concept_text(concept, path)
    if text and vocab.condition_id(text):
        return vocab.condition_id(text) or "", None
    where = unknown[0].path if unknown else path
    shown = ", ".join(c.shown() for c in unknown) or (
        f"text {text!r}" if text else "no code or text"
    )
    draft.notes.warn(where, f"{shown} is not in the vocabulary; condition not imported")
    return None


def map_condition(draft: Draft, res: dict[str, Any], path: JsonPath) -> None:
    notes, vocab = draft.notes, draft.vocab
    verification = status_code(res, "verificationStatus", path)
    if verification == "entered-in-error":
        notes.warn((*path, "verificationStatus"), "entered in error; condition not imported")
        return
    if verification in NOT_A_FINDING:
        notes.warn(
            (*path, "verificationStatus"),
            f"verification status {verification!r}: neither present nor ruled out; "
            "condition not imported",
        )
        return
    concept = get(res, "code", dict, path)
    if concept is None:
        notes.warn(path, "a Condition without code; not imported")
        return
    named = resolve_condition(draft, concept, (*path, "code"))
    if named is None:
        return
    cid, coding = named
    entry = vocab.conditions[cid]
    onset = _onset(draft, res, path)
    clinical = status_code(res, "clinicalStatus", path)
    if clinical is not None and clinical not in CLINICAL:
        raise ResourceError(
            (*path, "clinicalStatus"),
            f"clinical status {clinical!r} is not a FHIR "
            f"condition clinical status ({', '.join(CLINICAL)})",
        )
    if entry.malignant:
        if verification == "refuted":
            notes.warn(
                (*path, "verificationStatus"),
                f"{entry.name} refuted: not a diagnosis; condition not imported",
            )
            return
        diag: dict[str, Any] = {"condition": entry.name}
        if coding is not None and coding.system in ICD10CM:
            diag["code"] = coding.code
        if onset is not None:
            diag["date"] = onset
        _cancer_details(draft, res, path, cid, diag)
        if clinical in ("inactive", "remission", "resolved"):
            notes.warn(
                (*path, "clinicalStatus"),
                f"{entry.name} is {clinical}: imported as a diagnosis; if it is a prior "
                "malignancy rather than the disease under study, move it to "
                "prior_malignancies",
            )
        draft.add("diagnoses", checked(Diagnosis, diag, {"date": (*path, "onset")}, path))
        return
    item: dict[str, Any] = {"condition": entry.name}
    if verification == "refuted":
        item["status"] = "absent"
    elif clinical is not None:
        item["status"] = CLINICAL[clinical]
    if onset is not None and verification != "refuted":
        item["since"] = onset
    if "abatementDateTime" in res and verification != "refuted":
        until = fhir_day(
            res["abatementDateTime"],
            (*path, "abatementDateTime"),
            notes,
            "abatement date not imported",
        )
        if until is not None:
            item["until"] = until
    draft.add("conditions", checked(OtherCondition, item, {}, path))


def _onset(draft: Draft, res: dict[str, Any], path: JsonPath) -> Any:
    """The onset day: onsetDateTime, or an onsetPeriod's start (its end when no start).
    onsetAge, onsetRange and onsetString give no day and are warned about."""
    found = choice(res, "onset", path, ("DateTime", "Period"))
    if found is None:
        return None
    suffix, value = found
    where = (*path, "onset" + suffix)
    if value is None:
        draft.notes.warn(where, f"onset{suffix} names no calendar day; onset not imported")
        return None
    if suffix == "Period":
        period = get(res, "onsetPeriod", dict, path)
        key = "start" if "start" in period else "end"
        if key not in period:
            draft.notes.warn(
                where, "the onset period has neither start nor end; onset not imported"
            )
            return None
        return fhir_day(period[key], (*where, key), draft.notes, "onset not imported")
    return fhir_day(value, where, draft.notes, "onset not imported")


def _cancer_details(
    draft: Draft, res: dict[str, Any], path: JsonPath, cid: str, diag: dict[str, Any]
) -> None:
    """mCODE histology (a subtype when it names a narrower vocabulary condition) and stage
    (a risk score when both the staging system and the stage are given as text)."""
    notes, vocab = draft.notes, draft.vocab
    for where, ext in items(res, "extension", path):
        if get(ext, "url", str, where) != MCODE_HISTOLOGY:
            continue
        concept = get(ext, "valueCodeableConcept", dict, where)
        named = None
        if concept is not None:
            text = concept_text(concept, (*where, "valueCodeableConcept"))
            for c in codings(concept, (*where, "valueCodeableConcept")):
                sub = vocab.condition_by_snomed(c.code) if c.system == SNOMED and c.code else None
                if sub:
                    named = sub
            if named is None and text:
                named = vocab.condition_id(text)
        if named and named != cid and vocab.condition_is_a(named, cid):
            diag["subtype"] = vocab.condition_name(named)
        else:
            notes.warn(
                where, "histology is not a subtype of the condition in the vocabulary; not imported"
            )
    scores = []
    for where, stage in items(res, "stage", path):
        summary = get(stage, "summary", dict, where)
        kind = get(stage, "type", dict, where)
        system = concept_text(kind, (*where, "type")) if kind else None
        category = concept_text(summary, (*where, "summary")) if summary else None
        if system and category:
            scores.append({"system": system, "category": category})
        else:
            notes.warn(where, "a stage without the staging system and stage as text; not imported")
    if scores:
        diag["risk_scores"] = scores


def map_procedure(draft: Draft, res: dict[str, Any], path: JsonPath) -> None:
    """Procedure: stem cell transplants by SNOMED CT code (autologous or allogeneic); the day
    from performed[x]."""
    notes = draft.notes
    status = get(res, "status", str, path)
    if status not in ("completed", "in-progress"):
        notes.warn(
            (*path, "status"), f"{said_status(status)}: not a procedure performed; not imported"
        )
        return
    concept = get(res, "code", dict, path)
    kinds = []
    shown = []
    for c in codings(concept or {}, (*path, "code")):
        if c.system == SNOMED and c.code:
            kind = draft.vocab.procedure_by_snomed(c.code)
            if kind:
                kinds.append(kind)
        shown.append(c)
    if len(set(kinds)) != 1:
        what = ", ".join(c.shown() for c in shown) or "no code"
        why = (
            "names both transplant kinds"
            if kinds
            else "is not a procedure trialmatch reads (autologous or allogeneic stem cell "
            "transplant by SNOMED CT code)"
        )
        notes.warn((*path, "code"), f"{what} {why}; procedure not imported")
        return
    item: dict[str, Any] = {"type": kinds[0]}
    stem = "occurrence" if any(k.startswith("occurrence") for k in res) else "performed"  # R5
    _, day = point_day(res, stem, path, notes, "procedure date not imported")
    if day is not None:
        item["date"] = day
    draft.add("procedures", checked(Procedure, item, {}, path))


def map_allergy(draft: Draft, res: dict[str, Any], path: JsonPath) -> None:
    """AllergyIntolerance: the agent (an RxNorm drug of the vocabulary, else the code's text or
    display), the first reaction's manifestation and severity, the onset or recorded day."""
    notes, vocab = draft.notes, draft.vocab
    verification = status_code(res, "verificationStatus", path)
    if verification in ("entered-in-error", "refuted"):
        notes.warn((*path, "verificationStatus"), f"{verification}; hypersensitivity not imported")
        return
    clinical = status_code(res, "clinicalStatus", path)
    if clinical in ("inactive", "resolved"):
        notes.warn((*path, "clinicalStatus"), f"{clinical}; hypersensitivity not imported")
        return
    concept = get(res, "code", dict, path)
    agent = None
    if concept is not None:
        for c in codings(concept, (*path, "code")):
            if c.system == RXNORM and c.code and vocab.drug_by_rxnorm(c.code):
                agent = vocab.drug_name(vocab.drug_by_rxnorm(c.code) or "")
        agent = agent or concept_text(concept, (*path, "code"))
        if agent is None:
            agent = next((c.display for c in codings(concept, (*path, "code")) if c.display), None)
    if not agent:
        notes.warn(
            (*path, "code"),
            "no agent named (no known RxNorm code, text or display); hypersensitivity not imported",
        )
        return
    item: dict[str, Any] = {"agent": agent}
    reactions = list(items(res, "reaction", path))
    if len(reactions) > 1:
        notes.warn(
            reactions[1][0],
            f"{len(reactions) - 1} more reaction(s): only the first is "
            "imported (trialmatch keeps one reaction per agent)",
        )
    for where, reaction in reactions:
        for mwhere, manifestation in items(reaction, "manifestation", where):
            if "concept" in manifestation:  # R5: a CodeableReference
                mwhere = (*mwhere, "concept")
                manifestation = get(manifestation, "concept", dict, mwhere[:-1])
            text = concept_text(manifestation, mwhere) or next(
                (c.display for c in codings(manifestation, mwhere) if c.display), None
            )
            if text:
                item["reaction"] = text
                break
        severity = get(reaction, "severity", str, where)
        if severity:
            item["severity"] = severity
        break
    if "onsetDateTime" in res:
        day = fhir_day(res["onsetDateTime"], (*path, "onsetDateTime"), notes, "date not imported")
    elif "recordedDate" in res:
        day = fhir_day(res["recordedDate"], (*path, "recordedDate"), notes, "date not imported")
    else:
        day = None
    if day is not None:
        item["date"] = day
    draft.add("hypersensitivities", checked(Hypersensitivity, item, {}, path))
