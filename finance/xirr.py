"""Internal rate of return of dated cash flows (XIRR), and the bracketing root finder it uses.

Convention: the rate ``x`` solves ``sum(a_i * (1 + x) ** -t_i) == 0`` where ``t_i`` is the
actual number of days from the earliest flow to flow ``i`` over 365 (so a 366-day leap year
counts as 366/365 of a year, as spreadsheet XIRR does). Flows on the same date are netted
first. Amounts are signed from the investor's side: negative paid in, positive received.

The equation is solved for ``v = ln(1 + x)``, where the net present value is a smooth sum of
exponentials defined for every real ``v``: rates from just above -100% (a near-total loss)
to astronomically high ones (a gain over a single day) stay well-conditioned, and no step
can leave the domain as Newton's method on ``x`` can. The root is bracketed, then refined
with Brent's method, in 40-digit Decimal arithmetic.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, localcontext
from enum import StrEnum
from fractions import Fraction
from itertools import pairwise

from finance.money import fraction_to_decimal

#: Context for rate solving: 40 significant digits and an exponent range wide enough for the
#: discount factors of extreme rates.
SOLVER_CONTEXT = Context(prec=40, Emax=MAX_EMAX, Emin=MIN_EMIN)

_EPSILON = Decimal("1e-38")
_MAX_ITERATIONS = 500
# Absolute tolerance on v = ln(1 + rate): far below anything a rate is quoted to.
_LOG_GROWTH_TOLERANCE = Decimal("1e-30")
# The bracket of a root known to exist is widened by doubling up to this |v|: beyond it the
# growth factor 1 + rate is below 10**-400000 or above 10**400000.
_LOG_GROWTH_LIMIT = 2**20


def solve_bracketed(
    function: Callable[[Decimal], Decimal],
    low: Decimal,
    high: Decimal,
    *,
    tolerance: Decimal,
) -> Decimal:
    """A root of ``function`` in [low, high], where its values at the ends differ in sign.

    Brent's method: inverse quadratic or secant steps while they make progress, bisection
    otherwise, so the bracket always shrinks and convergence is guaranteed for any continuous
    function. Arithmetic runs in the caller's decimal context; call it inside
    ``localcontext(SOLVER_CONTEXT)``. Raises ValueError if the ends do not bracket a root.
    """
    a, b = low, high
    fa, fb = function(a), function(b)
    if fa == 0:
        return a
    if fb == 0:
        return b
    if (fa > 0) == (fb > 0):
        raise ValueError(f"no sign change between {low} and {high}")
    c, fc = a, fa
    d = e = b - a
    for _ in range(_MAX_ITERATIONS):
        if (fb > 0) == (fc > 0):
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        step_tolerance = 2 * _EPSILON * abs(b) + tolerance / 2
        half_bracket = (c - b) / 2
        if abs(half_bracket) <= step_tolerance or fb == 0:
            return b
        if abs(e) >= step_tolerance and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:
                p = 2 * half_bracket * s
                q = 1 - s
            else:
                q = fa / fc
                r = fb / fc
                p = s * (2 * half_bracket * q * (q - r) - (b - a) * (r - 1))
                q = (q - 1) * (r - 1) * (s - 1)
            if p > 0:
                q = -q
            p = abs(p)
            if 2 * p < min(3 * half_bracket * q - abs(step_tolerance * q), abs(e * q)):
                e, d = d, p / q
            else:
                d = e = half_bracket
        else:
            d = e = half_bracket
        a, fa = b, fb
        if abs(d) > step_tolerance:
            b += d
        else:
            b += step_tolerance if half_bracket > 0 else -step_tolerance
        fb = function(b)
    raise ArithmeticError(f"no convergence between {low} and {high}")


class XirrStatus(StrEnum):
    """Outcome of :func:`xirr`; compares equal to its plain string value ("ok", ...)."""

    OK = "ok"
    #: No rate makes the flows worth zero: fewer than two dates with a non-zero net flow,
    #: or all flows of one sign.
    UNDEFINED = "undefined"
    #: The net present value changes sign more than once: several rates solve the equation
    #: and none of them is "the" return.
    SEVERAL_ROOTS = "several_roots"


@dataclass(frozen=True)
class XirrResult:
    """Status of the solve and, when it is OK, the rate."""

    status: XirrStatus
    #: The annual rate as a fraction (0.05 for 5%), only when ``status`` is OK.
    rate: Decimal | None = None


def _log_growth_grid() -> list[Decimal]:
    # v = ln(1 + rate) where the sign of the net present value is sampled to count its roots:
    # every 0.005 (about half a percentage point of rate) for rates from -39% to +65%, every
    # 0.05 out to -92% and +1,100%, every 0.25 out to -99.99% and +1,200,000%.
    fine = [Decimal(k) / 200 for k in range(-100, 101)]
    medium = [Decimal(k) / 20 for k in range(-50, -10)] + [Decimal(k) / 20 for k in range(11, 51)]
    coarse = [Decimal(k) / 4 for k in range(-37, -10)] + [Decimal(k) / 4 for k in range(11, 57)]
    return sorted(fine + medium + coarse)


_GRID = _log_growth_grid()


def _net_by_date(flows: Sequence[tuple[date, Decimal | int]]) -> list[tuple[date, Fraction]]:
    net: dict[date, Fraction] = {}
    for when, amount in flows:
        if not isinstance(when, date):
            raise TypeError(f"flow dates must be dates, not {type(when).__name__}")
        if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
            raise TypeError(f"flow amounts must be Decimal or int, not {type(amount).__name__}")
        if isinstance(amount, Decimal) and not amount.is_finite():
            raise ValueError(f"flow amounts must be finite, not {amount}")
        net[when] = net.get(when, Fraction(0)) + Fraction(amount)
    return sorted((when, amount) for when, amount in net.items() if amount != 0)


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


def xirr(flows: Sequence[tuple[date, Decimal | int]]) -> XirrResult:
    """Annual internal rate of return of dated flows: -1000 on 2024-01-01 and +1100 on
    2025-01-01 give 1.1 ** (365/366) - 1 = 9.97136%, not 10%, because 2024 has 366 days.

    Status UNDEFINED when fewer than two dates carry a non-zero net flow or all flows have one
    sign. When the sequence of net flows changes sign once, the rate exists and is unique
    (Descartes' rule of signs, which holds for sums of exponentials). Otherwise the sign of the
    net present value is sampled from -99.99% to +1,200,000% (beyond that, its limits are the
    signs of the last and the first flow): more than one sign change gives SEVERAL_ROOTS, none
    gives UNDEFINED. Two roots closer together than the sampling step (half a percentage point
    of rate near zero) can go unnoticed.

    The rate has 40 significant digits: after a near-total loss 1 + rate keeps fewer of them,
    and a rate within 1e-40 of -100% is returned as -1. Raises TypeError for float amounts.
    """
    dated = _net_by_date(flows)
    if len(dated) < 2:
        return XirrResult(XirrStatus.UNDEFINED)
    signs = [1 if amount > 0 else -1 for _, amount in dated]
    sign_changes = sum(1 for left, right in pairwise(signs) if left != right)
    if sign_changes == 0:
        return XirrResult(XirrStatus.UNDEFINED)

    with localcontext(SOLVER_CONTEXT):
        origin = dated[0][0]
        amounts = [fraction_to_decimal(amount) for _, amount in dated]
        years = [Decimal((when - origin).days) / 365 for when, _ in dated]
        last_years = years[-1]

        def scaled_npv(log_growth: Decimal) -> Decimal:
            # NPV(v) = sum(a_i * exp(-v * t_i)), multiplied by exp(-max_i(-v * t_i)) so that no
            # term overflows; the factor is positive, so sign and roots are unchanged.
            shift = max(Decimal(0), -log_growth * last_years)
            return sum(
                (
                    amount * (-log_growth * t - shift).exp()
                    for amount, t in zip(amounts, years, strict=True)
                ),
                Decimal(0),
            )

        # Limits of the NPV's sign: the latest flow dominates as v -> -inf, the earliest as v -> +inf.
        sign_below, sign_above = signs[-1], signs[0]
        if sign_changes == 1:
            bracket = (Decimal(-1), Decimal(1))
        else:
            brackets = _sign_change_brackets(scaled_npv, sign_below, sign_above)
            if len(brackets) != 1:
                status = XirrStatus.SEVERAL_ROOTS if brackets else XirrStatus.UNDEFINED
                return XirrResult(status)
            bracket = brackets[0]
        bracket = _widen(scaled_npv, bracket, sign_below, sign_above)
        if bracket is None:
            return XirrResult(XirrStatus.UNDEFINED)
        log_growth = solve_bracketed(scaled_npv, *bracket, tolerance=_LOG_GROWTH_TOLERANCE)
        rate = log_growth.exp() - 1
    return XirrResult(XirrStatus.OK, rate)


def _sign_change_brackets(
    npv: Callable[[Decimal], Decimal], sign_below: int, sign_above: int
) -> list[tuple[Decimal, Decimal]]:
    """Intervals of v over which the sampled NPV changes sign; the first and the last may have
    an infinite end, given as the nearest grid point (widened later)."""
    points = [(Decimal("-Infinity"), sign_below)]
    points += [(v, _sign(npv(v))) for v in _GRID]
    points.append((Decimal("Infinity"), sign_above))
    brackets = []
    previous_v, previous_sign = points[0]
    for v, sign in points[1:]:
        if sign == 0:
            brackets.append((v, v))
        elif sign != previous_sign and previous_sign != 0:
            brackets.append((previous_v, v))
        previous_v, previous_sign = v, sign
    return [
        (_GRID[0] if low.is_infinite() else low, _GRID[-1] if high.is_infinite() else high)
        for low, high in brackets
    ]


def _widen(
    npv: Callable[[Decimal], Decimal],
    bracket: tuple[Decimal, Decimal],
    sign_below: int,
    sign_above: int,
) -> tuple[Decimal, Decimal] | None:
    """Move the ends of ``bracket`` outwards until the NPV has its lower-limit sign at the low
    end and its upper-limit sign at the high end; None if that needs |v| beyond the limit."""
    low, high = bracket
    if low == high:
        return bracket
    while _sign(npv(low)) not in (sign_below, 0):
        low = low * 2 if low < -1 else low - 1
        if low < -_LOG_GROWTH_LIMIT:
            return None
    while _sign(npv(high)) not in (sign_above, 0):
        high = high * 2 if high > 1 else high + 1
        if high > _LOG_GROWTH_LIMIT:
            return None
    return low, high
