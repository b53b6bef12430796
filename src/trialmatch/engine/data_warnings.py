"""Data problems in a patient file that are not errors: terms outside the vocabulary, units
that cannot be converted, attestations naming no trial or criterion of the catalogue.

Each is a :class:`DataWarning` located at the offending value (``file:line:column``). Given
screening results, a warning also names the criteria it left unknown. The rule: a criterion
counts for a warning when its verdict is *unknown* and one of its unknown evidence leaves names
the offending value in its sentence or its missing data (the engine's own account of why the
criterion is open mentions that datum). How a value is named depends on its kind: a term as a
whole word (``'MDSS'`` or ``MDSS``), a unit with its lab (``creatinine unit 'mg/dl'``), a
condition without status as ``gout: status not recorded``; a lab name outside the vocabulary
also counts the criteria missing the lab it most likely means (``Creatinine (lab)`` for
``creatinin``). An attestation naming no criterion leaves none unknown: it is still a warning.

Engine side: no printing, no rich or typer.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from trialmatch.engine.criteria import LoadedTrial, Trial
from trialmatch.errors import location
from trialmatch.io.printable import excerpt
from trialmatch.io.yamlio import Document
from trialmatch.model.patient import Listing, Patient, T
from trialmatch.model.results import TrialResult, Verdict
from trialmatch.model.vocab import Vocabulary
from trialmatch.predicates.history import response_category
from trialmatch.predicates.procedure import procedure_type

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class DataWarning:
    """A data problem at a place in a patient file, and the criteria it left unknown
    (``trial/criterion`` ids; empty when nothing was screened or none was affected).

    >>> w = DataWarning("patient.yaml", 14, 5, "diagnosis term 'MDSS' is not in the "
    ...                 "vocabulary; did you mean 'MDS'?", ("NCT1/a", "NCT1/b", "NCT2/c"))
    >>> print(w)
    patient.yaml:14:5: warning: diagnosis term 'MDSS' is not in the vocabulary; did you mean 'MDS'? (left 3 criteria unknown)
    """  # noqa: E501

    file: str
    line: int | None
    column: int | None
    message: str
    unknown_criteria: tuple[str, ...] = field(default=())

    def location(self) -> str:
        """``file:line:column`` with the parts that are known."""
        return location(self.file, self.line, self.column)

    def __str__(self) -> str:
        text = f"{self.location()}: warning: {self.message}"
        n = len(self.unknown_criteria)
        if n:
            text += f" (left {n} {'criterion' if n == 1 else 'criteria'} unknown)"
        return text


@dataclass(frozen=True)
class _Finding:
    """A warning before it is located: the model path, the message, and the patterns an
    unknown evidence leaf must match to count as left unknown by it."""

    loc: Loc
    message: str
    names: tuple[re.Pattern[str], ...] = ()


def _word(term: str) -> re.Pattern[str]:
    """The term as a whole word (quoted or not)."""
    return re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])")


def _did_you_mean(close: Sequence[str]) -> str:
    return f"; did you mean {' or '.join(map(repr, close))}?" if close else ""


def suggestions(vocab: Vocabulary, term: str, pool: str, n: int = 2) -> list[str]:
    """Close vocabulary terms, one per concept (synonyms of one concept are one suggestion).

    >>> suggestions(Vocabulary.default(), "creatinin", "lab")
    ['creatinine', 'creatinine clearance']
    """
    resolve = {
        "condition": vocab.condition_id,
        "drug": vocab.drug_ids,
        "lab": vocab.lab_id,
    }[pool]
    seen: set[object] = set()
    out: list[str] = []
    for close in vocab.suggest(term, pool, n=3 * n):
        key = resolve(close)
        if key not in seen:
            seen.add(key)
            out.append(close)
    return out[:n]


def items(listing: Listing[T] | None) -> list[T]:
    """The items of a history list (none when it is not recorded).

    >>> items(None)
    []
    """
    return listing.items if listing is not None else []


def _term_findings(patient: Patient, vocab: Vocabulary) -> list[_Finding]:
    """Terms, units and categories trialmatch cannot interpret (criteria needing them are
    unknown rather than guessed)."""
    out: list[_Finding] = []

    def unknown(loc: Loc, kind: str, term: str, pool: str) -> None:
        hint = _did_you_mean(suggestions(vocab, term, pool))
        message = f"{kind} {excerpt(term)} is not in the vocabulary{hint}"
        out.append(_Finding(loc, message, (_word(term),)))

    for i, d in enumerate(patient.diagnoses or []):
        for key, term in (("condition", d.condition), ("code", d.code)):
            if term and vocab.condition_id(term) is None:
                unknown(("diagnoses", i, key), "diagnosis term", term, "condition")
        if d.subtype and vocab.condition_id(d.subtype) is None:
            unknown(("diagnoses", i, "subtype"), "diagnosis subtype", d.subtype, "condition")
    for i, c in enumerate(items(patient.conditions)):
        loc: Loc = ("conditions", "items", i)
        if vocab.condition_id(c.condition) is None:
            unknown((*loc, "condition"), "condition", c.condition, "condition")
        elif c.status is None:
            out.append(
                _Finding(
                    (*loc, "condition"),
                    f"condition {excerpt(c.condition)} has no status: criteria asking whether "
                    "it is active, controlled or uncontrolled stay unknown",
                    (re.compile(re.escape(f"{c.condition}: status not recorded")),),
                )
            )
    for i, m in enumerate(items(patient.prior_malignancies)):
        if vocab.condition_id(m.condition) is None:
            loc = ("prior_malignancies", "items", i, "condition")
            unknown(loc, "prior malignancy", m.condition, "condition")
    for i, t in enumerate(items(patient.therapies)):
        loc = ("therapies", "items", i)
        for j, drug in enumerate(t.drugs):
            if vocab.drug_ids(drug) is None:
                hint = _did_you_mean(suggestions(vocab, drug, "drug"))
                out.append(
                    _Finding(
                        (*loc, "drugs", j),
                        f"drug {excerpt(drug)} is not in the vocabulary{hint}",
                        # the transfusion predicate says only that some therapy is unknown
                        (_word(drug), re.compile(re.escape("therapy detail: drug names"))),
                    )
                )
        if t.regimen and vocab.drug_ids(t.regimen) is None:
            if t.drugs:
                out.append(
                    _Finding(
                        (*loc, "regimen"),
                        f"regimen {excerpt(t.regimen)} is not in the vocabulary; the therapy is "
                        f"judged on its drugs ({', '.join(t.drugs)})",
                        (_word(t.regimen),),
                    )
                )
            else:
                unknown((*loc, "regimen"), "regimen", t.regimen, "drug")
        if t.indication and vocab.condition_id(t.indication) is None:
            unknown((*loc, "indication"), "therapy indication", t.indication, "condition")
        if t.best_response and response_category(t.best_response) is None:
            out.append(
                _Finding(
                    (*loc, "best_response"),
                    f"best response {excerpt(t.best_response)} is not a standard category",
                    (_word(t.best_response),),
                )
            )
    for i, h in enumerate(items(patient.hypersensitivities)):
        if vocab.drug_ids(h.agent) is None and vocab.class_id(h.agent) is None:
            loc = ("hypersensitivities", "items", i, "agent")
            unknown(loc, "hypersensitivity agent", h.agent, "drug")
    for i, lab in enumerate(patient.labs or []):
        lab_id = vocab.lab_id(lab.name)
        if lab_id is None:
            close = suggestions(vocab, lab.name, "lab")
            names = [_word(lab.name)]
            meant = vocab.lab_id(close[0]) if close else None
            if meant is not None:  # the criteria lacking the lab it most likely means
                names.append(re.compile(re.escape(f"{vocab.labs[meant].name} (lab)"), re.I))
            out.append(
                _Finding(
                    ("labs", i, "name"),
                    f"lab {excerpt(lab.name)} is not in the vocabulary{_did_you_mean(close)}",
                    tuple(names),
                )
            )
        elif vocab.lab_factor(lab_id, lab.unit) is None:
            hint = _did_you_mean(vocab.suggest_unit(lab_id, lab.unit))
            name = vocab.labs[lab_id].name
            out.append(
                _Finding(
                    ("labs", i, "unit"),
                    f"lab {excerpt(lab.name)}: unit {excerpt(lab.unit)} is not convertible "
                    f"(known: {', '.join(vocab.labs[lab_id].units)}){hint}",
                    (re.compile(re.escape(f"{name} unit {lab.unit!r}"), re.I),),
                )
            )
    for i, pr in enumerate(items(patient.procedures)):
        if procedure_type(pr.type) is None:
            out.append(
                _Finding(
                    ("procedures", "items", i, "type"),
                    f"procedure {excerpt(pr.type)} is not a known type "
                    "(autologous_sct, allogeneic_sct)",
                    (_word(pr.type),),
                )
            )
    status = patient.disease_status
    if status and status.response and response_category(status.response) is None:
        out.append(
            _Finding(
                ("disease_status", "response"),
                f"disease status {excerpt(status.response)} is not a standard category",
                (_word(status.response),),
            )
        )
    return out


def _attestation_findings(
    patient: Patient, catalogue: dict[str, tuple[str, ...]]
) -> list[_Finding]:
    """Attestations naming a trial the catalogue does not have, or a criterion its trial does
    not have (they can never apply)."""
    out: list[_Finding] = []
    for i, a in enumerate(patient.attestations):
        if a.trial not in catalogue:
            close = difflib.get_close_matches(a.trial, list(catalogue), n=1)
            out.append(
                _Finding(
                    ("attestations", i, "trial"),
                    f"attestation names trial {excerpt(a.trial)}, which is not in the catalogue"
                    + _did_you_mean(close),
                )
            )
        elif a.criterion not in catalogue[a.trial]:
            close = difflib.get_close_matches(a.criterion, catalogue[a.trial], n=1)
            out.append(
                _Finding(
                    ("attestations", i, "criterion"),
                    f"attestation names criterion {excerpt(a.criterion)}, which {a.trial} does not "
                    f"have{_did_you_mean(close)}",
                )
            )
    return out


def _left_unknown(finding: _Finding, results: Iterable[TrialResult]) -> tuple[str, ...]:
    """The criteria left unknown by a finding (see the module docstring for the rule)."""
    if not finding.names:
        return ()
    out: list[str] = []
    for tr in results:
        for c in tr.unknown:
            for e in c.evidence:
                if e.verdict is not Verdict.unknown:
                    continue
                text = "\n".join((e.sentence, *e.missing))
                if any(p.search(text) for p in finding.names):
                    out.append(f"{c.trial_id}/{c.criterion_id}")
                    break
    return tuple(out)


def data_warnings(
    document: Document,
    patient: Patient,
    results: Sequence[TrialResult] | None = None,
    vocab: Vocabulary | None = None,
    *,
    trials: Sequence[LoadedTrial | Trial] | None = None,
) -> list[DataWarning]:
    """Every data problem of a patient file, in file order.

    ``results`` (a screening of this patient) give each warning the criteria it left unknown.
    Attestations are checked against ``trials`` (the whole catalogue, not a selection), else
    against the trials in ``results``; with neither, they are not checked.

    >>> from trialmatch.io.yamlio import parse_yaml
    >>> from trialmatch.model.patient import patient_from_document
    >>> doc = parse_yaml("id: P1\\nlabs:\\n  - {name: creatinine, value: 1, unit: mg/L.}\\n",
    ...                  "p.yaml")
    >>> print(data_warnings(doc, patient_from_document(doc))[0])
    p.yaml:3:34: warning: lab 'creatinine': unit 'mg/L.' is not convertible (known: ...)...
    """
    vocab = vocab or Vocabulary.default()
    findings = _term_findings(patient, vocab)
    catalogue: dict[str, tuple[str, ...]] | None = None
    if trials is not None:
        catalogue = {}
        for t in trials:
            trial = t.trial if isinstance(t, LoadedTrial) else t
            catalogue[trial.id] = tuple(c.id for _, c in trial.criteria)
    elif results is not None:
        catalogue = {r.trial_id: tuple(c.criterion_id for c in r.criteria) for r in results}
    if catalogue is not None:
        findings += _attestation_findings(patient, catalogue)
    out: list[DataWarning] = []
    for f in findings:
        line, column = document.locate(f.loc)
        left = _left_unknown(f, results) if results is not None else ()
        out.append(DataWarning(document.path, line, column, f.message, left))
    return sorted(out, key=lambda w: (w.line or 0, w.column or 0))


def patient_warnings(patient: Patient, vocab: Vocabulary) -> list[str]:
    """The messages of the term warnings of a patient, without locations.

    >>> patient_warnings(Patient(id="P1", conditions=[{"condition": "gout"}]),
    ...                  Vocabulary.default())  # doctest: +NORMALIZE_WHITESPACE
    ["condition 'gout' has no status: criteria asking whether it is active, controlled or
      uncontrolled stay unknown"]
    """
    return [f.message for f in _term_findings(patient, vocab)]
