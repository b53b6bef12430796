"""`trialmatch screen` on Parquet and Arrow IPC files, and `template --format parquet`.

The specification is the CSV path: a Parquet file screens to exactly the records of a CSV of
the same rows, with both engines. Typed cells are compared with a CSV holding the text this
file writes for them (dates ISO, integers ``str``, floats ``repr``, booleans true/false), so
the expected records never come from the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from trialmatch.batch.screen import screen
from trialmatch.batch.table import open_table
from trialmatch.batch.template import EXAMPLE_PATIENT
from trialmatch.engine.criteria import LoadedTrial, load_catalogue
from trialmatch.model.csvlayout import parse_header, template_columns
from trialmatch.model.csvrow import patient_to_row
from trialmatch.model.patient import Patient
from trialmatch.model.vocab import Vocabulary

from .conftest import AS_OF, ROOT

DAY = dt.date.fromisoformat(AS_OF)
TRIALS: list[LoadedTrial] = load_catalogue()
ENGINES = ("columnar", "reference")
KIND_TYPE = {"date": pl.Date, "int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean}


# ------------------------------------------------------------------------------------------
# Helpers


def records(path: Path, engine: str = "columnar", batch_size: int | None = None) -> pl.DataFrame:
    frames = list(screen(path, TRIALS, DAY, engine, batch_size=batch_size))
    return pl.concat(frames) if frames else pl.DataFrame()


def text(value: Any) -> str:
    """The CSV text of a typed value (what a CSV of the same data holds)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([text(row.get(c)) for c in columns])
    return path


LABS = sorted(Vocabulary.default().labs)
LAYOUT = parse_header(template_columns(LABS), LABS)  # every lab; slots of any number


def kind(name: str) -> str:
    spec = LAYOUT.col_of(name)
    return spec.kind if spec is not None else "marker"


def typed_frame(strings: pl.DataFrame) -> pl.DataFrame:
    """An all-String frame with each column typed by its kind (a cell that does not read as
    its type becomes null)."""
    exprs = []
    for name in strings.columns:
        c, k = pl.col(name), kind(name)
        if k == "date":
            exprs.append(c.str.to_date("%Y-%m-%d", strict=False))
        elif k == "bool":
            exprs.append(pl.when(c == "true").then(True).when(c == "false").then(False))
        elif k in KIND_TYPE:
            exprs.append(c.cast(KIND_TYPE[k], strict=False))
        else:
            exprs.append(c)
    return strings.select(e.alias(n) for e, n in zip(exprs, strings.columns, strict=True))


def example_row(**changes: Any) -> dict[str, Any]:
    """The template's example patient as typed cells, with ``changes``."""
    cells = patient_to_row(Patient.model_validate(EXAMPLE_PATIENT), DAY)
    row: dict[str, Any] = {}
    for name, value in cells.items():
        k = kind(name)
        if k == "date":
            row[name] = dt.date.fromisoformat(value)
        elif k == "int":
            row[name] = int(value)
        elif k == "float":
            row[name] = float(value)
        elif k == "bool":
            row[name] = value == "true"
        else:
            row[name] = value
    row.update(changes)
    return row


def schema_of(columns: Sequence[str], **override: Any) -> dict[str, Any]:
    return {c: override.get(c, KIND_TYPE.get(kind(c), pl.String)) for c in columns}


# ------------------------------------------------------------------------------------------
# Generated data: Parquet (all String, typed) == CSV, both engines


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A generated CSV with 5% bad rows, as all-String and typed Parquet, the typed data
    written back as CSV, and the typed data as Arrow IPC."""
    tmp = tmp_path_factory.mktemp("generated")
    source = tmp / "patients.csv"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "generate_patients.py"), "--rows", "3000",
         "--bad-rows", "0.05", "--out", str(source)],
        check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )  # fmt: skip
    strings = pl.read_csv(source, infer_schema=False)
    assert strings.height == 3000
    strings.write_parquet(tmp / "strings.parquet", row_group_size=1000)
    typed = typed_frame(strings)
    typed.write_parquet(tmp / "typed.parquet", row_group_size=500)
    typed.write_ipc(tmp / "typed.arrow", compression="zstd")
    write_csv(tmp / "typed.csv", typed.columns, typed.to_dicts())
    return {
        "csv": source,
        "strings": tmp / "strings.parquet",
        "typed": tmp / "typed.parquet",
        "typed_csv": tmp / "typed.csv",
        "arrow": tmp / "typed.arrow",
    }


@pytest.fixture(scope="module")
def csv_records(generated: dict[str, Path]) -> dict[str, pl.DataFrame]:
    return {"csv": records(generated["csv"]), "typed_csv": records(generated["typed_csv"])}


@pytest.mark.parametrize("engine", ENGINES)
def test_all_string_parquet_gives_the_records_of_its_csv(
    generated: dict[str, Path], csv_records: dict[str, pl.DataFrame], engine: str
) -> None:
    expected = csv_records["csv"]
    errors = expected.filter(pl.col("verdict") == "error")["row"].n_unique()
    assert 100 < errors < 250  # the 5% bad rows are there, and are error records
    got = records(generated["strings"], engine, batch_size=700)  # slices across row groups
    assert_frame_equal(got, expected)


@pytest.mark.parametrize("engine", ENGINES)
def test_typed_parquet_gives_the_records_of_the_csv_of_the_same_rows(
    generated: dict[str, Path], csv_records: dict[str, pl.DataFrame], engine: str
) -> None:
    expected = csv_records["typed_csv"]
    assert expected.filter(pl.col("verdict") == "error").height > 0  # bad text cells remain
    schema = pl.read_parquet_schema(generated["typed"])
    assert schema["birth_date"] == pl.Date and schema["lab_creatinine"] == pl.Float64
    assert schema["tx_1_line"] == pl.Int64 and schema["pregnant"] == pl.Boolean
    got = records(generated["typed"], engine, batch_size=700)
    assert_frame_equal(got, expected)


def test_rows_are_numbered_from_1_in_file_order(generated: dict[str, Path]) -> None:
    got = records(generated["typed"], batch_size=1234)
    first = got.filter(pl.col("trial_id") == TRIALS[0].trial.id)
    assert first["row"].to_list() == list(range(1, 3001))
    ids = pl.read_parquet(generated["typed"], columns=["id"])["id"].to_list()
    assert first["patient_id"].to_list() == [i.strip() for i in ids]


def test_arrow_ipc_gives_the_records_of_the_parquet_file(
    generated: dict[str, Path], csv_records: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    assert_frame_equal(records(generated["arrow"], batch_size=999), csv_records["typed_csv"])
    feather = tmp_path / "typed.FEATHER"
    first = csv_records["typed_csv"].filter(pl.col("row") <= 300)
    pl.read_ipc(generated["arrow"]).head(300).write_ipc(feather)
    assert_frame_equal(records(feather, "reference"), first)


def test_screen_command_writes_the_same_output_for_parquet_and_csv(
    cli: Any, generated: dict[str, Path], tmp_path: Path
) -> None:
    outputs = []
    for name, engine in (("typed_csv", "columnar"), ("typed", "columnar"), ("arrow", "columnar")):
        out = tmp_path / f"{name}-{engine}.csv"
        run = cli(["screen", str(generated[name]), "--as-of", AS_OF, "--engine", engine,
                   "--out", str(out), "-q"])  # fmt: skip
        assert run.code == 0, run.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0].count(b"\n") == 1 + 3000 * len(TRIALS)


# ------------------------------------------------------------------------------------------
# Unusual typed values: the records of the equivalent CSV


UNUSUAL: list[dict[str, Any]] = [
    {},
    {"birth_date": dt.date(999, 1, 1)},
    {"birth_date": dt.date(9999, 12, 31)},
    {"birth_date": dt.date(1800, 1, 1)},
    {"ecog_date": dt.date(2199, 12, 31)},
    {"tx_1_start": dt.date(1799, 12, 31)},
    {"lab_creatinine": float("inf")},
    {"lab_creatinine": float("-inf")},
    {"lab_creatinine": float("nan")},
    {"lab_creatinine": 1e300},
    {"lab_creatinine": 9.9e98},
    {"lab_creatinine": 1e-99},
    {"lab_creatinine": 5e-324},
    {"lab_creatinine": -0.0},
    {"lab_creatinine": -1.5},
    {"lab_creatinine": 1e16},
    {"ecog": 10**12},
    {"ecog": 999_999_999},
    {"ecog": 1_000_000_000},
    {"ecog": -99_999_999},
    {"ecog": -100_000_000},
    {"ecog": -1},
    {"age": 70, "birth_date": None},
    {"age": 131, "birth_date": None},
    {"tx_1_cycles": -(2**63)},
    {"id": ""},
    {"id": "  "},
    {"id": " P-7 "},
    {"sex": " male"},
    {"sex": ""},
    {"sex": "M"},
    {"tx_1_drugs": "azacitidine; "},
    {"dx_1_findings": "del(5q);;TP53"},
    {"transfusions": " none"},
    {"transfusions": ""},
    {"pregnant": None, "childbearing_potential": True},
    {"ecog": None},
    {"lab_ast_uln": 0.0},
    {"lab_weight": 1e99},
    {"lab_weight": 1e100},
    {"lab_weight": 1e-100},
    {"tx_1_cycles": 1_000_000_000},
    {"tx_1_cycles": 10**12},
    {"tx_1_cycles": 999_999_999},
]


def unusual_rows() -> list[dict[str, Any]]:
    return [example_row(id=f"U-{k}", **change) if "id" not in change else example_row(**change)
            for k, change in enumerate(UNUSUAL)]  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
def test_unusual_typed_values_give_the_records_of_the_equivalent_csv(
    tmp_path: Path, engine: str
) -> None:
    rows = unusual_rows()
    columns = list(rows[0])
    frame = pl.from_dicts(rows, schema=schema_of(columns))
    frame.write_parquet(tmp_path / "u.parquet", row_group_size=7)
    expected = records(write_csv(tmp_path / "u.csv", columns, rows))
    got = records(tmp_path / "u.parquet", engine, batch_size=5)
    assert_frame_equal(got, expected)
    errors = dict(expected.filter(pl.col("trial_id") == TRIALS[0].trial.id)
                  .select("row", "error").iter_rows())  # fmt: skip

    def error(**change: Any) -> str | None:
        return errors[[repr(c) for c in UNUSUAL].index(repr(change)) + 1]  # nan != nan

    assert error() is None  # the example itself reads
    assert "0999-01-01" in str(error(birth_date=dt.date(999, 1, 1)))
    assert "9999-12-31" in str(error(birth_date=dt.date(9999, 12, 31)))
    assert "'inf' is not a number" in str(error(lab_creatinine=float("inf")))
    assert "'nan' is not a number" in str(error(lab_creatinine=float("nan")))
    assert "'1e+300' is not a number" in str(error(lab_creatinine=1e300))
    assert error(lab_creatinine=9.9e98) is None and error(lab_creatinine=1e-99) is None
    assert "'1e+100' is not a number" in str(error(lab_weight=1e100))
    assert "'1e-100' is not a number" in str(error(lab_weight=1e-100))
    assert "'1000000000000' is not a whole number" in str(error(ecog=10**12))
    assert "whole number" not in str(error(ecog=999_999_999))  # read: then not 0-5
    assert "'1000000000' is not a whole number" in str(error(tx_1_cycles=1_000_000_000))
    assert error(tx_1_cycles=999_999_999) is None
    assert error(id="") is not None and error(id=" P-7 ") is None  # no id; P-7


def test_other_input_types_read_as_the_csv_text_they_stand_for(tmp_path: Path) -> None:
    """Integers of every width, integers in a number column, Float32 as its shortest decimal,
    Categorical and Enum text, an all-null column."""
    rows = [
        example_row(id="T-1", lab_weight=0.1, lab_creatinine=106, ecog=3, age=None),
        example_row(id="T-2", lab_weight=None, lab_creatinine=2**60, ecog=None, tx_1_line=2),
        example_row(id="T-3", lab_weight=float("nan"), lab_creatinine=-3, tx_1_cycles=200),
        example_row(id="T-4", lab_weight=3.4e38, sex="female", disease_state="relapsed"),
    ]
    for row in rows:
        row["age"] = 2**64 - 1 if row["id"] == "T-2" else row.get("age")
        row.pop("birth_date")
    columns = [*rows[0], "disease_state", "donor_relation"]
    override = {
        "age": pl.UInt64, "ecog": pl.Int8, "tx_1_line": pl.UInt16, "tx_1_cycles": pl.Int16,
        "lab_creatinine": pl.Int64, "lab_weight": pl.Float32, "sex": pl.Categorical,
        "disease_state": pl.Enum(["relapsed", "refractory"]), "donor_relation": pl.Null,
    }  # fmt: skip
    frame = pl.from_dicts(rows, schema=schema_of(columns, **override))
    path = tmp_path / "types.parquet"
    frame.write_parquet(path)
    assert pl.read_parquet_schema(path)["donor_relation"] == pl.Null
    floats = {"T-1": "0.1", "T-2": "", "T-3": "nan", "T-4": "3.4e+38"}  # Float32's decimals
    csv_rows = [{**r, "lab_weight": floats[r["id"]]} for r in rows]
    expected = records(write_csv(tmp_path / "types.csv", columns, csv_rows))
    for engine in ENGINES:
        assert_frame_equal(records(path, engine), expected)
    errors = dict(expected.filter(pl.col("trial_id") == TRIALS[0].trial.id)
                  .select("patient_id", "error").iter_rows())  # fmt: skip
    assert errors["T-1"] is None and errors["T-4"] is None
    assert "'18446744073709551615' is not a whole number" in errors["T-2"]
    assert "'nan' is not a number" in errors["T-3"]


# ------------------------------------------------------------------------------------------
# Input errors: exit 2, the message, no traceback, nothing written


def fails(cli: Any, path: Path, tmp_path: Path, *args: str) -> str:
    out = tmp_path / "out.csv"
    run = cli(["screen", str(path), "--as-of", AS_OF, "--out", str(out), *args])
    assert run.code == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists()
    return " ".join(run.stderr.split())


def test_columns_of_a_type_their_kind_cannot_take_are_named_with_the_types_allowed(
    cli: Any, tmp_path: Path
) -> None:
    path = tmp_path / "bad.parquet"
    pl.DataFrame(
        {
            "id": [1, 2],
            "birth_date": [1954.5, None],
            "ecog_date": [dt.datetime(2026, 1, 1), None],
            "tx_1_drugs": [["a"], None],
            "sex": ["male", "female"],
            "pregnant": [1, 0],
            "lab_creatinine": ["1.0", None],
            "lab_creatinine_unit": ["mg/dL", None],
            "dx_1_risk_date": [{"a": 1}, None],
        }
    ).write_parquet(path)
    message = fails(cli, path, tmp_path)
    assert "column 'id' has type Int64, which a text column cannot take " \
        "(allowed: String, Categorical, Enum)" in message
    assert "column 'birth_date' has type Float64, which a date column cannot take " \
        "(allowed: Date, String)" in message
    assert "column 'ecog_date' has type Datetime" in message
    assert "column 'tx_1_drugs' has type List(String), which a ';'-list column" in message
    assert "column 'pregnant' has type Int64, which a true/false column cannot take " \
        "(allowed: Boolean, String)" in message
    assert "column 'dx_1_risk_date' has type Struct" in message
    assert "'sex'" not in message and "lab_creatinine" not in message  # String fits any kind
    assert message.count("error: ") == 6  # one line per column, all at once


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"id": ["P1"], "sexx": ["male"]}, "header: unknown column 'sexx'; did you mean 'sex'?"),
        ({"sex": ["male"]}, "header: missing column 'id'"),
        ({"id": ["P1"], "sex": ["male"], " sex": ["male"]}, "header: duplicate column 'sex'"),
        ({"id": ["P1"], "lab_foo": ["1"]}, "header: unknown column 'lab_foo' (lab columns are"),
    ],
)
def test_bad_header_is_exit_2_with_the_csv_message(
    cli: Any, tmp_path: Path, columns: dict[str, list[str]], message: str
) -> None:
    path = tmp_path / "p.parquet"
    pl.DataFrame(columns).write_parquet(path)
    assert f"{path}: {message}" in fails(cli, path, tmp_path)
    csv_path = tmp_path / "p.csv"
    pl.DataFrame(columns).write_csv(csv_path)
    assert message in fails(cli, csv_path, tmp_path)


def test_a_file_that_is_not_parquet_or_arrow_is_exit_2(cli: Any, tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    pl.DataFrame({"id": [f"P{k}" for k in range(5000)], "age": range(5000)}).write_parquet(
        good, row_group_size=1000
    )
    data = good.read_bytes()
    footer = int.from_bytes(data[-8:-4], "little")  # the footer's length, before PAR1
    cases = {
        "text.parquet": (b"id,sex\nP1,male\n",
                         "not a Parquet file (it does not start with PAR1); it looks like a CSV"),
        "empty.parquet": (b"", "the file is empty (expected a Parquet file)"),
        "half.parquet": (data[: len(data) // 2], "the Parquet file is cut short"),
        "short.parquet": (b"PAR1PAR1", "the Parquet file is cut short"),
        "footer.parquet": (data[: -8 - footer] + b"\x00" * footer + data[-8:],
                           "cannot read the file as Parquet: parquet: File out of specification"),
        "text.arrow": (b"id,sex\nP1,male\n", "not an Arrow IPC file (it does not start with"),
        "parquet.arrow": (data, "not an Arrow IPC file (it does not start with ARROW1); it is "
                                "a Parquet file: name it .parquet"),
    }  # fmt: skip
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        assert f"{path}: {message}" in fails(cli, path, tmp_path), name
    arrow = tmp_path / "good.arrow"
    pl.read_parquet(good).write_ipc(arrow)
    cut = tmp_path / "cut.arrow"
    cut.write_bytes(arrow.read_bytes()[:-100])
    assert "the Arrow IPC file is cut short" in fails(cli, cut, tmp_path)
    stream = tmp_path / "stream.ipc"
    pl.read_parquet(good).write_ipc_stream(stream)
    assert "an Arrow IPC stream, not an Arrow IPC file" in fails(cli, stream, tmp_path)
    mislabelled = tmp_path / "arrow.parquet"
    mislabelled.write_bytes(arrow.read_bytes())
    assert "it is an Arrow IPC file: name it .arrow" in fails(cli, mislabelled, tmp_path)


def test_a_directory_a_fifo_or_a_missing_file_is_exit_2(cli: Any, tmp_path: Path) -> None:
    folder = tmp_path / "dir.parquet"
    folder.mkdir()
    pl.DataFrame({"id": ["P1"]}).write_parquet(folder / "part.parquet")  # never read
    assert f"{folder}: is a directory, expected a Parquet file" in fails(cli, folder, tmp_path)
    fifo = tmp_path / "pipe.arrow"
    os.mkfifo(fifo)
    assert "not a regular file (a FIFO); give an Arrow IPC file" in fails(cli, fifo, tmp_path)
    missing = tmp_path / "missing.parquet"
    assert f"{missing}: no such file" in fails(cli, missing, tmp_path)


def test_a_file_name_is_never_a_glob_pattern(cli: Any, tmp_path: Path) -> None:
    pl.DataFrame({"id": ["P1"], "sex": ["male"]}).write_parquet(tmp_path / "a1.parquet")
    assert "no such file" in fails(cli, tmp_path / "a*.parquet", tmp_path)


def test_a_corrupt_page_is_exit_2_and_nothing_is_written(
    cli: Any, generated: dict[str, Path], tmp_path: Path
) -> None:
    data = bytearray(generated["typed"].read_bytes())
    middle = len(data) // 2
    data[middle : middle + 2000] = bytes(2000)
    path = tmp_path / "corrupt.parquet"
    path.write_bytes(bytes(data))
    assert "cannot read rows 1-3,000 of the Parquet file:" in fails(cli, path, tmp_path)


def test_a_zero_row_file_gives_no_records_and_exit_0(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "none.parquet"
    pl.DataFrame(schema={"id": pl.String, "birth_date": pl.Date}).write_parquet(path)
    run = cli(["screen", str(path), "--as-of", AS_OF, "-q"])
    assert run.code == 0, run.stderr
    assert run.stdout == "row,patient_id,trial_id,verdict,failed,unknown,needs_review,error\n"


def test_open_table_reads_slices_of_at_most_the_batch_size(generated: dict[str, Path]) -> None:
    table = open_table(generated["typed"])
    sizes = [(first, frame.height) for first, frame in table.batches(1100)]
    assert sizes == [(1, 1100), (1101, 1100), (2201, 800)]
    _, frame = next(table.batches(10))
    assert frame.schema["birth_date"] == pl.Date and frame.schema["id"] == pl.String


# ------------------------------------------------------------------------------------------
# template --format parquet


def test_template_parquet_has_the_csv_columns_typed_by_kind_and_screens_to_nothing(
    cli: Any, tmp_path: Path
) -> None:
    out = tmp_path / "t.parquet"
    run = cli(["template", "--format", "parquet", "--out", str(out), "--condition", "myeloma"])
    assert run.code == 0, run.stderr
    assert f"to {out}" in run.stderr
    header = cli(["template", "--condition", "myeloma", "--no-example"]).stdout
    schema = pl.read_parquet_schema(out)
    assert list(schema) == header.strip().split(",")
    assert schema["id"] == pl.String and schema["birth_date"] == pl.Date
    assert schema["ecog"] == pl.Int64 and schema["lab_creatinine"] == pl.Float64
    assert schema["pregnant"] == pl.Boolean and schema["tx_1_drugs"] == pl.String
    assert schema["therapies"] == pl.String
    assert pl.read_parquet(out).height == 0
    screened = cli(["screen", str(out), "--as-of", AS_OF, "-q"])
    assert screened.code == 0, screened.stderr
    assert screened.stdout.count("\n") == 1  # the header only


def test_template_parquet_example_row_screens_as_the_csv_example(
    cli: Any, tmp_path: Path
) -> None:
    parquet, csv_file = tmp_path / "t.PARQUET", tmp_path / "t.csv"
    assert cli(["template", "--out", str(parquet), "--example"]).code == 0  # by the extension
    assert cli(["template", "--out", str(csv_file)]).code == 0
    assert pl.read_parquet(parquet).height == 1
    assert_frame_equal(records(parquet), records(csv_file))
    assert records(parquet)["verdict"].to_list().count("error") == 0


def test_template_parquet_needs_a_file_and_never_goes_to_a_terminal(
    cli: Any, tmp_path: Path
) -> None:
    run = cli(["template", "--format", "parquet"])
    assert run.code == 2 and run.stdout == ""
    assert "--format parquet writes a binary file: give --out FILE.parquet" in run.stderr
    import pty

    leader, follower = pty.openpty()
    try:
        terminal = os.ttyname(follower)
        run = cli(["template", "--format", "parquet", "--out", terminal])
        assert run.code == 2
        assert f"--out {terminal} is a terminal; a Parquet file is binary" in run.stderr
    finally:
        os.close(leader)
        os.close(follower)
    assert cli(["template", "--format", "xml", "--out", str(tmp_path / "x")]).code == 2
    plain = tmp_path / "plain.parquet"
    assert cli(["template", "--format", "csv", "--out", str(plain)]).code == 0
    assert plain.read_text().startswith("id,")  # --format wins over the extension


def test_check_row_explains_a_parquet_row_as_the_csv_row(
    cli: Any, generated: dict[str, Path]
) -> None:
    expected = records(generated["typed_csv"]).filter(pl.col("trial_id") == TRIALS[0].trial.id)
    error_row = expected.filter(pl.col("verdict") == "error")["row"][0]
    for number in (1, 2, error_row):
        runs = [cli(["check", "--row", str(number), str(generated[name]), "--as-of", AS_OF,
                     "-f", "json"]) for name in ("typed_csv", "typed")]  # fmt: skip
        assert runs[0].code == runs[1].code == (2 if number == error_row else 0)
        assert runs[0].stdout == runs[1].stdout
        csv_name, parquet_name = str(generated["typed_csv"]), str(generated["typed"])
        assert runs[0].stderr.replace(csv_name, parquet_name) == runs[1].stderr
    past = cli(["check", "--row", "3001", str(generated["typed"]), "--as-of", AS_OF])
    assert past.code == 2
    assert "row 3,001 is past the end: the file has 3,000 data rows" in past.stderr
