"""The criteria language: trial files, criteria and rule trees, loaded and validated.

A rule is a mapping with exactly one key: a combinator (``all``, ``any``, ``not``,
``at_least``) or a leaf predicate from :data:`trialmatch.predicates.REGISTRY`. The schema is
built from that registry, so an unknown name fails at load time with its file:line:column and
the allowed names. Vocabulary terms (conditions, drugs, classes, labs, units) are checked
against the vocabulary after the schema.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from trialmatch.errors import InputError, Problem
from trialmatch.io.yamlio import Document, load_document, require_mapping
from trialmatch.model.schema_errors import message_for
from trialmatch.model.vocab import Vocabulary
from trialmatch.predicates import REGISTRY, predicate_names
from trialmatch.predicates.base import Args

COMBINATORS = ("all", "any", "not", "at_least")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


def _rule_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        if len(value) == 1:
            key = next(iter(value))
            return str(key)
        return "<several keys>" if value else "<empty>"
    if isinstance(value, BaseModel):
        return next(iter(type(value).model_fields))
    return None


class AllNode(_Strict):
    """Every child rule holds."""

    all: list[Rule] = Field(min_length=1)


class AnyNode(_Strict):
    """At least one child rule holds."""

    any: list[Rule] = Field(min_length=1)


class NotNode(_Strict):
    """The child rule does not hold."""

    not_: Rule = Field(alias="not")


class AtLeastArgs(_Strict):
    """At least ``n`` of the child rules hold."""

    n: int = Field(ge=1)
    of: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _n_fits(self) -> AtLeastArgs:
        if self.n > len(self.of):
            raise ValueError(f"n={self.n} is more than the {len(self.of)} rules given")
        return self


class AtLeastNode(_Strict):
    """At least ``n`` of the child rules hold."""

    at_least: AtLeastArgs


LEAF_MODELS: dict[str, type[BaseModel]] = {
    name: create_model(
        f"{name.title().replace('_', '')}Node", __base__=_Strict, **{name: (spec.args, ...)}
    )  # type: ignore[call-overload]
    for name, spec in REGISTRY.items()
}

_ALL_TAGS = (*COMBINATORS, *predicate_names())
_members = [
    Annotated[AllNode, Tag("all")],
    Annotated[AnyNode, Tag("any")],
    Annotated[NotNode, Tag("not")],
    Annotated[AtLeastNode, Tag("at_least")],
    *(Annotated[m, Tag(n)] for n, m in LEAF_MODELS.items()),
]

if TYPE_CHECKING:
    Rule = BaseModel
else:
    Rule = Annotated[
        Union[tuple(_members)],  # noqa: UP007
        Discriminator(
            _rule_tag,
            custom_error_type="rule_node",
            custom_error_message="a rule must be a mapping with one key",
        ),
    ]

# Models are built on first use (defer_build): start-up stays fast, and the forward
# references to Rule resolve then.


class Phase(StrEnum):
    """Trial phase."""

    early_1 = "early 1"
    p1 = "1"
    p1_2 = "1/2"
    p2 = "2"
    p2_3 = "2/3"
    p3 = "3"
    p4 = "4"
    not_applicable = "n/a"


class StudyType(StrEnum):
    """Interventional trial or observational study."""

    interventional = "interventional"
    observational = "observational"


class Status(StrEnum):
    """Recruitment status as published."""

    not_yet_recruiting = "not_yet_recruiting"
    recruiting = "recruiting"
    enrolling_by_invitation = "enrolling_by_invitation"
    active_not_recruiting = "active_not_recruiting"
    suspended = "suspended"
    terminated = "terminated"
    completed = "completed"
    withdrawn = "withdrawn"
    unknown = "unknown"


class Source(_Strict):
    """Where the criteria came from."""

    document: str
    seed: str | None = None
    url: str | None = None
    retrieved: str | None = None


class Criterion(_Strict):
    """One criterion: a stable id, the verbatim source text, and a rule or a manual reason."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.\-]*$")
    text: str = Field(min_length=1)
    rule: Rule | None = None
    manual: str | None = Field(None, min_length=3)
    note: str | None = None

    @model_validator(mode="after")
    def _rule_or_manual(self) -> Criterion:
        if (self.rule is None) == (self.manual is None):
            raise ValueError(
                "give exactly one of 'rule' or 'manual' (the reason a person must judge it)"
            )
        return self

    @field_validator("text")
    @classmethod
    def _squash(cls, v: str) -> str:
        return " ".join(v.split())


class Trial(_Strict):
    """A trial (or observational study) and its eligibility criteria."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    title: str
    registry_id: str | None = None
    phase: Phase | None = None
    type: StudyType
    status: Status
    status_note: str | None = None
    conditions: list[str] = Field(min_length=1)
    sponsor: str | None = None
    intervention: str | None = None
    dose: str | None = None
    start_date: str | None = None
    completion_date: str | None = None
    source: Source
    notes: list[str] = Field(default_factory=list)
    inclusion: list[Criterion] = Field(default_factory=list)
    exclusion: list[Criterion] = Field(default_factory=list)

    @field_validator("phase", mode="before")
    @classmethod
    def _phase_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    @field_validator("start_date", "completion_date", mode="before")
    @classmethod
    def _date_text(cls, v: Any) -> Any:
        return v.isoformat() if isinstance(v, dt.date) else v

    @property
    def criteria(self) -> list[tuple[str, Criterion]]:
        """Every criterion with its kind, inclusion first."""
        return [("inclusion", c) for c in self.inclusion] + [
            ("exclusion", c) for c in self.exclusion
        ]


@dataclass(frozen=True)
class Coverage:
    """How much of a trial is computable: criteria with a rule and no part left to a person,
    criteria with a rule that has a part a person judges, and criteria a person judges.

    >>> Coverage(12, 2, 6).describe()
    '12 of 20 criteria computable, 2 partly computable, 6 need review'
    """

    computable: int
    partly: int
    review: int

    @property
    def total(self) -> int:
        """Every criterion of the trial."""
        return self.computable + self.partly + self.review

    def describe(self) -> str:
        """The coverage as one phrase."""
        text = f"{self.computable} of {self.total} criteria computable"
        if self.partly:
            text += f", {self.partly} partly computable"
        return text + f", {self.review} need review"


def coverage(trial: Trial) -> Coverage:
    """The :class:`Coverage` of a trial's criteria."""
    computable = partly = review = 0
    for _, criterion in trial.criteria:
        if criterion.rule is None:
            review += 1
        elif _has_review(criterion.rule):
            partly += 1
        else:
            computable += 1
    return Coverage(computable, partly, review)


def _has_review(node: BaseModel) -> bool:
    if isinstance(node, AllNode | AnyNode):
        return any(_has_review(c) for c in (node.all if isinstance(node, AllNode) else node.any))
    if isinstance(node, NotNode):
        return _has_review(node.not_)
    if isinstance(node, AtLeastNode):
        return any(_has_review(c) for c in node.at_least.of)
    return next(iter(type(node).model_fields)) == "review"


@dataclass(frozen=True)
class LoadedTrial:
    """A validated trial with the file it came from and the file's SHA-256."""

    trial: Trial
    path: str
    sha256: str


def _message(err: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "union_tag_invalid":
        tag = ctx.get("tag", "?")
        return f"unknown predicate '{tag}'", _ALL_TAGS
    if kind == "rule_node":
        value = err.get("input")
        if isinstance(value, dict) and len(value) == 1:
            tag = str(next(iter(value)))
            close = difflib.get_close_matches(tag, _ALL_TAGS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            return f"unknown predicate '{tag}'{hint}", _ALL_TAGS
        if isinstance(value, dict) and len(value) > 1:
            keys = ", ".join(map(str, value))
            return f"a rule must have exactly one key (the predicate), found: {keys}", _ALL_TAGS
        return "a rule must be a mapping with one key (the predicate)", _ALL_TAGS
    return message_for(err)


def _allowed_fields(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(f.alias or n for n, f in model.model_fields.items())


def _vocab_problems(doc: Document, trial: Trial, vocab: Vocabulary) -> list[Problem]:
    problems: list[Problem] = []
    for ci, cond in enumerate(trial.conditions):
        if vocab.condition_id(cond) is None:
            problems.append(
                doc.problem(
                    ("conditions", ci),
                    f"unknown condition {cond!r}" + _hint(vocab, cond, "condition"),
                )
            )
    for section in ("inclusion", "exclusion"):
        for i, crit in enumerate(getattr(trial, section)):
            if crit.rule is not None:
                problems += _rule_vocab(doc, (section, i, "rule"), crit.rule, vocab)
    return problems


def _hint(vocab: Vocabulary, term: str, kind: str) -> str:
    close = vocab.suggest(term, kind)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _rule_vocab(
    doc: Document, loc: tuple[str | int, ...], node: BaseModel, vocab: Vocabulary
) -> list[Problem]:
    problems: list[Problem] = []
    if isinstance(node, AllNode | AnyNode):
        key = "all" if isinstance(node, AllNode) else "any"
        for i, child in enumerate(node.all if isinstance(node, AllNode) else node.any):
            problems += _rule_vocab(doc, (*loc, key, i), child, vocab)
        return problems
    if isinstance(node, NotNode):
        return _rule_vocab(doc, (*loc, "not"), node.not_, vocab)
    if isinstance(node, AtLeastNode):
        for i, child in enumerate(node.at_least.of):
            problems += _rule_vocab(doc, (*loc, "at_least", "of", i), child, vocab)
        return problems
    name = next(iter(type(node).model_fields))
    args: Args = getattr(node, name)
    for sub, kind, term in args.vocabulary_refs():
        where = (*loc, name, *sub)
        if kind == "condition" and vocab.condition_id(term) is None:
            problems.append(
                doc.problem(where, f"unknown condition {term!r}" + _hint(vocab, term, "condition"))
            )
        elif kind == "drug" and vocab.drug_ids(term) is None:
            problems.append(
                doc.problem(where, f"unknown drug or regimen {term!r}" + _hint(vocab, term, "drug"))
            )
        elif kind == "class" and vocab.class_id(term) is None:
            problems.append(
                doc.problem(where, f"unknown drug class {term!r}" + _hint(vocab, term, "class"))
            )
        elif kind == "lab" and vocab.lab_id(term) is None:
            problems.append(doc.problem(where, f"unknown lab {term!r}" + _hint(vocab, term, "lab")))
        elif kind.startswith("unit:"):
            lab_id = vocab.lab_id(kind[5:])
            if lab_id is not None and vocab.lab_factor(lab_id, term) is None:
                problems.append(
                    doc.problem(
                        where,
                        f"unknown unit {term!r} for {lab_id}",
                        tuple(vocab.labs[lab_id].units),
                    )
                )
    return problems


def trial_from_document(doc: Document, vocab: Vocabulary) -> Trial:
    """Validate a parsed criteria document; every problem is reported with its location."""
    data = require_mapping(doc, "a trial")
    try:
        trial = Trial.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            message, allowed = _message(dict(err))
            loc = tuple(err["loc"])
            if err["type"] == "extra_forbidden":
                allowed = _extra_allowed(data, err["loc"])
            value = err.get("input")
            if err["type"] == "rule_node" and isinstance(value, dict) and len(value) == 1:
                loc = (*loc, next(iter(value)))
            problems.append(doc.problem(loc, message, allowed))
        raise InputError(_dedupe(problems)) from None
    problems = _vocab_problems(doc, trial, vocab)
    seen: dict[str, tuple[str, int]] = {}
    for section in ("inclusion", "exclusion"):
        for i, crit in enumerate(getattr(trial, section)):
            if crit.id in seen:
                first = seen[crit.id]
                line, _ = doc.locate(first)
                problems.append(
                    doc.problem(
                        (section, i, "id"),
                        f"duplicate criterion id {crit.id!r} (first used at line {line})",
                    )
                )
            else:
                seen[crit.id] = (section, i)
    if problems:
        raise InputError(problems)
    return trial


def _dedupe(problems: list[Problem]) -> list[Problem]:
    out: list[Problem] = []
    for p in problems:
        if p not in out:
            out.append(p)
    return out


def _extra_allowed(data: Any, loc: tuple[Any, ...]) -> tuple[str, ...]:
    """Allowed field names at the place an unknown field was found."""
    node: Any = data
    model: Any = Trial
    parts = list(loc[:-1])
    i = 0
    while i < len(parts):
        part = parts[i]
        if model in (AllNode, AnyNode, NotNode, AtLeastNode) or model is None:
            model = None
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            i += 1
            continue
        if model is Trial and part in ("inclusion", "exclusion"):
            model, node = Criterion, (node or {}).get(part)
        elif model is Criterion and part == "rule":
            node = (node or {}).get(part)
            model = "rule"
        elif model == "rule":
            if part in REGISTRY:
                model = REGISTRY[part].args
                node = (node or {}).get(part) if isinstance(node, dict) else None
                if i + 1 < len(parts) and parts[i + 1] == part:
                    i += 1
            elif part in ("all", "any", "not"):
                node = (node or {}).get(part) if isinstance(node, dict) else None
                model = "rule"
            elif part == "at_least":
                node = (node or {}).get(part) if isinstance(node, dict) else None
                model = AtLeastArgs
        elif model is AtLeastArgs and part == "of":
            node = (node or {}).get(part) if isinstance(node, dict) else None
            model = "rule"
        elif model is Trial and part == "source":
            model, node = Source, (node or {}).get(part)
        elif isinstance(model, type) and issubclass(model, BaseModel):
            field = model.model_fields.get(part)
            node = (node or {}).get(part) if isinstance(node, dict) else None
            inner = getattr(field, "annotation", None) if field else None
            model = _first_model(inner)
        i += 1
    if isinstance(model, type) and issubclass(model, BaseModel):
        return _allowed_fields(model)
    return ()


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def load_trial(path: Path | str, vocab: Vocabulary | None = None) -> LoadedTrial:
    """Load and validate one criteria file.

    >>> load_trial("criteria/NCT01673308.yaml").trial.phase  # doctest: +SKIP
    <Phase.p2: '2'>
    """
    doc = load_document(Path(path))
    trial = trial_from_document(doc, vocab or Vocabulary.default())
    return LoadedTrial(trial, str(path), doc.sha256 or "")


def catalogue_dir() -> Path:
    """The default catalogue: ``criteria/`` shipped in the package, or the repository's own
    ``criteria/`` when running from a source checkout (editable install)."""
    from importlib import resources

    packaged = Path(str(resources.files("trialmatch"))) / "criteria"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "criteria"


def load_catalogue(
    directory: Path | str | None = None, vocab: Vocabulary | None = None
) -> list[LoadedTrial]:
    """Load every ``*.yaml`` criteria file in a directory, sorted by file name.

    All problems in all files are collected and raised together as one :class:`InputError`.
    """
    d = Path(directory) if directory is not None else catalogue_dir()
    if not d.is_dir():
        raise InputError.single(str(d), "criteria directory not found")
    vocab = vocab or Vocabulary.default()
    files = sorted([*d.glob("*.yaml"), *d.glob("*.yml")])
    if not files:
        raise InputError.single(str(d), "no criteria files (*.yaml) in this directory")
    loaded: list[LoadedTrial] = []
    problems: list[Problem] = []
    ids: dict[str, str] = {}
    for f in files:
        try:
            lt = load_trial(f, vocab)
        except InputError as exc:
            problems += exc.problems
            continue
        if lt.trial.id in ids:
            problems.append(
                Problem(
                    str(f),
                    None,
                    None,
                    f"trial id {lt.trial.id!r} is also used by {ids[lt.trial.id]}",
                )
            )
            continue
        ids[lt.trial.id] = str(f)
        loaded.append(lt)
    if problems:
        raise InputError(problems)
    return loaded
