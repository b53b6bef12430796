"""What batch screening produces: one record per patient row and trial, the record columns and
their schema, error kinds, and the run summary (per-trial waterfall, error rows by kind)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from trialmatch.engine.criteria import LoadedTrial
from trialmatch.model.csvlayout import (
    RowError,
)

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
    from trialmatch.io.csvrows import KINDS as SPLITTER_KINDS
    from trialmatch.model.csvlayout import KINDS as LAYOUT_KINDS

    return {**SPLITTER_KINDS, **ROW_KINDS, **LAYOUT_KINDS}


def kind_keys(error: RowError) -> str:
    """The ``error_kind`` of an error row: one ``kind`` or ``kind@column`` per problem.

    >>> from trialmatch.model.csvlayout import RowProblem
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


def select_columns(frame: Any, kinds: bool) -> Any:
    """The frame with the error kinds (``kinds``) or only the output columns."""
    return frame if kinds else frame.drop("error_kind")


def error_records(
    trials: Sequence[LoadedTrial], error: RowError, patient_id: str = ""
) -> list[Record]:
    message, kinds = str(error), kind_keys(error)
    return [
        Record(error.row, patient_id, t.trial.id, "error", (), (), (), message, kinds)
        for t in trials
    ]


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
