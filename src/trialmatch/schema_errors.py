"""Turn pydantic validation errors into short messages with the allowed values."""

from __future__ import annotations

from typing import Any


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
    from trialmatch.printable import excerpt

    text = repr(value)
    if len(text) <= 62:
        return text
    return excerpt(value) if isinstance(value, str) else text[:60] + "…"


def _expected(text: str) -> tuple[str, ...]:
    return tuple(e.strip(" '") for e in text.replace(" or ", ", ").split(",") if e.strip(" '"))


def message_for(err: Any) -> tuple[str, tuple[str, ...]]:
    """(message, allowed values) for one pydantic error.

    >>> message_for({"type": "extra_forbidden", "loc": ("a", "sexx"), "msg": "", "input": 1})
    ("unknown field 'sexx'", ())
    >>> message_for({"type": "greater_than_equal", "loc": ("labs", 0, "value"), "msg": "",
    ...              "input": -1.0, "ctx": {"ge": 0}})
    ('labs.0.value: must be at least 0 (got -1.0)', ())
    """
    kind = err["type"]
    ctx = err.get("ctx") or {}
    loc = tuple(err["loc"])
    value = err.get("input")
    if kind == "extra_forbidden":
        return f"unknown field '{loc[-1]}'", ()
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
