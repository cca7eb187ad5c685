import calendar
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from finance.daycount import (
    DayCount,
    act_365_fixed,
    act_act_icma,
    thirty_360_bond_basis,
    thirty_360_us,
    year_fraction,
    year_fraction_exact,
)

pytestmark = []


@pytest.mark.parametrize(
    ("start", "end", "us_days", "bond_basis_days"),
    [
        # Leap-day start. US: D1 is the last day of February -> 30; D2 = 31 with D1 >= 30 -> 30:
        # 30 x (8 - 2) + (30 - 30) = 180. Bond Basis: D1 = 29 stays, so D2 = 31 stays:
        # 30 x 6 + (31 - 29) = 182.
        (date(2024, 2, 29), date(2024, 8, 31), 180, 182),
        # Both conventions: D1 = 31 -> 30, then D2 = 31 -> 30: 30 x 2 + 0 = 60.
        (date(2023, 1, 31), date(2023, 3, 31), 60, 60),
        # US: 28 Feb 2023 is the last day of February -> D1 = 30, then D2 31 -> 30:
        # 30 x 1 + 0 = 30. Bond Basis: 30 x 1 + (31 - 28) = 33.
        (date(2023, 2, 28), date(2023, 3, 31), 30, 33),
        # 28 Feb 2024 is not the last day of February in a leap year: both 30 + (31 - 28) = 33.
        (date(2024, 2, 28), date(2024, 3, 31), 33, 33),
        # Both ends last days of February. US: D2 -> 30, D1 -> 30: 360 x 1 + 0 = 360.
        # Bond Basis: 360 + (29 - 28) = 361.
        (date(2023, 2, 28), date(2024, 2, 29), 360, 361),
        # US: 360 + (30 - 30) = 360. Bond Basis: 360 + (28 - 29) = 359.
        (date(2024, 2, 29), date(2025, 2, 28), 360, 359),
        # D2 = 31 but D1 = 15 < 30: D2 stays 31 in both: 30 x 6 + (31 - 15) = 196.
        (date(2023, 1, 15), date(2023, 7, 31), 196, 196),
        # D1 = 30, D2 = 31 -> 30: no day between them.
        (date(2023, 3, 30), date(2023, 3, 31), 0, 0),
        # D1 = 31 -> 30: 30 x 1 + (30 - 30) = 30.
        (date(2023, 3, 31), date(2023, 4, 30), 30, 30),
        # Same date: zero.
        (date(2023, 6, 15), date(2023, 6, 15), 0, 0),
    ],
)
def test_thirty_360_us_and_bond_basis(start, end, us_days, bond_basis_days):
    assert thirty_360_us(start, end) == Fraction(us_days, 360)
    assert thirty_360_bond_basis(start, end) == Fraction(bond_basis_days, 360)


def test_act_365_fixed_counts_a_leap_year_as_366_over_365():
    assert act_365_fixed(date(2024, 1, 1), date(2025, 1, 1)) == Fraction(366, 365)
    assert act_365_fixed(date(2023, 1, 1), date(2024, 1, 1)) == 1
    # 2024-02-29 -> 2024-08-31: 184 actual days.
    assert act_365_fixed(date(2024, 2, 29), date(2024, 8, 31)) == Fraction(184, 365)


def test_act_act_icma_regular_period_is_exactly_one_over_frequency():
    # 184 actual days, but a regular semi-annual period is half a year whatever its length.
    start, end = date(2024, 2, 29), date(2024, 8, 31)
    fraction = act_act_icma(start, end, reference_start=start, reference_end=end, frequency=2)
    assert fraction == Fraction(1, 2)


def test_act_act_icma_short_first_coupon():
    # Issue 2024-03-15, first coupon 2024-06-30, semi-annual: the reference period is the
    # regular one ending on the coupon date, 2023-12-31 -> 2024-06-30 = 182 days.
    # Accrual: 16 (March) + 30 + 31 + 30 = 107 days. Fraction = 107 / (2 x 182) = 107/364.
    fraction = act_act_icma(
        date(2024, 3, 15),
        date(2024, 6, 30),
        reference_start=date(2023, 12, 31),
        reference_end=date(2024, 6, 30),
        frequency=2,
    )
    assert fraction == Fraction(107, 364)


def test_act_act_icma_refuses_dates_outside_the_reference_period():
    # A long stub must be split into its reference periods by the caller.
    with pytest.raises(ValueError, match="reference period"):
        act_act_icma(
            date(2023, 11, 1),
            date(2024, 6, 30),
            reference_start=date(2023, 12, 31),
            reference_end=date(2024, 6, 30),
            frequency=2,
        )
    with pytest.raises(ValueError, match="frequency"):
        act_act_icma(
            date(2024, 1, 1),
            date(2024, 2, 1),
            reference_start=date(2024, 1, 1),
            reference_end=date(2024, 7, 1),
            frequency=0,
        )


def test_end_before_start_is_an_error():
    for convention in (thirty_360_us, thirty_360_bond_basis, act_365_fixed):
        with pytest.raises(ValueError, match="precedes"):
            convention(date(2024, 2, 1), date(2024, 1, 1))


def test_year_fraction_dispatches_and_returns_decimal():
    start, end = date(2024, 2, 29), date(2024, 8, 31)
    assert year_fraction(DayCount.THIRTY_360_US, start, end) == Decimal("0.5")
    # 182 / 360 = 0.50555...; 34 significant digits, the last one rounded.
    assert year_fraction(DayCount.THIRTY_360_BOND_BASIS, start, end) == Decimal(
        "0.5055555555555555555555555555555556"
    )
    # 181 / 365, 34 significant digits.
    assert year_fraction("ACT/365F", date(2023, 1, 1), date(2023, 7, 1)) == Decimal(
        "0.4958904109589041095890410958904110"
    )
    assert year_fraction(
        DayCount.ACT_ACT_ICMA,
        start,
        end,
        reference_start=start,
        reference_end=end,
        frequency=2,
    ) == Decimal("0.5")


def test_year_fraction_icma_needs_the_reference_period():
    with pytest.raises(ValueError, match="reference period"):
        year_fraction_exact(DayCount.ACT_ACT_ICMA, date(2024, 1, 1), date(2024, 7, 1))


def test_day_count_values_are_the_stored_names():
    assert [convention.value for convention in DayCount] == [
        "30/360 US",
        "30/360 BB",
        "ACT/365F",
        "ACT/ACT ICMA",
    ]
    assert DayCount("30/360 BB") is DayCount.THIRTY_360_BOND_BASIS
    with pytest.raises(ValueError):
        DayCount("ACT/360")


dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


def is_last_day_of_february(d: date) -> bool:
    return d.month == 2 and d.day == calendar.monthrange(d.year, 2)[1]


@settings(max_examples=200, deadline=None)
@given(start=dates, days=st.integers(min_value=0, max_value=4000))
def test_us_and_bond_basis_differ_only_after_the_last_day_of_february(start, days):
    end = start + timedelta(days=days)
    assume(not is_last_day_of_february(start))
    assert thirty_360_us(start, end) == thirty_360_bond_basis(start, end)


@settings(max_examples=200, deadline=None)
@given(start=dates, first=st.integers(0, 2000), second=st.integers(0, 2000))
def test_act_365_fixed_is_additive(start, first, second):
    middle = start + timedelta(days=first)
    end = middle + timedelta(days=second)
    assert act_365_fixed(start, end) == act_365_fixed(start, middle) + act_365_fixed(middle, end)


@settings(max_examples=200, deadline=None)
@given(start=dates, days=st.integers(0, 4000))
def test_thirty_360_stays_close_to_actual_over_365(start, days):
    # A 30-day month never drifts from the calendar by more than a few days per year.
    end = start + timedelta(days=days)
    for convention in (thirty_360_us, thirty_360_bond_basis):
        assert abs(convention(start, end) * 360 - days) <= 3 + days // 60
