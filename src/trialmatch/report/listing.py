"""``trialmatch trials``: list trials by condition (synonyms + hierarchy), status, phase, type.

A condition query matches a trial when one of the trial's conditions is the queried condition,
a subtype of it, or a broader condition that includes it (a trial for MDS is listed for a query
of "MDS with isolated del(5q)"). Matching is exact on vocabulary terms, and an ICD-10-CM code
prefix matches the conditions coded under it ("C90.0": C90.00, C90.01, C90.02); fuzzy matching
only produces "did you mean" hints. Status, phase and type ignore case ("Recruiting").
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from trialmatch import __version__
from trialmatch.engine.criteria import LoadedTrial, Phase, Status, StudyType
from trialmatch.model.vocab import Vocabulary
from trialmatch.report.contract import SCHEMA_VERSION, criteria_file_name


class ListingError(ValueError):
    """A bad filter value: an unknown condition term (with "did you mean"), status, phase or
    type. The message is complete; the CLI prints it and exits 2."""


@dataclass(frozen=True)
class Listed:
    """A trial in a listing and why it matched."""

    trial: LoadedTrial
    matched_via: str | None


def _key(value: str) -> str:
    """A filter value as compared: case, spaces, hyphens and commas do not matter
    ("Active, not recruiting" is ``active_not_recruiting``; "Phase 2" is ``2``)."""
    key = re.sub(r"[\s,_-]+", "_", value.strip().lower()).strip("_")
    return key.removeprefix("phase_").removeprefix("phase")


def _check(values: Sequence[str], allowed: Sequence[str], what: str) -> set[str]:
    known = {_key(a): a for a in allowed}
    out = set()
    for v in values:
        if _key(v) not in known:
            raise ListingError(f"--{what} {v!r} is not allowed (allowed: {', '.join(allowed)})")
        out.add(known[_key(v)])
    return out


# An ICD-10-CM code or code prefix: a category (letter, two characters), then subdivisions.
_ICD10CM = re.compile(r"^[A-Za-z][0-9][0-9A-Za-z](?:\.?[0-9A-Za-z]{0,4})?$")


def condition_query(vocab: Vocabulary, term: str) -> dict[str, str | None]:
    """The conditions a ``--condition`` term stands for, each with how it was recognised.

    A vocabulary term (name, synonym, code) stands for its condition. An ICD-10-CM code that
    is not itself listed stands for every condition with a code under it ("C90.0" covers
    C90.00, C90.01 and C90.02; dots and case do not matter). An unknown term raises
    :class:`ListingError` with "did you mean" suggestions.

    >>> v = Vocabulary.default()
    >>> condition_query(v, "C90.0")
    {'multiple_myeloma': 'C90.00, C90.01, C90.02'}
    >>> condition_query(v, "plasma cell myeloma")
    {'multiple_myeloma': None}
    """
    cid = vocab.condition_id(term)
    if cid is not None:
        return {cid: None}
    if _ICD10CM.match(term.strip()):
        prefix = term.strip().replace(".", "").upper()
        found: dict[str, str | None] = {
            c.id: ", ".join(codes)
            for c in vocab.conditions.values()
            if (codes := [x for x in c.icd10cm if x.replace(".", "").upper().startswith(prefix)])
        }
        if found:
            return found
    message = f"no condition {term!r} in the vocabulary"
    close = vocab.suggest(term, "condition")
    if close:
        message += f"; did you mean {' or '.join(map(repr, close))}?"
    raise ListingError(message)


def find_trials(
    trials: Sequence[LoadedTrial],
    condition: str | None = None,
    statuses: Sequence[str] = (),
    phases: Sequence[str] = (),
    study_type: str | None = None,
    vocab: Vocabulary | None = None,
) -> list[Listed]:
    """Trials matching every given filter. Status, phase and type are compared without
    regard to case; a bad value or an unknown condition raises :class:`ListingError`.

    >>> from trialmatch.engine.criteria import load_catalogue
    >>> found = find_trials(load_catalogue(), condition="C90.0", statuses=["Recruiting"])
    >>> [(x.trial.trial.id, x.matched_via) for x in found]
    [('NCT02538198', 'multiple myeloma (ICD-10-CM C90.00, C90.01, C90.02)')]
    """
    vocab = vocab or Vocabulary.default()
    wanted_status = _check(statuses, [s.value for s in Status], "status")
    wanted_phase = _check(phases, [p.value for p in Phase], "phase")
    wanted_type = _check([study_type] if study_type is not None else [],
                         [t.value for t in StudyType], "type")
    query = condition_query(vocab, condition) if condition is not None else None
    out: list[Listed] = []
    for lt in trials:
        t = lt.trial
        if wanted_status and t.status.value not in wanted_status:
            continue
        if wanted_phase and (t.phase is None or t.phase.value not in wanted_phase):
            continue
        if wanted_type and t.type.value not in wanted_type:
            continue
        via = None
        if query is not None:
            matches = (_match(vocab, cid, codes, t.conditions) for cid, codes in query.items())
            via = next((m for m in matches if m), None)
            if via is None:
                continue
        out.append(Listed(lt, via))
    return out


def _match(
    vocab: Vocabulary, query: str, codes: str | None, conditions: Sequence[str]
) -> str | None:
    for term in conditions:
        cid = vocab.condition_id(term)
        if cid is None:
            continue
        via = None
        if cid == query:
            via = term
        elif vocab.condition_is_a(cid, query):
            via = f"{term} (a kind of {vocab.condition_name(query)})"
        elif vocab.condition_is_a(query, cid):
            via = f"{term} (includes {vocab.condition_name(query)})"
        if via is not None:
            return f"{via} (ICD-10-CM {codes})" if codes else via
    return None


def _row(x: Listed) -> dict[str, object]:
    t = x.trial.trial
    return {
        "trial_id": t.id,
        "title": t.title,
        "phase": t.phase.value if t.phase else None,
        "type": t.type.value,
        "status": t.status.value,
        "conditions": t.conditions,
        "matched_via": x.matched_via,
        "criteria_file": criteria_file_name(x.trial.path),
        "criteria_sha256": x.trial.sha256,
    }


def as_dict(found: Sequence[Listed]) -> dict[str, object]:
    """The listing as JSON-ready data (schema: ``trialmatch schema trials``).

    >>> from trialmatch.engine.criteria import load_catalogue
    >>> data = as_dict(find_trials(load_catalogue(), condition="myeloma"))
    >>> data["schema_version"], [t["trial_id"] for t in data["trials"]]
    ('1.0', ['NCT01421927', 'NCT02538198'])
    """
    return {
        "schema_version": SCHEMA_VERSION,
        "trialmatch_version": __version__,
        "trials": [_row(x) for x in found],
    }


def render_json(found: Sequence[Listed]) -> str:
    """The listing as one JSON document."""
    return json.dumps(as_dict(found), indent=2, ensure_ascii=False) + "\n"


def render_table(found: Sequence[Listed], width: int | None = None) -> str:
    """The listing as plain text, ``width`` columns at most (default: the terminal's): per
    trial a line with the id, phase, status and type (aligned), then the title, conditions
    and how the condition matched, wrapped with a hanging indent. Ids are never cut.

    >>> from trialmatch.engine.criteria import load_catalogue
    >>> text = render_table(find_trials(load_catalogue(), condition="myeloma"), width=80)
    >>> print(text.splitlines()[0])
    NCT01421927  phase 1  completed   interventional
    """
    from trialmatch.io.printable import printable
    from trialmatch.report.wrapping import hanging, terminal_width

    width = width or terminal_width()
    if not found:
        return "no matching trials\n"
    rows = [
        (
            printable(x.trial.trial.id, keep_newlines=False),
            f"phase {x.trial.trial.phase.value}" if x.trial.trial.phase else "phase -",
            x.trial.trial.status.value,
            x.trial.trial.type.value,
        )
        for x in found
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    out: list[str] = []
    for x, (tid, phase, status, kind) in zip(found, rows, strict=True):
        t = x.trial.trial
        line = f"{tid:<{widths[0]}}  {phase:<{widths[1]}}  {status:<{widths[2]}}  {kind}"
        if len(line) <= width:
            out.append(line)
        else:  # a narrow terminal: the id whole, the rest wrapped under it
            out += hanging(f"{tid}  ", f"{phase}  {status}  {kind}", width, indent=4)
        out += hanging("    ", t.title, width)
        out += hanging("    conditions: ", ", ".join(t.conditions), width)
        if x.matched_via:
            out += hanging("    matched: ", x.matched_via, width)
    noun = "trial" if len(found) == 1 else "trials"
    out.append(f"{len(found)} {noun}")
    return "\n".join(line.rstrip() for line in out) + "\n"
