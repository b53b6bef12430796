"""YAML (and JSON) loading that keeps the line and column of every node.

PyYAML's YAML 1.1 rules read ``no``/``on``/``yes`` as booleans; here only ``true``/``false``
are booleans, everything else stays a string. Duplicate keys are an error rather than a silent
overwrite. Positions are kept in a side map keyed by the path of keys/indices, so a pydantic
error location can be turned into ``file:line:column``.

Hostile input is normal input: only regular files of at most :data:`MAX_FILE_BYTES` are read
(never a FIFO, device or directory); the composed YAML graph is checked before anything is built
from it, so anchors and aliases cannot expand past :data:`MAX_NODES` values ("billion laughs"),
nesting cannot pass :data:`MAX_DEPTH`, and only the plain YAML types are accepted (a
``!!python/object`` or ``!!binary`` tag is an error, on a scalar, a mapping or a sequence).
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from trialmatch.errors import InputError, Problem, file_error
from trialmatch.io.files import open_regular

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PathKey = tuple[str | int, ...]

MAX_FILE_BYTES = 5 * 1024 * 1024  # a patient or criteria file is a few kilobytes
MAX_NODES = 100_000  # values of the document once anchors and aliases are expanded
MAX_DEPTH = 50  # nesting of mappings and sequences
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}"
    for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq", "merge")
)  # a merge key (<<) is reported on its own, as not supported


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
    sha256: str | None = None

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


class DocumentProblems(InputError):
    """Problems found while building a document that could still be built (a duplicate key,
    an impossible date): ``document`` holds what was read (the first of duplicate keys, a bad
    value as its text), so a schema can be checked too and every problem reported at once."""

    def __init__(self, problems: list[Problem], document: Document) -> None:
        super().__init__(problems)
        self.document = document


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


def _check_graph(node: yaml.Node, path: str) -> None:
    """Refuse a composed document whose expansion would be too large or too deep, or that
    carries a tag other than the plain YAML types. Linear in the size of the composed graph
    (aliases are counted through a memo, never expanded)."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    ancestors: set[int] = set()  # nodes being expanded: reaching one again is a cycle
    # Iterative post-order walk over the node graph (a node reached twice is an alias).
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, done = stack.pop()
        key = id(current)
        if done:
            ancestors.discard(key)
            kids = _children(current)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            if depth[key] > MAX_DEPTH:
                raise _graph_error(path, current, f"nesting deeper than {MAX_DEPTH} levels")
            if size[key] > MAX_NODES:
                raise _graph_error(
                    path,
                    current,
                    f"this document expands to more than {MAX_NODES:,} values through "
                    "anchors and aliases (&name / *name)",
                )
            continue
        if key in size:
            continue
        if current.tag not in _PLAIN_TAGS:
            raise _graph_error(
                path,
                current,
                f"YAML tag {_excerpt(current.tag.replace('tag:yaml.org,2002:', '!!'))} is not "
                "allowed (only plain values, lists and mappings)",
            )
        stack.append((current, True))
        ancestors.add(key)
        for kid in _children(current):
            if id(kid) in ancestors:
                raise _graph_error(path, kid, "an alias refers to a node that contains it")
            if id(kid) not in size:
                stack.append((kid, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _graph_error(path: str, node: yaml.Node, message: str) -> InputError:
    return InputError.single(path, message, node.start_mark.line + 1, node.start_mark.column + 1)


def _excerpt(text: str, limit: int = 60) -> str:
    """A short, printable quotation of a value for an error message."""
    shown = text if len(text) <= limit else text[:limit] + "…"
    return repr(shown)


def parse_yaml(text: str, path: str) -> Document:
    """Parse YAML text into a :class:`Document`; syntax errors raise :class:`InputError`.

    >>> parse_yaml("a: no\\nb: true\\n", "x.yaml").data
    {'a': 'no', 'b': True}
    """
    loader = _FastLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError:
            node, irregular = None, True
        else:
            irregular = False
        if node is not None:
            _check_graph(node, path)
        data: Any = None
        if not irregular and node is not None:
            try:
                data = loader.construct_document(node)
            except (_Irregular, yaml.YAMLError, ValueError, OverflowError):
                irregular = True
        if irregular:
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
        _check_graph(node, path)
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
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        char = f"U+{exc.character:04X}" if isinstance(exc.character, int) else repr(exc.character)
        raise InputError.single(
            path,
            f"control character {char} is not allowed in a YAML file (remove it, or write it "
            'as an escape such as "\\x1b" inside double quotes)',
            line,
            col,
        ) from None
    except yaml.YAMLError as exc:
        raise InputError.single(path, f"YAML error: {_excerpt(str(exc), 200)}") from None
    finally:
        loader.dispose()
    if problems:
        raise DocumentProblems(problems, Document(path, data, positions, text))
    return data, positions


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_regular_file(path: Path | str, max_bytes: int | None = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file, at most ``max_bytes``: a FIFO, device, socket or directory
    is refused without blocking, and so is a larger file.

    >>> read_regular_file("/dev/null")
    Traceback (most recent call last):
    trialmatch.errors.InputError: /dev/null: not a regular file (a character device); give a file
    """
    fd = open_regular(path)
    try:
        info = os.fstat(fd)
        if max_bytes is not None and info.st_size > max_bytes:
            raise InputError.single(str(path), _too_big(info.st_size, max_bytes))
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1) if max_bytes is not None else fh.read()
        if max_bytes is not None and len(data) > max_bytes:  # it grew while being read
            raise InputError.single(str(path), _too_big(len(data), max_bytes))
        return data
    except OSError as exc:
        raise file_error(path, exc) from None
    finally:
        os.close(fd)


def _too_big(size: int, limit: int) -> str:
    return (
        f"the file is {size / 1e6:.1f} MB; patient and criteria files are limited to "
        f"{limit / 1e6:.0f} MB"
    )


def decode_text(data: bytes, path: Path | str) -> str:
    """Text of a file: UTF-8 (with or without a byte order mark), or UTF-16/UTF-32 when a byte
    order mark says so. Bytes that are not UTF-8 are a located error.

    >>> decode_text("é".encode("utf-16"), "p.yaml")
    'é'
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise file_error(path, exc) from None
    head = data[:400]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        raise InputError.single(
            str(path),
            "the file looks like UTF-16 or UTF-32 text without a byte order mark; save it as "
            "UTF-8 (or with a byte order mark)",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        hint = ""
        if b"\x00" in data[:200]:
            hint = " (it has NUL bytes: is it UTF-16 without a byte order mark?)"
        raise InputError.single(
            str(path), f"not UTF-8 text (byte {exc.start}){hint}", line
        ) from None


def load_document(path: Path | str) -> Document:
    """Read and parse a YAML or JSON file (JSON is a subset of YAML 1.2 for our purposes).

    Missing, unreadable, special or oversized files raise :class:`InputError`.
    """
    data = read_regular_file(path)
    text = decode_text(data, path)
    if not text.strip():
        raise InputError.single(str(path), "the file is empty", 1, 1)
    doc = parse_yaml(text, str(path))
    doc.sha256 = hashlib.sha256(data).hexdigest()
    return doc


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
