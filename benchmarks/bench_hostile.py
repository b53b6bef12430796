"""Hostile inputs end fast: time ``trialmatch`` on generated bad files of growing size.

Each case runs in a child process (``trialmatch check``/``validate``/``screen``) and prints its
wall time, peak memory and exit code. Files that double in size should take about twice as long
(linear, not quadratic): the script prints the ratio between sizes and fails (exit 1) when a
case exceeds its time bound or grows worse than linearly (ratio over 3 for twice the size).

    .venv/bin/python benchmarks/bench_hostile.py            # all cases
    .venv/bin/python benchmarks/bench_hostile.py --quick    # the small sizes only
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TRIALMATCH = [sys.executable, "-c", "from trialmatch.cli import main; main()"]
AS_OF = "2026-11-21"


def run(args: list[str]) -> tuple[float, float, int]:
    """(seconds, peak MB of the child, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*TRIALMATCH, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    return seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def alias_bomb(path: Path, depth: int) -> list[str]:
    text = "id: P1\nx0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, depth + 1):
        text += f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    path.write_text(text)
    return ["check", str(path), "--as-of", AS_OF]


def deep_nesting(path: Path, depth: int) -> list[str]:
    path.write_text("id: P1\nlabs: " + "[" * depth + "]" * depth + "\nsexx: 1\n")
    return ["validate", str(path)]


def csv_rows(path: Path, rows: int, bad: Callable[[int], str]) -> list[str]:
    with path.open("w", newline="") as fh:
        fh.write("id,sex,tx_1_drugs\n")
        for i in range(rows):
            fh.write(bad(i) if i == 5 else f"P{i},female,lenalidomide\n")
    return ["screen", str(path), "--as-of", AS_OF, "--out", str(path) + ".out"]


CASES: dict[str, tuple[Callable[[Path, int], list[str]], list[int], float]] = {
    # name: (builder(path, size), sizes, seconds allowed at the largest size)
    "alias bomb (10^depth values)": (alias_bomb, [6, 9, 12], 5.0),
    "deep nesting plus an error": (deep_nesting, [200, 400, 900], 5.0),
    "CSV: unterminated quote in row 6": (
        lambda p, n: csv_rows(p, n, lambda i: f'P{i},"female,lenalidomide\n'),
        [50_000, 100_000, 200_000],
        60.0,
    ),
    "CSV: lone CR in row 6": (
        lambda p, n: csv_rows(p, n, lambda i: f"P{i},fe\rmale,lenalidomide\n"),
        [50_000, 100_000, 200_000],
        60.0,
    ),
    "CSV: 200 KB cell in row 6": (
        lambda p, n: csv_rows(p, n, lambda i: f"P{i},female,{'x' * 200_000}\n"),
        [50_000, 100_000, 200_000],
        60.0,
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the two smallest sizes")
    args = parser.parse_args()
    failed = False
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # a runaway child stops at 4 GB
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'case':36} {'size':>9} {'seconds':>8} {'peak MB':>8} {'rc':>4} {'ratio':>6}")
        for name, (build, sizes, bound) in CASES.items():
            previous: float | None = None
            for size in sizes[:2] if args.quick else sizes:
                path = Path(tmp) / f"case_{size}.input"
                cmd = build(path, size)
                seconds, peak, code = run(cmd)
                ratio = f"{seconds / previous:.1f}" if previous else "-"
                print(f"{name:36} {size:>9,} {seconds:>8.2f} {peak:>8.0f} {code:>4} {ratio:>6}")
                if code not in (0, 2):
                    print(f"  FAIL: exit code {code} (a crash)")
                    failed = True
                if previous and seconds / previous > 3 and seconds > 1:
                    print("  FAIL: grows worse than linearly")
                    failed = True
                previous = seconds
            if previous is not None and previous > bound:
                print(f"  FAIL: {previous:.1f} s is over the {bound:.0f} s bound")
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
