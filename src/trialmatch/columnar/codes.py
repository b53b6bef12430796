"""Verdict codes of the columnar engine: one Int8 per criterion and row (no Polars needed)."""

from __future__ import annotations

NOT_MET, MET, UNKNOWN, REVIEW = 0, 1, 2, 3
