"""`trialmatch screen` and `trialmatch template` from the command line."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest

from trialmatch.model.csvrow import patient_to_row
from trialmatch.model.patient import load_patient

from .conftest import AS_OF, PATIENTS

TRIALS = 5


def example_csv(tmp_path: Path, extra: list[dict[str, str]] | None = None) -> Path:
    rows = [
        patient_to_row(load_patient(p), dt.date.fromisoformat(AS_OF))
        for p in sorted(PATIENTS.glob("*.yaml"))
    ]
    rows += extra or []
    columns: list[str] = []
    for r in rows:
        columns += [c for c in r if c not in columns]
    path = tmp_path / "patients.csv"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    return path


def test_screen_writes_one_record_per_patient_and_trial(cli, tmp_path: Path) -> None:
    src = example_csv(tmp_path)
    out = tmp_path / "out.csv"
    run = cli(["screen", str(src), "--as-of", AS_OF, "--out", str(out)])
    assert run.code == 0, run.stderr
    records = list(csv.DictReader(out.open()))
    n = len(list(PATIENTS.glob("*.yaml")))
    assert len(records) == n * TRIALS
    assert {r["row"] for r in records} == {str(i) for i in range(1, n + 1)}
    assert "Verdicts per trial" in run.stdout and "Attrition" in run.stdout
    assert not list(tmp_path.glob(".out.csv.*"))  # no temporary file left behind


def test_bad_row_is_reported_and_kept(cli, tmp_path: Path) -> None:
    src = example_csv(tmp_path, [{"id": "BAD-1", "sex": "F"}])
    out = tmp_path / "out.jsonl"
    run = cli(["screen", str(src), "--as-of", AS_OF, "--out", str(out), "--format", "jsonl"])
    assert run.code == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["schema_version"] for r in records} == {"1.0"}  # every line stands alone
    bad = [r for r in records if r["patient_id"] == "BAD-1"]
    assert len(bad) == TRIALS
    assert all(r["verdict"] == "error" for r in bad)
    assert all(r["failed"] == r["unknown"] == r["needs_review"] == [] for r in bad)
    assert "column 'sex'" in bad[0]["error"] and "'F' is not allowed" in bad[0]["error"]
    assert "(1 could not be read)" in run.stdout


@pytest.mark.parametrize("engine", ["columnar", "reference"])
def test_engines_give_identical_output(cli, tmp_path: Path, engine: str) -> None:
    src = example_csv(tmp_path, [{"id": "BAD-1", "ecog": "7"}])
    out = tmp_path / f"{engine}.csv"
    run = cli(["screen", str(src), "--as-of", AS_OF, "--out", str(out), "--engine", engine])
    assert run.code == 0
    other = tmp_path / "columnar.csv"
    if engine == "reference":
        cli(["screen", str(src), "--as-of", AS_OF, "--out", str(other)])
        assert out.read_text() == other.read_text()


def test_json_output_is_one_array(cli, tmp_path: Path) -> None:
    src = example_csv(tmp_path)
    run = cli(["screen", str(src), "--as-of", AS_OF, "--format", "json"])
    assert run.code == 0
    data = json.loads(run.stdout)
    assert list(data) == ["schema_version", "trialmatch_version", "as_of", "records"]
    assert data["schema_version"] == "1.0" and data["as_of"] == AS_OF
    records = data["records"]
    assert len(records) == len(list(PATIENTS.glob("*.yaml"))) * TRIALS
    lists = ("failed", "unknown", "needs_review")
    assert all(isinstance(r[k], list) for r in records for k in lists)
    assert "schema_version" not in records[0]  # said once, by the document
    assert "Verdicts per trial" in run.stderr  # summary goes to stderr when records go to stdout


def test_trial_and_condition_filters(cli, tmp_path: Path) -> None:
    src = example_csv(tmp_path)
    run = cli(["screen", str(src), "--as-of", AS_OF, "--condition", "myeloma", "-f", "jsonl"])
    assert run.code == 0
    trials = {json.loads(x)["trial_id"] for x in run.stdout.splitlines()}
    assert trials == {"NCT02538198", "NCT01421927"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("id,sexx\nP1,female\n", "unknown column 'sexx'; did you mean 'sex'?"),
        ("id,sex,sex\nP1,female,female\n", "duplicate column 'sex'"),
        ("sex\nfemale\n", "missing column 'id'"),
    ],
)
def test_bad_header_exits_2(cli, tmp_path: Path, content: str, message: str) -> None:
    src = tmp_path / "p.csv"
    src.write_text(content)
    out = tmp_path / "out.csv"
    run = cli(["screen", str(src), "--out", str(out)])
    assert run.code == 2
    assert message in run.stderr
    assert not out.exists()


def test_screen_usage_errors(cli, tmp_path: Path) -> None:
    src = example_csv(tmp_path)
    assert cli(["screen", str(src), "--format", "xml"]).code == 2
    assert cli(["screen", str(src), "--engine", "fast"]).code == 2
    assert cli(["screen", str(tmp_path / "missing.csv")]).code == 2
    run = cli(["screen", str(src), "--condition", "myelomma"])
    assert run.code == 2 and "did you mean" in run.stderr


def test_template_lists_needed_columns_and_a_valid_example(cli, tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    run = cli(["template", "--trial", "NCT01421927", "--out", str(out)])
    assert run.code == 0
    header, example = list(csv.reader(out.open()))
    assert "lab_lvef" in header and "donor_hla_match" in header and "tx_1_drugs" in header
    assert "lab_hemoglobin" not in header
    screened = cli(["screen", str(out), "--as-of", AS_OF, "-f", "jsonl"])
    record = json.loads(screened.stdout.splitlines()[0])
    assert record["verdict"] != "error", record
    del example


def test_template_to_stdout_without_example(cli) -> None:
    run = cli(["template", "--condition", "MDS", "--no-example"])
    assert run.code == 0
    assert len(run.stdout.splitlines()) == 1
    assert "transfusions" in run.stdout.split(",")


@pytest.mark.parametrize("engine", ["columnar", "reference"])
def test_not_utf8_row_is_an_error_record_and_the_run_goes_on(
    cli, tmp_path: Path, engine: str
) -> None:
    """Issue 10: one row with a byte that is not UTF-8 is an error record for that row (it
    aborted the whole run before), late in a large file too."""
    src = tmp_path / "p.csv"
    src.write_bytes(b"id,sex\n" + b"P1,male\n" * 5000 + b"P2,\xff\xfe\n" + b"P3,female\n")
    out = tmp_path / "out.csv"
    run = cli(["screen", str(src), "--as-of", AS_OF, "--out", str(out), "--engine", engine,
               "--trial", "NCT01673308"])
    assert run.code == 0, run.stderr
    records = list(csv.DictReader(out.open()))
    assert len(records) == 5002
    bad = records[5000]
    assert (bad["row"], bad["verdict"]) == ("5001", "error")
    assert bad["error"].startswith("row 5001: not UTF-8 text (byte 3 of the row")
    assert records[5001]["patient_id"] == "P3"


# ------------------------------------------------------------------------------------------
# Issue 10: output that never destroys what a user owns


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("how", ["same", "dotted", "symlink"])
def test_out_onto_the_input_is_refused(cli, tmp_path: Path, how: str) -> None:
    src = example_csv(tmp_path)
    before = _digest(src)
    if how == "same":
        out = src
    elif how == "dotted":
        out = tmp_path / "." / src.name
    else:
        out = tmp_path / "link.csv"
        out.symlink_to(src)
    run = cli(["screen", str(src), "--as-of", AS_OF, "--out", str(out)])
    assert run.code == 2
    assert "--out would overwrite the input" in run.stderr
    assert _digest(src) == before


@pytest.mark.parametrize("command", ["screen", "template"])
def test_out_onto_a_directory_or_missing_directory_fails_before_work(
    cli, tmp_path: Path, command: str
) -> None:
    src = example_csv(tmp_path)
    args = ["screen", str(src), "--as-of", AS_OF] if command == "screen" else ["template"]
    run = cli([*args, "--out", str(tmp_path)])
    assert (run.code, run.stdout) == (2, "")
    assert run.stderr == f"error: {tmp_path}: is a directory; give a file name for --out\n"
    missing = tmp_path / "no" / "such" / "out.csv"
    run = cli([*args, "--out", str(missing)])
    assert run.code == 2
    assert f"the directory {missing.parent} does not exist" in run.stderr


def test_out_into_a_read_only_directory_fails_before_work(cli, tmp_path: Path) -> None:
    import os

    if os.geteuid() == 0:
        pytest.skip("root may write into a read-only directory")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    run = cli(["template", "--out", str(ro / "t.csv")])
    assert run.code == 2 and "is not writable" in run.stderr


def test_out_through_a_symlink_keeps_the_link_and_the_permissions(cli, tmp_path: Path) -> None:
    src = example_csv(tmp_path)
    target = tmp_path / "results.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    run = cli(["screen", str(src), "--as-of", AS_OF, "--out", str(link)])
    assert run.code == 0, run.stderr
    assert link.is_symlink() and link.resolve() == target
    assert target.read_text().startswith("row,patient_id")
    assert target.stat().st_mode & 0o777 == 0o640


def test_out_onto_a_device_writes_in_place(cli, tmp_path: Path) -> None:
    import stat

    src = example_csv(tmp_path)
    run = cli(["screen", str(src), "--as-of", AS_OF, "--out", "/dev/null"])
    assert run.code == 0, run.stderr
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)


FORMULAS = ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-x", "@SUM(A1)", "\tx", "-5", "a=b"]


def test_csv_output_neutralises_formulas_and_json_keeps_values(cli, tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "sex"])
        for i, text in enumerate(FORMULAS):
            w.writerow([f"{text}" if i != 4 else "\tx", "female"])
    out = tmp_path / "out.csv"
    run = cli(["screen", str(path), "--as-of", AS_OF, "--out", str(out), "--trial", "NCT01673308"])
    assert run.code == 0, run.stderr
    ids = [r["patient_id"] for r in csv.DictReader(out.open())]
    # The CSV reader strips a cell's surrounding spaces/tabs in the patient model: "\tx" is "x".
    assert ids == ["'=HYPERLINK(\"http://x\",\"y\")", "'+1", "'-x", "'@SUM(A1)", "x", "-5", "a=b"]
    out_json = tmp_path / "out.jsonl"
    cli(["screen", str(path), "--as-of", AS_OF, "--out", str(out_json), "--format", "jsonl",
         "--trial", "NCT01673308"])
    ids = [json.loads(line)["patient_id"] for line in out_json.read_text().splitlines()]
    assert ids[:4] == FORMULAS[:4]


def _trialmatch(*args: str) -> list[str]:
    import sys

    return [sys.executable, "-c", "from trialmatch.cli import main; main()", *args]


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    import subprocess

    src = example_csv(tmp_path)
    # Many rows, so that the reader has gone before the writer is done.
    many = tmp_path / "many.csv"
    lines = src.read_text().splitlines()
    many.write_text("\n".join([lines[0]] + lines[1:] * 400) + "\n")
    proc = subprocess.Popen(
        _trialmatch("screen", str(many), "--as-of", AS_OF),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141
    assert b"Traceback" not in err and err == b""


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_signal_removes_the_partial_output_and_says_so(tmp_path: Path, name: str) -> None:
    import signal
    import subprocess
    import time

    src = example_csv(tmp_path)
    many = tmp_path / "many.csv"
    lines = src.read_text().splitlines()
    many.write_text("\n".join([lines[0]] + lines[1:] * 3000) + "\n")
    out = tmp_path / "out.csv"
    proc = subprocess.Popen(
        _trialmatch("screen", str(many), "--as-of", AS_OF, "--out", str(out), "--engine",
                    "reference"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".out.csv.*.partial")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob(".out.csv.*.partial")), "the run never started writing"
    proc.send_signal(getattr(signal, name))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == (143 if name == "SIGTERM" else 130), err.decode()[-2000:]
    assert b"no partial output was kept" in err and b"Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".out.csv.*"))


# ------------------------------------------------------------------------------------------
# Issue 11: the summary people can act on, --fail-on-error, the format from the extension


def test_summary_shows_the_waterfall_and_the_error_rows_by_kind(cli, tmp_path: Path) -> None:
    bad = [{"id": "BAD-1", "sex": "F", "ecog": "x"}, {"id": "BAD-2", "sex": "F"}]
    src = example_csv(tmp_path, bad)
    n = len(list(PATIENTS.glob("*.yaml")))
    run = cli(["screen", str(src), "--as-of", AS_OF, "-t", "NCT03730740", "-f", "jsonl"])
    assert run.code == 0
    err = run.stderr
    assert "Attrition: NCT03730740 (largest cut first)" in err
    lines = err.splitlines()
    assert [line.split() for line in lines if line.startswith("  rows read")] == [
        ["rows", "read", str(n + 2), "100.0%"]
    ]
    assert f"column 'sex': value not allowed: 2 rows (rows {n + 1}, {n + 2})" in err
    assert f"column 'ecog': not a whole number: 1 row (row {n + 1})" in err
    assert all(len(line) <= 80 for line in lines)
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert "error_kind" not in records[0]  # the kinds feed the summary, not the output


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_fail_on_error_exits_1_after_writing_every_record(
    cli, tmp_path: Path, fmt: str
) -> None:
    src = example_csv(tmp_path, [{"id": "BAD-1", "sex": "F"}])
    n = len(list(PATIENTS.glob("*.yaml"))) + 1
    out = tmp_path / f"out.{fmt}"
    run = cli(["screen", str(src), "--as-of", AS_OF, "--out", str(out), "--fail-on-error"])
    assert run.code == 1
    assert run.stderr.endswith("error: 1 row(s) could not be read (--fail-on-error)\n")
    body = out.read_text().splitlines()
    assert len(body) == n * TRIALS + (fmt == "csv")  # complete, and kept
    assert "Attrition" in run.stdout  # the summary is printed as usual
    without = cli(["screen", str(src), "--as-of", AS_OF, "--out", str(out)])
    assert without.code == 0


def test_fail_on_error_without_error_rows_exits_0(cli, tmp_path: Path) -> None:
    src = example_csv(tmp_path)
    run = cli(["screen", str(src), "--as-of", AS_OF, "-o", str(tmp_path / "o.csv"),
               "--fail-on-error"])  # fmt: skip
    assert run.code == 0, run.stderr


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("r.csv", "csv"), ("r.json", "json"), ("r.jsonl", "jsonl"), ("R.JSONL", "jsonl"),
     ("r.ndjson", "jsonl"), ("r.txt --format json", "json"), ("r.json --format csv", "csv")],
)  # fmt: skip
def test_out_extension_gives_the_format_unless_format_says_otherwise(
    cli, tmp_path: Path, name: str, fmt: str
) -> None:
    src = example_csv(tmp_path)
    file, *extra = name.split()
    out = tmp_path / file
    run = cli(["screen", str(src), "--as-of", AS_OF, "--out", str(out), *extra])
    assert run.code == 0, run.stderr
    text = out.read_text()
    if fmt == "json":
        assert isinstance(json.loads(text)["records"], list)
    elif fmt == "jsonl":
        assert all(isinstance(json.loads(line), dict) for line in text.splitlines())
    else:
        assert text.startswith("row,patient_id,trial_id,verdict")


@pytest.mark.parametrize("name", ["results.txt", "results.csv.gz", "r.xlsx"])
def test_unknown_out_extension_is_exit_2_before_any_work(cli, tmp_path: Path, name: str) -> None:
    src = example_csv(tmp_path)
    out = tmp_path / name
    run = cli(["screen", str(src), "--as-of", AS_OF, "--out", str(out)])
    assert (run.code, run.stdout) == (2, "")
    suffix = Path(name).suffix
    assert run.stderr == (
        f"error: --out {out}: cannot tell the format from the extension {suffix!r}; name the "
        "file .csv, .json, .jsonl or .ndjson, or give --format csv|json|jsonl\n"
    )
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["patients.csv"]


def test_out_without_an_extension_is_csv(cli, tmp_path: Path) -> None:
    src = example_csv(tmp_path)
    out = tmp_path / "results"
    run = cli(["screen", str(src), "--as-of", AS_OF, "--out", str(out)])
    assert run.code == 0, run.stderr
    assert out.read_text().startswith("row,patient_id")
