"""``trialmatch validate``: check criteria and patient files, collecting every problem."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from trialmatch.criteria import trial_from_document
from trialmatch.errors import InputError, Problem
from trialmatch.patient import Patient, patient_from_document
from trialmatch.predicates import procedure_type, response_category
from trialmatch.vocab import Vocabulary
from trialmatch.yamlio import load_document

SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class ValidationReport:
    """Files that passed, problems (errors) and warnings."""

    ok: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _files(paths: Iterable[Path]) -> Iterable[Path]:
    for p in paths:
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.suffix in SUFFIXES and f.is_file())
        else:
            yield p


def is_trial_document(data: object) -> bool:
    """Whether parsed data looks like a criteria file rather than a patient."""
    return isinstance(data, dict) and bool({"inclusion", "exclusion", "title"} & set(data))


def validate_paths(paths: Iterable[Path], vocab: Vocabulary | None = None) -> ValidationReport:
    """Validate every file (directories are searched for .yaml/.yml/.json).

    >>> validate_paths([Path("no-such-file.yaml")]).problems[0].message
    'no such file'
    """
    vocab = vocab or Vocabulary.default()
    report = ValidationReport()
    trial_ids: dict[str, str] = {}
    for f in _files(paths):
        try:
            doc = load_document(f)
            if is_trial_document(doc.data):
                trial = trial_from_document(doc, vocab)
                if trial.id in trial_ids:
                    raise InputError.single(
                        str(f), f"trial id {trial.id!r} is also used by {trial_ids[trial.id]}"
                    )
                trial_ids[trial.id] = str(f)
                report.ok.append(f"{f} (trial {trial.id}, {len(trial.criteria)} criteria)")
            else:
                patient = patient_from_document(doc)
                report.warnings += [f"{f}: {w}" for w in patient_warnings(patient, vocab)]
                report.ok.append(f"{f} (patient {patient.id})")
        except InputError as exc:
            report.problems += exc.problems
    return report


def patient_warnings(patient: Patient, vocab: Vocabulary) -> list[str]:
    """Terms in a patient file that trialmatch cannot interpret (criteria needing them are
    unknown rather than guessed)."""
    out: list[str] = []

    def unknown(kind: str, term: str, pool: str) -> None:
        close = vocab.suggest(term, pool)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        out.append(f"{kind} {term!r} is not in the vocabulary{hint}")

    for d in patient.diagnoses or []:
        for term in (d.condition, d.code):
            if term and vocab.condition_id(term) is None:
                unknown("diagnosis", term, "condition")
    for c in patient.conditions or []:
        if vocab.condition_id(c.condition) is None:
            unknown("condition", c.condition, "condition")
    for m in patient.prior_malignancies or []:
        if vocab.condition_id(m.condition) is None:
            unknown("prior malignancy", m.condition, "condition")
    for t in patient.therapies or []:
        for term in [*t.drugs, *([t.regimen] if t.regimen else [])]:
            if vocab.drug_ids(term) is None:
                unknown("drug", term, "drug")
        if t.best_response and response_category(t.best_response) is None:
            out.append(f"best response {t.best_response!r} is not a standard category")
    for h in patient.hypersensitivities or []:
        if vocab.drug_ids(h.agent) is None and vocab.class_id(h.agent) is None:
            unknown("hypersensitivity agent", h.agent, "drug")
    for lab in patient.labs or []:
        lab_id = vocab.lab_id(lab.name)
        if lab_id is None:
            unknown("lab", lab.name, "lab")
        elif vocab.lab_factor(lab_id, lab.unit) is None:
            out.append(
                f"lab {lab.name!r}: unit {lab.unit!r} is not convertible "
                f"(known: {', '.join(vocab.labs[lab_id].units)})"
            )
    for pr in patient.procedures or []:
        if procedure_type(pr.type) is None:
            out.append(
                f"procedure {pr.type!r} is not a known type (autologous_sct, allogeneic_sct)"
            )
    if patient.disease_status and response_category(patient.disease_status.response) is None:
        out.append(f"disease status {patient.disease_status.response!r} is not a standard category")
    return out
