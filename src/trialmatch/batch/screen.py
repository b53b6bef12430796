"""Batch screening: every row of a patients CSV against every selected trial.

Two engines give the same records: ``columnar`` (default; Polars expressions over batches of
rows, see :mod:`trialmatch.columnar`) and ``reference`` (each row read into a
:class:`~trialmatch.model.patient.Patient` and evaluated by :mod:`trialmatch.engine.evaluate`).
Memory stays bounded: the file is read in batches and each batch's records are handed on
before the next.

Every input row yields one record per trial. A row that cannot be read yields records with the
verdict ``error`` and the row number, column and problem; the run goes on.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialmatch.engine.criteria import LoadedTrial
from trialmatch.engine.evaluate import evaluate_trial
from trialmatch.errors import InputError
from trialmatch.io.csvlayout import (
    Header,
    LayoutError,
    RowError,
    parse_header,
    row_to_patient,
)
from trialmatch.model.patient import Patient
from trialmatch.model.results import Verdict, failing
from trialmatch.model.vocab import Vocabulary

RECORD_COLUMNS = (
    "row",
    "patient_id",
    "trial_id",
    "verdict",
    "failed",
    "unknown",
    "needs_review",
    "error",
)
ENGINES = ("columnar", "reference")
# Record frames can also carry ``error_kind`` (the error row's problems as ``kind@column`` keys
# joined with ';'), for the summary (``screen(..., kinds=True)``); it is not written out.
FRAME_COLUMNS = (*RECORD_COLUMNS, "error_kind")

# Rows the row parser rejects (the splitter's and the layout's kinds are in csvrows/csvlayout).
ROW_KINDS = {
    "csv_error": "not readable as CSV",
    "too_many_cells": "more cells than the header",
    "unknown_kind": "could not be read",  # frames screened without kinds
}


def error_kinds() -> dict[str, str]:
    """Every error kind key and its label: the splitter's, the row parser's, the layout's.

    >>> error_kinds()["unterminated_quote"], error_kinds()["not_allowed"]
    ('unterminated quote', 'value not allowed')
    """
    from trialmatch.io.csvlayout import KINDS as LAYOUT_KINDS
    from trialmatch.io.csvrows import KINDS as SPLITTER_KINDS

    return {**SPLITTER_KINDS, **ROW_KINDS, **LAYOUT_KINDS}


def kind_keys(error: RowError) -> str:
    """The ``error_kind`` of an error row: one ``kind`` or ``kind@column`` per problem.

    >>> from trialmatch.io.csvlayout import RowProblem
    >>> kind_keys(RowError(3, "sex", "'F' is not allowed", "not_allowed",
    ...                    (RowProblem(None, "csv_error", "..."),)))
    'not_allowed@sex;csv_error'
    """
    keys = (p.kind + (f"@{p.column}" if p.column else "") for p in error.problems)
    return ";".join(dict.fromkeys(keys))


@dataclass(frozen=True)
class Record:
    """One output record: a patient (row) against one trial."""

    row: int
    patient_id: str
    trial_id: str
    verdict: str  # eligible | possibly_eligible | ineligible | error
    failed: tuple[str, ...]
    unknown: tuple[str, ...]
    needs_review: tuple[str, ...]
    error: str | None = None
    error_kind: str | None = None


@dataclass(frozen=True)
class Step:
    """One step of an attrition waterfall: a criterion, how many rows it rules out that no
    earlier step did, how many rows remain after it, and how many of those it left unknown."""

    criterion_id: str
    kind: str  # inclusion | exclusion
    ruled_out: int
    remain: int
    unknown: int


@dataclass
class TrialTally:
    """Running counts for one trial: verdicts and, per criterion, rows ruled out ("excluded":
    an inclusion not met or an exclusion met) and left unknown; and, for the waterfall, the
    readable rows by the set of criteria ruling them out (``paths``: ids joined with ';', ``""``
    for none) with, per such set, the rows leaving each criterion unknown (``path_unknown``).
    Sets recur across rows, so this grows with the distinct sets, not with the rows."""

    verdicts: dict[str, int] = field(
        default_factory=lambda: {"eligible": 0, "possibly_eligible": 0, "ineligible": 0, "error": 0}
    )
    excluded: dict[str, int] = field(default_factory=dict)
    unknown: dict[str, int] = field(default_factory=dict)
    paths: dict[str, int] = field(default_factory=dict)
    path_unknown: dict[str, dict[str, int]] = field(default_factory=dict)

    def waterfall(self, criteria: Sequence[tuple[str, str]]) -> list[Step]:
        """The readable rows ruled out criterion after criterion, largest cut first.

        ``criteria`` are (kind, id) in protocol order. Each step takes the criterion that
        rules out the most rows still remaining (ties: protocol order); criteria that rule out
        no remaining row follow in protocol order. Whatever the order, the rows remaining after
        the last step are the eligible and possibly eligible ones.

        >>> t = TrialTally(paths={"a": 2, "a;b": 1, "b": 3, "": 4}, path_unknown={"": {"a": 1}})
        >>> [(s.criterion_id, s.ruled_out, s.remain, s.unknown)
        ...  for s in t.waterfall([("inclusion", "a"), ("exclusion", "b"), ("inclusion", "c")])]
        [('b', 4, 6, 0), ('a', 2, 4, 1), ('c', 0, 4, 0)]
        """
        alive = {frozenset(filter(None, key.split(";"))): n for key, n in self.paths.items()}
        unknown = {
            frozenset(filter(None, key.split(";"))): counts
            for key, counts in self.path_unknown.items()
        }
        remain = sum(alive.values())
        left = list(criteria)
        steps: list[Step] = []
        while left:
            cuts = [sum(n for ids, n in alive.items() if cid in ids) for _, cid in left]
            best = max(range(len(left)), key=lambda k: (cuts[k], -k))
            kind, cid = left.pop(best)
            alive = {ids: n for ids, n in alive.items() if cid not in ids}
            remain -= cuts[best]
            unsure = sum(unknown.get(ids, {}).get(cid, 0) for ids in alive)
            steps.append(Step(cid, kind, cuts[best], remain, unsure))
        return steps


@dataclass
class ErrorKind:
    """Error rows of one kind (a problem kind, with its column when it has one)."""

    rows: int = 0
    first: list[int] = field(default_factory=list)  # the first row numbers, ascending

    FIRST = 5  # how many row numbers are kept


@dataclass
class Summary:
    """Per-trial tallies over a whole run, and the error rows by kind (a row with several
    problems counts once under each of its kinds)."""

    trials: dict[str, TrialTally]
    rows: int = 0
    error_rows: int = 0
    errors: dict[str, ErrorKind] = field(default_factory=dict)  # by ``kind@column`` key

    def add(self, frame: Any) -> None:
        """Count a frame of records (:data:`FRAME_COLUMNS`; without ``error_kind``, error rows
        count under the kind ``unknown_kind``)."""
        import polars as pl

        for trial, verdict, n in frame.group_by("trial_id", "verdict").len().iter_rows():
            self.trials[trial].verdicts[verdict] += n
        for column, target in (("failed", "excluded"), ("unknown", "unknown")):
            # Few distinct id lists recur across many rows: count those, then split each.
            counts = frame.filter(pl.col(column) != "").group_by("trial_id", column).len()
            for trial, ids, n in counts.iter_rows():
                tally = getattr(self.trials[trial], target)
                for cid in ids.split(";"):
                    tally[cid] = tally.get(cid, 0) + n
        readable = frame.filter(pl.col("verdict") != "error")
        for trial, ids, n in readable.group_by("trial_id", "failed").len().iter_rows():
            paths = self.trials[trial].paths
            paths[ids] = paths.get(ids, 0) + n
        unsure = readable.filter(pl.col("unknown") != "")
        for trial, ids, unknown, n in (
            unsure.group_by("trial_id", "failed", "unknown").len().iter_rows()
        ):
            per = self.trials[trial].path_unknown.setdefault(ids, {})
            for cid in unknown.split(";"):
                per[cid] = per.get(cid, 0) + n
        rows = frame.select(pl.col("row").n_unique()).item()
        bad = (
            frame.filter(pl.col("verdict") == "error")
            .unique("row")
            .sort("row")
            .select("row", "error_kind" if "error_kind" in frame.columns else pl.lit(None))
        )
        self.rows += rows
        self.error_rows += bad.height
        for row, keys in bad.iter_rows():
            for key in (keys or "unknown_kind").split(";"):
                kind = self.errors.setdefault(key, ErrorKind())
                kind.rows += 1
                if len(kind.first) < ErrorKind.FIRST or row < kind.first[-1]:
                    kind.first = sorted([*kind.first, row])[: ErrorKind.FIRST]


def read_header(path: Path, vocab: Vocabulary) -> Header:
    """Read and check a CSV header; problems raise :class:`InputError` (exit code 2)."""
    from trialmatch.io.csvrows import read_header as read_header_line

    text, _ = read_header_line(path)
    try:
        first = next(csv.reader([text]), None)
    except csv.Error as exc:
        raise InputError.single(str(path), f"CSV error in the header: {exc}", 1) from None
    if not first:
        raise InputError.single(str(path), "the file is empty (expected a header row)", 1)
    try:
        return parse_header(first, vocab.labs)
    except LayoutError as exc:
        raise InputError.single(str(path), f"header: {exc}", 1) from None


def parse_row(header: Header, number: int, row: bytes) -> dict[str, str] | RowError:
    """One row of the shared splitter as cells by column, or why it cannot be read."""
    # Rows are at most MAX_ROW_BYTES (the splitter's limit); a long cell is then the layout's
    # error, with its column, in both engines (not the csv module's own 128 KiB limit).
    from trialmatch.io.csvrows import MAX_ROW_BYTES

    if csv.field_size_limit() < MAX_ROW_BYTES:
        csv.field_size_limit(MAX_ROW_BYTES)
    return _parse_row(header, number, row)


def _parse_row(header: Header, number: int, row: bytes) -> dict[str, str] | RowError:
    """One row of the shared splitter as cells by column, or the reason it cannot be read.
    Short rows are padded with empty cells; a row with more cells than the header is an error.
    """
    width = len(header.columns)
    try:
        cells = next(csv.reader(io.StringIO(row.decode("utf-8"), newline="")), [])
    except csv.Error as exc:
        return RowError(number, None, f"cannot read the row as CSV: {exc}", "csv_error")
    if len(cells) > width:
        message = f"{len(cells)} cells, but the header has {width}"
        return RowError(number, None, message, "too_many_cells")
    cells = cells + [""] * (width - len(cells))
    return dict(zip(header.columns, cells, strict=True))


def read_row(
    path: Path,
    number: int,
    as_of: dt.date | None = None,
    vocab: Vocabulary | None = None,
) -> Patient | RowError:
    """Data row ``number`` (1-based, the header is row 0; blank lines are not rows, as in
    ``screen``) of a patients CSV as a :class:`Patient`, or the :class:`RowError` its
    ``screen`` record reports (every problem of the row). With ``as_of``, values impossible on
    that date are errors, as in ``screen``. A bad header, a number below 1 or past the last
    row is an :class:`InputError`. Reads up to the row, a block at a time.

    >>> # read_row(Path("patients.csv"), 12, date(2026, 11, 21))  -> Patient(id='P-12', ...)
    """
    from trialmatch.io.csvrows import blocks

    if number < 1:
        raise InputError.single(str(path), f"row {number}: data rows are numbered from 1")
    header = read_header(path, vocab or Vocabulary.default())
    last = 0
    for block in blocks(path):
        for n, kind, message in block.errors:
            if n == number:
                return RowError(n, None, message, kind)
            last = max(last, n)
        if block.numbers and block.numbers[-1] < number:
            last = max(last, block.numbers[-1])
            continue
        for n, raw in zip(block.numbers, block.row_list(), strict=True):
            if n == number:
                row = parse_row(header, n, raw)
                if isinstance(row, RowError):
                    return row
                return row_to_patient(header, row, n, as_of)
        last = max([last, *block.numbers])
    rows = f"{last:,} data row" + ("" if last == 1 else "s")
    raise InputError.single(str(path), f"row {number:,} is past the end: the file has {rows}")


def _raw_id(row: dict[str, str]) -> str:
    return (row.get("id") or "").strip()


def _reference_records(
    trials: Sequence[LoadedTrial],
    patient: Patient | RowError,
    row: int,
    patient_id: str,
    as_of: dt.date,
    vocab: Vocabulary,
) -> list[Record]:
    if isinstance(patient, RowError):
        return _error_records(trials, patient, patient_id)
    out = []
    for t in trials:
        result = evaluate_trial(t, patient, as_of, vocab)
        out.append(
            Record(
                row,
                patient.id,
                t.trial.id,
                result.verdict.value,
                tuple(c.criterion_id for c in result.criteria if failing(c.kind, c.verdict)),
                tuple(c.criterion_id for c in result.criteria if c.verdict is Verdict.unknown),
                tuple(c.criterion_id for c in result.criteria if c.verdict is Verdict.needs_review),
            )
        )
    return out


def screen_reference(
    path: Path,
    trials: Sequence[LoadedTrial],
    as_of: dt.date,
    vocab: Vocabulary | None = None,
    batch_size: int = 10_000,
    block_bytes: int = 20 << 20,
    kinds: bool = False,
) -> Iterator[Any]:
    """Screen with the reference engine, one row at a time; yields record frames
    (:data:`RECORD_COLUMNS`, with ``kinds`` :data:`FRAME_COLUMNS`)."""
    from trialmatch.io.csvrows import blocks

    vocab = vocab or Vocabulary.default()
    header = read_header(path, vocab)
    batch: list[Record] = []
    for block in blocks(path, block_bytes):
        numbered: list[tuple[int, list[Record]]] = [
            (number, _error_records(trials, RowError(number, None, message, kind)))
            for number, kind, message in block.errors
        ]
        for number, raw in zip(block.numbers, block.row_list(), strict=True):
            row = parse_row(header, number, raw)
            if isinstance(row, RowError):
                numbered.append((number, _error_records(trials, row)))
                continue
            patient = row_to_patient(header, row, number, as_of)
            numbered.append(
                (number, _reference_records(trials, patient, number, _raw_id(row), as_of, vocab))
            )
        for _, records in sorted(numbered, key=lambda x: x[0]):
            batch += records
        if len(batch) >= batch_size * max(1, len(trials)):
            yield _columns(records_frame(batch), kinds)
            batch = []
    if batch:
        yield _columns(records_frame(batch), kinds)


def _columns(frame: Any, kinds: bool) -> Any:
    """The frame with the error kinds (``kinds``) or only the output columns."""
    return frame if kinds else frame.drop("error_kind")


def _error_records(
    trials: Sequence[LoadedTrial], error: RowError, patient_id: str = ""
) -> list[Record]:
    message, kinds = str(error), kind_keys(error)
    return [
        Record(error.row, patient_id, t.trial.id, "error", (), (), (), message, kinds)
        for t in trials
    ]


def screen_columnar(
    path: Path,
    trials: Sequence[LoadedTrial],
    as_of: dt.date,
    vocab: Vocabulary | None = None,
    batch_size: int = 50_000,
    block_bytes: int = 20 << 20,
    kinds: bool = False,
) -> Iterator[Any]:
    """Screen with the columnar engine, a block of rows at a time; yields record frames
    (:data:`RECORD_COLUMNS`, with ``kinds`` :data:`FRAME_COLUMNS`).

    Rows come from the shared splitter (:mod:`trialmatch.io.csvrows`) in blocks of about
    ``block_bytes``; rows it rejects are error records. A block Polars cannot parse as a
    whole (a row with too many cells) is read row by row with Python's csv module, and still
    evaluated column-wise. ``batch_size`` is kept for the API (blocks bound the memory).
    """
    import polars as pl

    from trialmatch.io.csvrows import blocks

    del batch_size
    vocab = vocab or Vocabulary.default()
    header = read_header(path, vocab)
    run = _Columnar.build(trials, header, vocab, as_of)
    for block in blocks(path, block_bytes):
        errors = [RowError(n, None, m, kind) for n, kind, m in block.errors]
        numbers = block.numbers
        raw: Any = None
        if len(block):
            try:
                raw = _read_block(block.body(), len(header.columns))
            except (pl.exceptions.PolarsError, OSError):
                raw = None
            if raw is None or raw.height != len(block):
                raw, numbers, more = _python_block(header, block.row_list(), block.numbers)
                errors += more
        block.rows, block.plain = [], None
        frames = []
        if raw is not None and raw.height:
            raw.columns = list(header.columns)
            frames.append(_columnar_batch([raw], list(numbers), run))
            del raw
        if errors:
            frames.append(records_frame([r for e in errors for r in _error_records(trials, e)]))
        if frames:
            order = {t.trial.id: k for k, t in enumerate(trials)}
            yield _columns(
                pl.concat(frames).sort(
                    "row", pl.col("trial_id").replace_strict(order, return_dtype=pl.Int32)
                ),
                kinds,
            )


def _read_block(data: bytes, width: int) -> Any:
    """A CSV block (rows only) as an all-string DataFrame of ``width`` columns; a row wider
    than that raises a Polars error."""
    import polars as pl

    raw = pl.read_csv(
        data,
        has_header=False,
        schema={f"c{k}": pl.String for k in range(width)},
        encoding="utf8",
        raise_if_empty=False,
        truncate_ragged_lines=False,
    )
    if raw.height and raw.width != width:
        raise pl.exceptions.ComputeError("row width differs from the header")
    return raw


def _python_block(
    header: Header, rows: list[bytes], numbers: list[int]
) -> tuple[Any, list[int], list[RowError]]:
    """Rows read one by one with Python's csv module: (all-string frame, their numbers, error
    rows)."""
    import polars as pl

    good: list[dict[str, str]] = []
    kept: list[int] = []
    errors: list[RowError] = []
    for number, raw in zip(numbers, rows, strict=True):
        row = parse_row(header, number, raw)
        if isinstance(row, RowError):
            errors.append(row)
        else:
            good.append(row)
            kept.append(number)
    frame = pl.DataFrame(
        {c: [r[c] or None for r in good] for c in header.columns},
        schema={c: pl.Utf8 for c in header.columns},
    )
    return frame, kept, errors


def records_frame(records: Sequence[Record]) -> Any:
    """Records as a DataFrame with :data:`FRAME_COLUMNS` (lists joined with ';').

    >>> records_frame([Record(1, "P1", "T1", "ineligible", ("a", "b"), (), ())])["failed"][0]
    'a;b'
    """
    import polars as pl

    return pl.DataFrame(
        {
            "row": [r.row for r in records],
            "patient_id": [r.patient_id for r in records],
            "trial_id": [r.trial_id for r in records],
            "verdict": [r.verdict for r in records],
            "failed": [";".join(r.failed) for r in records],
            "unknown": [";".join(r.unknown) for r in records],
            "needs_review": [";".join(r.needs_review) for r in records],
            "error": [r.error for r in records],
            "error_kind": [r.error_kind for r in records],
        },
        schema=RECORD_SCHEMA(),
    )


def RECORD_SCHEMA() -> dict[str, Any]:
    """Polars schema of a records frame."""
    import polars as pl

    return {
        "row": pl.Int64,
        "patient_id": pl.Utf8,
        "trial_id": pl.Utf8,
        "verdict": pl.Utf8,
        "failed": pl.Utf8,
        "unknown": pl.Utf8,
        "needs_review": pl.Utf8,
        "error": pl.Utf8,
        "error_kind": pl.Utf8,
    }


def _columnar_batch(box: list[Any], numbers: list[int], run: _Columnar) -> Any:
    """Records (a DataFrame) for one raw batch, in row order then trial order. The raw frame
    is taken out of ``box`` and released once typed and its unusual rows read."""
    import polars as pl

    from trialmatch.columnar import type_batch

    plan, trials = run.plan, run.trials
    header, as_of, vocab = plan.header, plan.as_of, plan.vocab

    raw = box.pop()
    typed, bad = type_batch(raw, header, plan.typing)
    frames: list[pl.DataFrame] = []
    bad_idx = [i for i, flag in enumerate(bad.to_list()) if flag]
    if bad_idx:
        records: list[Record] = []
        for i, row in zip(bad_idx, raw[bad_idx].to_dicts(), strict=True):
            cells = {k: (v if v is not None else "") for k, v in row.items()}
            patient = row_to_patient(header, cells, numbers[i], as_of)
            records += _reference_records(trials, patient, numbers[i], _raw_id(cells), as_of, vocab)
        frames.append(
            records_frame(records).with_columns(
                pl.col("trial_id")
                .replace_strict(
                    {t.trial.id: n for n, t in enumerate(trials)}, return_dtype=pl.Int32
                )
                .alias("_t")
            )
        )
    del raw
    good = typed.with_columns(pl.Series("row", numbers, dtype=pl.Int64))
    del typed
    if bad_idx:
        good = good.filter(~bad)
    if good.height:
        codes = plan.run(good)
        frames += [codes.select(exprs) for exprs in run.records]
    if not frames:
        return pl.DataFrame(schema=RECORD_SCHEMA())
    return pl.concat(frames).sort("row", "_t").drop("_t")


@dataclass
class _Columnar:
    """What a columnar run needs for every batch, built once."""

    plan: Any  # trialmatch.columnar.Plan
    trials: Sequence[LoadedTrial]
    records: list[list[Any]]  # per trial: the select expressions of its records

    @classmethod
    def build(
        cls, trials: Sequence[LoadedTrial], header: Header, vocab: Vocabulary, as_of: dt.date
    ) -> _Columnar:
        from trialmatch.columnar import Plan

        plan = Plan([t.trial for t in trials], header, vocab, as_of)
        return cls(plan, trials, [_record_exprs(t, n) for n, t in enumerate(trials)])


def _record_exprs(t: LoadedTrial, order: int) -> list[Any]:
    """Select expressions giving one trial's records from the criterion verdict codes."""
    import polars as pl

    from trialmatch.columnar import MET, NOT_MET, REVIEW, UNKNOWN

    met, not_met, review, unknown = MET, NOT_MET, REVIEW, UNKNOWN
    kinds = [k for k, _ in t.trial.criteria]
    ids = [c.id for _, c in t.trial.criteria]
    names = [f"{t.trial.id}/{k}:{c}" for k, c in zip(kinds, ids, strict=True)]
    fail = [
        pl.col(n) == (not_met if k == "inclusion" else met)
        for n, k in zip(names, kinds, strict=True)
    ]
    ok = [
        pl.col(n) == (met if k == "inclusion" else not_met)
        for n, k in zip(names, kinds, strict=True)
    ]
    empty = pl.lit("")
    return [
        pl.col("row"),
        pl.col("id").alias("patient_id"),
        pl.lit(t.trial.id).alias("trial_id"),
        (
            pl.when(pl.any_horizontal(fail))
            .then(pl.lit("ineligible"))
            .when(pl.all_horizontal(ok))
            .then(pl.lit("eligible"))
            .otherwise(pl.lit("possibly_eligible"))
            if names
            else pl.lit("eligible")
        ).alias("verdict"),
        (
            pl.concat_str(
                [pl.when(f).then(pl.lit(c)) for f, c in zip(fail, ids, strict=True)],
                separator=";",
                ignore_nulls=True,
            )
            if names
            else empty
        ).alias("failed"),
        (
            pl.concat_str(
                [
                    pl.when(pl.col(n) == unknown).then(pl.lit(c))
                    for n, c in zip(names, ids, strict=True)
                ],
                separator=";",
                ignore_nulls=True,
            )
            if names
            else empty
        ).alias("unknown"),
        (
            pl.concat_str(
                [
                    pl.when(pl.col(n) == review).then(pl.lit(c))
                    for n, c in zip(names, ids, strict=True)
                ],
                separator=";",
                ignore_nulls=True,
            )
            if names
            else empty
        ).alias("needs_review"),
        pl.lit(None, dtype=pl.Utf8).alias("error"),
        pl.lit(None, dtype=pl.Utf8).alias("error_kind"),
        pl.lit(order, dtype=pl.Int32).alias("_t"),
    ]


# The columnar engine's compiled plan grows with the number of list slots (about 250 MB at 20
# therapy and 20 condition slots, 1.8 GB at 100 each); wider headers are screened by the
# reference engine, whose memory follows the batch whatever the header width.
MAX_COLUMNAR_SLOTS = 20


def columnar_misfit(header: Header) -> str | None:
    """Why the columnar engine should not take this header (too many slots in a list), or
    None."""
    for marker, slots in header.slots.items():
        if len(slots) > MAX_COLUMNAR_SLOTS:
            return (
                f"the header has {len(slots):,} slots for {marker}; a list with more than "
                f"{MAX_COLUMNAR_SLOTS} slots is screened by the reference engine (slower, the "
                "same records, memory bounded by the batch)"
            )
    return None


def screen(
    path: Path,
    trials: Sequence[LoadedTrial],
    as_of: dt.date,
    engine: str = "columnar",
    vocab: Vocabulary | None = None,
    batch_size: int | None = None,
    kinds: bool = False,
) -> Iterator[Any]:
    """Screen a CSV with the chosen engine; yields record frames (:data:`RECORD_COLUMNS`;
    with ``kinds``, :data:`FRAME_COLUMNS`: also each error row's kinds, for :class:`Summary`)
    in row order, trials in catalogue order within a row. A header too wide for the columnar
    engine (:func:`columnar_misfit`) is screened by the reference engine.

    >>> # for records in screen(Path("patients.csv"), load_catalogue(), date(2026, 11, 21)): ...
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    if engine == "columnar" and columnar_misfit(read_header(path, vocab or Vocabulary.default())):
        engine = "reference"
    if engine == "reference":
        return screen_reference(path, trials, as_of, vocab, batch_size or 10_000, kinds=kinds)
    return screen_columnar(path, trials, as_of, vocab, batch_size or 50_000, kinds=kinds)


# ------------------------------------------------------------------------------------------
# Which columns the selected trials need (for `trialmatch template`)

_NEEDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # predicate: (scalar columns, lists)
    "age": (("birth_date", "age"), ()),
    "sex": (("sex",), ()),
    "pregnancy": (("sex", "pregnant", "breastfeeding"), ()),
    "childbearing_potential": (("childbearing_potential",), ()),
    "diagnosis": ((), ("diagnoses",)),
    "finding": ((), ("diagnoses",)),
    "risk_score": ((), ("diagnoses",)),
    "ecog": (("ecog", "ecog_date"), ()),
    "lab": ((), ()),
    "prior_therapy": ((), ("therapies", "diagnoses")),
    "prior_therapy_except": ((), ("therapies", "diagnoses")),
    "cumulative_exposure": ((), ("therapies",)),
    "response": (
        (
            "disease_response",
            "disease_response_date",
            "disease_response_assessed_by",
            "disease_response_after_line",
        ),
        ("therapies",),
    ),
    "disease_state": (
        (
            "disease_response",
            "disease_response_date",
            "disease_state",
            "disease_state_after_line",
        ),
        ("diagnoses",),
    ),
    "prior_malignancy": ((), ("prior_malignancies",)),
    "condition": ((), ("conditions",)),
    "hypersensitivity": ((), ("hypersensitivities",)),
    "donor": (("donor_relation", "donor_hla_match", "donor_mismatched_loci"), ()),
    "procedure": ((), ("procedures",)),
    "transfusion": ((), ("transfusions", "therapies")),
    "review": ((), ()),
}


def needed_columns(trials: Sequence[LoadedTrial], vocab: Vocabulary | None = None) -> list[str]:
    """The CSV columns the trials' criteria read, in layout order (plus id and attestations).

    >>> from trialmatch.engine.criteria import load_catalogue
    >>> cols = needed_columns([t for t in load_catalogue() if t.trial.id == "NCT01421927"])
    >>> "lab_lvef" in cols and "donor_hla_match" in cols and "lab_hemoglobin" not in cols
    True
    """
    from trialmatch.engine.criteria import AllNode, AnyNode, AtLeastNode, NotNode
    from trialmatch.io.csvlayout import GROUPS, LAB_COLS, SCALARS

    vocab = vocab or Vocabulary.default()
    scalars: set[str] = {"id"}
    labs: list[str] = []
    lists: set[str] = {"attestations"}

    def walk(node: Any) -> None:
        if isinstance(node, AllNode | AnyNode):
            for child in node.all if isinstance(node, AllNode) else node.any:
                walk(child)
            return
        if isinstance(node, NotNode):
            walk(node.not_)
            return
        if isinstance(node, AtLeastNode):
            for child in node.at_least.of:
                walk(child)
            return
        name = next(iter(type(node).model_fields))
        cols, groups = _NEEDS[name]
        scalars.update(cols)
        lists.update(groups)
        if name == "lab":
            args = getattr(node, name)
            if args.condition_settles is not None:
                lists.add("conditions")
            lab_id = vocab.lab_id(args.analyte) or args.analyte
            wanted = [lab_id]
            if lab_id == "creatinine_clearance" and args.derive:
                wanted += ["creatinine", "weight"]
                scalars.update(("birth_date", "age", "sex"))
            labs.extend(x for x in wanted if x not in labs)

    for t in trials:
        for _, criterion in t.trial.criteria:
            if criterion.rule is not None:
                walk(criterion.rule)
    out = [c.suffix for c in SCALARS if c.suffix in scalars]
    for lab_id in sorted(labs):
        out += [f"lab_{lab_id}{c.suffix}" for c in LAB_COLS]
    for g in GROUPS:
        if g.marker in lists:
            out.append(g.marker)
            for k in range(1, g.slots + 1):
                out += [f"{g.prefix}_{k}_{c.suffix}" for c in g.cols]
    return out


EXAMPLE_PATIENT: dict[str, Any] = {
    "id": "EXAMPLE-001",
    "birth_date": "1954-06-12",
    "sex": "male",
    "pregnant": False,
    "breastfeeding": False,
    "childbearing_potential": False,
    "diagnoses": [
        {
            "condition": "myelodysplastic syndrome",
            "code": "D46.9",
            "classification": "WHO 2016",
            "date": "2024-03-01",
            "findings": ["del(5q)", {"name": "JAK2 V617F", "present": False}],
            "risk_scores": [{"system": "IPSS-R", "category": "low", "date": "2024-03-10"}],
        }
    ],
    "ecog": {"value": 1, "date": "2026-11-10"},
    "labs": [
        {"name": "creatinine", "value": 106, "unit": "umol/L", "date": "2026-11-10"},
        {"name": "ast", "value": 28, "unit": "U/L", "uln": 40, "date": "2026-11-10"},
        {"name": "weight", "value": 74, "unit": "kg", "date": "2026-11-10"},
    ],
    "therapies": [
        {
            "drugs": ["azacitidine"],
            "line": 1,
            "setting": "first_line",
            "start": "2024-04-08",
            "end": "2025-12-15",
            "cycles": 18,
            "best_response": "SD",
            "outcome": "progression",
        }
    ],
    "disease_status": {
        "response": "SD",
        "date": "2026-10-30",
        "assessed_by": "bone marrow",
        "after_line": 1,
    },
    "conditions": [{"condition": "hypertension", "status": "controlled", "since": "2015-01-01"}],
    "prior_malignancies": [],
    "hypersensitivities": [],
    "procedures": [],
    "transfusions": [],
}


def template_rows(
    trials: Sequence[LoadedTrial], vocab: Vocabulary | None = None, example: bool = True
) -> tuple[list[str], list[dict[str, str]]]:
    """Header (the columns the trials need) and, optionally, one example row."""
    from trialmatch.io.csvlayout import patient_to_row

    columns = needed_columns(trials, vocab)
    rows = []
    if example:
        full = patient_to_row(Patient.model_validate(EXAMPLE_PATIENT))
        rows.append({c: full.get(c, "") for c in columns})
    return columns, rows
