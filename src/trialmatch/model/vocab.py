"""The controlled vocabulary: conditions, drugs (with classes and regimens) and labs.

Loaded from YAML data files shipped in ``trialmatch/data/vocabulary``, validated like criteria
files. Terms are matched exactly after normalisation (case, spacing, hyphens); fuzzy matching is
used only for "did you mean" suggestions, never to decide a match.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from trialmatch.errors import InputError, Problem
from trialmatch.io.yamlio import Document, load_document, parse_yaml, require_mapping

_SPACES = re.compile(r"[\s_\-–—]+")


def normalise(term: str) -> str:
    """Normalise a term for exact matching.

    >>> normalise("  T-Cell   Lymphoma ")
    't cell lymphoma'
    """
    return _SPACES.sub(" ", term.strip().lower().replace("’", "'")).strip()


def normalise_unit(unit: str) -> str:
    """Normalise a unit spelling: case, micro signs, spaces and '^' are folded.

    >>> normalise_unit("µmol/L") == normalise_unit("umol/l") == normalise_unit("μmol / L")
    True
    """
    u = unit.strip().replace("µ", "u").replace("μ", "u").replace("^", "").replace(" ", "")
    return u.lower().replace("mcmol", "umol").replace("mcg", "ug")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ConditionEntry(_Strict):
    """A condition: a name, synonyms, ICD-10-CM and SNOMED CT codes and parents (its broader
    conditions). SNOMED CT codes are looked up only as codes (FHIR), never as terms."""

    id: str
    name: str
    synonyms: list[str] = Field(default_factory=list)
    icd10cm: list[str] = Field(default_factory=list)
    snomed: list[str] = Field(default_factory=list)
    parents: list[str] = Field(default_factory=list)
    malignant: bool = False
    note: str | None = None


class DrugClassEntry(_Strict):
    """A drug class, possibly inside broader classes."""

    id: str
    name: str
    synonyms: list[str] = Field(default_factory=list)
    parents: list[str] = Field(default_factory=list)


class DrugEntry(_Strict):
    """A drug with its synonyms (brand names, codes), its RxNorm ingredient codes and the
    classes it belongs to."""

    id: str
    name: str
    synonyms: list[str] = Field(default_factory=list)
    classes: list[str] = Field(default_factory=list)
    rxnorm: list[str] = Field(default_factory=list)


class ProcedureEntry(_Strict):
    """A procedure type the ``procedure`` predicate knows (``autologous_sct``,
    ``allogeneic_sct``) with its SNOMED CT codes."""

    id: str
    name: str
    snomed: list[str] = Field(default_factory=list)


class RegimenEntry(_Strict):
    """A named regimen and the drugs it contains."""

    id: str
    name: str
    synonyms: list[str] = Field(default_factory=list)
    drugs: list[str]


class LabEntry(_Strict):
    """A lab or measurement with its LOINC code, canonical unit and conversion factors.

    ``units`` maps each accepted unit to how many of that unit make one canonical unit
    (creatinine: ``umol/L: 88.4`` because 1 mg/dL = 88.4 umol/L).
    """

    id: str
    name: str
    loinc: str | None = None
    synonyms: list[str] = Field(default_factory=list)
    unit: str
    units: dict[str, float]

    @field_validator("units")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        for unit, factor in v.items():
            if not factor > 0:
                raise ValueError(f"conversion factor for {unit!r} must be positive")
        return v


class _ConditionsFile(_Strict):
    conditions: list[ConditionEntry]


class _DrugsFile(_Strict):
    classes: list[DrugClassEntry] = Field(default_factory=list)
    drugs: list[DrugEntry]
    regimens: list[RegimenEntry] = Field(default_factory=list)


class _LabsFile(_Strict):
    labs: list[LabEntry]


class _ProceduresFile(_Strict):
    procedures: list[ProcedureEntry]


_SNOMED = re.compile(r"^[1-9][0-9]{5,17}$")
_RXNORM = re.compile(r"^[1-9][0-9]{0,9}$")


def _pydantic_problems(doc: Document, exc: ValidationError) -> list[Problem]:
    return [doc.problem(err["loc"], err["msg"]) for err in exc.errors()]


class Vocabulary:
    """Resolves terms to ids and answers hierarchy questions.

    >>> v = Vocabulary.default()
    >>> v.condition_is_a(v.condition_id("PTCL"), "lymphoma")
    True
    """

    def __init__(
        self,
        conditions: Iterable[ConditionEntry],
        classes: Iterable[DrugClassEntry],
        drugs: Iterable[DrugEntry],
        regimens: Iterable[RegimenEntry],
        labs: Iterable[LabEntry],
        source: str = "<vocabulary>",
        procedures: Iterable[ProcedureEntry] = (),
    ) -> None:
        self.conditions = {c.id: c for c in conditions}
        self.classes = {c.id: c for c in classes}
        self.drugs = {d.id: d for d in drugs}
        self.regimens = {r.id: r for r in regimens}
        self.labs = {lab.id: lab for lab in labs}
        self.procedures = {p.id: p for p in procedures}
        problems: list[str] = []
        self._snomed_conditions = self._codes(
            ((c.id, c.snomed) for c in self.conditions.values()), "SNOMED CT", _SNOMED, problems
        )
        self._rxnorm_drugs = self._codes(
            ((d.id, d.rxnorm) for d in self.drugs.values()), "RxNorm", _RXNORM, problems
        )
        self._snomed_procedures = self._codes(
            ((p.id, p.snomed) for p in self.procedures.values()), "SNOMED CT", _SNOMED, problems
        )
        for code in self._snomed_conditions.keys() & self._snomed_procedures.keys():
            problems.append(f"SNOMED CT code {code!r} names both a condition and a procedure")
        self._condition_terms = self._index(
            ((c.id, [c.id, c.name, *c.synonyms, *c.icd10cm]) for c in self.conditions.values()),
            "condition",
            problems,
        )
        self._drug_terms = self._index(
            ((d.id, [d.id, d.name, *d.synonyms]) for d in self.drugs.values()), "drug", problems
        )
        self._class_terms = self._index(
            ((c.id, [c.id, c.name, *c.synonyms]) for c in self.classes.values()), "class", problems
        )
        self._regimen_terms = self._index(
            ((r.id, [r.id, r.name, *r.synonyms]) for r in self.regimens.values()),
            "regimen",
            problems,
        )
        self._lab_terms = self._index(
            (
                (lab.id, [lab.id, lab.name, *lab.synonyms, *([lab.loinc] if lab.loinc else [])])
                for lab in self.labs.values()
            ),
            "lab",
            problems,
        )
        for c in self.conditions.values():
            problems += [
                f"condition {c.id!r}: unknown parent {p!r}"
                for p in c.parents
                if p not in self.conditions
            ]
        for k in self.classes.values():
            problems += [
                f"class {k.id!r}: unknown parent {p!r}" for p in k.parents if p not in self.classes
            ]
        for d in self.drugs.values():
            problems += [
                f"drug {d.id!r}: unknown class {k!r}" for k in d.classes if k not in self.classes
            ]
        for r in self.regimens.values():
            problems += [
                f"regimen {r.id!r}: unknown drug {d!r}" for d in r.drugs if d not in self.drugs
            ]
        for lab in self.labs.values():
            if normalise_unit(lab.unit) not in {normalise_unit(u) for u in lab.units}:
                problems.append(f"lab {lab.id!r}: canonical unit {lab.unit!r} missing from units")
        if problems:
            raise InputError([Problem(source, None, None, p) for p in problems])
        self._condition_ancestors: dict[str, frozenset[str]] = {}
        self._class_ancestors: dict[str, frozenset[str]] = {}

    @staticmethod
    def _index(
        entries: Iterable[tuple[str, list[str]]], kind: str, problems: list[str]
    ) -> dict[str, str]:
        index: dict[str, str] = {}
        for ident, terms in entries:
            for term in terms:
                key = normalise(term)
                if key in index and index[key] != ident:
                    problems.append(f"{kind} term {term!r} names both {index[key]!r} and {ident!r}")
                index[key] = ident
        return index

    @staticmethod
    def _codes(
        entries: Iterable[tuple[str, list[str]]],
        system: str,
        form: re.Pattern[str],
        problems: list[str],
    ) -> dict[str, str]:
        """code -> id; a code listed twice or not of the system's form is a problem."""
        index: dict[str, str] = {}
        for ident, codes in entries:
            for code in codes:
                if not form.match(code):
                    problems.append(f"{ident!r}: {code!r} is not a {system} code")
                elif code in index:
                    problems.append(
                        f"{system} code {code!r} is listed for both {index[code]!r} and {ident!r}"
                    )
                index[code] = ident
        return index

    # -- loading -----------------------------------------------------------------------------

    @classmethod
    def load(cls, directory: Path) -> Vocabulary:
        """Load ``conditions.yaml``, ``drugs.yaml``, ``labs.yaml`` and (when present)
        ``procedures.yaml`` from a directory."""
        docs = {
            name: load_document(directory / f"{name}.yaml")
            for name in VOCABULARY_FILES
            if name != "procedures" or (directory / f"{name}.yaml").is_file()
        }
        return cls._from_docs(docs, str(directory))

    @classmethod
    def default(cls) -> Vocabulary:
        """The vocabulary shipped with trialmatch (loaded once per process)."""
        return _default_vocabulary()

    @classmethod
    def _from_docs(cls, docs: dict[str, Document], source: str) -> Vocabulary:
        problems: list[Problem] = []
        parsed: dict[str, Any] = {}
        files: tuple[tuple[str, type[_Strict]], ...] = (
            ("conditions", _ConditionsFile),
            ("drugs", _DrugsFile),
            ("labs", _LabsFile),
            ("procedures", _ProceduresFile),
        )
        for name, model in files:
            if name not in docs:
                continue
            doc = docs[name]
            try:
                parsed[name] = model.model_validate(require_mapping(doc, f"{name} vocabulary"))
            except ValidationError as exc:
                problems += _pydantic_problems(doc, exc)
            except InputError as exc:
                problems += exc.problems
        if problems:
            raise InputError(problems)
        return cls(
            parsed["conditions"].conditions,
            parsed["drugs"].classes,
            parsed["drugs"].drugs,
            parsed["drugs"].regimens,
            parsed["labs"].labs,
            source,
            parsed["procedures"].procedures if "procedures" in parsed else (),
        )

    # -- conditions --------------------------------------------------------------------------

    def condition_id(self, term: str) -> str | None:
        """The condition id a term (name, synonym, ICD-10-CM code) stands for, or None."""
        return self._condition_terms.get(normalise(term))

    def condition_by_snomed(self, code: str) -> str | None:
        """The condition a SNOMED CT code stands for, or None.

        >>> Vocabulary.default().condition_by_snomed("109995007")
        'myelodysplastic_syndrome'
        """
        return self._snomed_conditions.get(code.strip())

    def condition_by_icd10cm(self, code: str) -> str | None:
        """The condition an ICD-10-CM code (listed in the vocabulary) stands for, or None: a
        name or synonym is not a code.

        >>> Vocabulary.default().condition_by_icd10cm("D46.9"), Vocabulary.default().condition_by_icd10cm("MDS")
        ('myelodysplastic_syndrome', None)
        """  # noqa: E501
        cid = self.condition_id(code)
        if cid is None:
            return None
        wanted = code.strip().upper()
        return cid if wanted in {c.upper() for c in self.conditions[cid].icd10cm} else None

    def condition_ancestors(self, cid: str) -> frozenset[str]:
        """The condition itself and every broader condition above it."""
        cached = self._condition_ancestors.get(cid)
        if cached is None:
            seen: set[str] = set()
            stack = [cid]
            while stack:
                cur = stack.pop()
                if cur in seen or cur not in self.conditions:
                    continue
                seen.add(cur)
                stack.extend(self.conditions[cur].parents)
            cached = self._condition_ancestors[cid] = frozenset(seen)
        return cached

    def condition_is_a(self, cid: str | None, ancestor: str) -> bool:
        """Whether ``cid`` is ``ancestor`` or a subtype of it."""
        return cid is not None and ancestor in self.condition_ancestors(cid)

    def condition_descendants(self, cid: str) -> frozenset[str]:
        """The condition and every narrower condition below it."""
        return frozenset(c for c in self.conditions if cid in self.condition_ancestors(c))

    def condition_name(self, cid: str) -> str:
        """Display name of a condition id."""
        entry = self.conditions.get(cid)
        return entry.name if entry else cid

    # -- drugs -------------------------------------------------------------------------------

    def drug_ids(self, term: str) -> frozenset[str] | None:
        """The drugs a drug or regimen term stands for, or None when it is not in the vocabulary.

        >>> sorted(Vocabulary.default().drug_ids("VRd") or [])
        ['bortezomib', 'dexamethasone', 'lenalidomide']
        """
        key = normalise(term)
        if key in self._drug_terms:
            return frozenset({self._drug_terms[key]})
        if key in self._regimen_terms:
            return frozenset(self.regimens[self._regimen_terms[key]].drugs)
        return None

    def drug_by_rxnorm(self, code: str) -> str | None:
        """The drug an RxNorm ingredient code stands for, or None.

        >>> Vocabulary.default().drug_by_rxnorm("342369")
        'lenalidomide'
        """
        return self._rxnorm_drugs.get(code.strip())

    def procedure_by_snomed(self, code: str) -> str | None:
        """The procedure type (``autologous_sct``, ...) a SNOMED CT code stands for, or None.

        >>> Vocabulary.default().procedure_by_snomed("709115004")
        'autologous_sct'
        """
        return self._snomed_procedures.get(code.strip())

    def is_regimen(self, term: str) -> bool:
        """Whether a term names a regimen (several drugs) rather than one drug."""
        key = normalise(term)
        return key not in self._drug_terms and key in self._regimen_terms

    def class_id(self, term: str) -> str | None:
        """The drug class a term stands for, or None."""
        return self._class_terms.get(normalise(term))

    def class_ancestors(self, class_id: str) -> frozenset[str]:
        """The class itself and every broader class above it."""
        cached = self._class_ancestors.get(class_id)
        if cached is None:
            seen: set[str] = set()
            stack = [class_id]
            while stack:
                cur = stack.pop()
                if cur in seen or cur not in self.classes:
                    continue
                seen.add(cur)
                stack.extend(self.classes[cur].parents)
            cached = self._class_ancestors[class_id] = frozenset(seen)
        return cached

    def drug_classes(self, drug_id: str) -> frozenset[str]:
        """Every class (with broader classes) a drug belongs to."""
        out: set[str] = set()
        for k in self.drugs[drug_id].classes:
            out |= self.class_ancestors(k)
        return frozenset(out)

    def drug_in(self, drug_id: str, drugs: Iterable[str], classes: Iterable[str]) -> bool:
        """Whether a drug is one of ``drugs`` or belongs to one of ``classes``."""
        return drug_id in set(drugs) or bool(self.drug_classes(drug_id) & set(classes))

    def drug_name(self, drug_id: str) -> str:
        """Display name of a drug id."""
        entry = self.drugs.get(drug_id)
        return entry.name if entry else drug_id

    def class_name(self, class_id: str) -> str:
        """Display name of a class id."""
        entry = self.classes.get(class_id)
        return entry.name if entry else class_id

    # -- labs --------------------------------------------------------------------------------

    def lab_id(self, term: str) -> str | None:
        """The lab id a name, synonym or LOINC code stands for, or None."""
        return self._lab_terms.get(normalise(term))

    def lab_factor(self, lab_id: str, unit: str) -> float | None:
        """How many of ``unit`` make one canonical unit of the lab, or None if not convertible."""
        wanted = normalise_unit(unit)
        for u, factor in self.labs[lab_id].units.items():
            if normalise_unit(u) == wanted:
                return factor
        return None

    def convert(self, lab_id: str, value: float, unit: str, to_unit: str) -> float | None:
        """Convert a value between two units of the same lab; None when either is unknown.

        >>> round(Vocabulary.default().convert("creatinine", 221.0, "umol/L", "mg/dL") or 0, 2)
        2.5
        """
        src = self.lab_factor(lab_id, unit)
        dst = self.lab_factor(lab_id, to_unit)
        if src is None or dst is None:
            return None
        return value / src * dst

    def suggest_unit(self, lab_id: str, unit: str, n: int = 2) -> list[str]:
        """Known units of a lab close to an unknown spelling (a hint, never a conversion).

        >>> Vocabulary.default().suggest_unit("creatinine", "mg/dl.")
        ['mg/dL', 'mg/L']
        """
        by_key = {normalise_unit(u): u for u in self.labs[lab_id].units}
        close = difflib.get_close_matches(normalise_unit(unit), list(by_key), n=n, cutoff=0.6)
        return [by_key[c] for c in close]

    # -- suggestions -------------------------------------------------------------------------

    def suggest(self, term: str, kind: str = "any", n: int = 3) -> list[str]:
        """Close vocabulary terms for a "did you mean" hint (never used to decide a match)."""
        pools = {
            "condition": self._condition_terms,
            "drug": {**self._drug_terms, **self._regimen_terms},
            "class": self._class_terms,
            "lab": self._lab_terms,
        }
        keys: list[str] = []
        for name, pool in pools.items():
            if kind in ("any", name):
                keys.extend(pool)
        return difflib.get_close_matches(normalise(term), keys, n=n, cutoff=0.6)


VOCABULARY_FILES = ("conditions", "drugs", "labs", "procedures")
COMPILED = "compiled.json"  # the YAML files parsed once, for a fast start (see below)


def _sources_digest(texts: dict[str, str]) -> str:
    import hashlib

    h = hashlib.sha256()
    for name in VOCABULARY_FILES:
        h.update(name.encode() + b"\0" + texts[name].encode("utf-8") + b"\0")
    return h.hexdigest()


def compile_vocabulary(directory: Path) -> Path:
    """Write ``compiled.json`` beside the vocabulary YAML files: their parsed data and the
    digest of their text. The shipped vocabulary loads from it while the digest matches (JSON
    parses about ten times faster than YAML) and from the YAML files otherwise.

    >>> # compile_vocabulary(Path("src/trialmatch/data/vocabulary"))
    """
    import json

    texts = {n: (directory / f"{n}.yaml").read_text("utf-8") for n in VOCABULARY_FILES}
    data = {n: parse_yaml(texts[n], f"{n}.yaml").data for n in VOCABULARY_FILES}
    blob = {"sources_sha256": _sources_digest(texts), "documents": data}
    target = directory / COMPILED
    target.write_text(json.dumps(blob, ensure_ascii=False) + "\n", "utf-8")
    return target


def _compiled(base: Any, texts: dict[str, str]) -> dict[str, Any] | None:
    import json

    try:
        blob = json.loads((base / COMPILED).read_text("utf-8"))
        if blob["sources_sha256"] == _sources_digest(texts):
            return dict(blob["documents"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


@cache
def _default_vocabulary() -> Vocabulary:
    base = resources.files("trialmatch") / "data" / "vocabulary"
    texts = {n: (base / f"{n}.yaml").read_text("utf-8") for n in VOCABULARY_FILES}
    compiled = _compiled(base, texts)
    docs = {}
    for name in VOCABULARY_FILES:
        path = f"trialmatch/data/vocabulary/{name}.yaml"
        if compiled is not None and name in compiled:  # positions come from the text if needed
            docs[name] = Document(path, compiled[name], None, texts[name])
        else:
            docs[name] = parse_yaml(texts[name], path)
    return Vocabulary._from_docs(docs, "trialmatch/data/vocabulary")
