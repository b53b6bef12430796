"""What a predicate may look at (:class:`Context`: the patient, the screening date, the
vocabulary) and the questions several predicates ask of it: which drugs a therapy named, what
it treated, the patient's only diagnosis, a course's setting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from trialmatch.model.patient import (
    Patient,
    Setting,
    Therapy,
    TherapyOutcome,
)
from trialmatch.model.vocab import Vocabulary
from trialmatch.predicates.dates import dated_after


def therapy_terms(
    vocab: Vocabulary, drugs: Sequence[str], regimen: str | None
) -> tuple[frozenset[str], list[str]]:
    """(drug ids, unresolved terms) of a therapy's drugs and regimen. A regimen name the
    vocabulary does not know is not a problem when the drugs are given and all known: the
    therapy is judged on its drugs.

    >>> ids, unresolved = therapy_terms(Vocabulary.default(), ["lenalidomide"], "Len-X")
    >>> sorted(ids), unresolved
    (['lenalidomide'], [])
    """
    found: set[str] = set()
    unresolved: list[str] = []
    for term in drugs:
        ids = vocab.drug_ids(term)
        if ids is None:
            unresolved.append(term)
        else:
            found |= ids
    if regimen:
        ids = vocab.drug_ids(regimen)
        if ids is not None:
            found |= ids
        elif not drugs or unresolved:
            unresolved.append(regimen)
    return frozenset(found), unresolved


@dataclass
class Context:
    """What a predicate may look at: the patient, the screening date and the vocabulary."""

    patient: Patient
    as_of: dt.date
    vocab: Vocabulary
    _therapy_drugs: dict[int, tuple[frozenset[str], list[str]]] = field(default_factory=dict)
    _treated: dict[str, tuple[str | None, str]] = field(default_factory=dict)

    def _terms(self, therapy: Therapy) -> tuple[frozenset[str], list[str]]:
        key = id(therapy)
        if key not in self._therapy_drugs:
            self._therapy_drugs[key] = therapy_terms(self.vocab, therapy.drugs, therapy.regimen)
        return self._therapy_drugs[key]

    def therapy_drugs(self, therapy: Therapy) -> frozenset[str]:
        """The drug ids of a therapy's terms that are in the vocabulary (regimens expanded);
        see :meth:`unresolved_therapy_terms` for the rest."""
        return self._terms(therapy)[0]

    def unresolved_therapy_terms(self, therapy: Therapy) -> list[str]:
        """The terms of a therapy that are not in the vocabulary (an unknown regimen name
        beside known drugs does not count)."""
        return self._terms(therapy)[1]

    def started(self, therapy: Therapy) -> bool:
        """Whether a therapy had started by the screening date (undated ones count)."""
        return not dated_after(therapy.start, self.as_of)

    def stopped_by(self, therapy: Therapy) -> bool:
        """Whether the course had stopped by the screening date: it has an end on or before
        it. A course ending after the screening date was still running then."""
        return therapy.end is not None and therapy.end <= self.as_of

    def running(self, therapy: Therapy) -> bool:
        """Whether the course was running on the screening date (recorded as ongoing, or
        ending after it)."""
        return therapy.is_ongoing or dated_after(therapy.end, self.as_of)

    def outcome(self, therapy: Therapy) -> TherapyOutcome | None:
        """The outcome as known on the screening date: a course ending after it was ongoing
        then, whatever its recorded outcome."""
        if dated_after(therapy.end, self.as_of):
            return TherapyOutcome.ongoing
        return therapy.outcome

    def diagnosis_treated(self) -> tuple[str | None, str]:
        """The condition a therapy without an indication is taken to treat: the patient's only
        diagnosis (diagnoses of one lineage, such as MDS and its subtype, count as one).
        Returns (condition id or None, why)."""
        key = "only"
        if key not in self._treated:
            self._treated[key] = only_diagnosis(self.patient, self.as_of, self.vocab)
        return self._treated[key]

    def treats(self, therapy: Therapy, condition: str | None) -> tuple[bool | None, str]:
        """Whether a therapy was for ``condition`` (None: cannot tell), and a note for the
        evidence saying which condition it was taken to treat."""
        if condition is None:
            return True, ""
        target = self.vocab.condition_id(condition) or condition
        if therapy.indication is not None:
            cid = self.vocab.condition_id(therapy.indication)
            if cid is None:
                return None, f"indication {therapy.indication!r} not in the vocabulary"
            if self.vocab.condition_is_a(cid, target):
                return True, ""
            if self.vocab.condition_is_a(target, cid):
                return None, f"indication {therapy.indication!r} is broader than {condition}"
            return False, ""
        cid, why = self.diagnosis_treated()
        label = therapy_label(therapy)
        if cid is None:
            return None, f"{label}: indication not recorded and {why}"
        name = self.vocab.condition_name(cid)
        if self.vocab.condition_is_a(target, cid) and cid != target:
            return None, f"{label}: taken as for {name} ({why}), broader than {condition}"
        if not self.vocab.condition_is_a(cid, target):
            return False, f"{label} taken as for {name}, {why}"
        first = first_diagnosis_date(self.patient, self.as_of)
        if first is not None and therapy.end is not None and therapy.end < first:
            return False, f"{label} ended before the diagnosis of {name} ({first})"
        if first is not None and therapy.start is not None and therapy.start < first:
            return None, (
                f"{label} started before the diagnosis of {name} ({first}): what it treated is "
                "not recorded"
            )
        return True, f"taken as for {name}, {why}"


def first_diagnosis_date(patient: Patient, as_of: dt.date) -> dt.date | None:
    """The earliest date of the diagnoses made by the screening date, or None when one of them
    is undated (or none is recorded)."""
    days = [d.date for d in patient.diagnoses or [] if not dated_after(d.date, as_of)]
    if not days or any(d is None for d in days):
        return None
    return min(d for d in days if d is not None)


def only_diagnosis(patient: Patient, as_of: dt.date, vocab: Vocabulary) -> tuple[str | None, str]:
    """(condition id, why) of the patient's only diagnosis, or (None, why not).

    >>> only_diagnosis(Patient(id="x", diagnoses=[{"condition": "MDS"}]), dt.date(2026, 1, 1),
    ...                Vocabulary.default())
    ('myelodysplastic_syndrome', 'the only diagnosis')
    """
    if patient.diagnoses is None:
        return None, "no diagnoses are recorded"
    terms = [
        (d.condition, d.code, d.subtype)
        for d in patient.diagnoses
        if not dated_after(d.date, as_of)
    ]
    return only_condition(vocab, terms)


def only_condition(
    vocab: Vocabulary, diagnoses: Sequence[tuple[str | None, str | None, str | None]]
) -> tuple[str | None, str]:
    """The one condition that diagnoses given as (condition, code, subtype) name, when they
    are of one lineage (MDS and MDS with del(5q) are one), or None and why not."""
    ids: list[str] = []
    for condition, code, subtype in diagnoses:
        cid = condition_of(vocab, condition, code, subtype)
        if cid is None:
            return None, f"the diagnosis {condition or code!r} is not in the vocabulary"
        ids.append(cid)
    if not ids:
        return None, "no diagnosis is recorded"
    best = ids[0]
    for cid in ids[1:]:
        if vocab.condition_is_a(cid, best):
            best = cid
        elif not vocab.condition_is_a(best, cid):
            names = " and ".join(sorted({vocab.condition_name(i) for i in ids}))
            return None, f"the patient has several diagnoses ({names})"
    return best, "the only diagnosis"


def setting_matches(
    setting: Setting | None, line: int | None, wanted: Sequence[Setting]
) -> bool | None:
    """Whether a therapy's setting is one of ``wanted``; a course without a setting is placed by
    its line: line 1 is first-line therapy (induction, never salvage), a later line is not
    first line. None when it cannot be told.

    >>> setting_matches(None, 1, [Setting.first_line, Setting.induction])
    True
    >>> setting_matches(None, 1, [Setting.salvage]), setting_matches(None, 2, [Setting.salvage])
    (False, None)
    """
    if setting is not None:
        return setting in wanted
    if line == 1:
        if Setting.first_line in wanted or Setting.induction in wanted:
            return True
        return False if set(wanted) <= {Setting.salvage} else None
    if line is not None:
        return False if set(wanted) <= {Setting.first_line} else None
    return None


def condition_of(
    vocab: Vocabulary, condition: str | None, code: str | None, subtype: str | None
) -> str | None:
    """The most specific condition id that a diagnosis's subtype, code or name resolves to.

    >>> condition_of(Vocabulary.default(), "MDS", None, "MDS with isolated del(5q)")
    'mds_del5q'
    """
    best: str | None = None
    for term in (subtype, code, condition):
        if term:
            cid = vocab.condition_id(term)
            if cid is not None and (best is None or best in vocab.condition_ancestors(cid)):
                best = cid
    return best


def therapy_label(t: Therapy) -> str:
    agents = t.regimen or "+".join(t.drugs)
    parts = [agents]
    if t.line:
        parts.append(f"line {t.line}")
    if t.setting:
        parts.append(t.setting.value)
    if t.start:
        parts.append(f"from {t.start}")
    if t.end:
        parts.append(f"to {t.end}")
    if t.outcome:
        parts.append(t.outcome.value.replace("_", " "))
    return f"{parts[0]} ({', '.join(parts[1:])})" if len(parts) > 1 else parts[0]
