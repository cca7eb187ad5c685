import math
from datetime import date, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finance.daycount import DayCount
from finance.exceptions import ScheduleError
from finance.money import Money, fraction_to_decimal, minor_unit_exponent
from finance.schedules import (
    LoanKind,
    accrued_interest,
    add_months,
    bond_redemption,
    bond_schedule,
    loan_schedule,
    yield_to_maturity,
)

pytestmark = []


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def leap_day_bond(day_count=DayCount.ACT_ACT_ICMA, **terms):
    # 1,000 USD, 5% semi-annual, issued on 29 February 2024 for two years.
    return bond_schedule(
        date(2024, 2, 29),
        tenor_months=24,
        frequency=2,
        rate=Decimal("0.05"),
        face=usd("1000"),
        day_count=day_count,
        **terms,
    )


def dates_of(periods):
    return [(p.accrual_start, p.accrual_end, p.payment_date) for p in periods]


# add_months


@pytest.mark.parametrize(
    ("start", "months", "eom", "expected"),
    [
        (date(2024, 1, 31), 1, False, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, False, date(2023, 2, 28)),
        (date(2024, 2, 29), 12, False, date(2025, 2, 28)),
        (date(2024, 2, 29), 24, False, date(2026, 2, 28)),
        (date(2024, 2, 29), 6, False, date(2024, 8, 29)),
        (date(2024, 2, 29), 6, True, date(2024, 8, 31)),
        # 28 February 2024 is not a month end, so the flag changes nothing.
        (date(2024, 2, 28), 6, True, date(2024, 8, 28)),
        (date(2024, 3, 31), -1, False, date(2024, 2, 29)),
        (date(2024, 12, 15), 1, False, date(2025, 1, 15)),
        (date(2024, 1, 15), -13, False, date(2022, 12, 15)),
        (date(2024, 4, 30), -2, True, date(2024, 2, 29)),
    ],
)
def test_add_months(start, months, eom, expected):
    assert add_months(start, months, eom) == expected


# Bond schedules


def test_leap_day_issue_backward_has_a_one_day_short_first_stub():
    # Maturity 2026-02-28 (29 Feb + 24 months, clamped). Counting back from it, 6, 12, 18 and
    # 24 months give the 28th: 2025-08-28, 2025-02-28, 2024-08-28 and 2024-02-28, which is
    # before the issue date, so the first coupon runs 2024-02-29 -> 2024-08-28, a day short.
    periods = leap_day_bond()
    assert dates_of(periods) == [
        (date(2024, 2, 29), date(2024, 8, 28), date(2024, 8, 28)),
        (date(2024, 8, 28), date(2025, 2, 28), date(2025, 2, 28)),
        (date(2025, 2, 28), date(2025, 8, 28), date(2025, 8, 28)),
        # 2026-02-28 is a Saturday: paid on Monday 2 March.
        (date(2025, 8, 28), date(2026, 2, 28), date(2026, 3, 2)),
    ]
    assert [p.is_stub for p in periods] == [True, False, False, False]
    stub = periods[0]
    # ICMA: reference period 2024-02-28 -> 2024-08-28 = 182 days; accrual 181 days.
    # 1000 x 5% x 181 / (2 x 182) = 9050 / 364 = 24.8626... -> 24.86.
    assert (stub.reference_start, stub.reference_end) == (date(2024, 2, 28), date(2024, 8, 28))
    assert stub.year_fraction == fraction_to_decimal(Fraction(181, 364))
    assert stub.coupon_exact == Decimal("24.86263736263736263736263736263736")
    assert stub.coupon == usd("24.86")
    assert [p.coupon for p in periods[1:]] == [usd("25.00")] * 3


def test_leap_day_issue_backward_end_of_month_is_regular():
    # Maturity 2026-02-28 is a month end, so every date is a month end: 2025-08-31,
    # 2025-02-28, 2024-08-31 and 2024-02-29, the issue date itself: no stub.
    periods = leap_day_bond(end_of_month=True)
    assert dates_of(periods) == [
        # 2024-08-31 is a Saturday, 2025-08-31 a Sunday: both paid on the Monday.
        (date(2024, 2, 29), date(2024, 8, 31), date(2024, 9, 2)),
        (date(2024, 8, 31), date(2025, 2, 28), date(2025, 2, 28)),
        (date(2025, 2, 28), date(2025, 8, 31), date(2025, 9, 1)),
        (date(2025, 8, 31), date(2026, 2, 28), date(2026, 3, 2)),
    ]
    assert not any(p.is_stub for p in periods)
    # ACT/ACT ICMA: every regular coupon is exactly half the annual coupon, 184 days or 181.
    assert [p.coupon for p in periods] == [usd("25.00")] * 4


def test_leap_day_issue_forward():
    # Counted from the issue date: 29 Feb + 6 = 29 Aug, + 12 = 28 Feb 2025 (clamped),
    # + 18 = 29 Aug 2025 (the 29th again: counted from the anchor, not from 28 Feb).
    periods = leap_day_bond(direction="forward")
    assert [p.accrual_end for p in periods] == [
        date(2024, 8, 29),
        date(2025, 2, 28),
        date(2025, 8, 29),
        date(2026, 2, 28),
    ]
    assert not any(p.is_stub for p in periods)
    with_eom = leap_day_bond(direction="forward", end_of_month=True)
    assert [p.accrual_end for p in with_eom] == [
        date(2024, 8, 31),
        date(2025, 2, 28),
        date(2025, 8, 31),
        date(2026, 2, 28),
    ]


def test_end_of_month_anchor_with_the_other_end_not_a_month_end():
    def monthly(issue, tenor_months, direction):
        return bond_schedule(
            issue,
            tenor_months=tenor_months,
            frequency=12,
            rate=Decimal("0.06"),
            face=usd("1000"),
            day_count=DayCount.ACT_ACT_ICMA,
            direction=direction,
            end_of_month=True,
        )

    # Backward from 2025-02-28 (a month end) the dates are month ends down to 2024-04-30, one
    # day after the issue on 29 April: a one-day stub comes first, 1/30 of a monthly coupon
    # (reference period 31 March -> 30 April): 1000 x 6% / 12 / 30 = 0.1667 -> 0.17.
    backward = monthly(date(2024, 4, 29), 10, "backward")
    assert len(backward) == 11
    assert (backward[0].accrual_start, backward[0].accrual_end) == (
        date(2024, 4, 29),
        date(2024, 4, 30),
    )
    assert backward[0].is_stub
    assert backward[0].coupon == usd("0.17")
    # Forward from 30 April for one month: maturity is 30 May (clamped, not moved), short of
    # the month end 31 May: 30 of 31 days of the regular period, 5 x 30/31 = 4.84.
    forward = monthly(date(2024, 4, 30), 1, "forward")
    assert [(p.accrual_start, p.accrual_end, p.is_stub) for p in forward] == [
        (date(2024, 4, 30), date(2024, 5, 30), True)
    ]
    assert forward[0].reference_end == date(2024, 5, 31)
    assert forward[0].coupon == usd("4.84")


def test_same_dates_under_30_360_us_bond_basis_and_act_365():
    # Periods 2024-02-29 -> 2024-08-31 -> 2025-02-28 -> 2025-08-31 -> 2026-02-28; each coupon is
    # 1000 x 5% x days / 360 (or / 365).
    # 30/360 US:  180 (Feb end -> 30, then 31 -> 30), 178 (31 -> 30: 360 - 180 + 28 - 30),
    #             180, 178 days -> 25.00, 24.72 (24.7222), 25.00, 24.72.
    # Bond Basis: 182 (29 -> 31 unchanged), 178, 183 (28 -> 31 unchanged), 178 days
    #             -> 25.28 (25.2777), 24.72, 25.42 (25.4166), 24.72.
    # ACT/365F:   184, 181, 184, 181 actual days -> 25.21 (25.2054), 24.79 (24.7945), ...
    expected = {
        DayCount.THIRTY_360_US: ["25.00", "24.72", "25.00", "24.72"],
        DayCount.THIRTY_360_BOND_BASIS: ["25.28", "24.72", "25.42", "24.72"],
        DayCount.ACT_365_FIXED: ["25.21", "24.79", "25.21", "24.79"],
    }
    for day_count, coupons in expected.items():
        periods = leap_day_bond(day_count, end_of_month=True)
        assert [p.coupon for p in periods] == [usd(c) for c in coupons], day_count
    us = leap_day_bond(DayCount.THIRTY_360_US, end_of_month=True)
    assert us[1].year_fraction * 360 == 178


def short_stub_bond(direction, day_count=DayCount.ACT_ACT_ICMA):
    # 1,000 USD, 5% semi-annual, issued 2024-03-15 for 27 months: maturity 2026-06-15.
    return bond_schedule(
        date(2024, 3, 15),
        tenor_months=27,
        frequency=2,
        rate=Decimal("0.05"),
        face=usd("1000"),
        day_count=day_count,
        direction=direction,
    )


def test_icma_short_first_coupon():
    # Backward from 2026-06-15: 2025-12-15, 2025-06-15, 2024-12-15, 2024-06-15, then
    # 2023-12-15 is before the issue: first coupon 2024-03-15 -> 2024-06-15, short.
    # Reference period 2023-12-15 -> 2024-06-15: 16 + 31 + 29 + 31 + 30 + 31 + 15 = 183 days.
    # Accrual: 16 + 30 + 31 + 15 = 92 days. Fraction 92 / (2 x 183) = 46/183.
    # Coupon 1000 x 5% x 46/183 = 2300/183 = 12.5683... -> 12.57.
    periods = short_stub_bond("backward")
    stub = periods[0]
    assert stub.is_stub
    assert (stub.accrual_start, stub.accrual_end) == (date(2024, 3, 15), date(2024, 6, 15))
    assert (stub.reference_start, stub.reference_end) == (date(2023, 12, 15), date(2024, 6, 15))
    assert stub.coupon_exact == Decimal("12.56830601092896174863387978142077")
    assert stub.coupon == usd("12.57")
    # 2024-06-15 is a Saturday.
    assert stub.payment_date == date(2024, 6, 17)
    assert [p.coupon for p in periods[1:]] == [usd("25.00")] * 4
    assert not any(p.is_stub for p in periods[1:])


def test_icma_short_last_coupon_going_forward():
    # Forward from 2024-03-15: 2024-09-15, 2025-03-15, 2025-09-15, 2026-03-15, then 2026-09-15
    # is past maturity: last coupon 2026-03-15 -> 2026-06-15 (92 days), reference period
    # 2026-03-15 -> 2026-09-15 (184 days). Fraction 92 / (2 x 184) = 1/4: coupon 12.50.
    periods = short_stub_bond("forward")
    stub = periods[-1]
    assert [p.is_stub for p in periods] == [False] * 4 + [True]
    assert (stub.reference_start, stub.reference_end) == (date(2026, 3, 15), date(2026, 9, 15))
    assert stub.year_fraction == Decimal("0.25")
    assert stub.coupon == usd("12.50")
    # 2024-09-15 Sun, 2025-03-15 Sat, 2025-09-15 Mon, 2026-03-15 Sun, 2026-06-15 Mon.
    assert [p.payment_date for p in periods] == [
        date(2024, 9, 16),
        date(2025, 3, 17),
        date(2025, 9, 15),
        date(2026, 3, 16),
        date(2026, 6, 15),
    ]


def test_short_first_coupon_under_30_360():
    # 2024-03-15 -> 2024-06-15 is 90 days in 30/360: 1000 x 5% x 90/360 = 12.50.
    periods = short_stub_bond("backward", DayCount.THIRTY_360_US)
    assert periods[0].coupon == usd("12.50")


def clamped_quarterly_bond(issue, tenor_months, direction="backward", end_of_month=False):
    # 1,000,000 USD at 6% quarterly, ACT/ACT ICMA: a regular coupon is 1,000,000 x 6% / 4 =
    # 15,000.00 whatever its number of days.
    return bond_schedule(
        issue,
        tenor_months=tenor_months,
        frequency=4,
        rate=Decimal("0.06"),
        face=usd("1000000"),
        day_count=DayCount.ACT_ACT_ICMA,
        direction=direction,
        end_of_month=end_of_month,
    )


def test_icma_short_first_coupon_ending_on_a_clamped_date():
    # Issued 2025-01-31 for 7 months: maturity 2025-08-31. Back from it: 2025-05-31,
    # 2025-02-28 (clamped), then 2024-11-30 is before the issue: the first coupon runs
    # 2025-01-31 -> 2025-02-28, 28 days. Its reference period is (its end - 3 months, its
    # end) = 2024-11-28 -> 2025-02-28: 30 + 31 + 31 = 92 days (not 2024-11-30, maturity - 9
    # months, 90 days). Coupon 1,000,000 x 6% x 28 / (4 x 92) = 1,680,000 / 368 = 4,565.2174
    # -> 4,565.22 (with the 90-day period it would be 1,680,000 / 360 = 4,666.67).
    periods = clamped_quarterly_bond(date(2025, 1, 31), 7)
    assert dates_of(periods) == [
        (date(2025, 1, 31), date(2025, 2, 28), date(2025, 2, 28)),
        # 2025-05-31 is a Saturday, 2025-08-31 a Sunday.
        (date(2025, 2, 28), date(2025, 5, 31), date(2025, 6, 2)),
        (date(2025, 5, 31), date(2025, 8, 31), date(2025, 9, 1)),
    ]
    stub = periods[0]
    assert stub.is_stub
    assert (stub.reference_start, stub.reference_end) == (date(2024, 11, 28), date(2025, 2, 28))
    assert stub.year_fraction == fraction_to_decimal(Fraction(28, 4 * 92))
    assert stub.coupon_exact == Decimal("4565.217391304347826086956521739130")
    assert stub.coupon == usd("4565.22")
    # The regular coupons keep their own periods: 92 days each, exactly a quarter of a year.
    assert [(p.is_stub, p.year_fraction, p.coupon) for p in periods[1:]] == [
        (False, Decimal("0.25"), usd("15000.00"))
    ] * 2
    assert [(p.reference_start, p.reference_end) for p in periods[1:]] == [
        (date(2025, 2, 28), date(2025, 5, 31)),
        (date(2025, 5, 31), date(2025, 8, 31)),
    ]


def test_icma_short_first_coupon_with_the_end_of_month_rule():
    # Same bond with the end-of-month flag: maturity 2025-08-31 is a month end, so every date
    # is one, the reference start too: 2025-02-28 - 3 months = 2024-11-30. Reference period
    # 31 + 31 + 28 = 90 days: 1,680,000 / 360 = 4,666.666... -> 4,666.67.
    periods = clamped_quarterly_bond(date(2025, 1, 31), 7, end_of_month=True)
    stub = periods[0]
    assert (stub.reference_start, stub.reference_end) == (date(2024, 11, 30), date(2025, 2, 28))
    assert stub.coupon == usd("4666.67")
    assert [p.accrual_end for p in periods] == [
        date(2025, 2, 28),
        date(2025, 5, 31),
        date(2025, 8, 31),
    ]
    assert [p.coupon for p in periods[1:]] == [usd("15000.00")] * 2


def test_end_of_month_flag_without_a_month_end_anchor_changes_nothing():
    # Issued 2025-01-28 for 4 months: maturity 2025-05-28, not a month end, so the flag does
    # not apply, even though the coupon date 2025-02-28 happens to end its month. First coupon
    # 2025-01-28 -> 2025-02-28 (31 days), reference 2024-11-28 -> 2025-02-28 (92 days):
    # 1,000,000 x 6% x 31 / 368 = 5,054.3478 -> 5,054.35 (with 2024-11-30, 5,166.67).
    for flag in (False, True):
        periods = clamped_quarterly_bond(date(2025, 1, 28), 4, end_of_month=flag)
        stub = periods[0]
        assert (stub.accrual_start, stub.accrual_end) == (date(2025, 1, 28), date(2025, 2, 28))
        assert (stub.reference_start, stub.reference_end) == (
            date(2024, 11, 28),
            date(2025, 2, 28),
        )
        assert stub.coupon == usd("5054.35")
        assert periods[1].coupon == usd("15000.00")


def test_icma_short_last_coupon_starting_on_a_clamped_date():
    # Forward from 2024-11-30 for 4 months: maturity 2025-03-30. 2024-11-30 + 3 months =
    # 2025-02-28 (clamped), + 6 months = 2025-05-30 is past maturity: the last coupon runs
    # 2025-02-28 -> 2025-03-30 (30 days). Its reference period is (its start, its start + 3
    # months) = 2025-02-28 -> 2025-05-28: 28 + 31 + 30 = 89 days (not 2025-05-30, issue + 6
    # months, 91 days). 1,000,000 x 6% x 30 / (4 x 89) = 1,800,000 / 356 = 5,056.1798
    # -> 5,056.18 (with 91 days, 4,945.05).
    periods = clamped_quarterly_bond(date(2024, 11, 30), 4, direction="forward")
    first, stub = periods
    assert (first.is_stub, first.coupon) == (False, usd("15000.00"))
    assert stub.is_stub
    assert (stub.accrual_start, stub.accrual_end) == (date(2025, 2, 28), date(2025, 3, 30))
    # 2025-03-30 is a Sunday.
    assert stub.payment_date == date(2025, 3, 31)
    assert (stub.reference_start, stub.reference_end) == (date(2025, 2, 28), date(2025, 5, 28))
    assert stub.coupon_exact == Decimal("5056.179775280898876404494382022472")
    assert stub.coupon == usd("5056.18")
    # With the end-of-month flag (2024-11-30 ends its month) the reference period ends on
    # 2025-05-31: 92 days, 1,800,000 / 368 = 4,891.3043 -> 4,891.30.
    with_eom = clamped_quarterly_bond(date(2024, 11, 30), 4, "forward", end_of_month=True)
    assert with_eom[-1].reference_end == date(2025, 5, 31)
    assert with_eom[-1].coupon == usd("4891.30")


@pytest.mark.parametrize("direction", ["backward", "forward"])
def test_a_clamped_period_on_the_schedule_stays_regular(direction):
    # Issued 2024-11-30 for 6 months: maturity 2025-05-30. Both ways the dates are 2024-11-30,
    # 2025-02-28 and 2025-05-30: the issue date and maturity are on the schedule, so both
    # periods are regular although 2025-02-28 - 3 months is 2024-11-28 and 2025-02-28 + 3
    # months is 2025-05-28. Each coupon is a quarter of 60,000.
    periods = clamped_quarterly_bond(date(2024, 11, 30), 6, direction=direction)
    assert [(p.accrual_start, p.accrual_end) for p in periods] == [
        (date(2024, 11, 30), date(2025, 2, 28)),
        (date(2025, 2, 28), date(2025, 5, 30)),
    ]
    assert not any(p.is_stub for p in periods)
    assert [(p.reference_start, p.reference_end) for p in periods] == [
        (p.accrual_start, p.accrual_end) for p in periods
    ]
    assert [p.coupon for p in periods] == [usd("15000.00")] * 2


def test_accrued_interest_and_yield_use_the_clamped_stub_reference_period():
    periods = clamped_quarterly_bond(date(2025, 1, 31), 7)
    # 2025-01-31 -> 2025-02-14 is 14 of the stub's 28 days, over the same 92-day reference
    # period: half the stub coupon, 1,000,000 x 6% x 14 / 368 = 2,282.6087.
    assert accrued_interest(periods, date(2025, 2, 14)) == Decimal(
        "2282.608695652173913043478260869565"
    )
    # Priced at 6% on the issue date (nothing accrued), per 100 of face and g = 1.015:
    # the stub coupon 6 x 28/368 = 21/46, paid 2025-02-28, 28/92 = 7/23 of a period away;
    # 1.5 paid Monday 2025-06-02: 7/23 + 1 + 2/92 (2 days of the 92-day period from 31 May);
    # 101.5 paid Monday 2025-09-01: 7/23 + 2 + 1/91 (1 day of the 91-day period 31 August ->
    # 30 November that would follow maturity).
    with localcontext() as context:
        context.prec = 40
        growth = Decimal("1.015")
        stub_periods = Decimal(7) / 23
        price = (
            Decimal(21) / 46 * growth**-stub_periods
            + Decimal("1.5") * growth ** -(stub_periods + 1 + Decimal(2) / 92)
            + Decimal("101.5") * growth ** -(stub_periods + 2 + Decimal(1) / 91)
        )
    ytm = yield_to_maturity(
        periods,
        bond_redemption(periods),
        clean_price=price,
        settlement_date=date(2025, 1, 31),
        frequency=4,
        day_count=DayCount.ACT_ACT_ICMA,
    )
    assert abs(ytm - Decimal("0.06")) < Decimal("1e-20")


def test_coupon_half_cent_tie_rounds_up():
    # 100 USD at 5.13% semi-annual, 30/360, regular: 100 x 0.0513 / 2 = 2.565 exactly -> 2.57
    # (half-even would give 2.56).
    periods = bond_schedule(
        date(2024, 1, 15),
        tenor_months=12,
        frequency=2,
        rate=Decimal("0.0513"),
        face=usd("100"),
        day_count=DayCount.THIRTY_360_US,
    )
    assert [p.coupon_exact for p in periods] == [Decimal("2.565")] * 2
    assert [p.coupon for p in periods] == [usd("2.57")] * 2


def test_zero_decimal_and_three_decimal_currencies():
    # 1,000,000 JPY at 1.5% semi: 7,500 yen. 1,000 KWD at 4.25% quarterly: 10.625 KWD.
    yen = bond_schedule(
        date(2024, 1, 15),
        tenor_months=12,
        frequency=2,
        rate=Decimal("0.015"),
        face=Money(1_000_000, "JPY"),
        day_count=DayCount.THIRTY_360_BOND_BASIS,
    )
    assert [p.coupon for p in yen] == [Money(7500, "JPY")] * 2
    dinar = bond_schedule(
        date(2024, 1, 15),
        tenor_months=12,
        frequency=4,
        rate=Decimal("0.0425"),
        face=Money(1000, "KWD"),
        day_count=DayCount.ACT_ACT_ICMA,
    )
    assert [p.coupon for p in dinar] == [Money("10.625", "KWD")] * 4


def test_redemption_is_face_on_the_adjusted_maturity():
    periods = leap_day_bond()
    redemption = bond_redemption(periods)
    assert redemption.amount == usd("1000")
    # Maturity 2026-02-28 is a Saturday.
    assert redemption.payment_date == date(2026, 3, 2)


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"tenor_months": 0}, "maturity on or before the issue date"),
        ({"tenor_months": -12}, "maturity on or before the issue date"),
        ({"rate": Decimal("-0.01")}, "negative"),
        ({"frequency": 3}, "frequency"),
        ({"face": usd("0")}, "positive"),
        ({"face": usd("1000.001")}, "minor units"),
        ({"day_count": "ACT/360"}, "day count"),
        ({"direction": "sideways"}, "direction"),
        ({"tenor_months": 12 * 8000}, "calendar"),
    ],
)
def test_terms_that_make_no_schedule(terms, message):
    arguments = {
        "tenor_months": 24,
        "frequency": 2,
        "rate": Decimal("0.05"),
        "face": usd("1000"),
        "day_count": DayCount.THIRTY_360_US,
    } | terms
    with pytest.raises(ScheduleError, match=message):
        bond_schedule(date(2024, 1, 15), **arguments)


def test_float_rate_is_a_type_error():
    with pytest.raises(TypeError):
        bond_schedule(
            date(2024, 1, 15),
            tenor_months=24,
            frequency=2,
            rate=0.05,  # type: ignore[arg-type]
            face=usd("1000"),
            day_count=DayCount.THIRTY_360_US,
        )


# Accrued interest


def test_accrued_on_a_saturday_coupon_date_is_the_full_coupon():
    # First coupon of the month-end schedule ends on Saturday 2024-08-31, paid Monday 2 Sept.
    periods = leap_day_bond(end_of_month=True)
    # Friday: 183 of the period's 184 days: 25 x 183/184 = 24.8641...
    assert accrued_interest(periods, date(2024, 8, 30)) == Decimal(
        "24.86413043478260869565217391304348"
    )
    # Saturday and Sunday: the coupon is fully accrued and not yet paid.
    assert accrued_interest(periods, date(2024, 8, 31)) == Decimal(25)
    assert accrued_interest(periods, date(2024, 9, 1)) == Decimal(25)
    # Monday it is paid; the next coupon has accrued 2 of its 181 days: 25 x 2/181.
    assert accrued_interest(periods, date(2024, 9, 2)) == Decimal(
        "0.2762430939226519337016574585635359"
    )


def test_accrued_interest_mid_period_and_outside_the_bond():
    periods = bond_schedule(
        date(2024, 1, 15),
        tenor_months=24,
        frequency=2,
        rate=Decimal("0.05"),
        face=usd("1000"),
        day_count=DayCount.THIRTY_360_US,
    )
    # 2024-01-15 -> 2024-04-15 is 90 days in 30/360: 1000 x 5% x 90/360 = 12.5.
    assert accrued_interest(periods, date(2024, 4, 15)) == Decimal("12.5")
    assert accrued_interest(periods, date(2024, 1, 15)) == 0
    assert accrued_interest(periods, date(2023, 6, 1)) == 0
    # On the last payment date everything is paid.
    assert accrued_interest(periods, date(2026, 1, 15)) == 0
    assert accrued_interest(periods, date(2030, 1, 1)) == 0


def test_accrued_interest_in_a_short_first_coupon_uses_its_reference_period():
    # 2024-03-15 -> 2024-04-15: 31 days over the 183-day reference period:
    # 1000 x 5% x 31 / (2 x 183) = 1550/366 = 4.2349...
    periods = short_stub_bond("backward")
    accrued = accrued_interest(periods, date(2024, 4, 15))
    assert accrued == Decimal("4.234972677595628415300546448087432")


# Yield to maturity


def semi_annual_30_360(day_count=DayCount.THIRTY_360_US, frequency=2, rate="0.05"):
    # Issue and every coupon date (15 Jan / 15 Jul 2024-2026) fall on weekdays.
    return bond_schedule(
        date(2024, 1, 15),
        tenor_months=24,
        frequency=frequency,
        rate=Decimal(rate),
        face=usd("1000"),
        day_count=day_count,
    )


@pytest.mark.parametrize("day_count", [DayCount.THIRTY_360_US, DayCount.ACT_ACT_ICMA])
@pytest.mark.parametrize("settlement", [date(2024, 1, 15), date(2024, 7, 15)])
def test_par_bond_bought_at_par_on_a_coupon_date_yields_its_coupon(day_count, settlement):
    periods = semi_annual_30_360(day_count)
    ytm = yield_to_maturity(
        periods,
        bond_redemption(periods),
        clean_price=Decimal(100),
        settlement_date=settlement,
        frequency=2,
        day_count=day_count,
    )
    assert abs(ytm - Decimal("0.05")) < Decimal("1e-8")


def test_discount_bond_on_a_coupon_date():
    # Annual 5%, two years, priced at 6%: 5 / 1.06 + 105 / 1.06^2 = 4.7170 + 93.4496 = 98.1666.
    periods = semi_annual_30_360(frequency=1)
    with localcontext() as context:
        context.prec = 40
        price = 5 / Decimal("1.06") + 105 / Decimal("1.06") ** 2
    ytm = yield_to_maturity(
        periods,
        bond_redemption(periods),
        clean_price=price,
        settlement_date=date(2024, 1, 15),
        frequency=1,
        day_count=DayCount.THIRTY_360_US,
    )
    assert abs(ytm - Decimal("0.06")) < Decimal("1e-20")


def test_yield_between_coupon_dates_adds_accrued_interest():
    # Same annual 5% bond settled 2024-07-15: 180 days (30/360) into the first year, so the
    # accrued interest is 5 x 180/360 = 2.5 per 100, and the flows are 0.5 and 1.5 periods
    # away. At 6%: dirty = 5 / 1.06^0.5 + 105 / 1.06^1.5, clean = dirty - 2.5.
    periods = semi_annual_30_360(frequency=1)
    with localcontext() as context:
        context.prec = 40
        growth = Decimal("1.06")
        dirty = 5 / growth.sqrt() + 105 / (growth * growth.sqrt())
    ytm = yield_to_maturity(
        periods,
        bond_redemption(periods),
        clean_price=dirty - Decimal("2.5"),
        settlement_date=date(2024, 7, 15),
        frequency=1,
        day_count=DayCount.THIRTY_360_US,
    )
    assert abs(ytm - Decimal("0.06")) < Decimal("1e-20")


def test_premium_price_gives_a_lower_yield():
    periods = semi_annual_30_360()
    ytm = yield_to_maturity(
        periods,
        bond_redemption(periods),
        clean_price=Decimal(102),
        settlement_date=date(2024, 1, 15),
        frequency=2,
        day_count=DayCount.THIRTY_360_US,
    )
    # Two years at 5% bought at 102: 2 points of premium over 2 years is about 1% a year.
    assert Decimal("0.039") < ytm < Decimal("0.040")


def test_yield_settlement_outside_the_bond_is_an_error():
    periods = semi_annual_30_360()
    redemption = bond_redemption(periods)
    for settlement in (date(2023, 1, 1), date(2026, 1, 15)):
        with pytest.raises(ValueError, match="settlement"):
            yield_to_maturity(
                periods,
                redemption,
                clean_price=Decimal(100),
                settlement_date=settlement,
                frequency=2,
                day_count=DayCount.THIRTY_360_US,
            )


# Loans


def test_annuity_hand_checked():
    # 1,000 USD at 12% a year, monthly (1% a period), 6 installments.
    # Level payment 1000 x 0.01 / (1 - 1.01^-6) = 172.548... -> 172.55.
    # Interest: 10.00; 837.45 x 1% = 8.3745 -> 8.37; 6.7327 -> 6.73; 5.0745 -> 5.07;
    # 3.3997 -> 3.40; 1.7082 -> 1.71. The last installment repays the 170.82 left + 1.71.
    installments = loan_schedule(
        usd("1000"),
        annual_rate=Decimal("0.12"),
        periods=6,
        periods_per_year=12,
        kind=LoanKind.ANNUITY,
        start_date=date(2024, 1, 31),
    )
    assert [i.payment for i in installments] == [usd("172.55")] * 5 + [usd("172.53")]
    assert [i.interest for i in installments] == [
        usd(x) for x in ["10.00", "8.37", "6.73", "5.07", "3.40", "1.71"]
    ]
    assert [i.closing_balance for i in installments] == [
        usd(x) for x in ["837.45", "673.27", "507.45", "339.97", "170.82", "0"]
    ]
    # Due dates counted from the start date, clamped: 29 Feb, then 31 Mar, not 29 Mar.
    assert [i.due_date for i in installments] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
        date(2024, 6, 30),
        date(2024, 7, 31),
    ]
    assert [i.number for i in installments] == [1, 2, 3, 4, 5, 6]


def test_interest_tie_rounds_half_up_where_binary_floats_round_down():
    # 10,306.50 USD at 12% a year, monthly: 10306.50 x 1% = 103.065 exactly -> 103.07.
    # In binary floating point 103.065 is 103.06499999..., and round(..., 2) gives 103.06.
    assert round(10306.5 * 0.12 / 12, 2) == 103.06
    installments = loan_schedule(
        usd("10306.50"),
        annual_rate=Decimal("0.12"),
        periods=3,
        periods_per_year=12,
        kind="interest_only",
        start_date=date(2024, 1, 15),
    )
    assert [i.interest for i in installments] == [usd("103.07")] * 3
    assert [i.principal for i in installments] == [usd("0"), usd("0"), usd("10306.50")]
    assert installments[-1].payment == usd("10409.57")
    annuity = loan_schedule(
        usd("10306.50"),
        annual_rate=Decimal("0.12"),
        periods=12,
        periods_per_year=12,
        kind="annuity",
        start_date=date(2024, 1, 15),
    )
    assert annuity[0].interest == usd("103.07")


def test_equal_principal_hand_checked():
    # 1,000 USD, 3 monthly installments at 12%: principal 1000 / 3 = 333.33 twice, then the
    # remaining 333.34. Interest 10.00; 666.67 x 1% = 6.6667 -> 6.67; 333.34 x 1% -> 3.33.
    installments = loan_schedule(
        usd("1000"),
        annual_rate=Decimal("0.12"),
        periods=3,
        periods_per_year=12,
        kind="equal_principal",
        start_date=date(2024, 1, 15),
    )
    assert [i.principal for i in installments] == [usd("333.33"), usd("333.33"), usd("333.34")]
    assert [i.interest for i in installments] == [usd("10.00"), usd("6.67"), usd("3.33")]
    assert [i.payment for i in installments] == [usd("343.33"), usd("340.00"), usd("336.67")]


def test_zero_rate_annuity_and_yen():
    # 100 USD / 3 = 33.33, 33.33 and the remaining 33.34.
    installments = loan_schedule(
        usd("100"),
        annual_rate=Decimal(0),
        periods=3,
        periods_per_year=4,
        kind="annuity",
        start_date=date(2023, 11, 30),
    )
    assert [i.payment for i in installments] == [usd("33.33"), usd("33.33"), usd("33.34")]
    # Quarterly from 30 Nov: 29 Feb 2024 (clamped), 30 May, 30 Aug.
    assert [i.due_date for i in installments] == [
        date(2024, 2, 29),
        date(2024, 5, 30),
        date(2024, 8, 30),
    ]
    # 100,000 JPY at 3% a year, 2 semi-annual installments: interest 1,500 then 1.5% of the
    # balance; the level payment 100000 x 0.015 / (1 - 1.015^-2) = 51,127.79 -> 51,128.
    yen = loan_schedule(
        Money(100_000, "JPY"),
        annual_rate=Decimal("0.03"),
        periods=2,
        periods_per_year=2,
        kind="annuity",
        start_date=date(2024, 1, 15),
    )
    assert yen[0].payment == Money(51128, "JPY")
    assert yen[0].interest == Money(1500, "JPY")
    # 50,372 left x 1.5% = 755.58 -> 756; last payment 50,372 + 756.
    assert yen[1].payment == Money(51128, "JPY")


def test_tiny_loan_never_overpays_its_balance():
    # 0.05 USD in 7 equal parts: 0.05 / 7 = 0.0071 -> 0.01, which would repay 0.06 over six
    # installments. The principal part stops at the balance.
    installments = loan_schedule(
        usd("0.05"),
        annual_rate=Decimal(0),
        periods=7,
        periods_per_year=12,
        kind="equal_principal",
        start_date=date(2024, 1, 15),
    )
    assert [i.principal for i in installments] == [usd("0.01")] * 5 + [usd("0")] * 2
    assert all(i.closing_balance >= usd("0") for i in installments)


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"periods": 0}, "at least one period"),
        ({"annual_rate": Decimal("-0.01")}, "negative"),
        ({"principal": usd("0")}, "positive"),
        ({"principal": usd("-100")}, "positive"),
        ({"principal": usd("100.005")}, "minor units"),
        ({"periods_per_year": 5}, "periods per year"),
        ({"kind": "bullet"}, "kind"),
    ],
)
def test_loan_terms_that_make_no_schedule(terms, message):
    arguments = {
        "principal": usd("1000"),
        "annual_rate": Decimal("0.05"),
        "periods": 12,
        "periods_per_year": 12,
        "kind": "annuity",
        "start_date": date(2024, 1, 15),
    } | terms
    principal = arguments.pop("principal")
    with pytest.raises(ScheduleError, match=message):
        loan_schedule(principal, **arguments)


def test_float_loan_rate_is_a_type_error():
    with pytest.raises(TypeError):
        loan_schedule(
            usd("1000"),
            annual_rate=0.05,  # type: ignore[arg-type]
            periods=12,
            periods_per_year=12,
            kind="annuity",
            start_date=date(2024, 1, 15),
        )


# Properties

currencies = st.sampled_from(["JPY", "USD", "KWD"])


@settings(max_examples=200, deadline=None)
@given(
    minor_units=st.integers(min_value=1, max_value=10**11),
    currency=currencies,
    rate=st.decimals(min_value=0, max_value=Decimal("0.3"), places=4),
    periods=st.integers(min_value=1, max_value=360),
    periods_per_year=st.sampled_from([1, 2, 3, 4, 6, 12]),
    kind=st.sampled_from(list(LoanKind)),
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2050, 12, 31)),
)
def test_loan_principal_is_repaid_exactly(
    minor_units, currency, rate, periods, periods_per_year, kind, start
):
    principal = Money.from_minor(minor_units, currency)
    installments = loan_schedule(
        principal,
        annual_rate=rate,
        periods=periods,
        periods_per_year=periods_per_year,
        kind=kind,
        start_date=start,
    )
    zero = Money.zero(currency)
    assert len(installments) == periods
    assert sum((i.principal for i in installments), zero) == principal
    assert installments[0].opening_balance == principal
    assert installments[-1].closing_balance == zero
    for previous, current in zip(installments, installments[1:], strict=False):
        assert current.opening_balance == previous.closing_balance
        assert current.due_date > previous.due_date
    periodic_rate = Fraction(rate) / periods_per_year
    for installment in installments:
        assert installment.principal >= zero
        assert installment.closing_balance >= zero
        assert installment.payment == installment.interest + installment.principal
        exact_interest = Fraction(installment.opening_balance.amount) * periodic_rate
        # Interest is the exact interest rounded to the minor unit: within half a unit.
        half_unit = Fraction(1, 2 * 10 ** minor_unit_exponent(currency))
        assert abs(Fraction(installment.interest.amount) - exact_interest) <= half_unit
    if kind == LoanKind.ANNUITY:
        # Level payments, except the last and those of a tiny loan already repaid early.
        level = installments[0].payment
        assert all(i.payment == level or i.closing_balance == zero for i in installments[:-1])
    if kind == LoanKind.INTEREST_ONLY:
        assert all(i.principal == zero for i in installments[:-1])


@settings(max_examples=200, deadline=None)
@given(
    issue=st.dates(min_value=date(2000, 1, 1), max_value=date(2050, 12, 31)),
    tenor_months=st.integers(min_value=1, max_value=360),
    frequency=st.sampled_from([1, 2, 4, 12]),
    day_count=st.sampled_from(list(DayCount)),
    direction=st.sampled_from(["backward", "forward"]),
    end_of_month=st.booleans(),
)
def test_bond_periods_are_contiguous_and_cover_issue_to_maturity(
    issue, tenor_months, frequency, day_count, direction, end_of_month
):
    periods = bond_schedule(
        issue,
        tenor_months=tenor_months,
        frequency=frequency,
        rate=Decimal("0.05"),
        face=usd("1000"),
        day_count=day_count,
        direction=direction,
        end_of_month=end_of_month,
    )
    assert periods[0].accrual_start == issue
    assert periods[-1].accrual_end == add_months(issue, tenor_months)
    for previous, current in zip(periods, periods[1:], strict=False):
        assert current.accrual_start == previous.accrual_end
    for period in periods:
        assert period.accrual_start < period.accrual_end
        assert period.payment_date.weekday() < 5
        assert period.accrual_end <= period.payment_date <= period.accrual_end + timedelta(days=2)
        assert period.coupon == Money(period.coupon_exact, "USD").quantize()
        assert period.reference_start <= period.accrual_start
        assert period.accrual_end <= period.reference_end
        if not period.is_stub:
            assert (period.reference_start, period.reference_end) == (
                period.accrual_start,
                period.accrual_end,
            )
        elif day_count == DayCount.ACT_ACT_ICMA:
            # Stubs are always short: less than a full regular coupon.
            assert period.year_fraction < Fraction(1, frequency)
    stubs = [index for index, period in enumerate(periods) if period.is_stub]
    assert stubs in ([], [0] if direction == "backward" else [len(periods) - 1])
    # One period per started coupon interval; a month-end anchor can add a stub of a few days
    # when the other end is not a month end.
    regular_count = math.ceil(tenor_months / (12 // frequency))
    assert len(periods) in (regular_count, regular_count + 1)
