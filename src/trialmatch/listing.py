"""``trialmatch trials``: list trials by condition (synonyms + hierarchy), status, phase, type.

A condition query matches a trial when one of the trial's conditions is the queried condition,
a subtype of it, or a broader condition that includes it (a trial for MDS is listed for a query
of "MDS with isolated del(5q)"). Matching is exact on vocabulary terms; fuzzy matching only
produces "did you mean" hints.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from trialmatch.criteria import LoadedTrial, Phase, Status, StudyType
from trialmatch.vocab import Vocabulary


class ListingError(ValueError):
    """A bad filter value (unknown status, phase or type)."""


@dataclass(frozen=True)
class Listed:
    """A trial in a listing and why it matched."""

    trial: LoadedTrial
    matched_via: str | None


def _check(values: Sequence[str], allowed: Sequence[str], what: str) -> None:
    for v in values:
        if v not in allowed:
            raise ListingError(f"--{what} {v!r} is not allowed (allowed: {', '.join(allowed)})")


def find_trials(
    trials: Sequence[LoadedTrial],
    condition: str | None = None,
    statuses: Sequence[str] = (),
    phases: Sequence[str] = (),
    study_type: str | None = None,
    vocab: Vocabulary | None = None,
) -> tuple[list[Listed], str | None]:
    """Trials matching every given filter, and a hint line when the condition is unknown.

    >>> from trialmatch.criteria import load_catalogue
    >>> found, _ = find_trials(load_catalogue(), condition="plasma cell myeloma")
    >>> sorted(x.trial.trial.id for x in found)
    ['NCT01421927', 'NCT02538198']
    """
    vocab = vocab or Vocabulary.default()
    _check(statuses, [s.value for s in Status], "status")
    _check(phases, [p.value for p in Phase], "phase")
    if study_type is not None:
        _check([study_type], [t.value for t in StudyType], "type")
    query: str | None = None
    if condition is not None:
        query = vocab.condition_id(condition)
        if query is None:
            close = vocab.suggest(condition, "condition")
            hint = f"no condition {condition!r} in the vocabulary"
            if close:
                hint += f"; did you mean {' or '.join(map(repr, close))}?"
            return [], hint
    out: list[Listed] = []
    for lt in trials:
        t = lt.trial
        if statuses and t.status.value not in statuses:
            continue
        if phases and (t.phase is None or t.phase.value not in phases):
            continue
        if study_type and t.type.value != study_type:
            continue
        via = None
        if query is not None:
            via = _match(vocab, query, t.conditions)
            if via is None:
                continue
        out.append(Listed(lt, via))
    return out, None


def _match(vocab: Vocabulary, query: str, conditions: Sequence[str]) -> str | None:
    for term in conditions:
        cid = vocab.condition_id(term)
        if cid is None:
            continue
        if cid == query:
            return term
        if vocab.condition_is_a(cid, query):
            return f"{term} (a kind of {vocab.condition_name(query)})"
        if vocab.condition_is_a(query, cid):
            return f"{term} (includes {vocab.condition_name(query)})"
    return None


def _row(x: Listed) -> dict[str, object]:
    t = x.trial.trial
    return {
        "id": t.id,
        "title": t.title,
        "phase": t.phase.value if t.phase else None,
        "type": t.type.value,
        "status": t.status.value,
        "conditions": t.conditions,
        "matched_via": x.matched_via,
    }


def render_json(found: Sequence[Listed]) -> str:
    """The listing as JSON."""
    return json.dumps([_row(x) for x in found], indent=2, ensure_ascii=False) + "\n"


def render_table(found: Sequence[Listed]) -> str:
    """The listing as a plain-text table (rich)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from trialmatch.printable import printable

    buf = io.StringIO()
    width = shutil.get_terminal_size((100, 24)).columns
    console = Console(file=buf, width=width, no_color=True, highlight=False)
    if not found:
        console.print("no matching trials")
        return buf.getvalue()
    table = Table()
    for col in ("id", "phase", "status", "type", "conditions", "title"):
        table.add_column(col)
    for x in found:
        r = _row(x)
        cells = (
            str(r["id"]),
            str(r["phase"] or "-"),
            str(r["status"]),
            str(r["type"]),
            ", ".join(x.trial.trial.conditions),
            str(r["title"]),
        )
        table.add_row(*(Text(printable(c)) for c in cells))
    console.print(table)
    return buf.getvalue()
