"""``screen`` output as CSV: one line per patient and trial; id lists joined with ';'.

Coordinators open this file in spreadsheets, so a cell a spreadsheet would run as a formula
(one starting with ``=``, ``+``, ``@``, a tab or a carriage return, or ``-`` followed by
something other than a digit) is written with a leading apostrophe, as OWASP recommends for
CSV injection; the JSON and JSON Lines formats keep every value verbatim.
"""

from __future__ import annotations

from typing import Any, BinaryIO

FORMULA_START = r"^(?:[=+@\t\r]|-[^0-9])"
CONTROL = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"


def neutralised(frame: Any) -> Any:
    """The frame with every text cell that could start a formula prefixed by ``'``.

    >>> import polars as pl
    >>> neutralised(pl.DataFrame({"id": ["=1+1", "-5", "-x", "P1", "@A1"]}))["id"].to_list()
    ["'=1+1", '-5', "'-x", 'P1', "'@A1"]
    """
    import polars as pl

    text = [name for name, dtype in frame.schema.items() if dtype == pl.Utf8]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def escaped(frame: Any) -> Any:
    """The frame with control characters in text cells written as visible escapes (for a
    terminal: records written to standard output when it is one)."""
    import polars as pl

    from trialmatch.io.printable import printable

    text = [name for name, dtype in frame.schema.items() if dtype == pl.Utf8]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(CONTROL))
        .then(pl.col(c).map_elements(printable, return_dtype=pl.Utf8))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


class Writer:
    """Streams record frames to a CSV file (header once); ``terminal``: the file is a
    terminal, so control characters in data are escaped too."""

    def __init__(self, fh: BinaryIO, terminal: bool = False) -> None:
        self.fh = fh
        self.first = True
        self.terminal = terminal

    def write(self, frame: Any) -> None:
        """Append a frame of records."""
        frame = neutralised(frame)
        if self.terminal:
            frame = escaped(frame)
        frame.write_csv(self.fh, include_header=self.first)
        self.first = False

    def close(self) -> None:
        """Finish the file (a header even when there were no rows)."""
        if self.first:
            from trialmatch.batch.records import RECORD_COLUMNS

            self.fh.write((",".join(RECORD_COLUMNS) + "\n").encode())
