"""ClinicalTrials.gov API v2 study records (a JSON file the user downloaded): reading one, its
fields by JSON path with their types checked, and its eligibility text split into statements
under their headings.

>>> text = "Inclusion Criteria:\\n\\n* Age 18 or older\\n* Organ function:\\n  * ANC >= 1.5"
>>> [(s.number, s.text, s.parent) for s in split_eligibility(text)]
[('1', 'Age 18 or older', None), ('2', 'Organ function:', None), ('2.1', 'ANC >= 1.5', '2')]
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trialmatch.errors import InputError
from trialmatch.io.yamlio import decode_text, read_regular_file

MAX_RECORD_BYTES = 20 * 1024 * 1024  # a record with results is a few megabytes at most


@dataclass(frozen=True)
class Record:
    """One study record: ``study`` is the object with ``protocolSection``."""

    path: str
    study: dict[str, Any]

    def get(self, dotted: str, kind: type | tuple[type, ...] = object) -> Any:
        """The value at a JSON path (``protocolSection.statusModule.overallStatus``), None when
        a part is missing; a value of another type is a located error.

        >>> r = Record("s.json", {"protocolSection": {"designModule": {"phases": 3}}})
        >>> r.get("protocolSection.statusModule.overallStatus", str) is None
        True
        >>> r.get("protocolSection.designModule.phases", list)
        Traceback (most recent call last):
        trialmatch.errors.InputError: s.json: protocolSection.designModule.phases: expected ...
        """
        node: Any = self.study
        for part in dotted.split("."):
            if not isinstance(node, dict):
                raise self.error(dotted, f"expected an object at {part!r}, found {_kind(node)}")
            if part not in node or node[part] is None:
                return None
            node = node[part]
        if not isinstance(node, kind) or (kind is not bool and isinstance(node, bool)):
            raise self.error(dotted, f"expected {_name(kind)}, found {_kind(node)}")
        return node

    def strings(self, dotted: str) -> list[str]:
        """A list of strings at a JSON path (empty when missing); other items are errors."""
        items = self.get(dotted, list) or []
        bad = [i for i, x in enumerate(items) if not isinstance(x, str)]
        if bad:
            raise self.error(
                f"{dotted}[{bad[0]}]", f"expected a string, found {_kind(items[bad[0]])}"
            )
        return [x for x in items if x.strip()]

    def objects(self, dotted: str) -> list[dict[str, Any]]:
        """A list of objects at a JSON path (empty when missing); other items are errors."""
        items = self.get(dotted, list) or []
        bad = [i for i, x in enumerate(items) if not isinstance(x, dict)]
        if bad:
            raise self.error(
                f"{dotted}[{bad[0]}]", f"expected an object, found {_kind(items[bad[0]])}"
            )
        return list(items)

    def error(self, dotted: str, message: str) -> InputError:
        """A problem at a JSON path of this record."""
        return InputError.single(self.path, f"{dotted}: {message}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", list: "a list", dict: "an object", bool: "true/false"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def read_record(path: Path | str) -> Record:
    """Read a study record: one study object, or an API answer holding exactly one
    (``{"studies": [...]}``). Not JSON, not a study, several studies: located errors."""
    text = decode_text(read_regular_file(path, MAX_RECORD_BYTES), path)
    if not text.strip():
        raise InputError.single(str(path), "the file is empty", 1, 1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        message = exc.msg[:-3] + " here" if exc.msg.endswith(" at") else exc.msg
        if exc.msg.startswith("Unterminated") or exc.pos >= len(text.rstrip()):
            message += " (the file ends early: is it cut short?)"
        raise InputError.single(str(path), f"not JSON: {message}", exc.lineno, exc.colno) from None
    except RecursionError:
        raise InputError.single(str(path), "nested too deeply to be a study record") from None
    if isinstance(data, dict) and "studies" in data and "protocolSection" not in data:
        studies = data["studies"]
        if not isinstance(studies, list) or len(studies) != 1:
            n = len(studies) if isinstance(studies, list) else 0
            raise InputError.single(
                str(path), f"studies: expected exactly one study record, found {n}; save one study"
            )
        data = studies[0]
    if not isinstance(data, dict) or not isinstance(data.get("protocolSection"), dict):
        raise InputError.single(
            str(path),
            "not a ClinicalTrials.gov API v2 study record: no protocolSection object (download "
            "the study as JSON from clinicaltrials.gov or /api/v2/studies/NCT…)",
        )
    return Record(str(path), data)


# ------------------------------------------------------------------------------------------
# Eligibility text


@dataclass(frozen=True)
class Statement:
    """One statement of the eligibility text: its section (``inclusion``, ``exclusion``, or
    ``""`` under no heading), its number (``3``, or ``3.1`` for an item under statement 3),
    its text as the registry shows it (whitespace squashed), the sub-heading or qualified
    heading it stands under ("Inclusion criteria for part A"), the number of the statement it
    is an item of, how many items it has, and its line in the eligibility text."""

    section: str
    number: str
    text: str
    heading: str | None
    parent: str | None
    items: int
    line: int


_HEADING = re.compile(
    r"^(?:(?:key|main|principal|major|general|additional|other|specific)\s+)?"
    r"(?P<kind>inclusion|exclusion)\s+criteri(?:a|on)\b(?P<rest>.*)$",
    re.IGNORECASE,
)
_BARE_HEADING = re.compile(r"^(?P<kind>inclusion|exclusion)\s*:?$", re.IGNORECASE)
_MARKER = re.compile(
    r"^(?P<marker>[*\-•·▪◦‣+]|o(?=\s)|\d{1,3}[.)](?!\d)|\(\d{1,3}\)|[a-zA-Z][.)](?=\s)"
    r"|\([a-zA-Z]\)|(?:i|ii|iii|iv|v|vi|vii|viii|ix|x)[.)](?=\s))\s+(?P<text>\S.*)$"
)
_SUBHEADING = re.compile(r"^[A-Z][A-Z0-9 ,/&()'-]{2,60}:$")


def _heading(text: str) -> tuple[str, str, str | None] | None:
    """(``inclusion`` or ``exclusion``, text after the heading on its line, the heading itself
    when it says more than its section) for a heading line ("Key Inclusion Criteria:",
    "EXCLUSION CRITERIA", "Inclusion:", "Inclusion criteria for part A:"), else None:
    "Inclusion criteria include adults" is a statement."""
    t = text.strip().strip("*_#").strip()
    bare = _BARE_HEADING.match(t)
    if bare:
        return bare.group("kind").lower(), "", None
    m = _HEADING.match(t)
    if m is None:
        return None
    rest = m.group("rest").strip()
    kind = m.group("kind").lower()
    if rest.startswith(":"):
        return kind, rest[1:].strip(), None
    if len(t) <= 80 and (not rest or rest.endswith(":") or rest[0] in "(-–"):
        return kind, "", t.rstrip(":").strip() if rest.strip(":") else None
    return None


@dataclass
class _Item:
    indent: int
    text: str
    line: int
    children: list[_Item]


_LONE_MARKER = re.compile(r"^(?:[*\-•·▪◦‣+]|\d{1,3}[.)])$")
_MD_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.*?)[\s#]*$")
MAX_STATEMENTS = 10_000  # a criteria file of more cannot be loaded (YAML size limits)
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def unescape(text: str) -> str:
    """The text the registry shows for its Markdown source: a backslash before ASCII
    punctuation is an escape (the API writes "Age \\>= 18" and "\\* item").

    >>> unescape(r"\\* Age \\>= 18 years\\.")
    '* Age >= 18 years.'
    """
    return _ESCAPED.sub(r"\1", text)


def split_eligibility(text: str) -> list[Statement]:
    """Statements of an eligibility text, in order: each bullet, numbered item or paragraph is
    one statement; wrapped lines join their item; a nested item is a statement of its own,
    an item of the statement above it; headings set the section, and a sub-heading (or a
    heading that says more, "for part A") is kept with each statement under it. Every word of
    the text is in some statement (a bullet with no text, a Markdown hard break's backslash,
    and the heading words "Inclusion Criteria" are the only things left out)."""
    lines = unescape(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[Statement] = []
    section = ""
    sub: str | None = None
    roots: list[_Item] = []
    stack: list[_Item] = []
    counters: dict[str, int] = {}
    last: _Item | None = None
    blank = True

    def flush() -> None:
        nonlocal roots, stack, last
        for item in roots:
            counters[section] = counters.get(section, 0) + 1
            _emit(item, str(counters[section]), section, sub, None, out)
        roots, stack, last = [], [], None

    for number, raw in enumerate(lines, 1):
        expanded = raw.replace("\t", "    ").rstrip()
        if expanded.endswith("\\"):  # a Markdown hard line break
            expanded = expanded[:-1].rstrip()
        stripped = expanded.strip()
        if not stripped:
            blank = True
            continue
        if _LONE_MARKER.match(stripped):
            continue  # a bullet with no text
        indent = len(expanded) - len(expanded.lstrip())
        heading = _heading(stripped)
        if heading is not None:
            flush()
            section, sub, blank = heading[0], heading[2], False
            if not heading[1]:
                continue
            stripped, indent = heading[1], 0  # "Inclusion Criteria: age 18 or older"
        md = _MD_HEADING.match(stripped)
        m = None if md else _MARKER.match(stripped)
        if md or (m is None and _SUBHEADING.match(stripped) and blank):
            flush()
            sub = (md.group("text") if md else stripped).rstrip(":").strip() or sub
            blank = False
            continue
        if m is None and last is not None and not blank:
            last.text += " " + stripped  # a wrapped line of the item above
            continue
        body = m.group("text") if m else stripped
        item = _Item(indent if m else -1, body, number, [])
        paragraph = m is None  # a statement of its own at the top level
        if stack and stack[-1].indent < 0 and not stack[-1].text.rstrip().endswith(":"):
            stack.pop()  # a paragraph that is no lead-in has no items under it
        while stack and (paragraph or stack[-1].indent >= item.indent):
            stack.pop()
        if stack:
            stack[-1].children.append(item)
        else:
            roots.append(item)
        stack.append(item)
        last, blank = item, False
        if len(out) + len(roots) > MAX_STATEMENTS:
            break
    flush()
    return out


def _emit(
    item: _Item,
    number: str,
    section: str,
    heading: str | None,
    parent: str | None,
    out: list[Statement],
) -> None:
    text = " ".join(item.text.split())
    out.append(Statement(section, number, text, heading, parent, len(item.children), item.line))
    for k, child in enumerate(item.children, 1):
        _emit(child, f"{number}.{k}", section, heading, number, out)
