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

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trialmatch.batch.prefetch import prefetched
from trialmatch.batch.read import (
    columnar_misfit,
    parse_row,
    python_block,
    raw_id,
    read_block,
    read_header,
)
from trialmatch.batch.records import (
    RECORD_SCHEMA,
    Record,
    error_records,
    records_frame,
    select_columns,
)
from trialmatch.engine.criteria import LoadedTrial
from trialmatch.engine.evaluate import evaluate_trial
from trialmatch.model.csvlayout import (
    Header,
    RowError,
)
from trialmatch.model.csvrow import row_to_patient
from trialmatch.model.patient import Patient
from trialmatch.model.results import Verdict, failing
from trialmatch.model.vocab import Vocabulary

ENGINES = ("columnar", "reference")


def _reference_records(
    trials: Sequence[LoadedTrial],
    patient: Patient | RowError,
    row: int,
    patient_id: str,
    as_of: dt.date,
    vocab: Vocabulary,
) -> list[Record]:
    if isinstance(patient, RowError):
        return error_records(trials, patient, patient_id)
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
            (number, error_records(trials, RowError(number, None, message, kind)))
            for number, kind, message in block.errors
        ]
        for number, raw in zip(block.numbers, block.row_list(), strict=True):
            row = parse_row(header, number, raw)
            if isinstance(row, RowError):
                numbered.append((number, error_records(trials, row)))
                continue
            patient = row_to_patient(header, row, number, as_of)
            numbered.append(
                (number, _reference_records(trials, patient, number, raw_id(row), as_of, vocab))
            )
        for _, records in sorted(numbered, key=lambda x: x[0]):
            batch += records
        if len(batch) >= batch_size * max(1, len(trials)):
            yield select_columns(records_frame(batch), kinds)
            batch = []
    if batch:
        yield select_columns(records_frame(batch), kinds)


def screen_columnar(
    path: Path,
    trials: Sequence[LoadedTrial],
    as_of: dt.date,
    vocab: Vocabulary | None = None,
    batch_size: int = 50_000,
    block_bytes: int = 16 << 20,  # at 1M rows, five trials: 44 s, 460 MB (20 MB: 560 MB)
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

    del batch_size
    vocab = vocab or Vocabulary.default()
    header = read_header(path, vocab)
    run = _Columnar.build(trials, header, vocab, as_of)
    order = {t.trial.id: k for k, t in enumerate(trials)}
    for box, numbers, errors in _raw_blocks(path, header, block_bytes):
        frames = []
        if box:  # the raw frame is held by the box alone, so typing can release it
            frames.append(_columnar_batch(box, list(numbers), run))
        if errors:
            frames.append(records_frame([r for e in errors for r in error_records(trials, e)]))
        if frames:
            yield select_columns(
                pl.concat(frames).sort(
                    "row", pl.col("trial_id").replace_strict(order, return_dtype=pl.Int32)
                ),
                kinds,
            )


def _raw_blocks(
    path: Path, header: Header, block_bytes: int
) -> Iterator[tuple[list[Any], list[int], list[RowError]]]:
    """([all-string frame of the good rows] or [], their row numbers, error rows) per block.
    The frame comes in a list that alone holds it (not this generator's frame, nor the
    caller's loop variable), so it is freed as soon as it is taken out and typed.

    A block Polars cannot parse as a whole (a row with too many cells) is read row by row
    with Python's csv module."""
    import polars as pl

    from trialmatch.io.csvrows import blocks

    # The next block is split (in Python) while this one is parsed and screened (in Polars).
    for block in prefetched(blocks(path, block_bytes)):
        errors = [RowError(n, None, m, kind) for n, kind, m in block.errors]
        numbers = block.numbers
        raw: Any = None
        if len(block):
            try:
                raw = read_block(block.body(), len(header.columns))
            except (pl.exceptions.PolarsError, OSError):
                raw = None
            if raw is None or raw.height != len(block):
                raw, numbers, more = python_block(header, block.row_list(), block.numbers)
                errors += more
            raw.columns = list(header.columns)
        block.rows, block.plain = [], None
        box = [raw] if raw is not None and raw.height else []
        del raw
        yield box, numbers, errors
        del box


def _columnar_batch(
    box: list[Any], numbers: list[int], run: _Columnar, texts: Callable[[Any], Any] | None = None
) -> Any:
    """Records (a DataFrame) for one raw batch, in row order then trial order. The raw frame
    is taken out of ``box`` and released once typed and its unusual rows read. ``texts``
    gives the unusual rows' cells as CSV text (default: the raw frame's own strings; typed
    input: :func:`trialmatch.columnar.typed_input.cell_texts`)."""
    import polars as pl

    from trialmatch.columnar.typed import type_batch

    plan, trials = run.plan, run.trials
    header, as_of, vocab = plan.header, plan.as_of, plan.vocab

    raw = box.pop()
    typed, bad = type_batch(raw, header, plan.typing)
    frames: list[pl.DataFrame] = []
    bad_idx = [i for i, flag in enumerate(bad.to_list()) if flag]
    if bad_idx:
        records: list[Record] = []
        rows = raw[bad_idx].to_dicts() if texts is None else texts(raw[bad_idx])
        for i, row in zip(bad_idx, rows, strict=True):
            cells = {k: (v if v is not None else "") for k, v in row.items()}
            patient = row_to_patient(header, cells, numbers[i], as_of)
            records += _reference_records(trials, patient, numbers[i], raw_id(cells), as_of, vocab)
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
        frames += [
            _spelled(codes.select(exprs), t) for exprs, t in zip(run.records, trials, strict=True)
        ]
    if not frames:
        return pl.DataFrame(schema=RECORD_SCHEMA())
    return pl.concat(frames).sort("row", "_t").drop("_t")


MASK_BITS = 63  # criteria of a trial whose id lists are built as bit masks
_LISTS = ("failed", "unknown", "needs_review")


def _spelled(frame: Any, t: LoadedTrial) -> Any:
    """A trial's records with each id-list bit mask (:func:`_record_exprs`) spelled out as
    the criterion ids joined by ";" in file order, computed once per distinct mask."""
    import polars as pl

    ids = [c.id for _, c in t.trial.criteria]
    if not ids or len(ids) > MASK_BITS:
        return frame

    def spell(mask: int) -> str:
        return ";".join(c for k, c in enumerate(ids) if mask >> k & 1)

    columns = []
    for name in _LISTS:
        masks = frame[name].unique().to_list()
        columns.append(
            pl.col(name).replace_strict(masks, [spell(m) for m in masks], return_dtype=pl.Utf8)
        )
    return frame.with_columns(columns)


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
        from trialmatch.batch.plan import Plan

        plan = Plan([t.trial for t in trials], header, vocab, as_of)
        return cls(plan, trials, [_record_exprs(t, n) for n, t in enumerate(trials)])


def _record_exprs(t: LoadedTrial, order: int) -> list[Any]:
    """Select expressions giving one trial's records from the criterion verdict codes."""
    import polars as pl

    from trialmatch.columnar.codes import MET, NOT_MET, REVIEW, UNKNOWN

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

    def ids_where(flags: list[Any]) -> Any:
        """The criteria whose flag holds: a bit mask (bit k: criterion k) that
        :func:`_spelled` turns into their ids joined by ";", once per distinct mask; beyond
        :data:`MASK_BITS` criteria, the joined ids themselves ("" for no criteria)."""
        if not names:
            return empty
        if len(names) <= MASK_BITS:
            return pl.sum_horizontal(
                pl.when(f).then(pl.lit(1 << k, dtype=pl.UInt64)).otherwise(pl.lit(0, pl.UInt64))
                for k, f in enumerate(flags)
            )
        hits = [pl.when(f).then(pl.lit(c)) for f, c in zip(flags, ids, strict=True)]
        return pl.concat_str(hits, separator=";", ignore_nulls=True)

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
        ids_where(fail).alias("failed"),
        ids_where([pl.col(n) == unknown for n in names]).alias("unknown"),
        ids_where([pl.col(n) == review for n in names]).alias("needs_review"),
        pl.lit(None, dtype=pl.Utf8).alias("error"),
        pl.lit(None, dtype=pl.Utf8).alias("error_kind"),
        pl.lit(order, dtype=pl.Int32).alias("_t"),
    ]


def screen(
    path: Path,
    trials: Sequence[LoadedTrial],
    as_of: dt.date,
    engine: str = "columnar",
    vocab: Vocabulary | None = None,
    batch_size: int | None = None,
    kinds: bool = False,
) -> Iterator[Any]:
    """Screen a CSV with the chosen engine (FHIR NDJSON, ``.ndjson``/``.jsonl``, always with
    the reference engine: :mod:`trialmatch.batch.ndjson`; Parquet and Arrow IPC, ``.parquet``,
    ``.arrow``/``.feather``/``.ipc``: :mod:`trialmatch.batch.table`); yields record frames
    (:data:`RECORD_COLUMNS`; with ``kinds``, :data:`FRAME_COLUMNS`: also each error row's
    kinds, for :class:`Summary`) in row order, trials in catalogue order within a row. A
    header too wide for the columnar engine (:func:`columnar_misfit`) is screened by the
    reference engine.

    >>> # for records in screen(Path("patients.csv"), load_catalogue(), date(2026, 11, 21)): ...
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    from trialmatch.batch.ndjson import is_ndjson, screen_ndjson

    if is_ndjson(path):  # FHIR bundles, one per line: the reference engine
        return screen_ndjson(path, trials, as_of, vocab, batch_size or 10_000, kinds=kinds)
    from trialmatch.batch.table import is_table, screen_table

    if is_table(path):  # Parquet, Arrow IPC: the same layout, typed columns
        return screen_table(path, trials, as_of, engine, vocab, batch_size, kinds=kinds)
    if engine == "columnar" and columnar_misfit(read_header(path, vocab or Vocabulary.default())):
        engine = "reference"
    if engine == "reference":
        return screen_reference(path, trials, as_of, vocab, batch_size or 10_000, kinds=kinds)
    return screen_columnar(path, trials, as_of, vocab, batch_size or 50_000, kinds=kinds)
