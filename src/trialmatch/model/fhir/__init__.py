"""FHIR patients: a FHIR R4 bundle (R4B and R5 where the resources read are the same) read as
a patient profile, with a warning for everything not imported and an error for every resource
holding a value no patient can have, each at its JSON path.

Validation is trialmatch's own, of the elements it reads (see README, From FHIR, for why not
the ``fhir.resources`` package); nothing here imports more than the standard library and the
patient model, so ``check`` on a YAML patient stays as quick as before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trialmatch.errors import InputError, Problem
from trialmatch.io.jsonio import MAX_JSON_BYTES, load_json, parse_json
from trialmatch.io.yamlio import Document, decode_text, read_regular_file
from trialmatch.model.fhir.bundle import Imported, map_bundle
from trialmatch.model.patient import (
    Patient,
    file_loc,
    load_patient_document,
    screening_problems,
)
from trialmatch.model.schema_errors import message_for, resolve_loc
from trialmatch.model.vocab import Vocabulary

__all__ = [
    "Imported",
    "LoadedPatient",
    "load_any_patient",
    "map_bundle",
    "patient_of",
    "read_bundle",
]


@dataclass
class LoadedPatient:
    """A patient read from a file: the document (for located warnings), the profile, and for a
    FHIR bundle what was imported from it."""

    document: Document
    patient: Patient
    fhir: Imported | None = None


def _bundle_json(path: Path | str) -> Any:
    """The parsed JSON of a file that is FHIR (its top level has a ``resourceType``), or None
    for a patient file. A file whose first 4 KB name a ``resourceType`` is taken for FHIR, so
    a broken bundle gets the JSON reader's message, not the patient file reader's."""
    try:
        text = decode_text(read_regular_file(path, MAX_JSON_BYTES), path)
    except InputError:
        if _names_a_resource_type(path):
            raise  # a bundle too large or not UTF-8: say so with the bundle limits
        return None  # the patient file reader says what is wrong with the file
    try:
        data = parse_json(text, str(path))
    except InputError:
        if '"resourceType"' in text[:4096]:
            raise
        return None
    return data if isinstance(data, dict) and "resourceType" in data else None


def _names_a_resource_type(path: Path | str) -> bool:
    """Whether the first 4 KB of a regular file name a ``resourceType`` (read without
    blocking on a FIFO or device)."""
    import os
    import stat

    try:
        fd = os.open(str(path), os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        return b'"resourceType"' in os.read(fd, 4096)
    except OSError:
        return False
    finally:
        os.close(fd)


def read_bundle(
    path: Path | str, as_of: dt.date | None = None, vocab: Vocabulary | None = None
) -> Imported:
    """A FHIR bundle file mapped to a patient file's data (InputError when it is not one)."""
    data = load_json(path)
    return map_bundle(data, str(path), vocab, as_of)


def patient_of(imported: Imported, as_of: dt.date | None = None) -> Patient:
    """The patient profile of an imported bundle; a value the model refuses (the mappers check
    each item, so this is a last guard) or one impossible on the screening date is an
    InputError naming the patient file field."""
    from pydantic import ValidationError

    try:
        patient = Patient.model_validate(imported.patient)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            place = resolve_loc(Patient, tuple(err["loc"]))
            loc = file_loc(imported.patient, place.loc)
            message, allowed = message_for({**err, "loc": loc}, place.fields)
            problems.append(Problem(imported.source, None, None, message, tuple(allowed)))
        raise InputError(problems) from None
    if as_of is not None:
        found = screening_problems(patient, as_of)
        if found:
            raise InputError([Problem(imported.source, None, None, m) for _, m in found])
    return patient


def load_any_patient(path: Path | str, as_of: dt.date | None = None) -> LoadedPatient:
    """A patient file (YAML or JSON) or a FHIR bundle (``.json`` whose top level has a
    ``resourceType``), with every problem of the file in one InputError.

    >>> load_any_patient("examples/patients/tcl-salvage-pr-eligible.yaml").patient.id
    'TCL-001'
    """
    if Path(path).suffix.lower() == ".json":
        data = _bundle_json(path)
        if data is not None:
            imported = map_bundle(data, str(path), None, as_of)
            patient = patient_of(imported, as_of)
            doc = Document(str(path), imported.patient, {}, None)
            return LoadedPatient(doc, patient, imported)
    doc, patient = load_patient_document(path, as_of)
    return LoadedPatient(doc, patient)


YAML_HEADER = """\
# Imported from {source} by `trialmatch import fhir` (trialmatch {version}).
# Review before use. History lists are `complete: false`: a FHIR bundle does not say that it
# lists every therapy, procedure, condition or hypersensitivity. Make one a plain list only
# when you know it is complete; add what the bundle could not say (prior malignancies, a
# therapy's line, setting and outcome, the disease state) and attestations as usual.
"""


def to_yaml(imported: Imported) -> str:
    """The imported patient as a patient file (YAML, in the usual order, with a header)."""
    import yaml

    from trialmatch import __version__

    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True  # a day used twice is written twice, not as an anchor

    body = yaml.dump(
        imported.patient,
        Dumper=_NoAliases,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=96,
    )
    return YAML_HEADER.format(source=Path(imported.source).name, version=__version__) + body
