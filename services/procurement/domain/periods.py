"""Reporting periods: a quarter written 2026Q3, a year written 2026."""

from __future__ import annotations

import datetime as dt
import re

from dateutil.relativedelta import relativedelta


def periods(frequency: str, start: dt.date, end: dt.date, month: int, day: int) -> list[tuple[str, dt.date]]:
    """Reporting periods whose last day falls within [start, end]: (label, last day)."""
    found: list[tuple[str, dt.date]] = []
    if frequency == "quarterly":
        year, quarter = start.year, (start.month - 1) // 3 + 1
        while True:
            ends = dt.date(year, quarter * 3, 1) + relativedelta(months=1, days=-1)
            if ends > end:
                break
            if ends >= start:
                found.append((f"{year}Q{quarter}", ends))
            year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    elif frequency == "yearly":
        for year in range(start.year, end.year + 1):
            ends = dt.date(year, month, day)
            if start <= ends <= end:
                found.append((str(year), ends))
    return found


def valid_period(frequency: str, period: str) -> bool:
    pattern = r"\d{4}Q[1-4]" if frequency == "quarterly" else r"\d{4}"
    return re.fullmatch(pattern, period) is not None


def period_starts(period: str) -> dt.date:
    """The first day of a period written 2026Q3 or 2026 (a malformed one counts as started)."""
    if re.fullmatch(r"\d{4}Q[1-4]", period):
        return dt.date(int(period[:4]), (int(period[5]) - 1) * 3 + 1, 1)
    if re.fullmatch(r"\d{4}", period):
        return dt.date(int(period), 1, 1)
    return dt.date.min


def period_label(frequency: str, day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}" if frequency == "quarterly" else str(day.year)
