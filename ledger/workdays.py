"""Chinese working days (工作日) for public-notice periods (REGISTRATION_RULES §3.5, §3.9).

Official calendars come from the ``chinese-calendar`` package: public holidays are off, their make-up
working days (调休) on weekends are on. For a year the package has no data for yet (the State Council
publishes each year's arrangement late in the previous year), weekdays count as working days and the
result says it is provisional, so an operator can recheck it once the calendar is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar

from ledger.errors import LedgerValueError


def is_working_day(day: date) -> tuple[bool, bool]:
    """(is a working day, per the official calendar); weekday fallback when the year has no data."""
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5, False


@dataclass(frozen=True)
class Period:
    """A notice period: it runs from the day after ``start`` through ``end`` (inclusive)."""

    start: date
    end: date
    official: bool  # False when a year without an official calendar was counted by weekdays


def working_days_after(start: date, count: int) -> Period:
    """The ``count``-th working day after ``start`` (the start day itself does not count)."""
    if count < 0:
        raise LedgerValueError("a notice period cannot be negative")
    day, seen, official = start, 0, True
    while seen < count:
        day += timedelta(days=1)
        working, known = is_working_day(day)
        official = official and known
        seen += working
    return Period(start, day, official)


def calendar_days_after(start: date, count: int) -> Period:
    if count < 0:
        raise LedgerValueError("a notice period cannot be negative")
    return Period(start, start + timedelta(days=count), True)


def notice_period(start: date, length: int, unit: str) -> Period:
    """The notice period of a profile rule: ``unit`` is ``working_days`` or ``calendar_days``."""
    if unit == "working_days":
        return working_days_after(start, length)
    if unit == "calendar_days":
        return calendar_days_after(start, length)
    raise LedgerValueError(f"unknown notice unit {unit!r}")
