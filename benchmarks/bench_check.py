"""``trialmatch check`` on one patient against the catalogue, against merely importing its
four runtime dependencies (``import typer, rich.table, pydantic, yaml``), interleaved in one run.

    .venv/bin/python benchmarks/bench_check.py [--rounds 15] [--format table]

Prints the median wall time of each and their ratio (the target is at most 2x), and the
report's line count at 80 columns for every example patient.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATIENT = ROOT / "examples" / "patients" / "mds-hma-failure-eligible.yaml"
BASELINE = [sys.executable, "-c", "import typer, rich.table, pydantic, yaml"]


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={"COLUMNS": "80"})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--format", default="table")
    args = parser.parse_args()
    check = [sys.executable, "-m", "trialmatch", "check", str(PATIENT), "--as-of", "2026-11-21",
             "--format", args.format]
    timed(BASELINE), timed(check)  # warm the file cache
    base, run = [], []
    for _ in range(args.rounds):
        base.append(timed(BASELINE))
        run.append(timed(check))
    b, r = statistics.median(base), statistics.median(run)
    print(f"imports only      median {b:.3f} s  (min {min(base):.3f})")
    print(f"check --format {args.format:<6} median {r:.3f} s  (min {min(run):.3f})")
    print(f"ratio {r / b:.2f}x (target <= 2x)")
    print("report lines at 80 columns:")
    for p in sorted(PATIENT.parent.glob("*.yaml")):
        out = subprocess.run(
            [sys.executable, "-m", "trialmatch", "check", str(p), "--as-of", "2026-11-21"],
            capture_output=True, text=True, env={"COLUMNS": "80"},
        ).stdout
        print(f"  {len(out.splitlines()):4d}  {p.name}")


if __name__ == "__main__":
    main()
