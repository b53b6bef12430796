"""``screen`` output as CSV: one line per patient and trial; id lists joined with ';'."""

from __future__ import annotations

from typing import Any, BinaryIO


class Writer:
    """Streams record frames to a CSV file (header once)."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.first = True

    def write(self, frame: Any) -> None:
        """Append a frame of records."""
        frame.write_csv(self.fh, include_header=self.first)
        self.first = False

    def close(self) -> None:
        """Finish the file (a header even when there were no rows)."""
        if self.first:
            from trialmatch.batch import RECORD_COLUMNS

            self.fh.write((",".join(RECORD_COLUMNS) + "\n").encode())
