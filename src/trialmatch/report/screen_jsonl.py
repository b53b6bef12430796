"""``screen`` output as JSON Lines: one object per patient and trial, each carrying
``schema_version`` (a line is read on its own); criterion id lists as arrays.

Schema: ``trialmatch schema screen`` (:class:`trialmatch.report.schemas.ScreenRecordJson`).
"""

from __future__ import annotations

from typing import Any, BinaryIO

from trialmatch.report.contract import SCHEMA_VERSION

ID_LISTS = ("failed", "unknown", "needs_review")


def as_json_ready(frame: Any) -> Any:
    """Records with ``failed``, ``unknown`` and ``needs_review`` as lists of criterion ids.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"failed": ["a;b"], "unknown": [""], "needs_review": ["c"]})
    >>> as_json_ready(frame).row(0)
    (['a', 'b'], [], ['c'])
    """
    import polars as pl

    lists = [
        pl.when(pl.col(c) == "")
        .then(pl.lit([], dtype=pl.List(pl.Utf8)))
        .otherwise(pl.col(c).str.split(";"))
        .alias(c)
        for c in ID_LISTS
    ]
    return frame.with_columns(lists)


class Writer:
    """Streams record frames as JSON Lines."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh

    def write(self, frame: Any) -> None:
        """Append a frame of records."""
        import polars as pl

        if frame.height:
            ready = as_json_ready(frame)
            versioned = ready.select(pl.lit(SCHEMA_VERSION).alias("schema_version"), pl.all())
            versioned.write_ndjson(self.fh)

    def close(self) -> None:
        """Nothing to finish."""
