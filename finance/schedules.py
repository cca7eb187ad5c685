"""Coupon schedules of fixed-rate bonds, accrued interest and yield, and loan amortisation.

Conventions:

* Dates k periods away are counted from one anchor date in whole months (anchor +/- k x
  period), never by adding a period to the previous date, so a day clamped in a short month
  (31 January -> 29 February) does not stick to the dates that follow.
* Accrual dates are unadjusted. A payment falling on a Saturday or Sunday moves to the
  following Monday (Following rule, weekends only: public holidays are not known here).
  Following, unlike Modified Following, may move a payment into the next month.
* Coupons are computed exactly, face x rate x year fraction as a Fraction, and rounded
  half-up (ties away from zero) to the minor unit only as the amount paid. Loan interest
  is rounded each period, because each installment is paid.
"""

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Context, Decimal, localcontext
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise
from typing import Literal

from finance.daycount import DayCount, act_act_icma, year_fraction_exact
from finance.exceptions import ScheduleError
from finance.money import Money, fraction_to_decimal
from finance.xirr import SOLVER_CONTEXT, solve_bracketed

COUPON_FREQUENCIES = (1, 2, 4, 12)
LOAN_FREQUENCIES = (1, 2, 3, 4, 6, 12)

_YIELD_TOLERANCE = Decimal("1e-30")
# Widening limit for u = ln(1 + yield / frequency): at u = 64 a flow one period away is worth
# e**-64 = 1.6e-28 of itself, at u = -64 e**64 times itself; no bond trades beyond that.
_LOG_GROWTH_LIMIT = 64
_RESULT_CONTEXT = Context(prec=28)


def add_months(d: date, n: int, eom: bool = False) -> date:
    """The date ``n`` calendar months after ``d`` (before it if ``n`` is negative), its day
    clamped to the length of the target month: 2024-01-31 + 1 month = 2024-02-29.

    With ``eom`` and ``d`` the last day of its month, the result is the last day of its month:
    2024-02-29 + 6 months is 2024-08-31 rather than 2024-08-29.
    """
    year, month_index = divmod(d.year * 12 + d.month - 1 + n, 12)
    month = month_index + 1
    if not 1 <= year <= 9999:
        raise ValueError(f"{d} + {n} months is outside the calendar")
    last_day = calendar.monthrange(year, month)[1]
    if eom and d.day == calendar.monthrange(d.year, d.month)[1]:
        return date(year, month, last_day)
    return date(year, month, min(d.day, last_day))


def _following_weekday(d: date) -> date:
    weekday = d.weekday()
    return d + timedelta(days=7 - weekday) if weekday >= 5 else d


def _check_decimal(name: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal or int, not {type(value).__name__}")
    value = Decimal(value)
    if not value.is_finite():
        raise ScheduleError(f"{name} must be finite, not {value}")
    return value


def _check_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


def _check_principal(name: str, amount: Money) -> None:
    if not isinstance(amount, Money):
        raise TypeError(f"{name} must be Money, not {type(amount).__name__}")
    if amount.amount <= 0:
        raise ScheduleError(f"{name} must be positive, got {amount}")
    if amount.quantize() != amount:
        raise ScheduleError(f"{name} {amount} is not a whole number of minor units")


# Bonds


@dataclass(frozen=True)
class CouponPeriod:
    """One coupon of a fixed-rate bond, with the terms needed to accrue it.

    ``reference_start``/``reference_end`` is the regular period the coupon is measured against
    under ACT/ACT ICMA: the period itself for a regular coupon, (``accrual_end`` - one period,
    ``accrual_end``) for a short first coupon, (``accrual_start``, ``accrual_start`` + one
    period) for a short last coupon, the day clamped and the end-of-month rule applied as for
    the coupon dates. ``coupon_exact`` is face x rate x ``year_fraction`` unrounded (34 significant
    digits); ``coupon`` is the amount paid, rounded half-up to the minor unit.
    """

    accrual_start: date
    accrual_end: date
    payment_date: date
    year_fraction: Decimal
    coupon_exact: Decimal
    coupon: Money
    is_stub: bool
    reference_start: date
    reference_end: date
    face: Money
    rate: Decimal
    frequency: int
    day_count: DayCount


@dataclass(frozen=True)
class Redemption:
    """Repayment of the face amount at maturity."""

    payment_date: date
    amount: Money


def _accrual_fraction(period: CouponPeriod, start: date, end: date) -> Fraction:
    return year_fraction_exact(
        period.day_count,
        start,
        end,
        reference_start=period.reference_start,
        reference_end=period.reference_end,
        frequency=period.frequency,
    )


def bond_schedule(
    issue_date: date,
    *,
    tenor_months: int,
    frequency: int,
    rate: Decimal,
    face: Money,
    day_count: DayCount,
    direction: Literal["backward", "forward"] = "backward",
    end_of_month: bool = False,
) -> list[CouponPeriod]:
    """Coupon periods of a fixed-rate bond from ``issue_date`` to maturity.

    Maturity is ``issue_date`` + ``tenor_months`` with the day clamped (2024-02-29 + 24 months
    = 2026-02-28). ``frequency`` is the number of coupons a year (1, 2, 4 or 12) and ``rate``
    the annual coupon rate as a fraction (Decimal("0.05") for 5%).

    ``direction="backward"`` (the market default) counts coupon dates back from maturity,
    maturity - k x period, until one falls on or before the issue date; if it falls before,
    the first coupon is a short stub starting on the issue date. ``"forward"`` counts from the
    issue date, issue + k x period, and a short stub, if any, comes last. With
    ``end_of_month``, when the anchor (maturity going backward, issue date going forward) is the
    last day of its month, every generated date is the last day of its month. The other end is
    never moved, which has two consequences: going forward from 30 April for one month gives
    a stub ending on 30 May (its reference period ends on 31 May); going backward from a
    month-end maturity to an issue date just short of a month end (29 April) starts with a
    stub of a day or two (29 -> 30 April).

    Under ACT/ACT ICMA a short first coupon is measured against the period (its end - one
    period, its end) and a short last coupon against (its start, its start + one period),
    counted from the coupon's own date, not from the anchor: backward from 31 August, the
    first coupon ending on 28 February (clamped) has the reference period 28 November -> 28
    February. With ``end_of_month`` in force (a month-end anchor) those dates are month ends
    too: 30 November -> 28 February. A first or last period that falls on the schedule's dates
    is regular, whatever its length.

    Stubs produced here are always short; a long stub (merged with its neighbour) would span
    two ICMA reference periods and is not generated.

    Raises ScheduleError for a tenor under one month, a frequency other than 1, 2, 4 or 12, a
    negative rate, a non-positive face or one with a fraction of a minor unit, an unknown day
    count or direction, or a maturity outside the calendar.
    """
    if _check_int("tenor_months", tenor_months) < 1:
        raise ScheduleError(
            f"a tenor of {tenor_months} months puts maturity on or before the issue date"
        )
    if frequency not in COUPON_FREQUENCIES:
        raise ScheduleError(
            f"coupon frequency must be one of {COUPON_FREQUENCIES}, not {frequency}"
        )
    rate = _check_decimal("rate", rate)
    if rate < 0:
        raise ScheduleError(f"coupon rate must not be negative, got {rate}")
    _check_principal("face", face)
    try:
        day_count = DayCount(day_count)
    except ValueError:
        raise ScheduleError(f"unknown day count {day_count!r}") from None
    if direction not in ("backward", "forward"):
        raise ScheduleError(f"direction must be 'backward' or 'forward', not {direction!r}")
    try:
        maturity = add_months(issue_date, tenor_months)
    except ValueError as error:
        raise ScheduleError(str(error)) from None

    period_months = 12 // frequency
    anchor = issue_date if direction == "forward" else maturity
    # The end-of-month rule holds for the whole schedule or not at all: it is set by the
    # anchor, never by a date that only lands on a month end because its day was clamped.
    month_ends = end_of_month and anchor.day == calendar.monthrange(anchor.year, anchor.month)[1]
    if direction == "backward":
        coupon_dates = [maturity]
        k = 1
        while (earlier := add_months(maturity, -k * period_months, month_ends)) > issue_date:
            coupon_dates.append(earlier)
            k += 1
        boundaries = [issue_date, *reversed(coupon_dates)]
        # A first coupon is irregular when the date counted back passed the issue date. Its
        # reference period ends on its coupon date and starts one period before that date:
        # (end - period, end), from the coupon date and not from maturity, so that with a
        # clamped coupon date (maturity 31 August, coupon 28 February) the period starts on
        # 28 November, not on 30 November.
        first_irregular, last_irregular = earlier < issue_date, False
    else:
        boundaries = [issue_date]
        k = 1
        while (later := add_months(issue_date, k * period_months, month_ends)) < maturity:
            boundaries.append(later)
            k += 1
        boundaries.append(maturity)
        # A last coupon is irregular when the date counted forward passed maturity; its
        # reference period is (start, start + period), counted from its own start.
        first_irregular, last_irregular = False, later > maturity

    periods = []
    last = len(boundaries) - 2
    for index, (start, end) in enumerate(pairwise(boundaries)):
        reference_start, reference_end = start, end
        if index == 0 and first_irregular:
            reference_start = add_months(end, -period_months, month_ends)
        if index == last and last_irregular:
            reference_end = add_months(start, period_months, month_ends)
        fraction = year_fraction_exact(
            day_count,
            start,
            end,
            reference_start=reference_start,
            reference_end=reference_end,
            frequency=frequency,
        )
        exact_coupon = Fraction(face.amount) * Fraction(rate) * fraction
        periods.append(
            CouponPeriod(
                accrual_start=start,
                accrual_end=end,
                payment_date=_following_weekday(end),
                year_fraction=fraction_to_decimal(fraction),
                coupon_exact=fraction_to_decimal(exact_coupon),
                coupon=Money.from_fraction(exact_coupon, face.currency),
                is_stub=(reference_start, reference_end) != (start, end),
                reference_start=reference_start,
                reference_end=reference_end,
                face=face,
                rate=rate,
                frequency=frequency,
                day_count=day_count,
            )
        )
    return periods


def bond_redemption(periods: Sequence[CouponPeriod]) -> Redemption:
    """Repayment of 100% of face with the last coupon, on the maturity date moved past a
    weekend like every payment."""
    last = periods[-1]
    return Redemption(payment_date=last.payment_date, amount=last.face)


def accrued_interest(periods: Sequence[CouponPeriod], d: date) -> Decimal:
    """Interest accrued and unpaid at the end of date ``d``, unrounded, in the face currency.

    It is the part of the first coupon not yet paid on ``d`` (adjusted payment date after
    ``d``) accrued from its accrual start to ``d``, capped at its accrual end, with the bond's
    day count (and, for ACT/ACT ICMA, that coupon's reference period). Between an accrual end
    on a weekend and the Monday payment, accrued interest is therefore the full coupon, the
    next period's first days not being added. Zero before the coupon starts accruing and once
    every coupon is paid.
    """
    for period in periods:
        if period.payment_date > d:
            if d <= period.accrual_start:
                return Decimal(0)
            fraction = _accrual_fraction(period, period.accrual_start, min(d, period.accrual_end))
            return fraction_to_decimal(
                Fraction(period.face.amount) * Fraction(period.rate) * fraction
            )
    return Decimal(0)


def _years_between(
    periods: Sequence[CouponPeriod], start: date, end: date, day_count: DayCount
) -> Fraction:
    if day_count != DayCount.ACT_ACT_ICMA:
        return year_fraction_exact(day_count, start, end)
    # ACT/ACT ICMA only measures time within a reference period: sum over the coupon periods
    # crossed, and beyond maturity (a redemption moved past a weekend) over the regular period
    # that would follow it.
    last = periods[-1]
    pieces = [(p.accrual_start, p.accrual_end, p.reference_start, p.reference_end) for p in periods]
    following_end = add_months(last.accrual_end, 12 // last.frequency)
    pieces.append((last.accrual_end, following_end, last.accrual_end, following_end))
    years = Fraction(0)
    for piece_start, piece_end, reference_start, reference_end in pieces:
        overlap_start, overlap_end = max(start, piece_start), min(end, piece_end)
        if overlap_start < overlap_end:
            years += act_act_icma(
                overlap_start,
                overlap_end,
                reference_start=reference_start,
                reference_end=reference_end,
                frequency=last.frequency,
            )
    return years


def yield_to_maturity(
    periods: Sequence[CouponPeriod],
    redemption: Redemption,
    *,
    clean_price: Decimal,
    settlement_date: date,
    frequency: int,
    day_count: DayCount,
) -> Decimal:
    """Annual yield, compounded ``frequency`` times a year, at which the flows still to be
    paid after ``settlement_date`` are worth the dirty price.

    Prices are per 100 of face: dirty = ``clean_price`` + accrued interest at settlement.
    Each coupon (unrounded, so that the yield does not depend on the denomination) and the
    redemption is discounted to its adjusted payment date by (1 + y / frequency) ** -n, where
    n = frequency x year fraction from settlement to payment under ``day_count``. For ACT/ACT
    ICMA that year fraction is summed period by period, each with its own reference period.

    A par bond bought at par on a coupon date yields its coupon rate. The root is bracketed
    and refined with Brent's method in 40-digit decimal arithmetic; the result has 28
    significant digits. Raises ValueError when settlement is before the first accrual start
    or on or after the redemption payment, or when no yield gives the price.
    """
    clean_price = _check_decimal("clean_price", clean_price)
    if _check_int("frequency", frequency) < 1:
        raise ValueError(f"compounding frequency must be a positive int, not {frequency!r}")
    day_count = DayCount(day_count)
    if settlement_date < periods[0].accrual_start:
        raise ValueError(f"settlement {settlement_date} is before the bond accrues interest")
    if settlement_date >= redemption.payment_date:
        raise ValueError(f"settlement {settlement_date} is not before the redemption payment")

    face = Fraction(periods[0].face.amount)
    cash_flows = [
        (p.payment_date, Fraction(p.coupon_exact))
        for p in periods
        if p.payment_date > settlement_date
    ]
    cash_flows.append((redemption.payment_date, Fraction(redemption.amount.amount)))
    with localcontext(SOLVER_CONTEXT):
        dirty_price = clean_price + fraction_to_decimal(
            Fraction(accrued_interest(periods, settlement_date)) * 100 / face
        )
        flows = [
            (
                fraction_to_decimal(amount * 100 / face),
                fraction_to_decimal(
                    frequency * _years_between(periods, settlement_date, paid, day_count)
                ),
            )
            for paid, amount in cash_flows
        ]

        def excess_price(log_growth: Decimal) -> Decimal:
            # u = ln(1 + y / frequency): the price is a sum of exponentials in u, defined for
            # every real u, so the bracket can widen without leaving the domain y > -frequency.
            return sum((amount * (-log_growth * n).exp() for amount, n in flows), -dirty_price)

        low, high = Decimal(-1), Decimal(1)
        # The price falls as the yield rises: widen until it straddles the dirty price.
        while excess_price(low) < 0:
            low *= 2
            if low < -_LOG_GROWTH_LIMIT:
                raise ValueError(f"no yield gives a price as high as {clean_price}")
        while excess_price(high) > 0:
            high *= 2
            if high > _LOG_GROWTH_LIMIT:
                raise ValueError(f"no yield gives a price as low as {clean_price}")
        log_growth = solve_bracketed(excess_price, low, high, tolerance=_YIELD_TOLERANCE)
        annual_yield = frequency * (log_growth.exp() - 1)
    return _RESULT_CONTEXT.plus(annual_yield)


# Loans


class LoanKind(StrEnum):
    """How a loan is repaid; compares equal to its plain string value ("annuity", ...)."""

    #: Level payments; the interest part shrinks and the principal part grows.
    ANNUITY = "annuity"
    #: The same principal each period plus interest on the outstanding balance.
    EQUAL_PRINCIPAL = "equal_principal"
    #: Interest only, the whole principal repaid with the last installment (balloon).
    INTEREST_ONLY = "interest_only"


def loan_period_count(tenor_months: int, periods_per_year: int) -> int:
    """Number of installments of a loan running ``tenor_months`` months with
    ``periods_per_year`` installments a year: the tenor divided by the period of
    12 / ``periods_per_year`` months (24 months, quarterly: 8).

    Raises ScheduleError for a tenor under one month, periods per year not dividing 12, or a
    tenor that is not a whole number of periods (7 months, quarterly): the last installment
    would fall after the tenor or short of it.
    """
    if _check_int("tenor_months", tenor_months) < 1:
        raise ScheduleError(f"a loan needs a tenor of at least one month, got {tenor_months}")
    if periods_per_year not in LOAN_FREQUENCIES:
        raise ScheduleError(
            f"periods per year must be one of {LOAN_FREQUENCIES}, not {periods_per_year}"
        )
    periods, rest = divmod(tenor_months * periods_per_year, 12)
    if rest:
        raise ScheduleError(
            f"a tenor of {tenor_months} months is not a whole number of periods of "
            f"{12 // periods_per_year} months"
        )
    return periods


@dataclass(frozen=True)
class LoanInstallment:
    """One installment: ``payment`` = ``interest`` + ``principal``, and ``closing_balance`` =
    ``opening_balance`` - ``principal``, all rounded to the minor unit."""

    number: int
    due_date: date
    opening_balance: Money
    interest: Money
    principal: Money
    payment: Money
    closing_balance: Money


def loan_schedule(
    principal: Money,
    *,
    annual_rate: Decimal,
    periods: int,
    periods_per_year: int,
    kind: LoanKind,
    start_date: date,
) -> list[LoanInstallment]:
    """Installments of a loan of ``principal`` drawn on ``start_date``.

    Installment k is due ``start_date`` + k x 12/``periods_per_year`` months, the day clamped.
    The periodic rate is ``annual_rate`` / ``periods_per_year`` (nominal, not compounded), and
    each period's interest is the opening balance x that rate rounded half-up to the minor unit.

    * annuity: the level payment P r / (1 - (1 + r) ** -n), or P / n at a zero rate, computed
      exactly and rounded half-up; its principal part is payment - interest;
    * equal principal: P / n rounded half-up each period;
    * interest only: no principal until the last installment.

    The last installment repays exactly the remaining balance plus its interest, so the
    principal parts add up to the principal and the closing balance ends at exactly zero.
    A principal part never exceeds the balance: on a tiny loan where rounding the level amount
    up would overpay, the remaining installments repay only what is left.

    Raises ScheduleError for fewer than one period, a negative rate, a non-positive principal
    or one with a fraction of a minor unit, periods per year not dividing 12, or an unknown kind.
    """
    _check_principal("principal", principal)
    annual_rate = _check_decimal("annual_rate", annual_rate)
    if annual_rate < 0:
        raise ScheduleError(f"annual rate must not be negative, got {annual_rate}")
    if _check_int("periods", periods) < 1:
        raise ScheduleError(f"a loan needs at least one period, got {periods}")
    if periods_per_year not in LOAN_FREQUENCIES:
        raise ScheduleError(
            f"periods per year must be one of {LOAN_FREQUENCIES}, not {periods_per_year}"
        )
    try:
        kind = LoanKind(kind)
    except ValueError:
        raise ScheduleError(f"unknown loan kind {kind!r}") from None

    currency = principal.currency
    periodic_rate = Fraction(annual_rate) / periods_per_year
    exact_principal = Fraction(principal.amount)
    if kind == LoanKind.ANNUITY:
        if periodic_rate == 0:
            level = Money.from_fraction(exact_principal / periods, currency)
        else:
            growth = (1 + periodic_rate) ** periods
            level = Money.from_fraction(
                exact_principal * periodic_rate * growth / (growth - 1), currency
            )
    elif kind == LoanKind.EQUAL_PRINCIPAL:
        level = Money.from_fraction(exact_principal / periods, currency)

    months = 12 // periods_per_year
    balance = principal.quantize()
    installments = []
    for number in range(1, periods + 1):
        interest = Money.from_fraction(Fraction(balance.amount) * periodic_rate, currency)
        if number == periods:
            repaid = balance
        elif kind == LoanKind.ANNUITY:
            repaid = min(level - interest, balance)
        elif kind == LoanKind.EQUAL_PRINCIPAL:
            repaid = min(level, balance)
        else:
            repaid = Money.zero(currency)
        installments.append(
            LoanInstallment(
                number=number,
                due_date=add_months(start_date, number * months),
                opening_balance=balance,
                interest=interest,
                principal=repaid,
                payment=interest + repaid,
                closing_balance=balance - repaid,
            )
        )
        balance -= repaid
    return installments
