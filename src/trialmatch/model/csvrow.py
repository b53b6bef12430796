"""A patients CSV row as a patient and back: :func:`row_to_patient` (the reference path,
through the pydantic model, every bad cell of a row collected) and :func:`patient_to_row`
(templates and tests). The columns themselves are :mod:`trialmatch.model.csvlayout`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from trialmatch.io.printable import excerpt
from trialmatch.model.csvlayout import (
    GROUPS,
    LAB_COLS,
    LIST_SEP,
    MARKERS,
    NONE_MARKER,
    PARTIAL_MARKER,
    SCALARS,
    SLOT_RE,
    CellError,
    Col,
    Header,
    RowError,
    RowProblem,
    parse_cell,
)
from trialmatch.model.patient import (
    LISTINGS,
    Patient,
    screening_problems,
)
from trialmatch.model.schema_errors import field_path, message_for


def _set(target: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for p in parts[:-1]:
        target = target.setdefault(p, {})
    target[parts[-1]] = value


Where = dict[tuple[Any, ...], str]


def row_to_dict(header: Header, row: Mapping[str, str]) -> tuple[dict[str, Any], Where]:
    """A patient dict from a CSV row, and a map from model locations back to columns.

    Raises :class:`CellError` (the first one) for a cell that cannot be parsed or a list
    marker that contradicts its slots; :func:`row_cells` gives all of them.
    """
    data, where, problems = row_cells(header, row)
    if problems:
        raise problems[0]
    return data, where


def row_cells(
    header: Header, row: Mapping[str, str]
) -> tuple[dict[str, Any], Where, list[CellError]]:
    """Like :func:`row_to_dict`, but every cell is read: returns the dict (without the bad
    cells), the location map and every :class:`CellError`, in column order.

    >>> from trialmatch.model.csvlayout import parse_header
    >>> h = parse_header(["id", "sex", "ecog"], [])
    >>> [e.column for e in row_cells(h, {"id": "P1", "sex": "F", "ecog": "x"})[2]]
    ['sex', 'ecog']
    """
    data: dict[str, Any] = {}
    where: Where = {}
    problems: list[CellError] = []

    def read(column: str, col: Col, text: str) -> Any:
        try:
            return parse_cell(column, col, text)
        except CellError as exc:
            problems.append(exc)
            return _BAD

    for name, col in header.scalars.items():
        text = (row.get(name) or "").strip()
        if text and (value := read(name, col, text)) is not _BAD:
            _set(data, col.field, value)
            where[tuple(col.field.split("."))] = name
            where.setdefault((col.field.split(".")[0],), name)
    labs: list[dict[str, Any]] = []
    for lab_id, cols in header.labs.items():
        values: dict[str, Any] = {}
        bad = False
        for part, column in cols.items():
            text = (row.get(column) or "").strip()
            if text:
                spec = next(
                    c for c in LAB_COLS if c.field == ("value" if part == "value" else part)
                )
                value = read(column, spec, text)
                if value is _BAD:
                    bad = True
                else:
                    values[part] = value
        if values and not bad:
            if "value" not in values:
                problems.append(
                    CellError(
                        cols["value"], "lab details given without the value", "lab_value_missing"
                    )
                )
                continue
            if "unit" not in values:
                problems.append(
                    CellError(
                        cols.get("unit", f"lab_{lab_id}_unit"),
                        "lab value given without its unit",
                        "lab_unit_missing",
                    )
                )
                continue
            where[("labs", len(labs))] = cols["value"]
            for part, column in cols.items():
                where[("labs", len(labs), part)] = column
            labs.append({"name": lab_id, **values})
    if labs:
        data["labs"] = labs
    for group in GROUPS:
        marker = (row.get(group.marker) or "").strip() if group.marker in header.markers else ""
        if marker and marker.lower() not in MARKERS:
            problems.append(
                CellError(
                    group.marker,
                    f"{excerpt(marker)}: the marker column takes 'none', 'partial' or nothing",
                    "bad_list_marker",
                )
            )
            marker = ""
        if group.marker in ("diagnoses", "attestations") and marker.lower() == PARTIAL_MARKER:
            problems.append(
                CellError(
                    group.marker,
                    f"the {group.marker} take 'none' or nothing, not 'partial'",
                    "marker_partial",
                )
            )
            marker = ""
        items: list[dict[str, Any]] = []
        for k in sorted(header.slots.get(group.marker, {})):
            cols = header.slots[group.marker][k]
            item: dict[str, Any] = {}
            for col in group.cols:
                slot_col = cols.get(col.suffix)
                text = (row.get(slot_col) or "").strip() if slot_col else ""
                if slot_col and text and (value := read(slot_col, col, text)) is not _BAD:
                    _set(item, col.field, value)
            if not item:
                continue
            index = len(items)
            for col in group.cols:
                if col.suffix in cols:
                    where[(group.marker, index, *col.field.split("."))] = cols[col.suffix]
            where[(group.marker, index)] = next(iter(cols.values()))
            items.append(_group_item(group.marker, item))
        if marker.lower() == PARTIAL_MARKER:
            data[group.marker] = {"complete": False, "items": items}
        elif marker:
            if items:
                problems.append(
                    CellError(group.marker, "says 'none' but items are given", "none_with_items")
                )
            data[group.marker] = []
        elif items:
            data[group.marker] = items
    return data, where, problems


_BAD = object()  # a cell that could not be read (its CellError is collected)


def _group_item(marker: str, item: dict[str, Any]) -> dict[str, Any]:
    """Reshape a slot into the patient model's item shape."""
    if marker == "diagnoses":
        findings: list[Any] = list(item.pop("findings", []))
        findings += [{"name": n, "present": False} for n in item.pop("findings_absent", [])]
        if findings:
            item["findings"] = findings
        risk = item.pop("risk", None)
        if risk is not None:
            item["risk_scores"] = [risk]
    return item


def row_to_patient(
    header: Header, row: Mapping[str, str], row_number: int, as_of: dt.date | None = None
) -> Patient | RowError:
    """The patient in a CSV row, or every reason it cannot be read (with ``as_of``, a value
    impossible on that screening date is a reason too). Every bad cell is reported; the rules
    of the patient model (an end before a start, ECOG 0-5, ...) are checked once every cell
    reads, and the screening date once the model accepts the row.

    >>> from trialmatch.model.csvlayout import parse_header
    >>> h = parse_header(["id", "sex"], [])
    >>> str(row_to_patient(h, {"id": "P1", "sex": "F"}, 1))
    "row 1, column 'sex': 'F' is not allowed (allowed: female, male, other)"
    """
    data, where, bad = row_cells(header, row)
    if bad:
        return RowError.of(row_number, [RowProblem(e.column, e.kind, e.message) for e in bad])
    try:
        patient = Patient.model_validate(data)
    except ValidationError as exc:
        problems = [_model_problem(err, where) for err in exc.errors()]
        return RowError.of(row_number, list(dict.fromkeys(problems)))
    if as_of is not None:
        found = screening_problems(patient, as_of)
        if found:
            return RowError.of(
                row_number,
                [RowProblem(where.get(loc, loc[0]), "impossible_on_date", m) for loc, m in found],
            )
    return patient


def _model_problem(err: Any, where: Where) -> RowProblem:
    """A pydantic error as a problem named by its CSV column."""
    loc = tuple(err["loc"])
    if len(loc) > 1 and loc[0] in LISTINGS and loc[1] == "items":
        loc = (loc[0], *loc[2:])  # slots are numbered by the CSV, not the model
    err = {**err, "loc": loc}
    column = None
    for n in range(len(loc), 0, -1):
        if loc[:n] in where:
            column = where[loc[:n]]
            break
    message, _ = message_for(err)
    path = field_path(loc)
    if column is not None and message.startswith(path + ":"):
        # Name what the CSV calls it: the column, or the list slot for an item-level rule
        # (``tx_2``, not the model's 0-based ``therapies.0``).
        slot = SLOT_RE.match(column)
        label = f"{slot['prefix']}_{slot['k']}" if slot and len(loc) == 2 else column
        message = label + message[len(path) :]
    if column is not None and message.startswith(f"{column}: "):
        message = message[len(column) + 2 :]  # the record already names the column
    return RowProblem(column, "invalid_value", message)


# ------------------------------------------------------------------------------------------
# Patient -> row (for exporting profiles and for checking both readers agree)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_SEP.join(str(v) for v in value)
    if hasattr(value, "value"):  # enums
        return str(value.value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def patient_to_row(patient: Patient, as_of: dt.date | None = None) -> dict[str, str]:
    """A CSV row (column -> cell) holding the patient; only the columns it needs.

    Several results of one lab cannot share a row: the latest on or before ``as_of`` (else the
    latest) is kept. Findings carry no date: with ``as_of``, findings dated after it are left
    out (they are not known at screening). Notes, reactions' details and lower limits are not
    carried (no verdict reads them). Raises ValueError for what the layout cannot hold (several
    risk scores on one diagnosis).
    """
    data = patient.model_dump(exclude_none=True, mode="python")
    row: dict[str, str] = {}
    for col in SCALARS:
        parts = col.field.split(".")
        value: Any = data
        for p in parts:
            value = value.get(p) if isinstance(value, dict) else None
        if value is not None:
            row[col.suffix] = _cell(value)
    from trialmatch.model.vocab import Vocabulary

    vocab = Vocabulary.default()
    by_lab: dict[str, list[Any]] = {}
    for lab in patient.labs or []:
        by_lab.setdefault(vocab.lab_id(lab.name) or lab.name, []).append(lab)
    for lab_id, results in by_lab.items():
        usable = [r for r in results if as_of is None or r.date is None or r.date <= as_of]
        pool = usable or results
        r = max(pool, key=lambda x: x.date or dt.date.min)
        row[f"lab_{lab_id}"] = _cell(r.value)
        row[f"lab_{lab_id}_unit"] = r.unit
        if r.date:
            row[f"lab_{lab_id}_date"] = _cell(r.date)
        if r.uln is not None:
            row[f"lab_{lab_id}_uln"] = _cell(r.uln)
    for group in GROUPS:
        items = data.get(group.marker)
        if items is None:
            continue
        if isinstance(items, dict):  # a history list: {items, complete}
            complete = items.get("complete", True)
            items = items["items"]
            if not complete:
                row[group.marker] = PARTIAL_MARKER
        if not items:
            if group.marker not in row:
                row[group.marker] = NONE_MARKER
            continue
        for k, item in enumerate(items, start=1):
            item = dict(item)
            if group.marker == "diagnoses":
                findings = [
                    f
                    for f in item.pop("findings", [])
                    if isinstance(f, str) or not (as_of and f.get("date") and f["date"] > as_of)
                ]
                present = [
                    f if isinstance(f, str) else f["name"]
                    for f in findings
                    if isinstance(f, str) or f.get("present", True)
                ]
                absent = [
                    f["name"]
                    for f in findings
                    if not isinstance(f, str) and not f.get("present", True)
                ]
                if as_of is None and any(
                    not isinstance(f, str) and f.get("date") for f in findings
                ):
                    raise ValueError("the CSV layout has no date for a finding; give as_of")
                item["findings"] = present or None
                item["findings_absent"] = absent or None
                scores = item.pop("risk_scores", [])
                if len(scores) > 1:
                    raise ValueError("the CSV layout holds one risk score per diagnosis")
                if scores:
                    item["risk"] = scores[0]
            for col in group.cols:
                value = item
                for p in col.field.split("."):
                    value = value.get(p) if isinstance(value, dict) else None
                if value is not None:
                    row[f"{group.prefix}_{k}_{col.suffix}"] = _cell(value)
    return row
