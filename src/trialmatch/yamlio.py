"""YAML (and JSON) loading that keeps the line and column of every node.

PyYAML's YAML 1.1 rules read ``no``/``on``/``yes`` as booleans; here only ``true``/``false``
are booleans, everything else stays a string. Duplicate keys are an error rather than a silent
overwrite. Positions are kept in a side map keyed by the path of keys/indices, so a pydantic
error location can be turned into ``file:line:column``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from trialmatch.errors import InputError, Problem, file_error

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PathKey = tuple[str | int, ...]


class _StrictLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe loader whose only booleans are true/false."""


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


class _FastLoader(_StrictLoader):
    """The strict loader without position tracking; any irregularity (a duplicate key, an
    impossible value) makes :func:`parse_yaml` redo the parse slowly to report it precisely."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
        if len(keys) != len(set(keys)) or any(
            k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value
        ):
            raise _Irregular
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


class _Irregular(Exception):
    """Raised by the fast loader when the careful parse must report a problem."""


@dataclass
class Document:
    """A parsed file: its data and the (line, column) of every key or item, 1-based.

    Positions are computed on first use (only errors need them), from the kept text.
    """

    path: str
    data: Any
    _positions: dict[PathKey, tuple[int, int]] | None = None
    text: str | None = None

    @property
    def positions(self) -> dict[PathKey, tuple[int, int]]:
        """(line, column) of every key and list item, keyed by path."""
        if self._positions is None:
            self._positions = _careful_parse(self.text or "", self.path)[1]
        return self._positions

    def locate(self, loc: Sequence[str | int]) -> tuple[int | None, int | None]:
        """Line and column for a pydantic-style location, skipping parts that are not keys.

        >>> doc = Document("f", {"a": [1]}, {(): (1, 1), ("a",): (1, 1), ("a", 0): (2, 3)})
        >>> doc.locate(("a", 0))
        (2, 3)
        >>> doc.locate(("a", 0, "tagname"))
        (2, 3)
        """
        path: PathKey = ()
        best = self.positions.get((), (None, None))
        for part in loc:
            candidate = (*path, part)
            if candidate in self.positions:
                path = candidate
                best = self.positions[candidate]
        return best

    def problem(
        self, loc: Sequence[str | int], message: str, allowed: Sequence[str] = ()
    ) -> Problem:
        """A :class:`Problem` located at ``loc``."""
        line, col = self.locate(loc)
        return Problem(self.path, line, col, message, tuple(allowed))


def _walk(
    loader: _StrictLoader,
    node: yaml.Node,
    path: PathKey,
    out: dict[PathKey, tuple[int, int]],
    problems: list[Problem],
    file: str,
) -> Any:
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        "merge keys ('<<') are not supported",
                    )
                )
                continue
            key = _scalar(loader, key_node, problems, file)
            if not isinstance(key, str | int):
                key = str(key)
            pos = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                problems.append(Problem(file, *pos, f"duplicate key '{key}'"))
                continue
            out[(*path, key)] = pos
            result[key] = _walk(loader, value_node, (*path, key), out, problems, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            out[(*path, index)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            items.append(_walk(loader, item, (*path, index), out, problems, file))
        return items
    return _scalar(loader, node, problems, file)


def _scalar(loader: _StrictLoader, node: yaml.Node, problems: list[Problem], file: str) -> Any:
    """Construct a scalar; an impossible value (such as 2021-02-30) becomes a problem."""
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, OverflowError) as exc:
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        problems.append(Problem(file, line, col, f"invalid value {node.value!r}: {exc}"))
        return node.value


def parse_yaml(text: str, path: str) -> Document:
    """Parse YAML text into a :class:`Document`; syntax errors raise :class:`InputError`.

    >>> parse_yaml("a: no\\nb: true\\n", "x.yaml").data
    {'a': 'no', 'b': True}
    """
    loader = _FastLoader(text)
    try:
        data = loader.get_single_data()
    except (_Irregular, yaml.YAMLError, ValueError, OverflowError):
        data, positions = _careful_parse(text, path)
        return Document(path, data, positions, text)
    finally:
        loader.dispose()
    if data is None:
        raise InputError.single(path, "the file is empty", 1, 1)
    return Document(path, data, None, text)


def _careful_parse(text: str, path: str) -> tuple[Any, dict[PathKey, tuple[int, int]]]:
    """Parse keeping every position; raise :class:`InputError` with every problem found."""
    loader = _StrictLoader(text)
    problems: list[Problem] = []
    try:
        node = loader.get_single_node()
        if node is None:
            raise InputError.single(path, "the file is empty", 1, 1)
        positions: dict[PathKey, tuple[int, int]] = {
            (): (node.start_mark.line + 1, node.start_mark.column + 1)
        }
        data = _walk(loader, node, (), positions, problems, path)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        raise InputError.single(path, f"YAML syntax error: {what}", line, col) from None
    except yaml.YAMLError as exc:
        raise InputError.single(path, f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    if problems:
        raise InputError(problems)
    return data, positions


def load_document(path: Path | str) -> Document:
    """Read and parse a YAML or JSON file (JSON is a subset of YAML 1.2 for our purposes).

    Missing or unreadable files raise :class:`InputError`.
    """
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise file_error(path, exc) from None
    if not text.strip():
        raise InputError.single(str(path), "the file is empty", 1, 1)
    return parse_yaml(text, str(path))


def require_mapping(doc: Document, what: str) -> dict[str, Any]:
    """The document's top level as a mapping, or an error saying what was expected."""
    if not isinstance(doc.data, dict):
        kind = type(doc.data).__name__ if doc.data is not None else "nothing"
        if isinstance(doc.data, list):
            kind = "a list"
        elif isinstance(doc.data, str):
            kind = "a plain string"
        raise InputError.single(
            doc.path, f"expected a mapping ({what}) at the top level, found {kind}", 1, 1
        )
    return doc.data
