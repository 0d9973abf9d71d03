"""Working-day counting for public notice across Chinese public holidays and make-up working days."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.errors import LedgerValueError
from ledger.workdays import calendar_days_after, is_working_day, notice_period, working_days_after


def test_national_day_holiday_and_its_make_up_days() -> None:
    # 2024: Oct 1-7 off; Sunday Sep 29 and Saturday Oct 12 are make-up working days (调休).
    assert is_working_day(date(2024, 9, 29)) == (True, True)
    assert is_working_day(date(2024, 10, 3)) == (False, True)
    assert is_working_day(date(2024, 10, 12)) == (True, True)
    period = working_days_after(date(2024, 9, 27), 3)  # Fri: counts Sun 29, Mon 30, then Tue Oct 8
    assert period.end == date(2024, 10, 8) and period.official
    assert working_days_after(date(2024, 10, 10), 2).end == date(2024, 10, 12)  # the make-up Saturday counts
    assert working_days_after(date(2024, 10, 10), 0).end == date(2024, 10, 10)


def test_spring_festival_gz_thirty_working_days() -> None:
    # 2025 Spring Festival: Jan 28 - Feb 4 off, Sun Jan 26 and Sat Feb 8 worked.
    # Counted by hand: Jan 21-24, 26, 27 (6); Feb 5-8 (10); then five a week to Fri Mar 7 (30).
    period = notice_period(date(2025, 1, 20), 30, "working_days")
    assert period.end == date(2025, 3, 7)
    assert sum(is_working_day(date(2025, 1, d))[0] for d in range(21, 32)) == 6
    assert is_working_day(date(2025, 1, 26))[0] and is_working_day(date(2025, 2, 8))[0]


def test_years_without_an_official_calendar_are_provisional() -> None:
    period = working_days_after(date(2026, 12, 30), 3)
    assert period.end == date(2027, 1, 4) and not period.official
    assert is_working_day(date(2027, 1, 2)) == (False, False)


def test_calendar_days_and_bad_input() -> None:
    assert calendar_days_after(date(2024, 9, 27), 7).end == date(2024, 10, 4)  # DL art. 23: 7 calendar days
    with pytest.raises(LedgerValueError):
        notice_period(date(2024, 1, 1), 3, "fortnights")
    with pytest.raises(LedgerValueError):
        working_days_after(date(2024, 1, 1), -1)
