"""JSON input that cannot hurt: a bounded file, UTF-8 (or a byte order mark), bounded nesting,
no duplicate keys, no ``NaN``/``Infinity``, and every problem as a located :class:`InputError`.

Used for FHIR bundles and NDJSON lines. A JSON path is written the FHIR way:
``entry[3].resource.code.coding[0]``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trialmatch.errors import InputError
from trialmatch.io.yamlio import decode_text, read_regular_file

MAX_JSON_BYTES = 50 * 1024 * 1024  # a whole patient's bundle, with its history
MAX_JSON_DEPTH = 64  # FHIR resources nest a dozen levels at most
JsonPath = tuple[str | int, ...]
_TOO_DEEP = object()


def json_path(path: Sequence[str | int]) -> str:
    """A path as FHIR writes it.

    >>> json_path(("entry", 3, "resource", "code", "coding", 0))
    'entry[3].resource.code.coding[0]'
    >>> json_path(())
    '(top level)'
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: Any, limit: int) -> bool:
    """Whether the nesting of ``value`` stays within ``limit`` (iteratively: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return False
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def parse_json(text: str, source: str, line: int | None = None) -> Any:
    """Parse JSON text; a syntax error, a duplicate key, ``NaN`` or nesting deeper than
    :data:`MAX_JSON_DEPTH` is an :class:`InputError` at ``source`` (and ``line``).

    >>> parse_json('{"a": [1, 2]}', "b.json")
    {'a': [1, 2]}
    >>> parse_json('{"a": 1, "a": 2}', "b.json")
    Traceback (most recent call last):
    trialmatch.errors.InputError: b.json: not valid JSON: duplicate key 'a'
    """
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        if line is None:
            raise InputError.single(
                source, f"not valid JSON: {exc.msg}", exc.lineno, exc.colno
            ) from None
        raise InputError.single(
            source, f"not valid JSON: {exc.msg} (column {exc.colno})", line
        ) from None
    except ValueError as exc:
        raise InputError.single(source, f"not valid JSON: {exc}", line) from None
    except RecursionError:
        data = _TOO_DEEP
    if data is _TOO_DEEP or not _depth(data, MAX_JSON_DEPTH):
        raise InputError.single(
            source, f"the JSON nests deeper than {MAX_JSON_DEPTH} levels; not a FHIR resource", line
        )
    return data


def load_json(path: Path | str, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """Read and parse a JSON file (a regular file of at most ``max_bytes``)."""
    text = decode_text(read_regular_file(path, max_bytes), path)
    if not text.strip():
        raise InputError.single(str(path), "the file is empty", 1, 1)
    return parse_json(text, str(path))
