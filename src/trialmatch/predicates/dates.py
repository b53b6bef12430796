"""Calendar arithmetic for both engines: years, spans, ages, months and merged periods."""

from __future__ import annotations

import calendar
import datetime as dt
import math


def add_years(day: dt.date, years: int) -> dt.date:
    """``day`` plus whole years; 29 February becomes 1 March in a non-leap year.

    >>> add_years(dt.date(2024, 2, 29), 1)
    datetime.date(2025, 3, 1)
    """
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def add_span(day: dt.date, years: float) -> dt.date:
    """``day`` plus a span in years: whole years by calendar, a fraction in days (365.25/year)."""
    whole = math.floor(years)
    moved = add_years(day, whole)
    frac = years - whole
    return moved + dt.timedelta(days=round(frac * 365.25)) if frac else moved


def age_on(birth: dt.date, day: dt.date) -> int:
    """Age in whole years on ``day``. Someone born on 29 February turns a year older on 1 March
    in non-leap years.

    >>> leapling = dt.date(2008, 2, 29)
    >>> age_on(leapling, dt.date(2026, 2, 28)), age_on(leapling, dt.date(2026, 3, 1))
    (17, 18)
    """
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def merge_spans(spans: list[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """The union of inclusive date spans as disjoint spans (touching spans are joined)."""
    merged: list[tuple[dt.date, dt.date]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1] + dt.timedelta(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus calendar months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def calendar_months(first: dt.date, last: dt.date) -> float:
    """Calendar months covered by the inclusive span ``first``..``last``: whole months, then the
    remaining days as a fraction of the following month.

    >>> calendar_months(dt.date(2024, 1, 1), dt.date(2024, 9, 30))
    9.0
    """
    end = last + dt.timedelta(days=1)
    whole = (end.year - first.year) * 12 + end.month - first.month
    while whole > 0 and add_months(first, whole) > end:
        whole -= 1
    anchor = add_months(first, whole)
    rest = (end - anchor).days
    return whole + rest / calendar.monthrange(anchor.year, anchor.month)[1]


def dated_after(day: dt.date | None, as_of: dt.date) -> bool:
    """Whether a date lies after the screening date (its item is not yet known then)."""
    return day is not None and day > as_of
