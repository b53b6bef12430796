"""The `screen` summary: the attrition waterfall, error rows by kind, every bad cell of a row,
the same in both engines; rendered at 80 columns; and one CSV row read in full (`read_row`)."""

from __future__ import annotations

import datetime as dt
import doctest
import importlib
import io
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from rich.console import Console

from trialmatch.batch.read import read_row
from trialmatch.batch.records import FRAME_COLUMNS, Summary, TrialTally
from trialmatch.batch.screen import screen_columnar, screen_reference
from trialmatch.engine.criteria import LoadedTrial, load_catalogue
from trialmatch.errors import InputError
from trialmatch.model.csvlayout import RowError, parse_header
from trialmatch.model.csvrow import row_to_patient
from trialmatch.model.patient import Patient
from trialmatch.report.screen_summary import build

from .conftest import ROOT
from .test_screen_cli import example_csv

AS_OF = dt.date(2026, 11, 21)
TRIALS = load_catalogue()
EXAMPLES = len(list((ROOT / "examples" / "patients").glob("*.yaml")))

# Bad rows appended after the example patients, one per kind of problem (row numbers follow
# the examples): two bad cells, a rule of the patient model, a cell too many, a lone CR, bytes
# that are not UTF-8, an unterminated quote (the last row: it would swallow what follows).
BAD_ROWS = [
    ("two bad cells", {"id": "BAD-1", "sex": "F", "ecog": "x"}),
    ("model rule", {"id": "BAD-2", "ecog": "7"}),
    ("one bad cell", {"id": "BAD-3", "sex": "F"}),
]


def bad_csv(tmp_path: Path) -> Path:
    """The example patients, then rows with every kind of problem."""
    path = example_csv(tmp_path, [cells for _, cells in BAD_ROWS])
    width = len(path.read_text().splitlines()[0].split(","))
    with path.open("ab") as fh:
        fh.write(b"BAD-4" + b"," * width + b"\n")  # a cell too many
        fh.write(b"BAD-5,\rx\n")  # a lone CR
        fh.write(b"BAD-6,\xff\xfe\n")  # not UTF-8
        fh.write(b'BAD-7,"never closed\n')
    return path


def records(frames: Any) -> pl.DataFrame:
    return pl.concat(list(frames))


def summary_of(frame: pl.DataFrame, trials: list[LoadedTrial] = TRIALS) -> Summary:
    summary = Summary({t.trial.id: TrialTally() for t in trials})
    summary.add(frame)
    return summary


def rendered(summary: Summary, trials: list[LoadedTrial], width: int = 80) -> str:
    console = Console(record=True, width=width, file=io.StringIO())
    build(summary, trials, console)
    return console.export_text()


def both_engines(path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    ref = records(screen_reference(path, TRIALS, AS_OF, kinds=True))
    col = records(screen_columnar(path, TRIALS, AS_OF, block_bytes=1500, kinds=True))
    return ref, col


# ------------------------------------------------------------------------------------------
# Every bad cell, the same in both engines


def test_a_row_with_two_bad_cells_reports_both_in_both_engines(tmp_path: Path) -> None:
    ref, col = both_engines(bad_csv(tmp_path))
    assert ref.columns == list(FRAME_COLUMNS)
    assert_frame_equal(ref, col)
    errors = dict(ref.filter(pl.col("verdict") == "error").select("row", "error").iter_rows())
    first = EXAMPLES + 1
    assert errors[first] == (
        f"row {first}, column 'sex': 'F' is not allowed (allowed: female, male, other); "
        "column 'ecog': 'x' is not a whole number"
    )
    assert errors[first + 2] == (
        f"row {first + 2}, column 'sex': 'F' is not allowed (allowed: female, male, other)"
    )
    kinds = dict(ref.filter(pl.col("verdict") == "error").select("row", "error_kind").iter_rows())
    assert kinds == {
        first: "not_allowed@sex;not_whole_number@ecog",
        first + 1: "invalid_value@ecog",
        first + 2: "not_allowed@sex",
        first + 3: "too_many_cells",
        first + 4: "lone_cr",
        first + 5: "not_utf8",
        first + 6: "unterminated_quote",
    }


def test_every_bad_cell_of_a_row_is_listed_in_column_order() -> None:
    header = parse_header(["id", "sex", "ecog", "birth_date", "tx_1_drugs", "tx_1_start"], [])
    cells = {"id": "P1", "sex": "F", "ecog": "one", "birth_date": "01/02/1950",
             "tx_1_drugs": "a;;b", "tx_1_start": "2020-02-30"}  # fmt: skip
    err = row_to_patient(header, cells, 9)
    assert isinstance(err, RowError)
    assert [(p.column, p.kind) for p in err.problems] == [
        ("sex", "not_allowed"),
        ("ecog", "not_whole_number"),
        ("birth_date", "not_a_date"),
        ("tx_1_drugs", "empty_list_item"),
        ("tx_1_start", "invalid_date"),
    ]
    assert str(err).startswith("row 9, column 'sex': 'F' is not allowed")
    assert str(err).count("; column ") == 4
    # The first problem stays where callers read it.
    assert (err.column, err.kind) == ("sex", "not_allowed")


def test_model_rules_wait_for_readable_cells_then_all_are_listed() -> None:
    header = parse_header(["id", "ecog", "sex"], [])
    # A bad cell: the model rule on ECOG is not checked yet (it might be a consequence).
    cell_error = row_to_patient(header, {"id": "P1", "ecog": "7", "sex": "F"}, 1)
    assert isinstance(cell_error, RowError)
    assert [p.kind for p in cell_error.problems] == ["not_allowed"]
    model = row_to_patient(header, {"id": "P1", "ecog": "7", "sex": "female"}, 1)
    assert isinstance(model, RowError)
    assert [(p.column, p.kind) for p in model.problems] == [("ecog", "invalid_value")]


# ------------------------------------------------------------------------------------------
# The summary: identical in both engines, the waterfall recounted by hand


def test_both_engines_give_the_same_summary_and_the_same_rendering(tmp_path: Path) -> None:
    ref, col = both_engines(bad_csv(tmp_path))
    a, b = summary_of(ref), summary_of(col)
    assert a == b
    assert rendered(a, TRIALS) == rendered(b, TRIALS)
    first = EXAMPLES + 1
    assert a.rows == EXAMPLES + 7 and a.error_rows == 7
    by_kind = {key: (k.rows, k.first) for key, k in a.errors.items()}
    assert by_kind == {
        "not_allowed@sex": (2, [first, first + 2]),
        "not_whole_number@ecog": (1, [first]),
        "invalid_value@ecog": (1, [first + 1]),
        "too_many_cells": (1, [first + 3]),
        "lone_cr": (1, [first + 4]),
        "not_utf8": (1, [first + 5]),
        "unterminated_quote": (1, [first + 6]),
    }


def test_summary_of_many_frames_equals_the_summary_of_their_concatenation(
    tmp_path: Path,
) -> None:
    path = bad_csv(tmp_path)
    frames = list(screen_columnar(path, TRIALS, AS_OF, block_bytes=700, kinds=True))
    assert len(frames) > 3
    streamed = Summary({t.trial.id: TrialTally() for t in TRIALS})
    for frame in frames:
        streamed.add(frame)
    assert streamed == summary_of(pl.concat(frames))


def test_frames_without_kinds_count_their_error_rows_all_the_same(tmp_path: Path) -> None:
    from trialmatch.batch.records import RECORD_COLUMNS
    from trialmatch.batch.screen import screen

    frame = records(screen(bad_csv(tmp_path), TRIALS, AS_OF))
    assert frame.columns == list(RECORD_COLUMNS)  # the output contract, unchanged
    summary = summary_of(frame)
    assert summary.error_rows == 7
    assert {k: v.rows for k, v in summary.errors.items()} == {"unknown_kind": 7}
    assert "could not be read: 7 rows" in rendered(summary, TRIALS)


def naive_waterfall(rows: list[dict[str, Any]], order: list[str]) -> list[tuple[int, int, int]]:
    """(ruled out, remain, unknown) per criterion in ``order``, from the records one by one."""
    alive = [r for r in rows if r["verdict"] != "error"]
    out = []
    for cid in order:
        out_now = [r for r in alive if cid in r["failed"].split(";")]
        alive = [r for r in alive if cid not in r["failed"].split(";")]
        unknown = sum(cid in r["unknown"].split(";") for r in alive)
        out.append((len(out_now), len(alive), unknown))
    return out


def test_waterfall_is_a_true_recount_largest_cut_first(tmp_path: Path) -> None:
    frame = records(screen_reference(bad_csv(tmp_path), TRIALS, AS_OF, kinds=True))
    summary = summary_of(frame)
    checked = 0
    for t in TRIALS:
        mine = frame.filter(pl.col("trial_id") == t.trial.id).to_dicts()
        criteria = [(kind, c.id) for kind, c in t.trial.criteria]
        steps = summary.trials[t.trial.id].waterfall(criteria)
        order = [s.criterion_id for s in steps]
        assert sorted(order) == sorted(cid for _, cid in criteria)  # each criterion once
        naive = naive_waterfall(mine, order)
        assert [(s.ruled_out, s.remain, s.unknown) for s in steps] == naive
        v = summary.trials[t.trial.id].verdicts
        assert steps[-1].remain == v["eligible"] + v["possibly_eligible"]
        # Largest cut first: no criterion taken later would have cut more at that step.
        for k, step in enumerate(steps):
            for later in order[k + 1 :]:
                assert naive_waterfall(mine, [*order[:k], later])[-1][0] <= step.ruled_out
        # Criteria that cut nothing follow in protocol order.
        idle = [s.criterion_id for s in steps if s.ruled_out == 0]
        assert idle == [cid for _, cid in criteria if cid in idle]
        checked += sum(s.ruled_out > 0 for s in steps)
    assert checked > len(TRIALS)  # not vacuous


def test_waterfall_ties_keep_protocol_order() -> None:
    tally = TrialTally(paths={"b": 1, "a": 1, "": 2})
    steps = tally.waterfall([("inclusion", "a"), ("inclusion", "b"), ("exclusion", "c")])
    assert [(s.criterion_id, s.ruled_out, s.remain) for s in steps] == [
        ("a", 1, 3),
        ("b", 1, 2),
        ("c", 0, 2),
    ]


# ------------------------------------------------------------------------------------------
# Rendering at 80 columns


def renamed(trial: LoadedTrial, trial_id: str, criterion_ids: dict[str, str]) -> LoadedTrial:
    """A catalogue trial with other ids (not validated: data a summary must survive)."""
    t = trial.trial

    def rename(items: list[Any]) -> list[Any]:
        return [c.model_copy(update={"id": criterion_ids.get(c.id, c.id)}) for c in items]

    copy = t.model_copy(
        update={"id": trial_id, "inclusion": rename(t.inclusion), "exclusion": rename(t.exclusion)}
    )
    return LoadedTrial(copy, trial.path, trial.sha256)


def big_summary(trials: list[LoadedTrial]) -> Summary:
    """A summary of 123,456 rows: 56 errors, the rest spread over each trial's criteria."""
    summary = Summary({}, rows=123_456, error_rows=56)
    for t in trials:
        ids = [c.id for _, c in t.trial.criteria]
        paths = {"": 1_000, ids[0]: 100_000, f"{ids[0]};{ids[-1]}": 2_400, ids[-1]: 20_000}
        verdicts = {"eligible": 400, "possibly_eligible": 600, "ineligible": 122_400, "error": 56}
        summary.trials[t.trial.id] = TrialTally(
            verdicts=verdicts,
            paths=paths,
            path_unknown={"": {ids[1]: 600}},
        )
    from trialmatch.batch.records import ErrorKind

    summary.errors = {
        "unterminated_quote": ErrorKind(50, [6, 19, 44, 101, 2000]),
        "not_allowed@sex": ErrorKind(6, [7, 8, 9, 10, 11]),
    }
    return summary


def test_rendered_summary_fits_80_columns_with_every_id_whole() -> None:
    long_trial = "A-TRIAL-ID-THAT-IS-FAR-LONGER-THAN-ANY-COLUMN-OF-THE-SUMMARY-COULD-HOLD.2026"
    long_criterion = "inc-a-criterion-id-long-enough-to-need-a-line-of-its-own-x"
    first = TRIALS[0]
    cid = first.trial.criteria[0][1].id
    trials = [renamed(first, long_trial, {cid: long_criterion}), *TRIALS[1:]]
    text = rendered(big_summary(trials), trials)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert long_trial in lines[lines.index("Verdicts per trial (possibly: possibly eligible)") + 2]
    for t in trials:
        assert any(t.trial.id in line for line in lines), t.trial.id
        for _, c in t.trial.criteria:
            assert any(line.split()[1:2] == [c.id] for line in lines), c.id
    # The long criterion id has a line of its own; its numbers follow on the next line.
    at = next(k for k, line in enumerate(lines) if long_criterion in line)
    assert lines[at].strip() == f"inc {long_criterion}"
    assert lines[at + 1].split() == ["102,400", "21,000", "17.0%", "0"]
    # Thousands separators and percentages of the rows read.
    assert "123,456  100.0%" in text and "123,400" in text
    assert "unterminated quote: 50 rows (rows 6, 19, 44, 101, 2000, …)" in text
    assert "column 'sex': value not allowed: 6 rows (rows 7, 8, 9, 10, 11, …)" in text


def test_rendered_summary_waterfall_reads_like_a_consort_box() -> None:
    trial = TRIALS[-1]
    ids = [c.id for _, c in trial.trial.criteria]
    tags = [kind[:3] for kind, _ in trial.trial.criteria]
    text = rendered(big_summary([trial]), [trial])
    box = text.split(f"Attrition: {trial.trial.id} (largest cut first)\n")[1].splitlines()
    assert box[0].split() == ["criterion", "ruled", "out", "remain", "%", "unknown"]
    assert box[1].split() == ["rows", "read", "123,456", "100.0%"]
    assert box[2].split() == ["could", "not", "be", "read", "56", "123,400", "99.9%"]
    assert box[3].split() == [tags[0], ids[0], "102,400", "21,000", "17.0%", "0"]
    assert box[4].split() == [tags[-1], ids[-1], "20,000", "1,000", "0.8%", "0"]
    assert box[5].split() == [tags[1], ids[1], "0", "1,000", "0.8%", "600"]


def test_markup_and_control_characters_in_ids_are_shown_literally() -> None:
    first = TRIALS[0]
    cid = first.trial.criteria[0][1].id
    evil_trial = "T[/]x[bold]B\x1b[31m"
    evil_criterion = "inc-[/red]\x07"
    trials = [renamed(first, evil_trial, {cid: evil_criterion})]
    summary = big_summary(trials)
    summary.errors["not_allowed@se[/]x\x1b"] = summary.errors.pop("not_allowed@sex")
    text = rendered(summary, trials)
    assert "\x1b" not in text and "\x07" not in text
    assert "T[/]x[bold]B\\x1b[31m" in text
    assert "inc-[/red]\\x07" in text
    assert "column 'se[/]x\\x1b': value not allowed" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_rendered_summary_uses_a_wider_console() -> None:
    text = rendered(big_summary(TRIALS), TRIALS, width=120)
    widths = [len(line) for line in text.splitlines()]
    assert max(widths) <= 120 and max(widths) > 80


# ------------------------------------------------------------------------------------------
# One row in full


def test_read_row_gives_the_patient_of_a_good_row(tmp_path: Path) -> None:
    path = bad_csv(tmp_path)
    patient = read_row(path, 2, AS_OF)
    assert isinstance(patient, Patient)
    frame = records(screen_reference(path, TRIALS, AS_OF, kinds=True))
    assert patient.id == frame.filter(pl.col("row") == 2)["patient_id"][0]


def test_read_row_gives_an_error_row_its_screen_message(tmp_path: Path) -> None:
    path = bad_csv(tmp_path)
    frame = records(screen_reference(path, TRIALS, AS_OF, kinds=True))
    for number in range(EXAMPLES + 1, EXAMPLES + 8):
        err = read_row(path, number, AS_OF)
        assert isinstance(err, RowError), number
        assert str(err) == frame.filter(pl.col("row") == number)["error"][0]
    two = read_row(path, EXAMPLES + 1, AS_OF)
    assert isinstance(two, RowError) and len(two.problems) == 2


def test_read_row_past_the_end_or_below_one_is_an_input_error(tmp_path: Path) -> None:
    path = bad_csv(tmp_path)
    last = EXAMPLES + 7
    assert isinstance(read_row(path, last, AS_OF), RowError)
    with pytest.raises(InputError) as past:
        read_row(path, last + 1, AS_OF)
    assert f"row {last + 1} is past the end: the file has {last} data rows" in str(past.value)
    with pytest.raises(InputError) as zero:
        read_row(path, 0)
    assert "data rows are numbered from 1" in str(zero.value)


def test_read_row_counts_rows_as_screen_does_blank_lines_and_quoted_newlines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "p.csv"
    path.write_text('id,sex\n\nP1,female\n"P\n2",male\n\nP3,F\n')
    one, two, three = (read_row(path, n) for n in (1, 2, 3))
    assert isinstance(one, Patient) and one.id == "P1"
    assert isinstance(two, Patient) and two.id == "P\n2"
    assert isinstance(three, RowError) and three.column == "sex"
    with pytest.raises(InputError, match="the file has 3 data rows"):
        read_row(path, 4)


# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "trialmatch.batch.screen",
        "trialmatch.model.csvlayout",
        "trialmatch.report.screen_runner",
        "trialmatch.report.screen_summary",
    ],
)
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
