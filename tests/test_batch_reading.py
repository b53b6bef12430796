"""The columnar reader's pieces: row blocks, blank lines, the summary tallies, the allocator.

The end-to-end equivalence of both engines (including tiny block sizes) is in
``test_batch_equivalence.py``; these tests pin the pieces down directly.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialmatch.batch.records import Summary, TrialTally
from trialmatch.batch.screen import screen
from trialmatch.engine.criteria import load_catalogue
from trialmatch.io.csvrows import blocks as row_blocks
from trialmatch.report.screen_runner import ALLOCATOR_CONF, tune_allocator

from .test_screen_cli import example_csv

HEADER = b"id,note\n"


def _rows(tmp_path: Path, body: bytes, block_bytes: int) -> tuple[list[tuple[int, bytes]], list]:
    path = tmp_path / "p.csv"
    path.write_bytes(HEADER + body)
    rows: list[tuple[int, bytes]] = []
    errors: list[tuple[int, str, str]] = []
    for block in row_blocks(path, block_bytes):
        rows += list(zip(block.numbers, block.row_list(), strict=True))
        errors += block.errors
    return rows, errors


# Rows whose second cell may be quoted and hold newlines, commas and doubled quotes.
CELL = st.one_of(
    st.text("ab ,;", max_size=6).map(lambda t: t.replace(",", "")),
    st.text('ab\n,"', max_size=6).map(lambda t: '"' + t.replace('"', '""') + '"'),
)
ROWS = st.lists(st.tuples(st.text("xyz0123", min_size=1, max_size=4), CELL), max_size=12)


@settings(max_examples=150, deadline=None)
@given(
    rows=ROWS, block=st.integers(1, 64), newline=st.sampled_from(["\n", "\r\n"]), end=st.booleans()
)
def test_blocks_give_the_rows_the_csv_module_reads(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[str, str]],
    block: int,
    newline: str,
    end: bool,
) -> None:
    """Whatever the block size, the splitter's rows are the rows of the file, numbered 1..N,
    each one parsing into exactly the cells the csv module reads from the whole file."""
    import csv
    import io

    body = newline.join(f"{a},{b}" for a, b in rows).encode() + (newline.encode() if end else b"")
    tmp = tmp_path_factory.mktemp("blocks")
    got, errors = _rows(tmp, body, block)
    assert errors == []
    expected = [r for r in csv.reader(io.StringIO(body.decode(), newline="")) if r]
    assert [n for n, _ in got] == list(range(1, len(expected) + 1))
    cells = [next(csv.reader(io.StringIO(r.decode(), newline=""))) for _, r in got]
    assert cells == expected
    # And Polars reads the joined rows into the same table.
    if got:
        frame = pl.read_csv(HEADER + b"".join(r for _, r in got), infer_schema=False)
        assert frame.height == len(expected)


def test_file_without_a_final_newline_keeps_its_last_row(tmp_path: Path) -> None:
    got, _ = _rows(tmp_path, b"a,1\nb,2\nc,3", 5)
    assert got == [(1, b"a,1\n"), (2, b"b,2\n"), (3, b"c,3\n")]


def test_utf8_bom_is_not_part_of_the_header(tmp_path: Path) -> None:
    from trialmatch.io.csvrows import read_header

    path = tmp_path / "p.csv"
    path.write_bytes(b"\xef\xbb\xbf" + HEADER + b"a,1\n")
    text, offset = read_header(path)
    assert text == HEADER.decode().strip() and offset == 3 + len(HEADER)


@pytest.mark.parametrize("engine", ["columnar", "reference"])
def test_summary_tallies_match_a_plain_recount(tmp_path: Path, engine: str) -> None:
    """Per trial: verdict counts, and per criterion how many records failed it or left it
    unknown, recounted naively from the records themselves."""
    trials = load_catalogue()
    src = example_csv(tmp_path)
    summary = Summary({t.trial.id: TrialTally() for t in trials})
    records = []
    for frame in screen(src, trials, dt.date(2026, 11, 21), engine):
        summary.add(frame)
        records += frame.to_dicts()
    assert summary.rows == len({r["row"] for r in records}) > 0
    for t in trials:
        mine = [r for r in records if r["trial_id"] == t.trial.id]
        tally = summary.trials[t.trial.id]
        for verdict in ("eligible", "possibly_eligible", "ineligible", "error"):
            assert tally.verdicts[verdict] == sum(r["verdict"] == verdict for r in mine)
        for column, counted in (("failed", tally.excluded), ("unknown", tally.unknown)):
            expected: dict[str, int] = {}
            for r in mine:
                for cid in filter(None, r[column].split(";")):
                    expected[cid] = expected.get(cid, 0) + 1
            assert counted == expected
    assert any(t.excluded for t in summary.trials.values())  # the recount is not vacuous


def test_allocator_setting_only_before_polars_and_never_over_the_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "polars" in sys.modules  # imported by this test module
    monkeypatch.delenv("_RJEM_MALLOC_CONF", raising=False)
    assert tune_allocator() is False  # too late: Polars is loaded
    assert "_RJEM_MALLOC_CONF" not in os.environ

    monkeypatch.delitem(sys.modules, "polars")
    assert tune_allocator() is True
    assert os.environ["_RJEM_MALLOC_CONF"] == ALLOCATOR_CONF

    monkeypatch.setenv("_RJEM_MALLOC_CONF", "narenas:4")
    assert tune_allocator() is True
    assert os.environ["_RJEM_MALLOC_CONF"] == "narenas:4"  # the user's choice stands


def test_answers_are_the_same_when_the_vocabulary_memo_starts_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the per-mapping memo cleared at every batch, records are unchanged."""
    import trialmatch.columnar.builder as builder
    from trialmatch.batch.screen import screen_columnar

    trials = load_catalogue()
    src = example_csv(tmp_path)
    day = dt.date(2026, 11, 21)

    def records() -> list[dict[str, object]]:
        frames = screen_columnar(src, trials, day, block_bytes=3000)
        return [r for frame in frames for r in frame.to_dicts()]

    kept = records()
    monkeypatch.setattr(builder, "MEMO_LIMIT", 0)
    assert records() == kept
    reference = [r for f in screen(src, trials, day, "reference") for r in f.to_dicts()]
    assert kept == reference


def test_shared_columns_are_built_once_and_staged_after_what_they_use(tmp_path: Path) -> None:
    """A shared sub-expression is compiled once per key and computed in a stage after the
    shared columns it reads; the leaves read it as a column."""
    from trialmatch.batch.plan import Plan
    from trialmatch.batch.read import read_header
    from trialmatch.model.vocab import Vocabulary

    vocab = Vocabulary.default()
    header = read_header(example_csv(tmp_path), vocab)
    plan = Plan([], header, vocab, dt.date(2026, 11, 21))
    built: list[str] = []

    def base() -> pl.Expr:
        built.append("base")
        return pl.col("x") + 1

    first = plan.shared(("test", "base"), base)
    again = plan.shared(("test", "base"), base)
    on_top = plan.shared(("test", "double"), lambda: first * 2)
    plain = plan.shared(("test", "plain"), lambda: pl.col("x") * 10)
    assert built == ["base"]
    assert str(first) == str(again) != str(on_top)
    assert len(plan._stages) == 2
    frame = pl.DataFrame({"x": [1, 2, None]})
    for stage in plan._stages:
        frame = frame.with_columns(stage)
    out = frame.select(first.alias("a"), on_top.alias("b"), plain.alias("c"))
    assert out.to_dict(as_series=False) == {
        "a": [2, 3, None],
        "b": [4, 6, None],
        "c": [10, 20, None],
    }


def test_catalogue_leaves_share_per_slot_columns(tmp_path: Path) -> None:
    """Therapy slots are computed once for all criteria asking about them (started, the
    indication), not once per criterion: the shared keys are fewer than their uses."""
    from trialmatch.batch.plan import Plan
    from trialmatch.batch.read import read_header
    from trialmatch.model.vocab import Vocabulary

    vocab = Vocabulary.default()
    header = read_header(example_csv(tmp_path), vocab)
    plan = Plan([t.trial for t in load_catalogue()], header, vocab, dt.date(2026, 11, 21))
    started = [k for k in plan._shared if k[:2] == ("therapy", "started")]
    assert sorted(k[2] for k in started) == plan.ks("therapies")
    assert plan._stages and all(plan._stages)


@pytest.mark.parametrize("path", ["plain", "blank line", "quoted"])
def test_row_size_limit_is_the_same_on_every_reading_path(tmp_path: Path, path: str) -> None:
    """A row of exactly MAX_ROW_BYTES (its newline counted) is read; one byte more is an
    error record for that row only, whichever path the splitter takes through the block."""
    from trialmatch.io.csvrows import MAX_ROW_BYTES

    def row(size: int) -> bytes:  # "x," + filler + "\n" is `size` bytes
        return b"x," + b"a" * (size - 3) + b"\n"

    before = {"plain": b"a,1\n", "blank line": b"a,1\n\n", "quoted": b'a,"1"\n'}[path]
    body = before + row(MAX_ROW_BYTES) + row(MAX_ROW_BYTES + 1) + b"z,2\n"
    got, errors = _rows(tmp_path, body, 8 << 20)
    assert [n for n, _ in got] == [1, 2, 4]
    assert len(got[1][1]) == MAX_ROW_BYTES
    assert [(n, kind) for n, kind, _ in errors] == [(3, "row_too_long")]
