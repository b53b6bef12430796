"""``screen`` output as one JSON array of records (streamed, not held in memory)."""

from __future__ import annotations

import io
from typing import Any, BinaryIO

from trialmatch.report.screen_jsonl import as_json_ready


class Writer:
    """Streams record frames into a JSON array."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.count = 0
        self.fh.write(b"[")

    def write(self, frame: Any) -> None:
        """Append a frame of records."""
        if not frame.height:
            return
        buf = io.BytesIO()
        as_json_ready(frame).write_ndjson(buf)
        for line in buf.getvalue().splitlines():
            self.fh.write((b",\n" if self.count else b"\n") + line)
            self.count += 1

    def close(self) -> None:
        """Close the array."""
        self.fh.write(b"\n]\n")
