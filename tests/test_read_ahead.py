"""The read-ahead thread (``batch/prefetch.py``) and the id lists of columnar records (bit
masks up to 63 criteria, joined strings beyond): same records as the reference engine."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from trialmatch.batch.prefetch import prefetched
from trialmatch.batch.screen import MASK_BITS, screen_columnar, screen_reference
from trialmatch.engine.criteria import load_trial

AS_OF = dt.date(2026, 11, 21)


def test_items_come_in_order_and_the_producer_stays_bounded() -> None:
    made: list[int] = []

    def numbers() -> Iterator[int]:
        for n in range(50):
            made.append(n)
            yield n

    got = []
    for n in prefetched(numbers(), ahead=1):
        time.sleep(0.002)
        # the current item, at most one waiting, at most one in the making
        assert len(made) <= n + 3
        got.append(n)
    assert got == list(range(50))


def test_an_error_of_the_producer_reaches_the_caller_after_the_items_before_it() -> None:
    def broken() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("disk gone")

    got = []
    with pytest.raises(OSError, match="disk gone"):
        for n in prefetched(broken()):
            got.append(n)
    assert got == [1, 2]


def test_closing_early_stops_the_producer() -> None:
    stopped = threading.Event()

    def endless() -> Iterator[int]:
        n = 0
        try:
            while True:
                yield n
                n += 1
        finally:
            stopped.set()

    before = {t.ident for t in threading.enumerate()}
    it = prefetched(endless())
    assert next(it) == 0
    it.close()
    assert stopped.wait(5)  # the source generator was closed
    workers = [t for t in threading.enumerate() if t.name == "trialmatch-read-ahead"]
    assert all(t.ident in before for t in workers)  # the one started here has ended


def _wide_trial(tmp: Path, n: int) -> Path:
    """A trial of ``n`` age criteria (ages 1..n) and one needs-review criterion."""
    lines = [
        "id: WIDE-1",
        "title: A trial with many criteria",
        "phase: '2'",
        "type: interventional",
        "status: recruiting",
        "conditions: [multiple myeloma]",
        "source: {document: generated for a test}",
        "inclusion:",
    ]
    for k in range(1, n + 1):
        lines += [
            f"  - id: age-{k}",
            f"    text: Age {k} or older",
            f"    rule: {{age: {{at_least: {k}}}}}",
        ]
    lines += ["  - id: judge", "    text: Investigator judgement", "    manual: A person decides."]
    path = tmp / "WIDE-1.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("n", [MASK_BITS - 1, MASK_BITS + 5])
def test_id_lists_match_the_reference_engine_below_and_above_the_mask_width(
    tmp_path: Path, n: int
) -> None:
    trial = load_trial(_wide_trial(tmp_path, n))
    rows = ["id,age", "P1,30", "P2,", f"P3,{n + 2}", "P4,0", "P5,1"]
    patients = tmp_path / "p.csv"
    patients.write_text("\n".join(rows) + "\n", encoding="utf-8")
    col = pl.concat(list(screen_columnar(patients, [trial], AS_OF)))
    ref = pl.concat(list(screen_reference(patients, [trial], AS_OF)))
    assert col.to_dicts() == ref.to_dicts()
    by_id = {r["patient_id"]: r for r in col.to_dicts()}
    assert by_id["P1"]["failed"] == ";".join(f"age-{k}" for k in range(31, n + 1))
    assert by_id["P2"]["unknown"] == ";".join(f"age-{k}" for k in range(1, n + 1))
    assert by_id["P3"]["failed"] == "" and by_id["P3"]["verdict"] == "possibly_eligible"
    assert all(r["needs_review"] == "judge" for r in col.to_dicts())
