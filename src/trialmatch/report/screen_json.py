"""``screen`` output as one JSON document (streamed, not held in memory)::

    {"schema_version": "1.0", "trialmatch_version": "...", "as_of": "2026-11-21",
     "records": [{"row": 1, "patient_id": ..., "trial_id": ..., ...}, ...]}

Records are the JSON Lines records without ``schema_version`` (the document carries it once).
Schema: ``trialmatch schema screen`` (:class:`trialmatch.report.schemas.ScreenJson`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any, BinaryIO

from trialmatch import __version__
from trialmatch.report.contract import SCHEMA_VERSION
from trialmatch.report.screen_jsonl import as_json_ready


class Writer:
    """Streams record frames into the ``records`` array of one JSON document."""

    def __init__(self, fh: BinaryIO, as_of: dt.date) -> None:
        self.fh = fh
        self.count = 0
        head = {
            "schema_version": SCHEMA_VERSION,
            "trialmatch_version": __version__,
            "as_of": as_of.isoformat(),
        }
        self.fh.write(json.dumps(head, ensure_ascii=False)[:-1].encode() + b', "records": [')

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
        """Close the array and the document."""
        self.fh.write(b"\n]}\n" if self.count else b"]}\n")
