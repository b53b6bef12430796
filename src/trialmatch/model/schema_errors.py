"""Turn pydantic validation errors into short messages with the allowed values."""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import inspect
import re
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel


def field_path(loc: tuple[Any, ...]) -> str:
    """Dotted path of a location, tags of tagged unions folded: ``labs.0.value``.

    >>> field_path(("therapies", 0, "line"))
    'therapies.0.line'
    """
    parts: list[str] = []
    for p in loc:
        if not parts or parts[-1] != str(p):
            parts.append(str(p))
    return ".".join(parts) if parts else "value"


_BOUND_WORDS = {
    "greater_than": "more than",
    "greater_than_equal": "at least",
    "less_than": "less than",
    "less_than_equal": "at most",
}


def _shown(value: Any) -> str:
    """A bad value as a short quotation (never a megabyte in a message)."""
    from trialmatch.io.printable import excerpt

    text = repr(value)
    if len(text) <= 62:
        return text
    return excerpt(value) if isinstance(value, str) else text[:60] + "…"


def _expected(text: str) -> tuple[str, ...]:
    return tuple(e.strip(" '") for e in text.replace(" or ", ", ").split(",") if e.strip(" '"))


def _members(annotation: Any) -> list[Any]:
    """The alternatives of an annotation (``X | None`` is X; ``Annotated`` is unwrapped)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [m for a in get_args(annotation) if a is not type(None) for m in _members(a)]
    return [annotation]


def _is_model(annotation: Any) -> bool:
    return inspect.isclass(annotation) and issubclass(annotation, BaseModel)


@dataclass(frozen=True)
class Place:
    """Where a pydantic error location points in a model: the location without union member
    tags, the field names of the model holding its last part, and, when the path went through
    a union (``Finding | str``), how long the location was there and whether the model member
    was taken."""

    loc: tuple[Any, ...]
    fields: tuple[str, ...] = ()
    union_at: int | None = None
    via_model: bool = False


def resolve_loc(model: type[BaseModel], loc: Sequence[Any]) -> Place:
    """Follow an error location through a model's annotations.

    >>> from trialmatch.model.patient import Patient
    >>> p = resolve_loc(Patient, ("diagnoses", 0, "findings", 0, "Finding", "nme"))
    >>> p.loc, p.fields, p.union_at, p.via_model
    (('diagnoses', 0, 'findings', 0, 'nme'), ('name', 'present', 'date'), 4, True)
    """
    current: list[Any] = [model]
    clean: list[Any] = []
    fields: tuple[str, ...] = ()
    union_at: int | None = None
    via_model = False
    for part in loc:
        members = [m for c in current for m in _members(c)]
        if isinstance(part, int):
            current = [get_args(m)[0] for m in members if get_origin(m) is list and get_args(m)]
            clean.append(part)
            continue
        models = [m for m in members if _is_model(m)]
        owner = next((m for m in models if part in m.model_fields), None)
        if owner is not None:
            fields = tuple(owner.model_fields)
            current = [owner.model_fields[part].annotation]
            clean.append(part)
        elif len(members) > 1 and union_at is None:  # a union member tag
            union_at = len(clean)
            tagged = [m for m in models if m.__name__ == part]
            via_model = bool(tagged)
            current = tagged or [m for m in members if not _is_model(m)]
        else:  # a key the model does not have (an unknown field): it ends the path
            fields = tuple(n for m in models for n in m.model_fields)
            clean.append(part)
            current = []
    return Place(tuple(clean), fields, union_at, via_model)


_MONTHS = {name[:3].lower(): i for i, name in enumerate(calendar.month_name) if name}
_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_YMD = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})")
_D_MON_Y = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\.? ([A-Za-z]{3,})\.?,? (\d{4})")
_MON_D_Y = re.compile(r"([A-Za-z]{3,})\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})")


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return dt.date(year, month, day).isoformat()
    except ValueError:
        return None


def _month(word: str) -> int | None:
    number = _MONTHS.get(word[:3].lower())
    if number is None or not calendar.month_name[number].lower().startswith(word.lower()):
        return None if word.lower() != "sept" else 9
    return number


def date_hint(value: Any) -> str:
    """What to write instead of a value that is not a ``YYYY-MM-DD`` date.

    >>> date_hint("13/02/2024")
    "'13/02/2024' is not a date; write dates as YYYY-MM-DD, here 2024-02-13"
    >>> date_hint("01/02/2024")
    "'01/02/2024' is not a date; write dates as YYYY-MM-DD: 2024-02-01 or 2024-01-02 (day and month cannot be told apart in '01/02/2024')"
    """  # noqa: E501
    lead = f"{_shown(value)} is not a date; write dates as YYYY-MM-DD"
    if not isinstance(value, str):
        return f"{lead}, e.g. 2024-02-01"
    text = value.strip()
    options: list[str | None] = []
    if m := _DMY.fullmatch(text):
        a, b, year = (int(g) for g in m.groups())
        options = [_iso(year, b, a), _iso(year, a, b)]  # day first, then month first
    elif m := _YMD.fullmatch(text):
        options = [_iso(*(int(g) for g in m.groups()))]
    elif m := _D_MON_Y.fullmatch(text):
        month = _month(m[2])
        options = [_iso(int(m[3]), month, int(m[1]))] if month else []
    elif m := _MON_D_Y.fullmatch(text):
        month = _month(m[1])
        options = [_iso(int(m[3]), month, int(m[2]))] if month else []
    found = list(dict.fromkeys(o for o in options if o))
    if len(found) == 2:
        return (
            f"{lead}: {found[0]} or {found[1]} (day and month cannot be told apart in "
            f"{_shown(value)})"
        )
    if found:
        return f"{lead}, here {found[0]}"
    return f"{lead}, e.g. 2024-02-01"


# An attestation entry pasted from the report before it was filled in.
_TO_FILL = {
    "holds": "true or false (whether the criterion's statement holds)",
    "by": "who judged it",
    "on": "the date it was judged (YYYY-MM-DD)",
}


def message_for(err: Any, fields: Sequence[str] = ()) -> tuple[str, tuple[str, ...]]:
    """(message, allowed values) for one pydantic error; ``fields`` are the field names at the
    place of an unknown field (for a "did you mean" hint).

    >>> message_for({"type": "extra_forbidden", "loc": ("a", "sexx"), "msg": "", "input": 1})
    ("unknown field 'sexx'", ())
    >>> message_for({"type": "extra_forbidden", "loc": ("birthdate",), "msg": "", "input": 1},
    ...             ["id", "birth_date", "sex"])
    ("unknown field 'birthdate'; did you mean 'birth_date'?", ())
    >>> message_for({"type": "greater_than_equal", "loc": ("labs", 0, "value"), "msg": "",
    ...              "input": -1.0, "ctx": {"ge": 0}})
    ('labs.0.value: must be at least 0 (got -1.0)', ())
    >>> print(message_for({"type": "bool_type", "loc": ("attestations", 0, "by"), "msg": "",
    ...                    "input": None})[0])
    attestations.0.by: empty; fill in who judged it
    """
    kind = err["type"]
    ctx = err.get("ctx") or {}
    loc = tuple(err["loc"])
    value = err.get("input")
    if value is None and len(loc) >= 2 and loc[0] == "attestations" and loc[-1] in _TO_FILL:
        return f"{field_path(loc)}: empty; fill in {_TO_FILL[str(loc[-1])]}", ()
    if kind == "bool_type" and isinstance(value, str):
        return f"{field_path(loc)}: write true or false (got {_shown(value)})", ()
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), list(fields), n=1, cutoff=0.7)
        if close:
            return f"unknown field '{loc[-1]}'; did you mean '{close[0]}'?", ()
        return f"unknown field '{loc[-1]}'", tuple(fields)
    if kind.startswith("date_") and not isinstance(value, dict | list):
        return f"{field_path(loc)}: {date_hint(value)}", ()
    if kind == "missing":
        return f"missing required field '{loc[-1] if loc else ''}'", ()
    if kind in ("enum", "literal_error"):
        allowed = _expected(ctx.get("expected", ""))
        return f"{field_path(loc)}: {_shown(value)} is not allowed", allowed
    if kind in _BOUND_WORDS and not isinstance(value, bool | dict | list):
        limit = next(iter(ctx.values()), "?")
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)
        return f"{field_path(loc)}: must be {_BOUND_WORDS[kind]} {limit} (got {_shown(value)})", ()
    message = str(err["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if not isinstance(value, dict | list) and kind not in ("value_error", "assertion_error"):
        message = f"{message} (got {_shown(value)})"
    return f"{field_path(loc)}: {message}", ()
