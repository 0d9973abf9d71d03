"""The notice board's countdown (REGISTRATION_RULES §8 item 2): days of a notice still to run, today included,
on the official calendar — weekends, holidays and make-up working days (调休) as the State Council set them."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.errors import LedgerValueError
from ledger.workdays import calendar_days_after, days_left, working_days_after


def test_working_days_left_count_today_and_skip_what_is_not_a_working_day() -> None:
    # TJIFA §8.1: 3 wd from Friday 27 September 2024: Sunday 29 September is a make-up working day, 1-7 October
    # are the National Day holidays, so the notice runs on 29 and 30 September and 8 October
    period = working_days_after(date(2024, 9, 27), 3)
    assert period.end == date(2024, 10, 8) and period.official
    left = {day: days_left(date(2024, *day), period, "working_days")
            for day in [(9, 27), (9, 28), (9, 29), (9, 30), (10, 1), (10, 7), (10, 8), (10, 9)]}
    assert left == {(9, 27): 3, (9, 28): 3, (9, 29): 3, (9, 30): 2, (10, 1): 1, (10, 7): 1, (10, 8): 1, (10, 9): 0}


def test_calendar_days_left() -> None:
    period = calendar_days_after(date(2024, 10, 8), 7)  # DL art. 23: at least 7 days
    assert [days_left(date(2024, 10, d), period, "calendar_days") for d in (8, 9, 15, 16)] == [7, 7, 1, 0]
    with pytest.raises(LedgerValueError):
        days_left(date(2024, 10, 8), period, "fortnights")
