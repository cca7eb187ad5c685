"""Day-count conventions: the fraction of a year that interest accrues between two dates.

The convention functions return an exact :class:`fractions.Fraction`, so that a coupon
computed as face x rate x fraction is exact until it is rounded for payment;
:func:`year_fraction` writes the result as a Decimal for display and storage. Dates are
unadjusted accrual dates, ``start`` included and ``end`` excluded; ``end`` must not precede
``start``.

* 30/360 US (SIA, US corporate and agency bonds): month-end and February rules below.
* 30/360 Bond Basis (ISDA 2006 section 4.16(f), "30/360"): only the 31st is moved.
* ACT/365 Fixed: actual days over 365, also in leap years.
* ACT/ACT ICMA (ICMA Rule 251, ISDA 2006 section 4.16(c)): actual days over the actual days
  of the reference (regular coupon) period, times the length of that period in years.
"""

import calendar
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from finance.money import fraction_to_decimal


class DayCount(StrEnum):
    """Day-count conventions by their market names; the values are what gets stored."""

    THIRTY_360_US = "30/360 US"
    THIRTY_360_BOND_BASIS = "30/360 BB"
    ACT_365_FIXED = "ACT/365F"
    ACT_ACT_ICMA = "ACT/ACT ICMA"


def _check_order(start: date, end: date) -> None:
    if end < start:
        raise ValueError(f"accrual end {end} precedes its start {start}")


def _is_last_day_of_february(d: date) -> bool:
    return d.month == 2 and d.day == calendar.monthrange(d.year, 2)[1]


def _days_360(start: date, end: date, start_day: int, end_day: int) -> int:
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (end_day - start_day)


def thirty_360_us(start: date, end: date) -> Fraction:
    """30/360 US: days counted as if every month had 30 days, over 360.

    The rules apply in this order, each seeing the days as left by the previous ones:

    1. if ``start`` is the last day of February: if ``end`` is also the last day of February,
       its day becomes 30; then the start day becomes 30;
    2. if the end day is 31 and the start day is 30 or 31, the end day becomes 30;
    3. if the start day is 31, it becomes 30.

    So 2024-02-29 -> 2024-08-31 is 180 days (a half year), where Bond Basis counts 182.
    """
    _check_order(start, end)
    start_day, end_day = start.day, end.day
    if _is_last_day_of_february(start):
        if _is_last_day_of_february(end):
            end_day = 30
        start_day = 30
    if end_day == 31 and start_day >= 30:
        end_day = 30
    if start_day == 31:
        start_day = 30
    return Fraction(_days_360(start, end, start_day, end_day), 360)


def thirty_360_bond_basis(start: date, end: date) -> Fraction:
    """30/360 Bond Basis: a start day of 31 becomes 30; an end day of 31 becomes 30 when the
    (adjusted) start day is 30. February gets no special treatment, so 2023-02-28 -> 2023-03-31
    is 33 days, where 30/360 US counts 30.
    """
    _check_order(start, end)
    start_day = min(start.day, 30)
    end_day = 30 if end.day == 31 and start_day == 30 else end.day
    return Fraction(_days_360(start, end, start_day, end_day), 360)


def act_365_fixed(start: date, end: date) -> Fraction:
    """ACT/365 Fixed: actual days over 365, leap years included (366 days are 366/365)."""
    _check_order(start, end)
    return Fraction((end - start).days, 365)


def act_act_icma(
    start: date,
    end: date,
    *,
    reference_start: date,
    reference_end: date,
    frequency: int,
) -> Fraction:
    """ACT/ACT ICMA: actual days in [start, end) over (frequency x actual days of the reference
    period), i.e. (months of the reference period / 12) x days / days of the reference period.

    The reference period is the regular coupon period that contains [start, end): the period
    itself for a regular coupon, (coupon date - one period, coupon date) for a short first
    coupon, (previous coupon date, previous coupon date + one period) for a short last coupon,
    each counted from that coupon's own date with the day clamped (see
    :func:`finance.schedules.bond_schedule`). A full
    regular period is therefore exactly 1/frequency, whatever its number of days. A long stub
    spans several reference periods and must be computed as the sum of its parts; passing it
    whole raises ValueError.
    """
    _check_order(start, end)
    if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 1:
        raise ValueError(f"frequency must be a positive number of periods a year, not {frequency}")
    if not reference_start < reference_end:
        raise ValueError(f"empty reference period {reference_start} -> {reference_end}")
    if not (reference_start <= start and end <= reference_end):
        raise ValueError(
            f"{start} -> {end} is not within the reference period "
            f"{reference_start} -> {reference_end}"
        )
    return Fraction((end - start).days, frequency * (reference_end - reference_start).days)


def year_fraction_exact(
    day_count: DayCount,
    start: date,
    end: date,
    *,
    reference_start: date | None = None,
    reference_end: date | None = None,
    frequency: int | None = None,
) -> Fraction:
    """Year fraction from ``start`` to ``end`` under ``day_count``, as an exact Fraction.

    ``reference_start``, ``reference_end`` and ``frequency`` are required by ACT/ACT ICMA and
    ignored by the other conventions.
    """
    match DayCount(day_count):
        case DayCount.THIRTY_360_US:
            return thirty_360_us(start, end)
        case DayCount.THIRTY_360_BOND_BASIS:
            return thirty_360_bond_basis(start, end)
        case DayCount.ACT_365_FIXED:
            return act_365_fixed(start, end)
        case DayCount.ACT_ACT_ICMA:
            if reference_start is None or reference_end is None or frequency is None:
                raise ValueError("ACT/ACT ICMA needs the reference period and the frequency")
            return act_act_icma(
                start,
                end,
                reference_start=reference_start,
                reference_end=reference_end,
                frequency=frequency,
            )


def year_fraction(
    day_count: DayCount,
    start: date,
    end: date,
    *,
    reference_start: date | None = None,
    reference_end: date | None = None,
    frequency: int | None = None,
) -> Decimal:
    """:func:`year_fraction_exact` written as a Decimal of 34 significant digits."""
    return fraction_to_decimal(
        year_fraction_exact(
            day_count,
            start,
            end,
            reference_start=reference_start,
            reference_end=reference_end,
            frequency=frequency,
        )
    )
