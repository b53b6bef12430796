"""Batch screening: the columnar engine gives exactly the reference engine's records.

The reference engine (each CSV row read into a Patient and evaluated by
:mod:`trialmatch.engine.evaluate`) is the specification. Checked here:

* the example patients, exported with :func:`patient_to_row`, screen identically with both
  engines, and each record is what :func:`evaluate_trial` says for the same patient;
* rows at the criteria's thresholds give the verdicts the criteria files document;
* generated CSV files (realistic values, values at the thresholds, empty and invalid cells,
  odd whitespace, blank lines, rows with a cell too many, headers missing columns or in
  another order) give identical record frames, also when the columnar engine reads the file
  in small byte blocks and small batches, so that batch boundaries are crossed;
* rows that cannot be read (too many cells, blank lines, short rows) are reported, numbered
  1..N (a blank line is not a row), and the same in both engines.

A disagreement found is kept as a strict-xfail test (``BUG: ...``) with the smallest CSV that
shows it; those found so far have been fixed, and their tests kept as regression tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from trialmatch.batch.records import RECORD_COLUMNS
from trialmatch.batch.screen import screen, screen_columnar
from trialmatch.engine.criteria import LoadedTrial, load_catalogue
from trialmatch.engine.evaluate import evaluate_trial
from trialmatch.model.csvlayout import (
    GROUPS,
    parse_header,
    template_columns,
)
from trialmatch.model.csvrow import patient_to_row, row_to_patient
from trialmatch.model.patient import Patient, load_patient
from trialmatch.model.results import Verdict, failing
from trialmatch.model.vocab import Vocabulary

ROOT = Path(__file__).resolve().parents[1]
PATIENTS = sorted((ROOT / "examples" / "patients").glob("*.yaml"))
AS_OF = dt.date(2026, 11, 21)
TRIALS: list[LoadedTrial] = load_catalogue()
VOCAB = Vocabulary.default()
SMALL_BATCH = 7
# The columnar reader cuts the file into byte blocks (whole rows each); small blocks make many
# Polars batches out of a small file.
HAS_BLOCKS = "block_bytes" in inspect.signature(screen_columnar).parameters


# ------------------------------------------------------------------------------------------
# Helpers


def write_csv(
    path: Path,
    columns: Sequence[str],
    rows: Iterable[Mapping[str, str]],
    blank_before: Collection[int] = (),
    extra_cell: Collection[int] = (),
) -> Path:
    """Write rows (column -> cell; missing columns are empty) under a fixed header, with a
    blank line before each row whose 0-based index is in ``blank_before`` and one cell too
    many in each row whose index is in ``extra_cell``."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        written = 0
        for i, row in enumerate(rows):
            assert set(row) <= set(columns), set(row) - set(columns)
            if i in blank_before:
                fh.write("\r\n")
            writer.writerow([row.get(c, "") for c in columns] + ["EXTRA"] * (i in extra_cell))
            written = i + 1
        if written in blank_before:
            fh.write("\r\n")
    return path


def run(path: Path, as_of: dt.date, engine: str, batch_size: int | None = None) -> pl.DataFrame:
    """All records of a screening run, sorted by row then trial."""
    frames = list(screen(path, TRIALS, as_of, engine, batch_size=batch_size))
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=list(RECORD_COLUMNS))
    assert frame.columns == list(RECORD_COLUMNS)
    return frame.sort("row", "trial_id")


def run_blocks(path: Path, as_of: dt.date, block_bytes: int, batch_size: int) -> pl.DataFrame:
    """The columnar engine reading the file in small byte blocks (several Polars batches)."""
    frames = list(
        screen_columnar(path, TRIALS, as_of, batch_size=batch_size, block_bytes=block_bytes)
    )
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=list(RECORD_COLUMNS))
    return frame.sort("row", "trial_id")


def both_engines(
    path: Path,
    as_of: dt.date,
    batch_sizes: Sequence[int | None] = (None, SMALL_BATCH),
    block_bytes: Sequence[int] = (),
    reference_batches: bool = True,
) -> pl.DataFrame:
    """Screen with the reference engine and with the columnar engine at each batch size and
    block size (and the reference at a small batch size too); every frame must be identical."""
    reference = run(path, as_of, "reference")
    if reference_batches:
        assert_frame_equal(run(path, as_of, "reference", SMALL_BATCH), reference)
    for size in batch_sizes:
        columnar = run(path, as_of, "columnar", size)
        assert_frame_equal(columnar, reference, check_dtypes=True)
    if HAS_BLOCKS:
        for block in block_bytes:
            assert_frame_equal(run_blocks(path, as_of, block, SMALL_BATCH), reference)
    return reference


def expected_records(
    header_columns: Sequence[str], rows: Sequence[Mapping[str, str]], as_of: dt.date
) -> list[tuple[Any, ...]]:
    """What ``screen`` should say for each row, from the per-patient engine (rows valid)."""
    header = parse_header(list(header_columns), VOCAB.labs)
    out = []
    for number, row in enumerate(rows, start=1):
        cells = {c: row.get(c, "") for c in header_columns}
        patient = row_to_patient(header, cells, number)
        assert isinstance(patient, Patient), patient
        for t in TRIALS:
            result = evaluate_trial(t, patient, as_of, VOCAB)
            out.append(
                (
                    number,
                    patient.id,
                    t.trial.id,
                    result.verdict.value,
                    ";".join(c.criterion_id for c in result.criteria if failing(c.kind, c.verdict)),
                    ";".join(
                        c.criterion_id for c in result.criteria if c.verdict is Verdict.unknown
                    ),
                    ";".join(
                        c.criterion_id
                        for c in result.criteria
                        if c.verdict is Verdict.needs_review
                    ),
                    None,
                )
            )
    return sorted(out, key=lambda r: (r[0], r[2]))


# ------------------------------------------------------------------------------------------
# (a) Example patients


def example_rows(as_of: dt.date) -> tuple[list[str], list[dict[str, str]]]:
    rows = [patient_to_row(load_patient(p), as_of) for p in PATIENTS]
    columns = ["id", *sorted({c for r in rows for c in r} - {"id"})]
    return columns, rows


def test_there_are_example_patients() -> None:
    assert len(PATIENTS) >= 10


@pytest.mark.parametrize("as_of", [AS_OF, dt.date(2028, 2, 29)], ids=str)
def test_example_patients_both_engines_and_check(tmp_path: Path, as_of: dt.date) -> None:
    columns, rows = example_rows(as_of)
    path = write_csv(tmp_path / "examples.csv", columns, rows)
    frame = both_engines(path, as_of, batch_sizes=(None, SMALL_BATCH, 1), block_bytes=(2500,))
    assert frame.height == len(rows) * len(TRIALS)
    assert frame.filter(pl.col("verdict") == "error").height == 0
    assert frame.rows() == expected_records(columns, rows, as_of)


def test_example_patients_screen_equals_check_on_the_original_profile(tmp_path: Path) -> None:
    """Screening the exported row gives the verdicts `check` gives for the YAML profile."""
    columns, rows = example_rows(AS_OF)
    path = write_csv(tmp_path / "examples.csv", columns, rows)
    frame = run(path, AS_OF, "columnar", SMALL_BATCH)
    for number, source in enumerate(PATIENTS, start=1):
        patient = load_patient(source)
        for t in TRIALS:
            result = evaluate_trial(t, patient, AS_OF, VOCAB)
            rec = frame.filter((pl.col("row") == number) & (pl.col("trial_id") == t.trial.id))
            assert rec.height == 1
            got = rec.row(0, named=True)
            assert got["patient_id"] == patient.id
            assert got["verdict"] == result.verdict.value, (source.name, t.trial.id)
            assert got["failed"] == ";".join(
                c.criterion_id for c in result.criteria if failing(c.kind, c.verdict)
            )
            assert got["unknown"] == ";".join(
                c.criterion_id for c in result.criteria if c.verdict is Verdict.unknown
            )
            assert got["needs_review"] == ";".join(
                c.criterion_id for c in result.criteria if c.verdict is Verdict.needs_review
            )


def test_example_patients_in_every_order_of_batches(tmp_path: Path) -> None:
    """The same rows repeated and shuffled across batch boundaries give the same records."""
    columns, rows = example_rows(AS_OF)
    many = [rows[(i * 7) % len(rows)] for i in range(3 * len(rows))]
    path = write_csv(tmp_path / "many.csv", columns, many)
    frame = both_engines(path, AS_OF, batch_sizes=(None, SMALL_BATCH, 4), block_bytes=(2000,))
    assert frame["row"].unique().sort().to_list() == list(range(1, len(many) + 1))


# ------------------------------------------------------------------------------------------
# Thresholds, one row each: both engines agree, and the reference says what the criteria mean


def _lab(lab: str, value: str, unit: str, **details: str) -> dict[str, str]:
    return {
        f"lab_{lab}": value,
        f"lab_{lab}_unit": unit,
        **{f"lab_{lab}_{k}": v for k, v in details.items()},
    }


LEN = {"tx_1_drugs": "lenalidomide", "tx_1_start": "2026-01-01"}
TRANSAMINASES = {**_lab("ast", "120", "U/L", uln="40"), **_lab("alt", "135", "U/L", uln="45")}
# (name, cells, trial, criterion, expected: ok | failed | unknown) at 2026-11-21
THRESHOLDS: list[tuple[str, dict[str, str], str, str, str]] = [
    (
        "creatinine 2.5 mg/dL",
        _lab("creatinine", "2.5", "mg/dL"),
        "NCT01673308",
        "inc-organ-creatinine",
        "ok",
    ),
    (
        "creatinine 2.5001 mg/dL",
        _lab("creatinine", "2.5001", "mg/dL"),
        "NCT01673308",
        "inc-organ-creatinine",
        "failed",
    ),
    (
        "creatinine 221 umol/L",
        _lab("creatinine", "221", "umol/L"),
        "NCT01673308",
        "inc-organ-creatinine",
        "ok",
    ),
    (
        "creatinine 221.1 umol/L",
        _lab("creatinine", "221.1", "umol/L"),
        "NCT01673308",
        "inc-organ-creatinine",
        "failed",
    ),
    (
        "creatinine in an unknown unit",
        _lab("creatinine", "2.5", "bananas"),
        "NCT01673308",
        "inc-organ-creatinine",
        "unknown",
    ),
    (
        "creatinine dated after as_of",
        _lab("creatinine", "1.0", "mg/dL", date="2026-11-22"),
        "NCT01673308",
        "inc-organ-creatinine",
        "unknown",
    ),
    ("AST and ALT exactly 3x ULN", TRANSAMINASES, "NCT01673308", "inc-organ-transaminases", "ok"),
    (
        "AST just over 3x ULN",
        {**TRANSAMINASES, "lab_ast": "120.0001"},
        "NCT01673308",
        "inc-organ-transaminases",
        "failed",
    ),
    (
        "AST without ULN",
        {**TRANSAMINASES, "lab_ast_uln": ""},
        "NCT01673308",
        "inc-organ-transaminases",
        "unknown",
    ),
    (
        "AST exactly 2x ULN",
        {
            **_lab("ast", "80", "U/L", uln="40"),
            **_lab("alt", "20", "U/L", uln="45"),
            **_lab("bilirubin_total", "0.5", "mg/dL", uln="1.2"),
        },
        "NCT01421927",
        "exc-hepatic",
        "ok",
    ),
    (
        "AST just over 2x ULN",
        _lab("ast", "80.01", "U/L", uln="40"),
        "NCT01421927",
        "exc-hepatic",
        "failed",
    ),
    (
        "bilirubin 3x ULN with Gilbert's",
        {
            **_lab("ast", "20", "U/L", uln="40"),
            **_lab("alt", "20", "U/L", uln="45"),
            **_lab("bilirubin_total", "3.6", "mg/dL", uln="1.2"),
            "cond_1_name": "Gilbert's disease",
        },
        "NCT01421927",
        "exc-hepatic",
        "ok",
    ),
    ("LVEF 50", _lab("lvef", "50", "%"), "NCT01421927", "exc-cardiac", "ok"),
    ("LVEF 49.9", _lab("lvef", "49.9", "%"), "NCT01421927", "exc-cardiac", "failed"),
    ("DLCO 60", _lab("dlco", "60", "%"), "NCT01421927", "exc-pulmonary", "ok"),
    ("DLCO 59.99", _lab("dlco", "59.99", "%"), "NCT01421927", "exc-pulmonary", "failed"),
    ("CrCl 30", _lab("creatinine_clearance", "30", "mL/min"), "NCT01421927", "exc-renal", "ok"),
    (
        "CrCl 29.9",
        _lab("creatinine_clearance", "29.9", "mL/min"),
        "NCT01421927",
        "exc-renal",
        "failed",
    ),
    (
        "CrCl 0.5 mL/s (30 mL/min)",
        _lab("creatinine_clearance", "0.5", "mL/s"),
        "NCT01421927",
        "exc-renal",
        "ok",
    ),
    (
        "CrCl by Cockcroft-Gault",
        {
            **_lab("creatinine", "2.0", "mg/dL"),
            **_lab("weight", "60", "kg"),
            "birth_date": "1956-11-21",
            "sex": "female",
        },
        "NCT01421927",
        "exc-renal",
        "failed",
    ),
    (
        "lenalidomide 9 calendar months",
        {**LEN, "tx_1_end": "2026-09-30"},
        "NCT01421927",
        "inc-len-exposure",
        "ok",
    ),
    (
        "lenalidomide 9 months is not more than 9",
        {**LEN, "tx_1_end": "2026-09-30"},
        "NCT01421927",
        "exc-len-exposure",
        "ok",
    ),
    (
        "lenalidomide 9 months and a day",
        {**LEN, "tx_1_end": "2026-10-01"},
        "NCT01421927",
        "exc-len-exposure",
        "failed",
    ),
    (
        "overlapping courses counted once",
        {
            "tx_1_regimen": "VRd",
            "tx_1_start": "2026-01-01",
            "tx_1_end": "2026-05-31",
            "tx_2_drugs": "lenalidomide",
            "tx_2_start": "2026-05-01",
            "tx_2_end": "2026-09-30",
        },
        "NCT01421927",
        "exc-len-exposure",
        "ok",
    ),
    (
        "disease-free exactly 5 years (more than 5 needed)",
        {
            "pm_1_condition": "breast cancer",
            "pm_1_disease_free_since": "2021-11-21",
            "pm_1_curative_intent": "true",
        },
        "NCT01421927",
        "exc-prior-cancer",
        "failed",
    ),
    (
        "disease-free 5 years and a day",
        {
            "pm_1_condition": "breast cancer",
            "pm_1_disease_free_since": "2021-11-20",
            "pm_1_curative_intent": "true",
        },
        "NCT01421927",
        "exc-prior-cancer",
        "ok",
    ),
    (
        "disease-free exactly 5 years (at least 5 needed)",
        {
            "pm_1_condition": "breast cancer",
            "pm_1_disease_free_since": "2021-11-21",
            "pm_1_curative_intent": "true",
        },
        "NCT01673308",
        "exc-prior-malignancy",
        "ok",
    ),
    ("18th birthday on as_of", {"birth_date": "2008-11-21"}, "NCT01673308", "inc-age", "ok"),
    (
        "18th birthday the day after",
        {"birth_date": "2008-11-22"},
        "NCT01673308",
        "inc-age",
        "failed",
    ),
    ("65 until the 66th birthday", {"birth_date": "1960-11-22"}, "NCT01421927", "inc-age", "ok"),
    ("66th birthday on as_of", {"birth_date": "1960-11-21"}, "NCT01421927", "inc-age", "failed"),
    (
        "donor 9/10 at C",
        {"donor_relation": "unrelated", "donor_hla_match": "9/10", "donor_mismatched_loci": "C"},
        "NCT01421927",
        "inc-donor",
        "ok",
    ),
    (
        "donor 9/10 at DQB1",
        {"donor_relation": "related", "donor_hla_match": "9/10", "donor_mismatched_loci": "DQB1"},
        "NCT01421927",
        "inc-donor",
        "ok",
    ),
    (
        "donor 9/10 at A",
        {"donor_relation": "related", "donor_hla_match": "9/10", "donor_mismatched_loci": "A"},
        "NCT01421927",
        "inc-donor",
        "failed",
    ),
    (
        "donor 9/10, locus not recorded",
        {"donor_relation": "related", "donor_hla_match": "9/10"},
        "NCT01421927",
        "inc-donor",
        "unknown",
    ),
    (
        "PR by PET-CT",
        {"disease_response": "PR", "disease_response_assessed_by": "PET-CT"},
        "NCT03730740",
        "inc-pr-by-ct",
        "ok",
    ),
    (
        "PR by bone marrow",
        {"disease_response": "PR", "disease_response_assessed_by": "bone marrow"},
        "NCT03730740",
        "inc-pr-by-ct",
        "failed",
    ),
    (
        "CR however assessed",
        {"disease_response": "CR", "disease_response_assessed_by": "bone marrow"},
        "NCT03730740",
        "inc-pr-by-ct",
        "ok",
    ),
]


def test_thresholds_both_engines(tmp_path: Path) -> None:
    rows = [{"id": f"T{i}", **cells} for i, (_, cells, *_) in enumerate(THRESHOLDS, start=1)]
    columns = ["id", *sorted({c for r in rows for c in r} - {"id"})]
    path = write_csv(tmp_path / "thresholds.csv", columns, rows)
    frame = both_engines(path, AS_OF, block_bytes=(400,))
    for number, (name, _, trial, criterion, expected) in enumerate(THRESHOLDS, start=1):
        rec = frame.filter((pl.col("row") == number) & (pl.col("trial_id") == trial))
        got = rec.row(0, named=True)
        assert got["verdict"] != "error", (name, got["error"])
        status = (
            "failed"
            if criterion in got["failed"].split(";")
            else "unknown"
            if criterion in got["unknown"].split(";")
            else "ok"
        )
        assert status == expected, name


# Values no patient can have on the screening date are error records (issue 9, point 8), the
# same in both engines: (cells, column named, message fragment).
IMPOSSIBLE: list[tuple[dict[str, str], str, str]] = [
    ({"birth_date": "2026-11-22"}, "birth_date", "is after the screening date 2026-11-21"),
    ({"birth_date": "1895-11-21"}, "birth_date", "gives an age of 131"),
    (
        {"lab_creatinine": "-0.5", "lab_creatinine_unit": "mg/dL"},
        "lab_creatinine",
        "must be at least 0 (got -0.5)",
    ),
    (
        {"lab_ast": "30", "lab_ast_unit": "U/L", "lab_ast_uln": "0"},
        "lab_ast_uln",
        "must be more than 0",
    ),
    (
        {"tx_1_drugs": "lenalidomide", "tx_1_ongoing": "true", "tx_1_ti_at_end": "true"},
        "",
        "tx_1: ti_at_end says how a course stopped, but this course is ongoing",
    ),
    (
        {"tx_1_drugs": "lenalidomide", "tx_1_ti_reached": "false", "tx_1_ti_at_end": "true"},
        "",
        "tx_1: ti_at_end: true needs transfusion independence reached",
    ),
    ({"disease_response_assessed_by": "CT", "disease_state": "relapsed"}, "", "no response"),
    # Issue 10: dates no calendar arithmetic should meet are error records, the run goes on.
    ({"tx_1_drugs": "lenalidomide", "tx_1_start": "9999-12-31"}, "tx_1_start", "dates must lie"),
    ({"pm_1_condition": "breast cancer", "pm_1_disease_free_since": "9998-06-01"},
     "pm_1_disease_free_since", "dates must lie between 1800-01-01 and 2199-12-31"),
    ({"birth_date": "0001-01-01"}, "birth_date", "dates must lie"),
]


def test_impossible_values_are_error_records_in_both_engines(tmp_path: Path) -> None:
    rows = [{"id": f"X{i}", **cells} for i, (cells, _, _) in enumerate(IMPOSSIBLE, start=1)]
    rows.append({"id": "OK", "birth_date": "1895-11-22"})  # exactly 130: fine
    columns = ["id", *sorted({c for r in rows for c in r} - {"id"})]
    path = write_csv(tmp_path / "impossible.csv", columns, rows)
    frame = both_engines(path, AS_OF, block_bytes=(300,))
    for number, (_, column, fragment) in enumerate(IMPOSSIBLE, start=1):
        recs = frame.filter(pl.col("row") == number)
        assert recs.height == len(TRIALS)
        assert set(recs["verdict"]) == {"error"}, (number, recs["verdict"].to_list())
        message = recs["error"][0]
        assert message.startswith(f"row {number}"), message
        assert f"column '{column}'" in message if column else True, message
        assert fragment in message, message
    assert "error" not in set(frame.filter(pl.col("row") == len(rows))["verdict"])


@pytest.mark.parametrize(
    ("as_of", "adult", "at_most_65"),
    [
        (dt.date(2026, 2, 28), "failed", "ok"),  # 17 and 65: birthdays come on 1 March
        (dt.date(2026, 3, 1), "ok", "failed"),  # 18 and 66
        (dt.date(2028, 2, 29), "ok", "failed"),  # 20 and 68: the birthday itself
    ],
    ids=str,
)
def test_born_on_29_february(tmp_path: Path, as_of: dt.date, adult: str, at_most_65: str) -> None:
    rows = [
        {"id": "LEAP-2008", "birth_date": "2008-02-29"},
        {"id": "LEAP-1960", "birth_date": "1960-02-29"},
    ]
    path = write_csv(tmp_path / "leap.csv", ["id", "birth_date"], rows)
    frame = both_engines(path, as_of)

    def status(row: int, trial: str) -> str:
        rec = frame.filter((pl.col("row") == row) & (pl.col("trial_id") == trial))
        return "failed" if "inc-age" in rec["failed"][0].split(";") else "ok"

    assert status(1, "NCT01673308") == adult
    assert status(2, "NCT01421927") == at_most_65


# ------------------------------------------------------------------------------------------
# (b) Generated rows


LABS = (
    "creatinine",
    "creatinine_clearance",
    "ast",
    "alt",
    "bilirubin_total",
    "bilirubin_direct",
    "lvef",
    "dlco",
    "weight",
    "hemoglobin",
)
TX_SLOTS = 4


def _columns() -> list[str]:
    cols = [c for c in template_columns(LABS) if not c.startswith(f"tx_{TX_SLOTS + 1}_")]
    return cols


COLUMNS = _columns()
AS_OFS = (
    AS_OF,
    dt.date(2028, 2, 29),
    dt.date(2026, 2, 28),
    dt.date(2026, 3, 1),
    dt.date(2027, 2, 28),
)
CRITERIA = sorted({(t.trial.id, c.id) for t in TRIALS for _, c in t.trial.criteria})
# Attestations mostly name criteria that are often open, so that they often apply.
ATTESTED_TRIALS = ("NCT01421927", "NCT01673308", "NCT02538198")
ATTESTED_CRITERIA = (
    "inc-social-security",
    "inc-consent",
    "exc-contraception",
    "exc-no-condom-male",
    "exc-hepatic",
    "inc-donor",
    "inc-age",
    "inc-organ-creatinine",
    "exc-recent-mi",
    "exc-no-contraception-female",
    "inc-organ-function",
)
assert {c for c in ATTESTED_CRITERIA} <= {c for _, c in CRITERIA}


def weighted(*pairs: tuple[int, st.SearchStrategy[str]]) -> st.SearchStrategy[str]:
    """One of several strategies, chosen with integer weights (the first shrinks best)."""
    total = sum(w for w, _ in pairs)

    def pick(i: int) -> st.SearchStrategy[str]:
        for w, s in pairs:
            if i < w:
                return s
            i -= w
        raise AssertionError(i)

    return st.integers(0, total - 1).flatmap(pick)


def one(*values: str) -> st.SearchStrategy[str]:
    return st.sampled_from(values)


def years_before(day: dt.date, n: int) -> dt.date:
    try:
        return day.replace(year=day.year - n)
    except ValueError:  # 29 February
        return day.replace(year=day.year - n, day=28)


def iso(days: Iterable[dt.date]) -> tuple[str, ...]:
    return tuple(sorted({d.isoformat() for d in days}))


BAD_DATES = one(
    "2024-02-30",
    "2024-1-5",
    "2023-02-29",
    "21/11/2026",
    "2026-13-01",
    "tomorrow",
    "2026-11-21T00:00",
    "20261121",
)
BAD_BOOLS = one("maybe", "1", "0", "y", "t", "ja")
BAD_INTS = one("two", "1.0", "1e2", "1234567890", "--1", "3 4")
BAD_FLOATS = one("1e999", "abc", "2,5", "NaN", "inf", "-inf", "9" * 400, "1e", "1.2.3", "0x10")
BAD_LISTS = one("a;;b", "lenalidomide;", ";", " ; ")


def _cell_kinds(as_of: dt.date) -> dict[str, Any]:
    """Realistic values per kind of cell for a screening date."""
    d = as_of
    one_day = dt.timedelta(days=1)
    near = [
        d,
        d - one_day,
        d + one_day,
        dt.date(2024, 2, 29),
        dt.date(2020, 2, 29),
        dt.date(2023, 2, 28),
        dt.date(2023, 3, 1),
    ]
    for n in (3, 5):
        y = years_before(d, n)
        near += [y, y - one_day, y + one_day]
    births = [years_before(d, n) for n in (18, 65, 66)]
    births += [b + one_day for b in births] + [b - one_day for b in births]
    births += [
        dt.date(2008, 2, 29),
        dt.date(1960, 2, 29),
        dt.date(2000, 2, 29),
        dt.date(2010, 2, 28),
        dt.date(2010, 3, 1),
        d,
        d + one_day,
        dt.date(1955, 2, 14),
    ]
    events = [
        dt.date(2019, 7, 1),
        dt.date(2019, 10, 6),
        dt.date(2019, 10, 7),
        dt.date(2020, 1, 31),
        dt.date(2020, 2, 1),
        dt.date(2022, 3, 28),
        dt.date(2025, 12, 31),
        dt.date(2026, 1, 1),
        dt.date(2026, 9, 30),
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 31),
        dt.date(2024, 2, 29),
        dt.date(2023, 11, 20),
        *near,
    ]
    random_day = st.dates(dt.date(1940, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat)
    return {
        "near": weighted((3, one(*iso(near))), (1, random_day)),
        "birth": weighted((3, one(*iso(births))), (1, random_day)),
        "event": weighted((4, one(*iso(events))), (1, random_day)),
    }


CONDITIONS = one(
    "myelodysplastic syndrome",
    "MDS",
    "MDS with isolated del(5q)",
    "del(5q) MDS",
    "multiple myeloma",
    "plasma cell myeloma",
    "plasma cell leukemia",
    "PTCL",
    "peripheral T-cell lymphoma",
    "T-cell lymphoma",
    "lymphoma",
    "DLBCL",
    "mystery disease",
    "AML",
    "myeloma",
)
OTHER_MALIGNANCIES = one(
    "breast cancer",
    "basal cell carcinoma",
    "nonmelanoma skin cancer",
    "CIN 3",
    "carcinoma in situ",
    "prostate cancer",
    "melanoma",
    "mystery disease",
    "multiple myeloma",
    "MDS",
    "cervical intraepithelial neoplasia",
)
COMORBIDITIES = one(
    "infection",
    "pneumonia",
    "sepsis",
    "hepatitis B",
    "hepatitis C",
    "HIV",
    "myocardial infarction",
    "hypertension",
    "diabetes mellitus",
    "Gilbert's disease",
    "haemophilia A",
    "coagulopathy",
    "acquired coagulopathy",
    "von Willebrand disease",
    "galactose intolerance",
    "Lapp lactase deficiency",
    "glucose-galactose malabsorption",
    "mystery disease",
    "gout",
)
DRUG_LISTS = one(
    "azacitidine",
    "decitabine",
    "lenalidomide",
    "thalidomide",
    "pomalidomide",
    "epoetin alfa",
    "filgrastim",
    "luspatercept",
    "xyzumab",
    "Revlimid",
    "lenalidomide;dexamethasone",
    "azacitidine; venetoclax",
    "bortezomib;lenalidomide;xyzumab",
    "pomalidomide;bortezomib;dexamethasone",
    "romidepsin",
)
REGIMENS = one("VRd", "CHOP", "Rd", "GDP", "PVd", "MPT", "mystery regimen")
RESPONSES = one(
    "CR",
    "sCR",
    "VGPR",
    "PR",
    "MR",
    "SD",
    "PD",
    "partial response",
    "stable disease",
    "complete remission",
    "good",
)
ASSESSED_BY = one("CT", "PET-CT", "bone marrow", "IMWG", "ct", "PET/CT", "MRI", "CT scan")
SETTINGS = one(
    "induction",
    "consolidation",
    "maintenance",
    "salvage",
    "conditioning",
    "first_line",
    "supportive",
    "prophylaxis",
    "other",
)
OUTCOMES = one(
    "ongoing",
    "completed",
    "progression",
    "refractory",
    "relapse",
    "no_response",
    "intolerance",
    "toxicity",
    "patient_decision",
    "physician_decision",
    "response",
    "other",
)
STATUSES = one("active", "controlled", "uncontrolled", "resolved", "history", "absent", "unknown")
BOOLS = one("true", "false", "yes", "no", "TRUE", "No")

LAB_VALUES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # lab: (values, units)
    "creatinine": (
        ("2.5", "2.4999", "2.5001", "221", "220.9", "221.1", "1.0", "0.9", "0", "-0.5"),
        ("mg/dL", "umol/L", "mg/L", "mmol/L", "mg/dl", "µmol/L", "bananas"),
    ),
    "creatinine_clearance": (
        ("30", "29.9", "30.1", "88", "0.5", "1.8"),
        ("mL/min", "mL/s", "L/h", "ml/min", "mL/min/1.73m2"),
    ),
    "ast": (("80", "80.0001", "120", "120.0001", "30", "40"), ("U/L", "IU/L", "ukat/L")),
    "alt": (("90", "135", "135.01", "25", "45"), ("U/L", "IU/L", "nkat/L")),
    "bilirubin_total": (("2.4", "2.41", "0.7", "41.04", "3"), ("mg/dL", "umol/L", "g/L")),
    "bilirubin_direct": (("2.0", "2.01", "34.2", "34.3", "0.3"), ("mg/dL", "umol/L", "%")),
    "lvef": (("50", "49.9", "50.1", "58"), ("%", "percent")),
    "dlco": (("60", "59.99", "72"), ("%", "mL/min")),
    "weight": (("70", "81", "154", "0"), ("kg", "lb", "g", "stone")),
    "hemoglobin": (("11.2", "9"), ("g/dL", "g/L")),
}
ULNS = one("40", "45", "1.2", "0", "-5", "1.0")


def _strategies(as_of: dt.date, dirty: bool) -> dict[str, st.SearchStrategy[str]]:
    """A cell strategy per column: mostly empty or realistic; in dirty rows, invalid too."""
    k = _cell_kinds(as_of)
    bad_weight = 1 if dirty else 0
    required = bad_weight  # a required cell is left empty only in dirty rows

    def cell(
        real: st.SearchStrategy[str], bad: st.SearchStrategy[str] | None = None, empty: int = 3
    ) -> st.SearchStrategy[str]:
        pairs = [(empty, st.just("")), (10, real)]
        if bad is not None and bad_weight:
            pairs.append((bad_weight, bad))
        return weighted(*pairs)

    date = {n: cell(k[n], BAD_DATES) for n in ("near", "birth", "event")}
    out: dict[str, st.SearchStrategy[str]] = {
        "id": weighted((30, one("P1", "P2", "MM-9", " P3 ", "x")), (bad_weight, st.just(""))),
        "birth_date": date["birth"],
        "age": cell(one("17", "18", "65", "66", "71", "0", "130"), one("131", "-1", "two")),
        "sex": cell(one("female", "male", "other"), one("F", "Male", "m")),
        "pregnant": cell(BOOLS, BAD_BOOLS),
        "breastfeeding": cell(BOOLS, BAD_BOOLS),
        "childbearing_potential": cell(BOOLS, BAD_BOOLS),
        "ecog": cell(one("0", "1", "2", "3", "4", "5", " 2 "), one("two", "7", "-1", "2.0")),
        "ecog_date": date["near"],
        "disease_response": cell(RESPONSES),
        "disease_state": cell(
            one("relapsed", "refractory", "relapsed_and_refractory", "newly_diagnosed"),
            one("Relapsed", "r/r"),
            6,
        ),
        "disease_state_after_line": cell(one("1", "2"), one("0", "x"), 6),
        "disease_response_date": date["near"],
        "disease_response_assessed_by": cell(ASSESSED_BY),
        "disease_response_after_line": cell(one("1", "2", "3", "4"), one("0", "x")),
        "donor_relation": cell(one("related", "unrelated"), one("sibling")),
        "donor_hla_match": cell(one("10/10", "9/10", "8/10", "12/12"), one("10-10")),
        "donor_mismatched_loci": cell(
            one("C", "HLA-C", "DQB1", "DQA1", "A", "HLA-DQ", "C;A", "HLA-C; DQB1"), BAD_LISTS
        ),
    }
    for lab, (values, units) in LAB_VALUES.items():
        out[f"lab_{lab}"] = cell(one(*values, " 2.5 "), BAD_FLOATS, empty=bad_weight)
        out[f"lab_{lab}_unit"] = weighted((12, one(*units)), (bad_weight, st.just("")))
        out[f"lab_{lab}_date"] = date["near"]
        out[f"lab_{lab}_uln"] = cell(ULNS, BAD_FLOATS, empty=6 if lab not in ("ast", "alt") else 1)
    slot: dict[str, st.SearchStrategy[str]] = {
        # diagnoses
        "dx_condition": cell(CONDITIONS, empty=required),
        "dx_code": cell(one("D46.9", "C90.0", "C90.00", "C84.40", "D46.C", "Z99"), empty=6),
        "dx_subtype": cell(
            one(
                "MDS with isolated del(5q)",
                "IgA lambda",
                "PTCL-NOS",
                "plasma cell leukemia",
                "weird subtype",
            ),
            empty=6,
        ),
        "dx_classification": cell(
            one("WHO 2016", "WHO 2008", "WHO 2022", "WHO", "ICC 2022", "FAB", "who 2016")
        ),
        "dx_date": date["event"],
        "dx_findings": cell(
            one(
                "del(5q)",
                "del5q",
                "5q-",
                "del(5q)(q13q33)",
                "TP53",
                "del(5q);TP53",
                "Del(5Q)",
                "+8",
            ),
            BAD_LISTS,
        ),
        "dx_findings_absent": cell(one("del(5q)", "TP53", "5q deletion"), BAD_LISTS, empty=8),
        "dx_risk_system": cell(one("IPSS-R", "IPSS", "ipss-r", "R-ISS"), empty=4),
        "dx_risk_category": cell(one("low", "intermediate", "very low", "high", "Low", "int-1")),
        "dx_risk_date": date["event"],
        # therapies
        "tx_drugs": cell(DRUG_LISTS, BAD_LISTS, empty=4),
        "tx_regimen": cell(REGIMENS, empty=12),
        "tx_indication": cell(
            one(
                "multiple myeloma",
                "myelodysplastic syndrome",
                "MDS",
                "T-cell lymphoma",
                "PTCL",
                "anaemia",
                "mystery disease",
                "breast cancer",
            ),
            empty=6,
        ),
        "tx_start": date["event"],
        "tx_end": date["event"],
        "tx_ongoing": cell(BOOLS, BAD_BOOLS, empty=8),
        "tx_line": cell(one("1", "2", "3"), one("0", "-1", "two")),
        "tx_setting": cell(SETTINGS, one("Salvage", "rescue")),
        "tx_cycles": cell(one("0", "4", "12", "29"), one("-1", "1.5")),
        "tx_best_response": cell(RESPONSES, empty=6),
        "tx_response_assessed_by": cell(ASSESSED_BY, empty=8),
        "tx_outcome": cell(OUTCOMES, one("failed", "Refractory")),
        "tx_ti_reached": cell(BOOLS, BAD_BOOLS, empty=8),
        "tx_ti_at_end": cell(BOOLS, BAD_BOOLS, empty=8),
        # procedures
        "proc_type": cell(
            one("allogeneic SCT", "autologous SCT", "allo-HSCT", "biopsy"), empty=required
        ),
        "proc_date": date["event"],
        "proc_conditioning": cell(
            one("reduced-intensity fludarabine-busulfan", "myeloablative", "melphalan 200 mg/m2")
        ),
        # transfusions
        "rbc_status": cell(
            one("dependent", "independent"), one("Dependent", "maybe"), empty=required
        ),
        "rbc_start": cell(k["event"], BAD_DATES, empty=required),
        "rbc_end": date["event"],
        "rbc_product": cell(
            one("RBC", "red cells", "platelets", "rbc", "Red Blood Cells"), empty=6
        ),
        # other conditions
        "cond_name": cell(COMORBIDITIES, empty=required),
        "cond_status": cell(STATUSES, one("Active", "cured")),
        "cond_since": date["event"],
        "cond_until": date["event"],
        # prior malignancies
        "pm_condition": cell(OTHER_MALIGNANCIES, empty=required),
        "pm_diagnosed": date["near"],
        "pm_last_treatment": date["near"],
        "pm_disease_free_since": date["near"],
        "pm_curative_intent": cell(BOOLS, BAD_BOOLS),
        "pm_in_remission": cell(BOOLS, BAD_BOOLS),
        # hypersensitivities
        "hs_agent": cell(
            one(
                "lenalidomide",
                "thalidomide",
                "immunomodulatory drugs",
                "IMiDs",
                "penicillin",
                "lactose",
                "VRd",
                "xyzumab",
                "Revlimid",
            ),
            empty=required,
        ),
        "hs_reaction": cell(one("rash", "anaphylaxis")),
        "hs_date": date["near"],
        # attestations
        "att_trial": cell(
            weighted(
                (3, one(*ATTESTED_TRIALS)),
                (1, one(*sorted({t for t, _ in CRITERIA}), "NCT00000000")),
            ),
            empty=required,
        ),
        "att_criterion": cell(
            weighted((3, one(*ATTESTED_CRITERIA)), (1, one(*sorted({c for _, c in CRITERIA})))),
            empty=required,
        ),
        "att_holds": cell(BOOLS, BAD_BOOLS, empty=required),
        "att_by": cell(one("INV-03", "nurse"), empty=required),
        "att_on": cell(k["near"], BAD_DATES, empty=required),
    }
    marker = weighted(
        (6, st.just("")),
        (2, one("none", "None", "NONE")),
        (2, one("partial", "Partial")),
        (bad_weight, one("nothing", "no", "n/a")),
    )
    for g in GROUPS:
        out[g.marker] = marker
        for c in g.cols:
            out[f"{g.prefix}_{c.suffix}"] = slot[f"{g.prefix}_{c.suffix}"]
    return out


def _row_strategy(as_of: dt.date, dirty: bool) -> st.SearchStrategy[dict[str, str]]:
    cells = _strategies(as_of, dirty)
    header = parse_header(COLUMNS, VOCAB.labs)

    @st.composite
    def row(draw: Callable[..., Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in header.scalars:
            out[name] = draw(cells[name])
        for lab_id, cols in header.labs.items():
            if draw(st.booleans()):  # half of the labs are recorded
                for part, column in cols.items():
                    key = f"lab_{lab_id}" + ("" if part == "value" else f"_{part}")
                    out[column] = draw(cells[key])
        for g in GROUPS:
            slots = header.slots.get(g.marker, {})
            filled = draw(st.integers(0, len(slots)))  # how many slots hold an item
            if filled and draw(st.integers(0, 3)) == 0:  # sometimes leave a gap first
                first = draw(st.integers(1, len(slots) - filled + 1))
            else:
                first = 1
            for k in range(first, first + filled):
                for c in g.cols:
                    out[slots[k][c.suffix]] = draw(cells[f"{g.prefix}_{c.suffix}"])
            out[g.marker] = draw(cells[g.marker])
        out = {c: v for c, v in out.items() if v}
        if not dirty:
            out = tidy(out, header)
        if out and draw(st.integers(0, 3)) == 0:  # odd characters in a few cells
            for _ in range(draw(st.integers(1, 3))):
                column = draw(st.sampled_from(sorted(out)))
                spec = header.col_of(column)
                kind = spec.kind if spec is not None else "marker"
                out[column] = draw(mangled(out[column], kind))
        return out

    return row()


# Whitespace as Python's str.strip() sees it; \x1c-\x1f are not whitespace to Rust/Polars.
SPACES = ("", " ", "\t", "\xa0", "\u2003", "\n", "\r\n", "\x1c", "\x1f")
INNER = ('"', "\n", "\r\n", "~", ":", "3:", "\x1f", "'", ",", ";")


def mangled(value: str, kind: str) -> st.SearchStrategy[str]:
    """The cell with spaces around it (the same cell once stripped), and for text and lists
    odd characters inside (quotes, newlines, separators the columnar engine uses in keys)."""
    space = st.sampled_from(SPACES)
    options = [st.tuples(space, space).map(lambda lr: lr[0] + value + lr[1])]
    if kind == "str":
        options.append(
            st.tuples(st.integers(0, len(value)), st.sampled_from(INNER)).map(
                lambda t: value[: t[0]] + t[1] + value[t[0] :]
            )
        )
    if kind == "list":
        options.append(
            st.tuples(space, space).map(lambda lr: value.replace(";", lr[0] + ";" + lr[1]))
        )
    return st.one_of(options)


def tidy(row: dict[str, str], header: Any) -> dict[str, str]:
    """Make a clean row satisfy the patient model's rules across cells (dirty rows are left
    alone, so they break them): a list marker 'none' only without items, ECOG and response
    details only with the value, a therapy with drugs or a regimen and not ending before it
    starts, a risk score with system and category, a donor with relation and HLA match."""
    out = dict(row)
    for g in GROUPS:
        slots = header.slots.get(g.marker, {})
        if any(c in out for cols in slots.values() for c in cols.values()):
            out.pop(g.marker, None)
    if "ecog" not in out:
        out.pop("ecog_date", None)
    if "disease_response" not in out:
        for c in ("date", "assessed_by", "after_line"):
            out.pop(f"disease_response_{c}", None)
    if not ("donor_relation" in out and "donor_hla_match" in out):
        for c in ("relation", "hla_match", "mismatched_loci"):
            out.pop(f"donor_{c}", None)
    for k, cols in header.slots.get("therapies", {}).items():
        if not any(c in out for c in cols.values()):
            continue
        if f"tx_{k}_drugs" not in out and f"tx_{k}_regimen" not in out:
            out[f"tx_{k}_drugs"] = "lenalidomide"
        start, end = out.get(f"tx_{k}_start"), out.get(f"tx_{k}_end")
        if start and end and end < start:
            out[f"tx_{k}_start"], out[f"tx_{k}_end"] = end, start
    for k, cols in header.slots.get("diagnoses", {}).items():
        if any(c in out for c in cols.values()) and f"dx_{k}_condition" not in out:
            out[f"dx_{k}_condition"] = "MDS"
        if f"dx_{k}_risk_system" not in out or f"dx_{k}_risk_category" not in out:
            for c in ("system", "category", "date"):
                out.pop(f"dx_{k}_risk_{c}", None)
    return out


ROWS = {(d, dirty): _row_strategy(d, dirty) for d in AS_OFS for dirty in (False, True)}


@st.composite
def headers(draw: Callable[..., Any]) -> list[str]:
    """The fixed header, sometimes with columns left out (whole lists, list markers, lab
    details, scalars, one field of every slot) and sometimes in another order."""
    header = parse_header(COLUMNS, VOCAB.labs)
    drop: set[str] = set()
    for name in header.scalars:
        if name != "id" and draw(st.integers(0, 14)) == 0:
            drop.add(name)
    for cols in header.labs.values():
        if draw(st.integers(0, 14)) == 0:
            drop |= set(cols.values())
        elif draw(st.integers(0, 9)) == 0:
            drop |= {c for part, c in cols.items() if part in ("date", "uln")}
    for g in GROUPS:
        slots = header.slots.get(g.marker, {})
        choice = draw(st.integers(0, 19))
        if choice == 0:  # the whole list
            drop.add(g.marker)
            drop |= {c for cols in slots.values() for c in cols.values()}
        elif choice <= 2:  # the marker column only
            drop.add(g.marker)
        elif choice == 3:  # the last slot
            drop |= set(slots[max(slots)].values())
        for c in g.cols:
            if draw(st.integers(0, 29)) == 0:  # one field in every slot
                drop |= {cols[c.suffix] for cols in slots.values()}
    columns = [c for c in COLUMNS if c not in drop]
    if draw(st.integers(0, 3)) == 0:
        draw(st.randoms(use_true_random=False)).shuffle(columns)
    return columns


class Case(NamedTuple):
    as_of: dt.date
    columns: list[str]
    rows: list[dict[str, str]]
    blank_before: frozenset[int]  # blank lines in the file (not rows)
    extra_cell: frozenset[int]  # rows with one cell too many
    block_bytes: int  # the columnar reader's block size for one more run (0: none)


@st.composite
def batches(draw: Callable[..., Any]) -> Case:
    as_of = draw(
        weighted((3, st.just(AS_OF.isoformat())), (2, one(*(d.isoformat() for d in AS_OFS[1:]))))
    )
    day = dt.date.fromisoformat(as_of)
    columns = draw(weighted((3, st.just(COLUMNS)), (2, headers())))
    n = draw(st.integers(1, 32))
    rows = [draw(st.integers(0, 4).flatmap(lambda i: ROWS[(day, i == 0)])) for _ in range(n)]
    rows = [{c: v for c, v in r.items() if c in columns} for r in rows]
    blank = draw(weighted((4, st.just(frozenset())), (1, st.frozensets(st.integers(0, n)))))
    extra = draw(weighted((9, st.just(frozenset())), (1, st.frozensets(st.integers(0, n - 1)))))
    # 0: no run with small blocks (they cost a batch each: about 0.1 s for the five trials)
    block = draw(weighted((2, st.just("0")), (1, st.just("700")), (2, one("4000", "16000"))))
    return Case(day, columns, rows, blank, extra, int(block))


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batches())
def test_generated_rows_same_records_in_both_engines(case: Case) -> None:
    """Columnar at the default sizes and with small blocks (and batches of 7 rows where it
    falls back to Python's csv reader) gives the reference's frame, blank lines not counted."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_csv(
            Path(tmp) / "patients.csv", case.columns, case.rows, case.blank_before, case.extra_cell
        )
        blocks = (case.block_bytes,) if case.block_bytes else ()
        frame = both_engines(
            path, case.as_of, batch_sizes=(None,), block_bytes=blocks, reference_batches=False
        )
    assert frame["row"].unique().sort().to_list() == list(range(1, len(case.rows) + 1))
    assert frame.height == len(case.rows) * len(TRIALS)
    errors = frame.filter(pl.col("verdict") == "error")
    for i in case.extra_cell:
        message = (
            f"row {i + 1}: {len(case.columns) + 1} cells, but the header has {len(case.columns)}"
        )
        assert set(errors.filter(pl.col("row") == i + 1)["error"]) == {message}


# ------------------------------------------------------------------------------------------
# (c) Rows that cannot be read


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def records_per_row(frame: pl.DataFrame) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for row, trial in frame.select("row", "trial_id").iter_rows():
        out.setdefault(row, []).append(trial)
    return out


def test_bad_rows_are_reported_in_place(tmp_path: Path) -> None:
    """Too many cells, a short row, cell errors and good rows: every row is numbered, has one
    record per trial, and the bad ones say which row and why."""
    text = (
        "id,sex,ecog,tx_1_drugs\n"
        "P1,male,1,lenalidomide\n"
        "P2,female,2,azacitidine,EXTRA\n"  # 5 cells, header has 4
        "P3,female\n"  # short: the missing cells are empty
        "P4,F,1,\n"  # a cell error
        "P5,male,two,\n"
        ",male,1,\n"  # no id
        "P7,male,7,\n"  # a model error
        "P8,female,0,decitabine\n"
    )
    path = write_text(tmp_path / "bad.csv", text)
    frame = both_engines(
        path, AS_OF, batch_sizes=(None, 1, 2, 3, SMALL_BATCH), block_bytes=(1, 16, 64)
    )
    per_row = records_per_row(frame)
    assert sorted(per_row) == list(range(1, 9))
    assert all(sorted(t) == sorted(x.trial.id for x in TRIALS) for t in per_row.values())
    errors = dict(
        frame.filter(pl.col("verdict") == "error").select("row", "error").unique().iter_rows()
    )
    assert errors == {
        2: "row 2: 5 cells, but the header has 4",
        4: "row 4, column 'sex': 'F' is not allowed (allowed: female, male, other)",
        5: "row 5, column 'ecog': 'two' is not a whole number",
        6: "row 6: missing required field 'id'",
        7: "row 7, column 'ecog': ECOG must be 0 to 5, got 7",
    }
    short = frame.filter(pl.col("row") == 3)
    assert set(short["verdict"]) <= {"possibly_eligible", "ineligible"}
    assert set(short["patient_id"]) == {"P3"}
    assert frame.filter(pl.col("verdict") == "error")["failed"].unique().to_list() == [""]


def test_too_many_cells_late_in_the_file(tmp_path: Path) -> None:
    """The columnar engine falls back to Python's csv reader after the batches it has read;
    the numbering and records must go on exactly as in the reference."""
    lines = ["id,sex,ecog,lab_creatinine,lab_creatinine_unit"]
    for i in range(1, 31):
        lines.append(f"P{i},{'male' if i % 2 else 'female'},{i % 4},{i / 10},mg/dL")
    lines[20] = "P20,male,1,2.5,mg/dL,EXTRA"
    lines[25] = "P25,male,seven,2.5,mg/dL"
    lines[27] = "P27"
    path = write_text(tmp_path / "late.csv", "\n".join(lines) + "\n")
    frame = both_engines(
        path, AS_OF, batch_sizes=(None, SMALL_BATCH, 19, 20, 21), block_bytes=(1, 100, 400)
    )
    assert sorted(records_per_row(frame)) == list(range(1, 31))
    errors = frame.filter(pl.col("verdict") == "error")
    assert sorted(set(errors["row"])) == [20, 25]
    assert errors.filter(pl.col("row") == 20)["error"][0] == "row 20: 6 cells, but the header has 5"


def test_blank_line_with_a_bad_row_elsewhere(tmp_path: Path) -> None:
    """The mix: a row with too many cells, a blank line and a short row. A blank line is not
    a row: the rows are numbered 1..N without it."""
    text = "id,sex,ecog\nP1,male,1\nP2,female,2,EXTRA\n\nP4\nP5,female,0\n"
    path = write_text(tmp_path / "mix.csv", text)
    frame = both_engines(path, AS_OF, batch_sizes=(None, 1, 2), block_bytes=(1, 16))
    assert sorted(records_per_row(frame)) == [1, 2, 3, 4]
    assert frame.filter(pl.col("row") == 2)["error"][0] == "row 2: 4 cells, but the header has 3"
    ids = dict(frame.select("row", "patient_id").unique().iter_rows())
    assert ids == {1: "P1", 2: "", 3: "P4", 4: "P5"}


BLANK_LINE_CASES = {
    "inside": "id,sex,ecog\nP1,male,1\n\nP3,female,2\n",
    "several": "id,sex,ecog\nP1,male,1\n\n\n\nP3,female,2\n\n",
    "at-the-end": "id,sex,ecog\nP1,male,1\nP3,female,2\n\n",
    "crlf": "id,sex,ecog\r\nP1,male,1\r\n\r\nP3,female,2\r\n",
    "before-a-quoted-newline": 'id,sex,tx_1_drugs\nP1,male,x\n\nP3,female,"a;\n\nb"\n',
}


@pytest.mark.parametrize("case", sorted(BLANK_LINE_CASES))
def test_blank_lines_are_not_rows(tmp_path: Path, case: str) -> None:
    """Blank lines are skipped and not counted (outside quotes); the engines agree whatever
    the blocks and batches."""
    path = write_text(tmp_path / "blank.csv", BLANK_LINE_CASES[case])
    frame = both_engines(path, AS_OF, batch_sizes=(None, 1), block_bytes=(1, 8, 20))
    assert sorted(records_per_row(frame)) == [1, 2]
    assert dict(frame.select("row", "patient_id").unique().iter_rows()) == {1: "P1", 2: "P3"}


def test_multiline_cell_and_bom(tmp_path: Path) -> None:
    """A quoted cell spanning lines is one row; a UTF-8 byte order mark is not part of 'id'."""
    text = (
        "\ufeffid,sex,tx_1_drugs\n"
        'P1,male,"lenalidomide;\ndexamethasone"\n'
        "P2,female,azacitidine\n"
        'P3,female,"a,b"\n'
    )
    frame = both_engines(write_text(tmp_path / "quoted.csv", text), AS_OF)
    assert sorted(records_per_row(frame)) == [1, 2, 3]
    assert frame.filter(pl.col("verdict") == "error").height == 0


def test_header_only(tmp_path: Path) -> None:
    path = write_text(tmp_path / "empty.csv", "id,sex\n")
    for engine in ("reference", "columnar"):
        assert run(path, AS_OF, engine).height == 0


# ------------------------------------------------------------------------------------------
# Control characters in cells. Python's str.strip() (the reference) strips \x1c-\x1f, Rust's
# trim (Polars) does not; and the columnar engine builds lookup keys out of several cells.


def test_separator_characters_inside_a_cell(tmp_path: Path) -> None:
    """Cells holding the characters a lookup key could be built with do not shift the other
    cells of the key (was a bug: '\\x1f' joined the parts of the key)."""
    rows = [
        {"id": "P1", "dx_1_condition": "multiple myeloma\x1fWHO"},
        {"id": "P2", "dx_1_condition": "~", "dx_1_code": "3:abc"},
        {"id": "P3", "dx_1_condition": "1:~MDS"},
        {"id": "P4", "dx_1_condition": "MDS", "dx_1_classification": "WHO\x1f2016"},
    ]
    columns = ["id", "dx_1_condition", "dx_1_code", "dx_1_classification"]
    path = write_csv(tmp_path / "us.csv", columns, rows)
    frame = both_engines(path, AS_OF, batch_sizes=(None,))
    assert frame.filter(pl.col("verdict") == "error").height == 0


@pytest.mark.parametrize(
    ("cell", "patient_id"),
    [("\x1c", ""), ("P1\x1f", "P1"), ("\x1eP1", "P1"), ("\xa0P1\u2003", "P1")],
    ids=["x1c", "x1f", "x1e", "unicode-spaces"],
)
def test_control_character_whitespace_around_a_cell(
    tmp_path: Path, cell: str, patient_id: str
) -> None:
    """Cells are stripped as by Python's str.strip() in both engines (was a bug: id '\\x1c'
    was an empty id in the reference and a patient in columnar)."""
    rows = [{"id": cell, "sex": "\x1fmale\x1c", "tx_1_drugs": "\x1dlenalidomide\x1e"}]
    path = write_csv(tmp_path / "ws.csv", ["id", "sex", "tx_1_drugs"], rows)
    frame = both_engines(path, AS_OF, batch_sizes=(None,))
    assert set(frame["patient_id"]) == {patient_id}
    assert (frame["verdict"] == "error").all() == (patient_id == "")


def test_list_item_of_control_characters_only(tmp_path: Path) -> None:
    """An item made only of \\x1c-\\x1f is empty, an error in both engines (was a bug: the
    columnar empty-item check used the regex \\s, which does not match them)."""
    rows = [{"id": "P1", "tx_1_drugs": "lenalidomide;\x1f;azacitidine"}]
    path = write_csv(tmp_path / "list.csv", ["id", "tx_1_drugs"], rows)
    frame = both_engines(path, AS_OF, batch_sizes=(None,))
    assert (frame["verdict"] == "error").all()
