"""Observation resources: labs by LOINC, ECOG, pregnancy status and cancer disease status.

* Labs: a LOINC code the vocabulary lists, ``valueQuantity`` (value and unit: the UCUM
  ``code`` when the vocabulary knows it, else the ``unit`` text), the first reference range's
  ``high``/``low`` as ULN/LLN when in the result's unit. A unit the vocabulary cannot convert is
  imported as written and warned about (criteria on it are unknown, never guessed).
* ECOG (LOINC 89247-1, also the mCODE ECOG profile): ``valueInteger`` 0-5, or a
  ``valueCodeableConcept`` with a LOINC answer (LA9622-7 ... LA9627-6) or SNOMED CT ECOG grade.
* Pregnancy status (LOINC 82810-3): SNOMED CT 77386006 / 60001007 or LOINC LA15173-0 /
  LA26683-5; "unknown" is not recorded.
* Cancer disease status (LOINC 97509-4, mCODE): the SNOMED CT trend codes that correspond to
  a response category (not detected = CR, stable = SD, worsened = PD); "improved" (responding,
  by how much is not said) and "undetermined" are warned about and stay unknown.

Only ``final``, ``amended`` and ``corrected`` results are imported; the day comes from
effective[x] (a Period's end, else its start). A result that names no day is not imported:
it could be after any screening date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from trialmatch.io.jsonio import JsonPath
from trialmatch.model.fhir.common import (
    LOINC,
    SNOMED,
    UCUM,
    ResourceError,
    choice,
    codings,
    concept_text,
    get,
    items,
    number,
    point_day,
    said_status,
)
from trialmatch.model.fhir.draft import Candidate, Draft, checked
from trialmatch.model.patient import Lab
from trialmatch.model.vocab import Vocabulary

ECOG_LOINC = "89247-1"
PREGNANCY_LOINC = "82810-3"
DISEASE_STATUS_LOINC = "97509-4"
SPECIAL = (ECOG_LOINC, PREGNANCY_LOINC, DISEASE_STATUS_LOINC)

ECOG_ANSWERS = {
    (LOINC, "LA9622-7"): 0,
    (LOINC, "LA9623-5"): 1,
    (LOINC, "LA9624-3"): 2,
    (LOINC, "LA9625-0"): 3,
    (LOINC, "LA9626-8"): 4,
    (LOINC, "LA9627-6"): 5,
    (SNOMED, "425389002"): 0,
    (SNOMED, "422512005"): 1,
    (SNOMED, "422894000"): 2,
    (SNOMED, "423053003"): 3,
    (SNOMED, "423237006"): 4,
}
PREGNANCY_ANSWERS = {
    (SNOMED, "77386006"): True,
    (SNOMED, "60001007"): False,
    (LOINC, "LA15173-0"): True,
    (LOINC, "LA26683-5"): False,
}
PREGNANCY_UNKNOWN = {(SNOMED, "261665006"), (LOINC, "LA4489-6")}
# mCODE ConditionStatusTrendVS -> response category, or None where none corresponds.
DISEASE_STATUS = {
    "260415000": "CR",  # Not detected
    "359746009": "SD",  # Patient's condition stable
    "271299001": "PD",  # Patient's condition worsened
    "268910001": None,  # Patient condition improved: responding, depth not said
    "709137006": None,  # Patient condition undetermined
}
FINAL = ("final", "amended", "corrected")


def map_observation(draft: Draft, res: dict[str, Any], path: JsonPath) -> None:
    notes = draft.notes
    concept = get(res, "code", dict, path)
    loinc = [c for c in codings(concept or {}, (*path, "code")) if c.system == LOINC and c.code]
    special = next((c.code for c in loinc if c.code in SPECIAL), None)
    lab_id = next(
        (draft.vocab.lab_id(c.code) for c in loinc if c.code and draft.vocab.lab_id(c.code)), None
    )
    if special is None and lab_id is None:
        shown = ", ".join(c.shown() for c in codings(concept or {}, (*path, "code")))
        text = concept_text(concept, (*path, "code")) if concept else None
        what = shown or (f"text {text!r}" if text else "no code")
        where = loinc[0].path if loinc else (*path, "code")
        notes.warn(
            where,
            f"{what} is not an observation trialmatch reads "
            "(a vocabulary lab LOINC, ECOG, pregnancy or disease status); not imported",
        )
        return
    status = get(res, "status", str, path)
    if status not in FINAL:
        notes.warn((*path, "status"), f"{said_status(status)}: not a final result; not imported")
        return
    if "dataAbsentReason" in res:
        notes.warn((*path, "dataAbsentReason"), "no value (data absent); not imported")
        return
    found = choice(res, "value", path, ("Quantity", "Integer", "CodeableConcept"))
    if found is None:
        notes.warn(path, "no value; not imported")
        return
    suffix, value = found
    if value is None:  # a text result ("65 mL/min") and the like: warned, never guessed at
        notes.warn(
            (*path, "value" + suffix),
            f"value{suffix} is not a value trialmatch reads for this observation "
            "(a number in valueQuantity, or a coded answer); not imported",
        )
        return
    present, day = point_day(
        res,
        "effective",
        path,
        notes,
        "observation not imported (it could be after any screening date)",
    )
    if day is None:
        if not present:
            notes.warn(
                path,
                "no effective date; observation not imported (it could be after "
                "any screening date)",
            )
        return
    where = (*path, "value" + suffix)
    if special == ECOG_LOINC:
        draft.offer("ecog", Candidate(day, _ecog(suffix, value, where), path))
    elif special == PREGNANCY_LOINC:
        answer = _coded_answer(suffix, value, where, PREGNANCY_ANSWERS, "pregnancy status")
        if answer is None:
            notes.warn(where, "pregnancy status unknown; not imported")
            return
        draft.offer("pregnant", Candidate(day, answer, path))
    elif special == DISEASE_STATUS_LOINC:
        _disease_status(draft, suffix, value, where, day, path)
    else:
        _lab(draft, res, path, lab_id or "", suffix, value, day)


def _ecog(suffix: str, value: Any, where: JsonPath) -> int:
    if suffix == "Integer":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ResourceError(where, "ECOG is a whole number 0 to 5")
        if isinstance(value, float):
            if not value.is_integer():
                raise ResourceError(where, "ECOG is a whole number 0 to 5")
            value = int(value)
        if not -1000 < value < 1000:
            raise ResourceError(where, "ECOG must be 0 to 5")
        score = int(value)
    elif suffix == "CodeableConcept":
        found = _coded_answer(suffix, value, where, ECOG_ANSWERS, "ECOG")
        if found is None:
            raise ResourceError(where, "ECOG unknown: no ECOG grade is given")
        score = int(found)
    else:
        raise ResourceError(
            where, "ECOG is valueInteger or valueCodeableConcept, not valueQuantity"
        )
    if not 0 <= score <= 5:
        raise ResourceError(where, f"ECOG must be 0 to 5, got {score}")
    return score


def _coded_answer(
    suffix: str, value: Any, where: JsonPath, table: dict[tuple[str, str], Any], what: str
) -> Any:
    """The table's answer for a valueCodeableConcept (None for a known 'unknown'); codes that
    disagree or are not in the table are errors for the resource."""
    if suffix != "CodeableConcept" or not isinstance(value, dict):
        raise ResourceError(where, f"{what} is a valueCodeableConcept")
    answers = []
    unknown = []
    for c in codings(value, where):
        key = (c.system or "", c.code or "")
        if key in table:
            answers.append(table[key])
        elif key in PREGNANCY_UNKNOWN and what == "pregnancy status":
            continue
        else:
            unknown.append(c.shown())
    if len(set(answers)) > 1:
        raise ResourceError(where, f"the codings give different {what} answers")
    if answers:
        return answers[0]
    if unknown:
        raise ResourceError(where, f"{', '.join(unknown)} is not a {what} answer trialmatch knows")
    return None


def _disease_status(
    draft: Draft, suffix: str, value: Any, where: JsonPath, day: Any, path: JsonPath
) -> None:
    if suffix != "CodeableConcept" or not isinstance(value, dict):
        raise ResourceError(where, "a cancer disease status is a valueCodeableConcept")
    codes = [c for c in codings(value, where) if c.system == SNOMED and c.code in DISEASE_STATUS]
    if not codes:
        shown = ", ".join(c.shown() for c in codings(value, where)) or "no code"
        draft.notes.warn(
            where,
            f"{shown} is not a disease status trialmatch reads; the current "
            "response stays unknown; not imported",
        )
        return
    response = DISEASE_STATUS[codes[0].code or ""]
    if response is None:
        draft.notes.warn(
            codes[0].path,
            f"{codes[0].display or codes[0].shown()} does not say a "
            "response category (CR, PR, SD, ...); the current response "
            "stays unknown; not imported",
        )
        return
    draft.offer("disease_status", Candidate(day, response, path))


def _lab(
    draft: Draft,
    res: dict[str, Any],
    path: JsonPath,
    lab_id: str,
    suffix: str,
    value: Any,
    day: Any,
) -> None:
    notes, vocab = draft.notes, draft.vocab
    where = (*path, "value" + suffix)
    if suffix != "Quantity":
        raise ResourceError(where, "a lab result is a valueQuantity (a value with its unit)")
    quantity = get(res, "valueQuantity", dict, path)
    if "comparator" in quantity:
        notes.warn(
            (*where, "comparator"),
            f"a result given as {quantity['comparator']!r} a value is not a value; not imported",
        )
        return
    amount = number(quantity, "value", where)
    if amount is None:
        raise ResourceError(where, "the quantity has no value")
    unit = _unit(vocab, lab_id, quantity, where)
    if unit is None:
        raise ResourceError(where, "the quantity has no unit (code or unit)")
    lab: dict[str, Any] = {
        "name": vocab.labs[lab_id].name,
        "value": amount,
        "unit": unit,
        "date": day,
    }
    ranges = list(items(res, "referenceRange", path))
    for key, limit in (("high", "uln"), ("low", "lln")):
        with_limit = [(w, r) for w, r in ranges if key in r]
        if len(with_limit) > 1:
            notes.warn(
                with_limit[1][0],
                f"several reference ranges give a {key}; {limit.upper()} not imported",
            )
            continue
        for rwhere, rng in with_limit:
            bound = get(rng, key, dict, rwhere)
            bwhere = (*rwhere, key)
            b = number(bound, "value", bwhere)
            b_unit = _unit(vocab, lab_id, bound, bwhere) or unit
            if b is None:
                continue
            converted = vocab.convert(lab_id, b, b_unit, unit)
            if b_unit == unit:
                lab[limit] = b
            elif converted is not None:
                lab[limit] = float(f"{converted:.6g}")
            else:
                notes.warn(
                    bwhere,
                    f"reference {key} in {b_unit!r}, the result in {unit!r}; "
                    f"{limit.upper()} not imported",
                )
    if vocab.lab_factor(lab_id, unit) is None:
        notes.warn(
            (*where, "unit"),
            f"unit {unit!r} is not a unit trialmatch converts for "
            f"{lab_id}; imported as written (criteria on it stay unknown)",
        )
    where_of = {
        "value": (*where, "value"),
        "uln": (*path, "referenceRange"),
        "lln": (*path, "referenceRange"),
        "unit": (*where, "unit"),
    }
    item = checked(Lab, lab, where_of, path)
    day = item.get("date")
    if draft.as_of is not None and isinstance(day, dt.date) and day > draft.as_of:
        notes.warn(
            path,
            f"dated {day}, after the screening date {draft.as_of}: kept in the file, and "
            "left out when screening on that date",
        )
    draft.add("labs", item)


def _unit(vocab: Vocabulary, lab_id: str, quantity: dict[str, Any], where: JsonPath) -> str | None:
    """The unit of a Quantity: the UCUM code when the vocabulary knows it for the lab, else
    the unit text, else the code."""
    code: str | None = get(quantity, "code", str, where)
    system: str | None = get(quantity, "system", str, where)
    text: str | None = get(quantity, "unit", str, where)
    if code and (system in (None, UCUM)) and vocab.lab_factor(lab_id, code) is not None:
        return str(code)
    if text and text.strip():
        return text.strip()
    return code.strip() if code and code.strip() else None
