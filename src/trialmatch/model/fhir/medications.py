"""MedicationStatement, MedicationRequest and MedicationAdministration resources: each is one
course (``therapies`` item) of the drugs it names.

The drug: RxNorm ingredient codes the vocabulary lists, else the text (or a coding's display)
as a vocabulary drug or regimen term; a text the vocabulary does not know is imported as
written and warned about (criteria on it stay unknown). The medication may be a code
(``medicationCodeableConcept``, R5 ``medication.concept``) or a reference to a Medication
resource of the bundle (``medicationReference``, R5 ``medication.reference``).

Dates: a statement's effective[x] and an administration's effective[x] (R5 occurence[x]) give
start and end (a day: start and end on it); a request's ``authoredOn`` gives the start. The
course's outcome is never inferred from a status: ``completed`` or ``stopped`` do not say
whether the disease responded.
"""

from __future__ import annotations

from typing import Any

from trialmatch.io.jsonio import JsonPath
from trialmatch.model.fhir.clinical import resolve_condition
from trialmatch.model.fhir.common import (
    RXNORM,
    Notes,
    choice,
    codings,
    concept_text,
    fhir_day,
    get,
    items,
    period,
    said_status,
)
from trialmatch.model.fhir.draft import Draft, checked
from trialmatch.model.patient import Therapy

# status -> imported as "ongoing" (True), imported (False), or not imported (None)
STATUS = {
    "MedicationStatement": {
        "active": True,
        "completed": False,
        "stopped": False,
        "on-hold": False,
        "unknown": False,
        "recorded": False,
        "intended": None,
        "not-taken": None,
        "entered-in-error": None,
        "draft": None,
    },
    "MedicationRequest": {
        "active": True,
        "completed": False,
        "stopped": False,
        "on-hold": False,
        "unknown": False,
        "cancelled": None,
        "draft": None,
        "entered-in-error": None,
    },
    "MedicationAdministration": {
        "in-progress": True,
        "completed": False,
        "stopped": False,
        "on-hold": False,
        "unknown": False,
        "not-done": None,
        "entered-in-error": None,
    },
}
ORDERS = {"order", "original-order", "reflex-order", "filler-order", "instance-order"}


def map_medication(draft: Draft, res: dict[str, Any], path: JsonPath, kind: str) -> None:
    notes = draft.notes
    status = get(res, "status", str, path)
    running = STATUS[kind].get(status or "", None)
    if running is None:
        notes.warn((*path, "status"), f"{said_status(status)}: not a therapy given; not imported")
        return
    if kind == "MedicationRequest":
        intent = get(res, "intent", str, path)
        if intent not in ORDERS:
            notes.warn(
                (*path, "intent"),
                f"intent {intent!r}: a plan or proposal, not a therapy given; not imported",
            )
            return
    concept, where = _medication_concept(draft, res, path)
    if concept is None:
        return
    agents = _agents(draft, concept, where)
    if agents is None:
        return
    item: dict[str, Any] = dict(agents)
    start = end = None
    if kind == "MedicationRequest":
        if "authoredOn" in res:
            start = fhir_day(res["authoredOn"], (*path, "authoredOn"), notes, "start not imported")
    else:
        # R5 administrations: occurence[x] (so spelled in R5), occurrence[x] accepted too
        stem = next(
            (
                s
                for s in ("effective", "occurence", "occurrence")
                if any(k.startswith(s) for k in res)
            ),
            "effective",
        )
        found = choice(res, stem, path, ("DateTime", "Period", "Instant"))
        if found is not None:
            suffix, value = found
            if suffix == "Period":
                start, end = period(res, stem + "Period", path, notes)
            elif value is not None:
                start = fhir_day(value, (*path, stem + suffix), notes, "dates not imported")
                end = start if kind == "MedicationAdministration" else None
            else:
                notes.warn(
                    (*path, stem + suffix), f"{stem}{suffix} names no day; dates not imported"
                )
    if start is not None:
        item["start"] = start
    if end is not None:
        item["end"] = end
    elif running:
        item["ongoing"] = True
    if status not in ("active", "completed", "in-progress", "recorded"):
        item["note"] = f"FHIR {kind} status: {status}"
    indication = _indication(draft, res, path)
    if indication:
        item["indication"] = indication
    draft.add("therapies", checked(Therapy, item, {"end": path, "start": path}, path))


def _medication_concept(
    draft: Draft, res: dict[str, Any], path: JsonPath
) -> tuple[dict[str, Any] | None, JsonPath]:
    """The CodeableConcept naming the drug, and its path (a referenced Medication's code)."""
    notes = draft.notes
    if "medicationCodeableConcept" in res:
        return get(res, "medicationCodeableConcept", dict, path), (
            *path,
            "medicationCodeableConcept",
        )
    ref_holder: dict[str, Any] | None = None
    ref_path: JsonPath = path
    if "medicationReference" in res:
        ref_holder, ref_path = (
            get(res, "medicationReference", dict, path),
            (*path, "medicationReference"),
        )
    elif "medication" in res:  # R5: CodeableReference
        med = get(res, "medication", dict, path)
        if "concept" in med:
            return get(med, "concept", dict, (*path, "medication")), (
                *path,
                "medication",
                "concept",
            )
        ref_holder = get(med, "reference", dict, (*path, "medication"))
        ref_path = (*path, "medication", "reference")
    if ref_holder is None:
        notes.warn(path, "no medication named; not imported")
        return None, path
    ref = get(ref_holder, "reference", str, ref_path)
    found = draft.medications.get(ref or "")
    if found is None:
        notes.warn(ref_path, "the referenced Medication is not in the bundle; not imported")
        return None, ref_path
    mpath, medication = found
    concept = get(medication, "code", dict, mpath)
    if concept is None:
        notes.warn(mpath, "the Medication has no code; the therapy is not imported")
        return None, mpath
    return concept, (*mpath, "code")


def _agents(draft: Draft, concept: dict[str, Any], where: JsonPath) -> dict[str, Any] | None:
    """``drugs`` (or ``regimen``) of a therapy from its medication concept."""
    vocab, notes = draft.vocab, draft.notes
    codes = codings(concept, where)
    drugs = []
    unknown = []
    for c in codes:
        if c.system == RXNORM and c.code:
            drug = vocab.drug_by_rxnorm(c.code)
            if drug:
                drugs.append(vocab.drug_name(drug))
            else:
                unknown.append(c)
    if drugs:
        return {"drugs": sorted(set(drugs))}
    text = concept_text(concept, where) or next((c.display for c in codes if c.display), None)
    if text:
        if vocab.is_regimen(text):
            return {"regimen": text}
        if vocab.drug_ids(text) is None:
            notes.warn(
                where,
                f"drug {text!r} is not in the vocabulary"
                + (f" (nor {', '.join(c.shown() for c in unknown)})" if unknown else "")
                + "; imported as written (criteria on it stay unknown)",
            )
        return {"drugs": [text]}
    shown = ", ".join(c.shown() for c in codes) or "no code or text"
    notes.warn(
        unknown[0].path if unknown else where,
        f"{shown} is not a drug in the vocabulary; therapy not imported",
    )
    return None


def _indication(draft: Draft, res: dict[str, Any], path: JsonPath) -> str | None:
    """The condition treated: a reasonCode, or a reasonReference to a Condition of the
    bundle, naming a vocabulary condition."""
    quiet = Draft(draft.vocab, Notes())
    reasons = 0
    for where, concept in items(res, "reasonCode", path):
        reasons += 1
        named = resolve_condition(quiet, concept, where)
        if named:
            return draft.vocab.condition_name(named[0])
    for where, ref in items(res, "reasonReference", path):
        reasons += 1
        target = draft.conditions.get(get(ref, "reference", str, where) or "")
        if target is not None:
            cpath, condition = target
            concept = get(condition, "code", dict, cpath)
            named = resolve_condition(quiet, concept, (*cpath, "code")) if concept else None
            if named:
                return draft.vocab.condition_name(named[0])
    if reasons:
        draft.notes.warn(
            path,
            "the reason for the therapy names no vocabulary condition; "
            "indication not imported (the therapy is taken to treat the "
            "patient's only diagnosis)",
        )
    return None
