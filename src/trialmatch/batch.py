"""Batch screening: every row of a patients CSV against every selected trial.

Two engines give the same records: ``columnar`` (default; Polars expressions over batches of
rows, see :mod:`trialmatch.columnar`) and ``reference`` (each row read into a
:class:`~trialmatch.patient.Patient` and evaluated by :mod:`trialmatch.engine`). Memory stays
bounded: the file is read in batches and each batch's records are handed on before the next.

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

from trialmatch.criteria import LoadedTrial
from trialmatch.csvlayout import Header, LayoutError, RowError, parse_header, row_to_patient
from trialmatch.engine import evaluate_trial
from trialmatch.errors import InputError
from trialmatch.patient import Patient
from trialmatch.results import Verdict, failing
from trialmatch.vocab import Vocabulary

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


@dataclass
class TrialTally:
    """Running counts for one trial: verdicts and, per criterion, exclusions and unknowns."""

    verdicts: dict[str, int] = field(
        default_factory=lambda: {"eligible": 0, "possibly_eligible": 0, "ineligible": 0, "error": 0}
    )
    excluded: dict[str, int] = field(default_factory=dict)
    unknown: dict[str, int] = field(default_factory=dict)


@dataclass
class Summary:
    """Per-trial tallies over a whole run."""

    trials: dict[str, TrialTally]
    rows: int = 0
    error_rows: int = 0

    def add(self, frame: Any) -> None:
        """Count a frame of records."""
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
        rows = frame.select(pl.col("row").n_unique()).item()
        errors = frame.filter(pl.col("verdict") == "error").select(pl.col("row").n_unique())
        self.rows += rows
        self.error_rows += errors.item()


def read_header(path: Path, vocab: Vocabulary) -> Header:
    """Read and check a CSV header; problems raise :class:`InputError` (exit code 2)."""
    from trialmatch.csvrows import read_header as read_header_line

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


def parse_row(header: Header, number: int, row: bytes) -> dict[str, str] | str:
    # Rows are at most MAX_ROW_BYTES (the splitter's limit); a long cell is then the layout's
    # error, with its column, in both engines (not the csv module's own 128 KiB limit).
    from trialmatch.csvrows import MAX_ROW_BYTES

    if csv.field_size_limit() < MAX_ROW_BYTES:
        csv.field_size_limit(MAX_ROW_BYTES)
    return _parse_row(header, number, row)


def _parse_row(header: Header, number: int, row: bytes) -> dict[str, str] | str:
    """One row of the shared splitter as cells by column, or the reason it cannot be read.
    Short rows are padded with empty cells; a row with more cells than the header is an error.
    """
    width = len(header.columns)
    try:
        cells = next(csv.reader(io.StringIO(row.decode("utf-8"), newline="")), [])
    except csv.Error as exc:
        return f"row {number}: cannot read the row as CSV: {exc}"
    if len(cells) > width:
        return f"row {number}: {len(cells)} cells, but the header has {width}"
    cells = cells + [""] * (width - len(cells))
    return dict(zip(header.columns, cells, strict=True))


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
        return [
            Record(row, patient_id, t.trial.id, "error", (), (), (), str(patient)) for t in trials
        ]
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
) -> Iterator[Any]:
    """Screen with the reference engine, one row at a time; yields record frames."""
    from trialmatch.csvrows import blocks

    vocab = vocab or Vocabulary.default()
    header = read_header(path, vocab)
    batch: list[Record] = []
    for block in blocks(path, block_bytes):
        numbered: list[tuple[int, list[Record]]] = [
            (number, _error_records(trials, number, f"row {number}: {message}"))
            for number, message in block.errors
        ]
        for number, raw in zip(block.numbers, block.row_list(), strict=True):
            row = parse_row(header, number, raw)
            if isinstance(row, str):
                numbered.append((number, _error_records(trials, number, row)))
                continue
            patient = row_to_patient(header, row, number, as_of)
            numbered.append(
                (number, _reference_records(trials, patient, number, _raw_id(row), as_of, vocab))
            )
        for _, records in sorted(numbered, key=lambda x: x[0]):
            batch += records
        if len(batch) >= batch_size * max(1, len(trials)):
            yield records_frame(batch)
            batch = []
    if batch:
        yield records_frame(batch)


def _error_records(trials: Sequence[LoadedTrial], number: int, message: str) -> list[Record]:
    return [Record(number, "", t.trial.id, "error", (), (), (), message) for t in trials]


def screen_columnar(
    path: Path,
    trials: Sequence[LoadedTrial],
    as_of: dt.date,
    vocab: Vocabulary | None = None,
    batch_size: int = 50_000,
    block_bytes: int = 20 << 20,
) -> Iterator[Any]:
    """Screen with the columnar engine, a block of rows at a time; yields record frames.

    Rows come from the shared splitter (:mod:`trialmatch.csvrows`) in blocks of about
    ``block_bytes``; rows it rejects are error records. A block Polars cannot parse as a
    whole (a row with too many cells) is read row by row with Python's csv module, and still
    evaluated column-wise. ``batch_size`` is kept for the API (blocks bound the memory).
    """
    import polars as pl

    from trialmatch.csvrows import blocks

    del batch_size
    vocab = vocab or Vocabulary.default()
    header = read_header(path, vocab)
    run = _Columnar.build(trials, header, vocab, as_of)
    for block in blocks(path, block_bytes):
        errors = [(n, f"row {n}: {m}") for n, m in block.errors]
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
            frames.append(
                records_frame([r for n, m in errors for r in _error_records(trials, n, m)])
            )
        if frames:
            order = {t.trial.id: k for k, t in enumerate(trials)}
            yield pl.concat(frames).sort(
                "row", pl.col("trial_id").replace_strict(order, return_dtype=pl.Int32)
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
) -> tuple[Any, list[int], list[tuple[int, str]]]:
    """Rows read one by one with Python's csv module: (all-string frame, their numbers, error
    rows)."""
    import polars as pl

    good: list[dict[str, str]] = []
    kept: list[int] = []
    errors: list[tuple[int, str]] = []
    for number, raw in zip(numbers, rows, strict=True):
        row = parse_row(header, number, raw)
        if isinstance(row, str):
            errors.append((number, row))
        else:
            good.append(row)
            kept.append(number)
    frame = pl.DataFrame(
        {c: [r[c] or None for r in good] for c in header.columns},
        schema={c: pl.Utf8 for c in header.columns},
    )
    return frame, kept, errors


def records_frame(records: Sequence[Record]) -> Any:
    """Records as a DataFrame with :data:`RECORD_COLUMNS` (lists joined with ';')."""
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
) -> Iterator[Any]:
    """Screen a CSV with the chosen engine; yields record frames (:data:`RECORD_COLUMNS`) in
    row order, trials in catalogue order within a row. A header too wide for the columnar
    engine (:func:`columnar_misfit`) is screened by the reference engine.

    >>> # for records in screen(Path("patients.csv"), load_catalogue(), date(2026, 11, 21)): ...
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    if engine == "columnar" and columnar_misfit(read_header(path, vocab or Vocabulary.default())):
        engine = "reference"
    if engine == "reference":
        return screen_reference(path, trials, as_of, vocab, batch_size or 10_000)
    return screen_columnar(path, trials, as_of, vocab, batch_size or 50_000)


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

    >>> from trialmatch.criteria import load_catalogue
    >>> cols = needed_columns([t for t in load_catalogue() if t.trial.id == "NCT01421927"])
    >>> "lab_lvef" in cols and "donor_hla_match" in cols and "lab_hemoglobin" not in cols
    True
    """
    from trialmatch.criteria import AllNode, AnyNode, AtLeastNode, NotNode
    from trialmatch.csvlayout import GROUPS, LAB_COLS, SCALARS

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
    from trialmatch.csvlayout import patient_to_row

    columns = needed_columns(trials, vocab)
    rows = []
    if example:
        full = patient_to_row(Patient.model_validate(EXAMPLE_PATIENT))
        rows.append({c: full.get(c, "") for c in columns})
    return columns, rows
