"""``trialmatch validate``: check criteria and patient files, collecting every problem."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from trialmatch.criteria import trial_from_document
from trialmatch.errors import InputError, Problem
from trialmatch.patient import Listing, Patient, T, patient_from_document
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


def validate_paths(
    paths: Iterable[Path], vocab: Vocabulary | None = None, as_of: dt.date | None = None
) -> ValidationReport:
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
                patient = patient_from_document(doc, as_of)
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
        if d.subtype and vocab.condition_id(d.subtype) is None:
            unknown("diagnosis subtype", d.subtype, "condition")
    for c in items(patient.conditions):
        if vocab.condition_id(c.condition) is None:
            unknown("condition", c.condition, "condition")
        if c.status is None:
            out.append(
                f"condition {c.condition!r} has no status: criteria asking whether it is "
                "active, controlled or uncontrolled stay unknown"
            )
    for m in items(patient.prior_malignancies):
        if vocab.condition_id(m.condition) is None:
            unknown("prior malignancy", m.condition, "condition")
    for t in items(patient.therapies):
        for term in [*t.drugs, *([t.regimen] if t.regimen else [])]:
            if vocab.drug_ids(term) is None:
                if term == t.regimen and t.drugs:
                    out.append(
                        f"regimen {term!r} is not in the vocabulary; the therapy is judged on "
                        f"its drugs ({', '.join(t.drugs)})"
                    )
                else:
                    unknown("drug", term, "drug")
        if t.indication and vocab.condition_id(t.indication) is None:
            unknown("therapy indication", t.indication, "condition")
        if t.best_response and response_category(t.best_response) is None:
            out.append(f"best response {t.best_response!r} is not a standard category")
    for h in items(patient.hypersensitivities):
        if vocab.drug_ids(h.agent) is None and vocab.class_id(h.agent) is None:
            unknown("hypersensitivity agent", h.agent, "drug")
    for lab in patient.labs or []:
        lab_id = vocab.lab_id(lab.name)
        if lab_id is None:
            unknown("lab", lab.name, "lab")
        elif vocab.lab_factor(lab_id, lab.unit) is None:
            close = vocab.suggest_unit(lab_id, lab.unit)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            out.append(
                f"lab {lab.name!r}: unit {lab.unit!r} is not convertible "
                f"(known: {', '.join(vocab.labs[lab_id].units)}){hint}"
            )
    for pr in items(patient.procedures):
        if procedure_type(pr.type) is None:
            out.append(
                f"procedure {pr.type!r} is not a known type (autologous_sct, allogeneic_sct)"
            )
    status = patient.disease_status
    if status and status.response and response_category(status.response) is None:
        out.append(f"disease status {status.response!r} is not a standard category")
    return out


def items(listing: Listing[T] | None) -> list[T]:
    """The items of a history list (none when it is not recorded)."""
    return listing.items if listing is not None else []
