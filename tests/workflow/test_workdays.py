"""Working-day counting for public notice across Chinese public holidays and make-up working days."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from ledger.errors import LedgerValueError
from ledger.workdays import (
    add_years,
    calendar_days_after,
    china_date,
    end_of_day,
    is_working_day,
    last_day,
    notice_period,
    validity_last_day,
    working_days_after,
)


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
    """Issue #9 §4: without an official calendar the fixed statutory holidays (元旦, 劳动节 1-2 May, 国庆 1-3 Oct)
    are still never working days; the result is flagged provisional."""
    period = working_days_after(date(2026, 12, 30), 3)  # Dec 31, (Jan 1 is 元旦), Jan 4, Jan 5
    assert period.end == date(2027, 1, 5) and not period.official
    assert is_working_day(date(2027, 1, 2)) == (False, False)
    for holiday in (date(2027, 1, 1), date(2027, 5, 2), date(2027, 10, 1), date(2027, 10, 3)):
        assert not is_working_day(holiday)[0], holiday
    assert is_working_day(date(2027, 10, 4)) == (True, False)  # provisional: the arrangement is not published


def test_periods_in_years_and_deadlines_at_china_midnight() -> None:
    """民法典 art. 201, 203: the first day is not counted, a period in years ends on the corresponding day (the
    month's last day when there is none) at 24:00 — China time."""
    assert validity_last_day(date(2026, 11, 23), 3) == date(2029, 11, 23)  # TJIFA §8.3.3: 3 calendar years
    assert validity_last_day(date(2024, 2, 29), 2) == date(2026, 2, 28)  # no 29 February: month's last day
    assert validity_last_day(date(2026, 11, 23), 3, date(2027, 6, 30)) == date(2027, 6, 30)  # the data's own
    assert validity_last_day(date(2026, 11, 23), 0) is None
    end = end_of_day(date(2026, 12, 8))
    assert datetime.fromtimestamp(end, timezone(timedelta(hours=8))).isoformat() == "2026-12-09T00:00:00+08:00"
    assert last_day(end) == date(2026, 12, 8) and china_date(end - 1) == date(2026, 12, 8)
    assert add_years(date(2027, 2, 28), 1) == date(2028, 2, 28)


def test_calendar_days_and_bad_input() -> None:
    assert calendar_days_after(date(2024, 9, 27), 7).end == date(2024, 10, 4)  # DL art. 23: 7 calendar days
    with pytest.raises(LedgerValueError):
        notice_period(date(2024, 1, 1), 3, "fortnights")
    with pytest.raises(LedgerValueError):
        working_days_after(date(2024, 1, 1), -1)
