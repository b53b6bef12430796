"""What every FHIR mapper shares: code systems, notes (warnings and errors with their JSON
path), typed access to elements, FHIR dates and codeable concepts.

A value of the wrong JSON type in an element trialmatch reads is an error for its resource
(:class:`ResourceError`): the resource is skipped and the error names the element's path,
never its value's neighbours (patient data is sensitive). Elements trialmatch does not read are
not checked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from trialmatch.io.jsonio import JsonPath, json_path

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
ICD10CM = frozenset({"http://hl7.org/fhir/sid/icd-10-cm", "urn:oid:2.16.840.1.113883.6.90"})
SYSTEM_NAMES = {SNOMED: "SNOMED CT", LOINC: "LOINC", RXNORM: "RxNorm", UCUM: "UCUM"}


def system_name(system: str | None) -> str:
    """A code system's usual name.

    >>> system_name("http://snomed.info/sct"), system_name("http://hl7.org/fhir/sid/icd-10-cm")
    ('SNOMED CT', 'ICD-10-CM')
    """
    if system in ICD10CM:
        return "ICD-10-CM"
    if system is None:
        return "code without a system"
    return SYSTEM_NAMES.get(system, system)


class ResourceError(Exception):
    """A value a resource cannot hold, at a JSON path: the resource is skipped."""

    def __init__(self, path: JsonPath, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Note:
    """A warning or error at a JSON path of the input.

    >>> str(Note(("entry", 3, "resource", "code"), "not imported"))
    'entry[3].resource.code: not imported'
    """

    path: JsonPath
    message: str

    def __str__(self) -> str:
        return f"{json_path(self.path)}: {self.message}"


@dataclass
class Notes:
    """Warnings (data not imported, said why) and errors (resources skipped) of one bundle."""

    warnings: list[Note] = field(default_factory=list)
    errors: list[Note] = field(default_factory=list)

    def warn(self, path: JsonPath, message: str) -> None:
        self.warnings.append(Note(path, message))

    def error(self, path: JsonPath, message: str) -> None:
        self.errors.append(Note(path, message))


_TYPES: dict[type, str] = {str: "a string", dict: "an object", list: "an array", bool: "true/false"}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    return _TYPES.get(type(value), type(value).__name__)


def get(res: dict[str, Any], key: str, kind: type, path: JsonPath) -> Any:
    """``res[key]`` when present and of JSON type ``kind`` (str, dict, list, bool), None when
    absent; any other type is a :class:`ResourceError` at the element."""
    if key not in res:
        return None
    value = res[key]
    if kind is bool:
        ok = isinstance(value, bool)
    else:
        ok = isinstance(value, kind) and not isinstance(value, bool)
    if not ok:
        raise ResourceError((*path, key), f"expected {_TYPES[kind]}, found {_kind(value)}")
    return value


def number(
    res: dict[str, Any], key: str, path: JsonPath, whole: bool = False
) -> int | float | None:
    """A JSON number as written (or None when absent); a string, true/false or a fraction
    where a whole number is needed is a :class:`ResourceError`."""
    if key not in res:
        return None
    value = res[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResourceError((*path, key), f"expected a number, found {_kind(value)}")
    if isinstance(value, int) and abs(value) > 10**300:
        raise ResourceError((*path, key), "the number is too large")
    if whole and not (isinstance(value, int) or float(value).is_integer()):
        raise ResourceError((*path, key), f"expected a whole number, found {value!r}")
    return value


def items(res: dict[str, Any], key: str, path: JsonPath) -> Iterator[tuple[JsonPath, Any]]:
    """(path, item) of an array element; each item must be an object."""
    for i, item in enumerate(get(res, key, list, path) or ()):
        where = (*path, key, i)
        if not isinstance(item, dict):
            raise ResourceError(where, f"expected an object, found {_kind(item)}")
        yield where, item


@dataclass(frozen=True)
class Code:
    """One coding of a CodeableConcept, with its path."""

    path: JsonPath
    system: str | None
    code: str | None
    display: str | None

    def shown(self) -> str:
        """How a warning names it: ``SNOMED CT 1234``."""
        return f"{system_name(self.system)} {self.code}" if self.code else "a coding without code"


def codings(concept: dict[str, Any], path: JsonPath) -> list[Code]:
    """The codings of a CodeableConcept (each checked for type)."""
    out = []
    for where, c in items(concept, "coding", path):
        out.append(
            Code(
                where,
                get(c, "system", str, where),
                (get(c, "code", str, where) or "").strip() or None,
                get(c, "display", str, where),
            )
        )
    return out


def concept_text(concept: dict[str, Any], path: JsonPath) -> str | None:
    """``CodeableConcept.text``, stripped, or None."""
    text = get(concept, "text", str, path)
    return text.strip() or None if text else None


def coded(concept: dict[str, Any] | None, path: JsonPath, system: str) -> list[Code]:
    """The codings of one system."""
    if concept is None:
        return []
    return [c for c in codings(concept, path) if c.system == system and c.code]


_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_DATETIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(?::(?:[0-5]\d|60)(?:\.\d+)?)?"
    r"(?:Z|[+-](?:0\d|1[0-4]):[0-5]\d)?$"
)


def fhir_day(value: Any, path: JsonPath, notes: Notes, consequence: str) -> dt.date | None:
    """The calendar day of a FHIR date, dateTime or instant, as written (a time zone does not
    move it: ``2026-11-10T23:30:00-05:00`` is 2026-11-10). A partial date (``2026`` or
    ``2026-11``) gives no day: it is warned about (with ``consequence``) and None returned,
    never rounded to a day. Anything else is a :class:`ResourceError`.

    >>> fhir_day("2026-11-10T23:30:00-05:00", ("x",), Notes(), "")
    datetime.date(2026, 11, 10)
    """
    if not isinstance(value, str):
        raise ResourceError(path, f"expected a date as a string, found {_kind(value)}")
    text = value.strip()
    m = _DATE.match(text) or _DATETIME.match(text)
    if not m:
        raise ResourceError(
            path, f"{value!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)"
        )
    year, month, day = m.group(1), m.group(2), m.group(3)
    if month is None or day is None:
        notes.warn(path, f"partial date {text!r} names no day; {consequence}")
        return None
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise ResourceError(path, f"{text!r} is not a calendar date") from None


def choice(
    res: dict[str, Any], stem: str, path: JsonPath, allowed: tuple[str, ...]
) -> tuple[str, Any] | None:
    """The one ``stem[x]`` element present (``effectiveDateTime``, ...) as (suffix, value);
    two of them is a :class:`ResourceError` (a FHIR choice holds one value)."""
    found = sorted(k for k in res if k.startswith(stem) and k[len(stem) :][:1].isupper())
    if len(found) > 1:
        raise ResourceError(
            (*path, found[1]), f"{stem}[x] holds one value; found {', '.join(sorted(found))}"
        )
    if not found:
        return None
    suffix = found[0][len(stem) :]
    if suffix not in allowed:
        return suffix, None
    return suffix, res[found[0]]


def point_day(
    res: dict[str, Any], stem: str, path: JsonPath, notes: Notes, consequence: str
) -> tuple[bool, dt.date | None]:
    """The day of a point-in-time ``stem[x]`` (effective, performed, occurrence): a date,
    dateTime or instant, or a Period's end (its start when the end is missing). Returns
    (whether the element is present, the day or None when it names no day)."""
    found = choice(res, stem, path, ("DateTime", "Instant", "Date", "Period"))
    if found is None:
        return False, None
    suffix, value = found
    where = (*path, stem + suffix)
    if value is None:
        notes.warn(where, f"{stem}{suffix} names no calendar day; {consequence}")
        return True, None
    if suffix == "Period":
        period = get(res, stem + suffix, dict, path)
        key = "end" if "end" in period else "start"
        if key not in period:
            notes.warn(where, f"the period has neither start nor end; {consequence}")
            return True, None
        return True, fhir_day(period[key], (*where, key), notes, consequence)
    return True, fhir_day(value, where, notes, consequence)


def period(
    res: dict[str, Any], key: str, path: JsonPath, notes: Notes
) -> tuple[dt.date | None, dt.date | None]:
    """(start, end) days of a Period element."""
    p = get(res, key, dict, path)
    if p is None:
        return None, None
    where = (*path, key)
    start = (
        fhir_day(p["start"], (*where, "start"), notes, "start not imported")
        if "start" in p
        else None
    )
    end = fhir_day(p["end"], (*where, "end"), notes, "end not imported") if "end" in p else None
    return start, end


def said_status(status: str | None) -> str:
    """How a message names a status: ``status 'stopped'``, or ``no status``."""
    return f"status {status!r}" if status else "no status"


def status_code(res: dict[str, Any], key: str, path: JsonPath) -> str | None:
    """A status: a code string, or the first coding's code of a CodeableConcept (the
    ``clinicalStatus`` form)."""
    value = res.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    concept = get(res, key, dict, path)
    for c in codings(concept, (*path, key)):
        if c.code:
            return c.code
    return concept_text(concept, (*path, key))
