"""``trialmatch validate``: check criteria and patient files, collecting every problem."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from trialmatch.engine.criteria import (
    LoadedTrial,
    Trial,
    coverage,
    load_catalogue,
    trial_from_document,
)
from trialmatch.engine.data_warnings import DataWarning, data_warnings, items, patient_warnings
from trialmatch.errors import InputError, Problem
from trialmatch.io.yamlio import Document, DocumentProblems, load_document
from trialmatch.model.patient import Patient, all_problems, patient_from_document
from trialmatch.model.vocab import Vocabulary

__all__ = ["ValidationReport", "items", "patient_warnings", "validate_paths"]

SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class ValidationReport:
    """Files that passed, problems (errors) and data warnings (located, in file order)."""

    ok: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[DataWarning] = field(default_factory=list)


def _files(paths: Iterable[Path]) -> Iterable[Path]:
    for p in paths:
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.suffix in SUFFIXES and f.is_file())
        else:
            yield p


def is_trial_document(data: object) -> bool:
    """Whether parsed data looks like a criteria file rather than a patient."""
    return isinstance(data, dict) and bool({"inclusion", "exclusion", "title"} & set(data))


def _validate_bundle(
    f: Path,
    as_of: dt.date | None,
    report: ValidationReport,
    patients: list[tuple[Document, Patient]],
) -> None:
    """A FHIR bundle: its resource errors are problems, what it could not import warnings,
    each at its JSON path; the patient it gives is checked like any other."""
    from trialmatch.io.jsonio import json_path
    from trialmatch.model.fhir import load_any_patient

    loaded = load_any_patient(f, as_of)
    assert loaded.fhir is not None
    report.problems += [Problem(str(f), None, None, str(n)) for n in loaded.fhir.errors]
    # as check prints them: "bundle.json: entry[4].resource.code: warning: ..."
    report.warnings += [
        DataWarning(f"{f}: {json_path(n.path)}" if n.path else str(f), None, None, n.message, ())
        for n in loaded.fhir.warnings
    ]
    patients.append((loaded.document, loaded.patient))
    if not loaded.fhir.errors:
        report.ok.append(f"{f} (FHIR bundle, patient {loaded.patient.id})")


def validate_paths(
    paths: Iterable[Path],
    vocab: Vocabulary | None = None,
    as_of: dt.date | None = None,
    catalogue: Sequence[LoadedTrial | Trial] | None = None,
) -> ValidationReport:
    """Validate every file (directories are searched for .yaml/.yml/.json).

    Patient files also get their data warnings (:func:`data_warnings`), checked against a
    catalogue: ``catalogue`` when given, else the criteria files validated in the same run, else
    the shipped catalogue. With ``as_of``, each patient is screened against it, so every warning
    says how many criteria it left unknown (as ``check`` would).

    >>> validate_paths([Path("no-such-file.yaml")]).problems[0].message
    'no such file'
    """
    vocab = vocab or Vocabulary.default()
    report = ValidationReport()
    trial_ids: dict[str, str] = {}
    trials: list[Trial] = []
    patients: list[tuple[Document, Patient]] = []
    for f in _files(paths):
        if f.suffix.lower() in (".ndjson", ".jsonl"):
            report.problems.append(Problem(
                str(f), None, None, "validate reads patient files, bundles and criteria files; "
                "screen reads NDJSON (one bundle per line, each line checked)",
            ))
            continue
        try:
            doc = load_document(f)
            if isinstance(doc.data, dict) and "resourceType" in doc.data:
                _validate_bundle(f, as_of, report, patients)
            elif is_trial_document(doc.data):
                trial = trial_from_document(doc, vocab)
                if trial.id in trial_ids:
                    raise InputError.single(
                        str(f), f"trial id {trial.id!r} is also used by {trial_ids[trial.id]}"
                    )
                trial_ids[trial.id] = str(f)
                trials.append(trial)
                report.ok.append(f"{f} (trial {trial.id}: {coverage(trial).describe()})")
            else:
                patient = patient_from_document(doc, as_of)
                patients.append((doc, patient))
                report.ok.append(f"{f} (patient {patient.id})")
        except InputError as exc:
            if isinstance(exc, DocumentProblems) and not is_trial_document(exc.document.data):
                exc = all_problems(exc, as_of)
            report.problems += exc.problems
    if patients:
        against = _catalogue(catalogue, trials, vocab)
        for doc, patient in patients:
            report.warnings += patient_data_warnings(doc, patient, against, as_of, vocab)
    return report


def _catalogue(
    given: Sequence[LoadedTrial | Trial] | None, validated: list[Trial], vocab: Vocabulary
) -> Sequence[LoadedTrial | Trial]:
    if given is not None:
        return given
    if validated:
        return validated
    try:
        return load_catalogue(vocab=vocab)
    except InputError:  # a broken shipped catalogue is reported by validating it
        return []


def patient_data_warnings(
    document: Document,
    patient: Patient,
    trials: Sequence[LoadedTrial | Trial],
    as_of: dt.date | None = None,
    vocab: Vocabulary | None = None,
) -> list[DataWarning]:
    """The data warnings of a patient against ``trials``; with ``as_of`` the patient is
    screened first, so each warning names the criteria it left unknown.

    >>> from trialmatch.io.yamlio import parse_yaml
    >>> doc = parse_yaml("id: P1\\nattestations:\\n  - {trial: NCT0, criterion: a, "
    ...                  "holds: true, by: x, on: 2026-01-01}\\n", "p.yaml")
    >>> print(patient_data_warnings(doc, patient_from_document(doc), [])[0])
    p.yaml:3:6: warning: attestation names trial 'NCT0', which is not in the catalogue
    """
    from trialmatch.engine.evaluate import evaluate_trial

    vocab = vocab or Vocabulary.default()
    results = None
    if as_of is not None:
        results = [evaluate_trial(t, patient, as_of, vocab) for t in trials]
    return data_warnings(document, patient, results, vocab, trials=trials)
