"""Dates the rules count in: Chinese working days (工作日), calendar days, years, and China-time deadlines
(REGISTRATION_RULES §3.5, §3.9, §5.5).

Official calendars come from the ``chinese-calendar`` package: public holidays are off, their make-up
working days (调休) on weekends are on. For a year the package has no data for yet (the State Council
publishes each year's arrangement late in the previous year), weekdays count as working days except the
statutory holidays fixed in the solar calendar (元旦 1 January, 劳动节 1–2 May, 国庆 1–3 October: 全国年节及
纪念日放假办法 art. 2, as revised 2024), and the result says it is provisional, so it is recomputed once the
calendar is published.

Periods follow the Civil Code (民法典 art. 201, 203): the first day is not counted; a period in years ends on
the corresponding day of the last year (the month's last day when there is none, e.g. 29 February); a period
ends at 24:00 of its last day — China time here, wherever the server runs.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import chinese_calendar

from ledger.errors import LedgerValueError

CHINA = timezone(timedelta(hours=8))
#: Statutory holidays fixed in the solar calendar (month, day): never working days, whatever the arrangement.
FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


def is_working_day(day: date) -> tuple[bool, bool]:
    """(is a working day, per the official calendar); without data for the year: weekdays that are not fixed
    statutory holidays, flagged as not official."""
    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:
        return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS, False


def end_of_day(day: date) -> int:
    """Unix time of 24:00 China time at the end of ``day`` — when a period whose last day is ``day`` ends."""
    return int(datetime.combine(day + timedelta(days=1), time(), CHINA).timestamp())


def china_date(timestamp: int) -> date:
    """The China-time calendar date of a Unix time."""
    return datetime.fromtimestamp(timestamp, CHINA).date()


def last_day(timestamp: int) -> date:
    """The last day of a period that ends at ``timestamp`` (24:00 China time of that day)."""
    return china_date(timestamp - 1)


def add_years(day: date, years: int) -> date:
    """The corresponding day ``years`` later; the month's last day when there is none (民法典 art. 203)."""
    year = day.year + years
    return date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))


def validity_last_day(issued_on: date, years: int, data_valid_until: date | None = None) -> date | None:
    """The last valid day of a certificate issued on ``issued_on`` for ``years`` calendar years (the issue day
    is not counted, so the period ends on the corresponding day); or the data's own last valid day when it is
    earlier (TJIFA §8.3.3, GZ art. 21). None for no expiry."""
    if not years:
        return None
    end = add_years(issued_on, years)
    return min(end, data_valid_until) if data_valid_until is not None else end


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


def days_left(today: date, period: Period, unit: str) -> int:
    """Days of a notice period still to run as of ``today``, today included while it is one of them: working
    days (``unit`` ``working_days``) or calendar days. A period that has not begun has its whole length left;
    on its last day 1 is left (it ends at 24:00 China time); after it, 0 (REGISTRATION_RULES §8 item 2: the
    notice board's countdown)."""
    if unit not in ("working_days", "calendar_days"):
        raise LedgerValueError(f"unknown notice unit {unit!r}")
    day = max(today, period.start + timedelta(days=1))
    left = 0
    while day <= period.end:
        left += 1 if unit == "calendar_days" else is_working_day(day)[0]
        day += timedelta(days=1)
    return left
