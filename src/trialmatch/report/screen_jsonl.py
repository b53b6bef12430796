"""``screen`` output as JSON Lines: one object per patient and trial, id lists as arrays."""

from __future__ import annotations

from typing import Any, BinaryIO


def as_json_ready(frame: Any) -> Any:
    """Records with ``failed``/``unknown`` as lists of ids."""
    import polars as pl

    lists = [
        pl.when(pl.col(c) == "")
        .then(pl.lit([], dtype=pl.List(pl.Utf8)))
        .otherwise(pl.col(c).str.split(";"))
        .alias(c)
        for c in ("failed", "unknown")
    ]
    return frame.with_columns(lists)


class Writer:
    """Streams record frames as JSON Lines."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh

    def write(self, frame: Any) -> None:
        """Append a frame of records."""
        if frame.height:
            as_json_ready(frame).write_ndjson(self.fh)

    def close(self) -> None:
        """Nothing to finish."""
