"""A FHIR bundle (or a list of one patient's resources) as a patient profile.

The envelope must be sound: a JSON object with ``resourceType: Bundle`` and an ``entry``
array whose items hold a ``resource`` object with a ``resourceType``, and exactly one Patient.
Anything else is an :class:`~trialmatch.errors.InputError` with the JSON path of each problem
(exit 2). Inside, each resource is mapped on its own: a value it cannot hold (ECOG -1, two
values) is an error for that resource (skipped, reported with its path), data trialmatch does
not read is a warning with its path. Resource types trialmatch does not read are listed in one
warning per type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trialmatch.errors import InputError, Problem
from trialmatch.io.jsonio import JsonPath, json_path
from trialmatch.model.fhir.clinical import map_allergy, map_condition, map_patient, map_procedure
from trialmatch.model.fhir.common import Note, ResourceError, get
from trialmatch.model.fhir.draft import Draft, pick_latest
from trialmatch.model.fhir.medications import map_medication
from trialmatch.model.fhir.observations import map_observation
from trialmatch.model.vocab import Vocabulary

Mapper = Callable[[Draft, dict[str, Any], JsonPath], None]
MAPPERS: dict[str, Mapper] = {
    "Condition": map_condition,
    "Observation": map_observation,
    "Procedure": map_procedure,
    "AllergyIntolerance": map_allergy,
    "MedicationStatement": lambda d, r, p: map_medication(d, r, p, "MedicationStatement"),
    "MedicationRequest": lambda d, r, p: map_medication(d, r, p, "MedicationRequest"),
    "MedicationAdministration": lambda d, r, p: map_medication(d, r, p, "MedicationAdministration"),
}
READ = ("Patient", "Medication", *MAPPERS)
PLAIN_LISTS = ("diagnoses", "labs")  # lists without a `complete` flag in the patient model


@dataclass
class Imported:
    """A bundle read as a patient file's data, with what could not be imported.

    ``patient`` has the patient file's shape (history lists as ``{complete: false, items}``);
    ``warnings`` say what was not imported and why, ``errors`` the resources skipped for values
    they cannot hold; both carry JSON paths.
    """

    source: str
    patient: dict[str, Any]
    warnings: list[Note] = field(default_factory=list)
    errors: list[Note] = field(default_factory=list)

    def error_lines(self) -> list[str]:
        """``source: path: message`` for each error."""
        return [f"{self.source}: {n}" for n in self.errors]

    def warning_lines(self) -> list[str]:
        """``source: path: warning: message`` for each warning."""
        return [f"{self.source}: {json_path(n.path)}: warning: {n.message}" for n in self.warnings]


def _entries(data: Any, source: str) -> list[tuple[JsonPath, dict[str, Any], str | None]]:
    """(path, resource, fullUrl) of every entry; an unsound envelope is an InputError."""
    problems: list[Problem] = []

    def bad(path: JsonPath, message: str) -> None:
        problems.append(Problem(source, None, None, f"{json_path(path)}: {message}"))

    out: list[tuple[JsonPath, dict[str, Any], str | None]] = []
    raw: list[tuple[JsonPath, Any, str | None]]
    if isinstance(data, list):  # one patient's resources (an NDJSON line)
        raw = [((i,), r, None) for i, r in enumerate(data)]
    elif isinstance(data, dict):
        kind = data.get("resourceType")
        if kind != "Bundle":
            found = f"resourceType {kind!r}" if isinstance(kind, str) else "no resourceType"
            raise InputError.single(
                source, f"expected a FHIR Bundle (resourceType 'Bundle'), found {found}"
            )
        entries = data.get("entry", [])
        if not isinstance(entries, list):
            raise InputError.single(source, "entry: expected an array of entries")
        raw = []
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                bad(("entry", i), "expected an object (an entry)")
                continue
            url = entry.get("fullUrl")
            raw.append(
                (
                    ("entry", i, "resource"),
                    entry.get("resource"),
                    url if isinstance(url, str) else None,
                )
            )
    else:
        raise InputError.single(
            source,
            "expected a FHIR Bundle (a JSON object), found "
            + ("an array" if isinstance(data, list) else type(data).__name__),
        )
    for path, res, url in raw:
        if not isinstance(res, dict):
            bad(path, "expected a resource (an object with a resourceType)")
        elif not isinstance(res.get("resourceType"), str):
            bad((*path, "resourceType"), "missing or not a string")
        else:
            out.append((path, res, url))
    patients = [p for p, r, _ in out if r["resourceType"] == "Patient"]
    if not patients and not problems:
        bad((), "no Patient resource: trialmatch needs the patient's id")
    if len(patients) > 1:
        bad(
            patients[1],
            f"{len(patients)} Patient resources ({', '.join(map(json_path, patients))}); "
            "a bundle holds one patient",
        )
    if problems:
        raise InputError(problems)
    return out


def _refs(res: dict[str, Any], url: str | None) -> set[str]:
    """How other resources may refer to this one."""
    out = {url} if url else set()
    if isinstance(res.get("id"), str):
        out.add(f"{res['resourceType']}/{res['id']}")
    return out


def _subject_ok(draft: Draft, res: dict[str, Any], path: JsonPath) -> None:
    """A resource about another patient is an error for that resource."""
    key = "patient" if res["resourceType"] == "AllergyIntolerance" else "subject"
    subject = get(res, key, dict, path)
    if subject is None:
        return
    ref = get(subject, "reference", str, (*path, key))
    if ref is None:
        return
    if ref in draft.patient_refs or any(
        ref.endswith("/" + r) for r in draft.patient_refs if r.startswith("Patient/")
    ):
        return
    raise ResourceError((*path, key, "reference"), "refers to another patient than the bundle's")


def map_bundle(
    data: Any, source: str, vocab: Vocabulary | None = None, as_of: dt.date | None = None
) -> Imported:
    """Map parsed bundle JSON to a patient file's data. With ``as_of``, the single values
    (ECOG, pregnancy, disease status) are the latest on or before it; without, the latest.

    >>> bundle = {"resourceType": "Bundle", "entry": [{"resource": {
    ...     "resourceType": "Patient", "id": "P1", "gender": "female"}}]}
    >>> map_bundle(bundle, "b.json").patient
    {'id': 'P1', 'sex': 'female'}
    """
    entries = _entries(data, source)
    draft = Draft(vocab or Vocabulary.default(), as_of=as_of)
    notes = draft.notes
    for path, res, url in entries:
        kind = res["resourceType"]
        if kind == "Patient":
            try:
                map_patient(draft, res, path, url)
            except ResourceError as exc:
                raise InputError.single(source, f"{json_path(exc.path)}: {exc.message}") from None
        elif kind == "Medication":
            for ref in _refs(res, url):
                draft.medications[ref] = (path, res)
        elif kind == "Condition":
            for ref in _refs(res, url):
                draft.conditions[ref] = (path, res)
    unread: dict[str, list[JsonPath]] = {}
    for path, res, _ in entries:
        kind = res["resourceType"]
        mapper = MAPPERS.get(kind)
        if mapper is None:
            if kind not in READ:
                unread.setdefault(kind, []).append(path)
            continue
        before = {k: len(v) for k, v in draft.lists.items()}
        try:
            _subject_ok(draft, res, path)
            mapper(draft, res, path)
        except ResourceError as exc:
            for k, n in before.items():  # nothing of a resource in error is kept
                del draft.lists[k][n:]
            notes.error(exc.path, f"{exc.message}; {kind} not imported")
    for kind, paths in sorted(unread.items()):
        notes.warn(
            paths[0],
            f"{len(paths)} {kind} resource(s) ({_spans(paths)}): trialmatch does not read "
            f"{kind}; not imported",
        )
    return Imported(source, _assemble(draft, as_of), notes.warnings, notes.errors)


def _spans(paths: list[JsonPath]) -> str:
    """Entry paths written compactly: consecutive entries as one span.

    >>> _spans([("entry", 3, "resource"), ("entry", 4, "resource"), ("entry", 9, "resource")])
    'entry[3..4].resource, entry[9].resource'
    """
    if not all(len(p) == 3 and p[0] == "entry" and isinstance(p[1], int) for p in paths):
        return ", ".join(json_path(p) for p in paths)
    spans: list[list[int]] = []
    for p in paths:
        i = int(p[1])
        if spans and spans[-1][1] == i - 1:
            spans[-1][1] = i
        else:
            spans.append([i, i])
    return ", ".join(
        f"entry[{a}].resource" if a == b else f"entry[{a}..{b}].resource" for a, b in spans
    )


def _assemble(draft: Draft, as_of: dt.date | None) -> dict[str, Any]:
    """The patient file's data, in its usual order. A list the bundle says nothing about
    stays not recorded (absent), never "none"; history lists are known in part."""
    patient: dict[str, Any] = {"id": draft.patient_id, **draft.top}
    pregnant = pick_latest(draft, "pregnant", as_of, "pregnancy status")
    if pregnant is not None:
        patient["pregnant"] = pregnant.value
        if pregnant.value is True and patient.get("sex") == "male":
            # FHIR gender is administrative: a male gender must not clear a pregnancy
            # criterion the observation says is met.
            del patient["sex"]
            draft.notes.warn(
                pregnant.path,
                "pregnant, while Patient.gender is male (an administrative gender); sex left "
                "not recorded so that it decides no criterion",
            )
    ecog = pick_latest(draft, "ecog", as_of, "ECOG")
    status = pick_latest(draft, "disease_status", as_of, "cancer disease status")
    for key in (
        "diagnoses",
        "ecog",
        "labs",
        "therapies",
        "procedures",
        "disease_status",
        "conditions",
        "hypersensitivities",
    ):
        if key == "ecog" and ecog is not None:
            patient["ecog"] = {"value": ecog.value, **({"date": ecog.day} if ecog.day else {})}
        elif key == "disease_status" and status is not None:
            patient["disease_status"] = {"response": status.value, "date": status.day}
        elif draft.lists.get(key):
            found = draft.lists[key]
            patient[key] = found if key in PLAIN_LISTS else {"complete": False, "items": found}
    return patient
