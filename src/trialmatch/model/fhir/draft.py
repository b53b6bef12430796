"""The patient being built from a bundle: items per history list, candidates for the single
values (ECOG, pregnancy, disease status) and the notes. Also the check of each item against the
patient model, so a value no patient can have is an error for its resource."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from trialmatch.io.jsonio import JsonPath, json_path
from trialmatch.model.fhir.common import Notes, ResourceError
from trialmatch.model.vocab import Vocabulary


@dataclass(frozen=True)
class Candidate:
    """A dated single value (ECOG, pregnancy status, disease status) and where it came from."""

    day: dt.date | None
    value: Any
    path: JsonPath


@dataclass
class Draft:
    """What the mappers collect, in bundle order."""

    vocab: Vocabulary
    notes: Notes = field(default_factory=Notes)
    as_of: dt.date | None = None  # the screening date, when given
    patient_id: str | None = None
    patient_refs: set[str] = field(default_factory=set)
    top: dict[str, Any] = field(default_factory=dict)  # birth_date, sex
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    single: dict[str, list[Candidate]] = field(default_factory=dict)
    medications: dict[str, tuple[JsonPath, dict[str, Any]]] = field(default_factory=dict)
    conditions: dict[str, tuple[JsonPath, dict[str, Any]]] = field(default_factory=dict)

    def add(self, key: str, item: dict[str, Any]) -> None:
        self.lists.setdefault(key, []).append(item)

    def offer(self, key: str, candidate: Candidate) -> None:
        self.single.setdefault(key, []).append(candidate)


def checked(
    model: type[BaseModel], data: dict[str, Any], where: dict[str, JsonPath], path: JsonPath
) -> dict[str, Any]:
    """``data`` when the patient model accepts it as ``model``; otherwise a
    :class:`ResourceError` at the FHIR element the first refused field came from (``where``
    maps model fields to paths; the resource's path otherwise). The message names the field,
    never the rest of the record."""
    try:
        model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
        name = loc[0] if loc else ""
        message = str(err["msg"]).removeprefix("Value error, ")
        raise ResourceError(where.get(name, path), message) from None
    return data


def pick_latest(draft: Draft, key: str, as_of: dt.date | None, what: str) -> Candidate | None:
    """The value a single-valued field takes: the latest dated candidate (on or before
    ``as_of`` when given). Candidates after ``as_of`` and older ones are warned about (nothing
    is dropped unsaid); undated candidates are used only when nothing is dated and only one
    is given (two undated values cannot be ordered)."""
    found = draft.single.get(key, [])
    if not found:
        return None
    notes = draft.notes
    usable = []
    for c in found:
        if as_of is not None and c.day is not None and c.day > as_of:
            notes.warn(c.path, f"{what} dated {c.day}, after the screening date {as_of}; not used")
        else:
            usable.append(c)
    dated = sorted((c for c in usable if c.day is not None), key=lambda c: c.day or dt.date.min)
    undated = [c for c in usable if c.day is None]
    if dated:
        chosen = dated[-1]
        same_day = [c for c in dated if c.day == chosen.day and c.value != chosen.value]
        if same_day:
            for c in [chosen, *same_day]:
                notes.warn(
                    c.path,
                    f"{what} on {chosen.day} is recorded with different values; "
                    f"none is imported (the latest cannot be told)",
                )
            return None
        for c in dated[:-1] + undated:
            if c.day == chosen.day:
                continue
            shown = f"dated {c.day}" if c.day else "undated"
            notes.warn(
                c.path,
                f"{what} {shown} is older than the one of {chosen.day} "
                f"({json_path(chosen.path)}); trialmatch keeps the latest; not imported",
            )
        return chosen
    if len(undated) == 1:
        return undated[0]
    for c in undated:
        notes.warn(
            c.path, f"{len(undated)} undated {what} values cannot be ordered; none is imported"
        )
    return None
