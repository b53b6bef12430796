"""Exact numeric comparison shared by both engines: bounds moved by a relative 1e-9 so a
unit conversion cannot tip a boundary value, and how numbers are shown in evidence."""

from __future__ import annotations


def threshold(sym: str, v: float) -> float:
    """The exact number a value is compared with for bound ``sym v``: the bound moved by a
    relative 1e-9 towards including the boundary (``≥``/``≤``) or excluding it (``>``/``<``).
    The columnar engine compares with the same numbers, so both engines agree exactly.

    >>> threshold("≤", 2.5) > 2.5, threshold("<", 2.5) < 2.5
    (True, True)
    """
    tol = 1e-9 * max(1.0, abs(v))
    return v - tol if sym in ("≥", "<") else v + tol


def compare(x: float, sym: str, v: float) -> bool:
    t = threshold(sym, v)
    return {"≥": x >= t, "≤": x <= t, ">": x > t, "<": x < t}[sym]


def num(v: float) -> str:
    return f"{v:g}" if abs(v) >= 0.01 or v == 0 else f"{v:.3g}"


def fmt(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))
