"""``trialmatch screen``: run a batch screening and write its records, summary and progress.

The records go to ``--out`` (written atomically) or standard output; the summary goes to
standard output when records go to a file, else to standard error. A progress bar is drawn on
standard error only when it is a terminal.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from trialmatch.batch.prefetch import prefetched
from trialmatch.batch.records import RECORD_COLUMNS, Summary, TrialTally
from trialmatch.batch.screen import screen
from trialmatch.engine.criteria import LoadedTrial

FORMATS = ("csv", "json", "jsonl")
# The --out extension names the format unless --format is given (case does not matter).
EXTENSIONS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def output_format(out: Path | None, fmt: str | None) -> str:
    """The records' format: ``fmt`` when given, else the one the ``--out`` extension names
    (:data:`EXTENSIONS`), else CSV (standard output, or a name without an extension such as
    ``/dev/stdout``). An extension naming no format is a :class:`ValueError` whose message
    names the allowed ones.

    >>> output_format(Path("r.JSONL"), None), output_format(Path("r.txt"), "csv")
    ('jsonl', 'csv')
    >>> output_format(Path("results.txt"), None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: --out results.txt: cannot tell the format from the extension '.txt'; name ...
    """
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"--format {fmt!r} is not allowed (allowed: {', '.join(FORMATS)})")
        return fmt
    if out is None or not out.suffix:
        return "csv"
    found = EXTENSIONS.get(out.suffix.lower())
    if found is None:
        names = list(EXTENSIONS)
        raise ValueError(
            f"--out {out}: cannot tell the format from the extension {out.suffix!r}; name the "
            f"file {', '.join(names[:-1])} or {names[-1]}, or give --format {'|'.join(FORMATS)}"
        )
    return found

# Polars' allocator (jemalloc) gives each thread its own arenas by default; with one arena,
# memory freed by one thread is reused by the other, which lowers the peak of a long screen by
# about a quarter at the same speed (benchmarks/README.md). It only takes effect if set before
# Polars is first imported; an explicit _RJEM_MALLOC_CONF in the environment wins.
ALLOCATOR_CONF = "narenas:1"


def tune_allocator() -> bool:
    """Ask Polars' allocator for one arena, unless Polars is loaded or the user chose.

    Returns whether the setting can still take effect. Call it before anything imports
    Polars (it changes this process's environment).

    >>> # tune_allocator()  # first thing in `screen`; False once Polars is loaded
    """
    if "polars" in sys.modules:
        return False
    os.environ.setdefault("_RJEM_MALLOC_CONF", ALLOCATOR_CONF)
    return True


def _writer(fmt: str, fh: Any, as_of: dt.date, terminal: bool = False) -> Any:
    if fmt == "csv":
        from trialmatch.report.screen_csv import Writer

        return Writer(fh, terminal)
    if fmt == "json":
        from trialmatch.report.screen_json import Writer as JsonWriter

        return JsonWriter(fh, as_of)
    from trialmatch.report.screen_jsonl import Writer as LinesWriter

    return LinesWriter(fh)


def run_screen(
    patients: Path,
    trials: Sequence[LoadedTrial],
    as_of: dt.date,
    out: Path | None,
    fmt: str,
    engine: str,
    quiet: bool = False,
) -> Summary:
    """Screen, write the records, print the summary (not when ``quiet``: no progress, note or
    summary either); returns the summary.

    >>> # run_screen(Path("p.csv"), load_catalogue(), date(2026, 11, 21), None, "csv", "columnar")
    """
    tune_allocator()
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from trialmatch.io.output import atomic_file
    from trialmatch.report.screen_summary import build

    summary = Summary({t.trial.id: TrialTally() for t in trials})
    err = Console(stderr=True, highlight=False)
    if engine == "columnar":
        from trialmatch.batch.read import columnar_misfit
        from trialmatch.batch.table import input_header
        from trialmatch.model.vocab import Vocabulary

        note = columnar_misfit(input_header(patients, Vocabulary.default()))
        if note and not quiet:
            err.print(f"note: {note}", markup=False, highlight=False)
    # Not while records stream to the same terminal: the spinner would land among them.
    show_progress = (
        sys.stderr.isatty() and not quiet and (out is not None or not sys.stdout.isatty())
    )
    # The next batch is screened while this one is written and tallied.
    frames = prefetched(screen(patients, trials, as_of, engine, kinds=True))
    with ExitStack() as stack:
        fh = stack.enter_context(atomic_file(out)) if out is not None else sys.stdout.buffer
        writer = _writer(fmt, fh, as_of, terminal=out is None and sys.stdout.isatty())
        progress = None
        task = None
        if show_progress:
            progress = stack.enter_context(
                Progress(
                    SpinnerColumn(),
                    TextColumn("screening {task.completed:,} rows"),
                    TimeElapsedColumn(),
                    console=err,
                    transient=True,
                )
            )
            task = progress.add_task("screen", total=None)
        for frame in frames:
            writer.write(frame.select(RECORD_COLUMNS))
            summary.add(frame)
            if progress is not None and task is not None:
                progress.update(task, completed=summary.rows)
        writer.close()
        if out is None:
            fh.flush()
    if not quiet:
        build(summary, list(trials), Console(highlight=False) if out is not None else err)
        if out is not None:
            from trialmatch.io.printable import printable

            records = summary.rows * len(trials)
            err.print(f"wrote {records:,} records ({fmt}) to {printable(str(out))}", markup=False)
    return summary
