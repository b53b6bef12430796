"""Batch screening of FHIR NDJSON: one patient per line (a Bundle, or a JSON array of one
patient's resources), row N being line N. Every line yields one record per trial; a line that
cannot be read (not UTF-8, not JSON, not a bundle, a resource holding an impossible value) is
an error record for that row, with every problem and its JSON path; blank lines are skipped.

Lines are screened with the reference engine (each read into a
:class:`~trialmatch.model.patient.Patient`): a bundle is a tree, not the columnar layout.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from trialmatch.batch.records import Record, error_records, records_frame, select_columns
from trialmatch.batch.screen import _reference_records
from trialmatch.engine.criteria import LoadedTrial
from trialmatch.errors import InputError, file_error
from trialmatch.io.jsonio import MAX_JSON_BYTES, parse_json
from trialmatch.model.csvlayout import RowError, RowProblem
from trialmatch.model.fhir import map_bundle, patient_of
from trialmatch.model.vocab import Vocabulary

SUFFIXES = (".ndjson", ".jsonl")


def is_ndjson(path: Path) -> bool:
    """Whether a screen input is FHIR NDJSON (by its extension).

    >>> is_ndjson(Path("patients.ndjson")), is_ndjson(Path("patients.csv"))
    (True, False)
    """
    return path.suffix.lower() in SUFFIXES


def _lines(path: Path, limit: int = MAX_JSON_BYTES) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) of each line of a regular file; a line longer than ``limit`` is
    given as None (read past, never held in memory)."""
    try:
        fd = os.open(str(path), os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise file_error(path, exc) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise InputError.single(str(path), "not a regular file; give an NDJSON file")
    with os.fdopen(fd, "rb") as fh:
        number = 0
        while True:
            raw = fh.readline(limit + 1)
            if not raw:
                return
            number += 1
            if len(raw) > limit and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):
                    raw = fh.readline(1 << 20)
                yield number, None
                continue
            yield number, raw


def _problems(exc: InputError) -> tuple[RowProblem, ...]:
    """The problems of an InputError as row problems (the row says where)."""
    return tuple(RowProblem(None, "invalid_bundle", p.message) for p in exc.problems)


def read_line(
    raw: bytes | None, number: int, source: str, as_of: dt.date, vocab: Vocabulary
) -> tuple[Any, str]:
    """The patient of one NDJSON line, or the :class:`RowError` saying why there is none;
    and the patient id (empty when unknown)."""
    if raw is None:
        return RowError(
            number, None, f"the line is longer than {MAX_JSON_BYTES:,} bytes", "line_too_long"
        ), ""
    try:
        text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        return RowError(number, None, f"not UTF-8 text (byte {exc.start})", "not_utf8"), ""
    where = f"line {number}"
    try:
        data = parse_json(text, where, number)
        imported = map_bundle(data, where, vocab, as_of)
    except InputError as exc:
        problems = _problems(exc)
        kind = "not_json" if "not valid JSON" in problems[0].message else "invalid_bundle"
        return RowError(number, None, problems[0].message, kind, problems[1:]), ""
    pid = str(imported.patient.get("id") or "")
    if imported.errors:
        problems = tuple(RowProblem(None, "invalid_resource", str(n)) for n in imported.errors)
        first = problems[0]
        return RowError(number, None, first.message, first.kind, problems[1:]), pid
    try:
        return patient_of(imported, as_of), pid
    except InputError as exc:
        problems = _problems(exc)
        return RowError(number, None, problems[0].message, "invalid_value", problems[1:]), pid


def screen_ndjson(
    path: Path,
    trials: Sequence[LoadedTrial],
    as_of: dt.date,
    vocab: Vocabulary | None = None,
    batch_size: int = 10_000,
    kinds: bool = False,
) -> Iterator[Any]:
    """Screen every line of an NDJSON file; yields record frames in line order."""
    vocab = vocab or Vocabulary.default()
    batch: list[Record] = []
    for number, raw in _lines(path):
        if raw is not None and not raw.strip():
            continue
        patient, pid = read_line(raw, number, str(path), as_of, vocab)
        if isinstance(patient, RowError):
            batch += error_records(trials, patient, pid)
        else:
            batch += _reference_records(trials, patient, number, patient.id, as_of, vocab)
        if len(batch) >= batch_size * max(1, len(trials)):
            yield select_columns(records_frame(batch), kinds)
            batch = []
    if batch:
        yield select_columns(records_frame(batch), kinds)
