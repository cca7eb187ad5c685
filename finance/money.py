"""Money as an exact decimal amount in an ISO 4217 currency, and exact allocation.

Conventions used throughout the finance package:

* Amounts and rates are :class:`decimal.Decimal` (or ``int``/``str`` converted to it). Binary
  floats are refused: most decimal fractions (0.1, 103.065) have no exact binary value, so a
  float lands on the wrong side of a rounding tie.
* Arithmetic on :class:`Money` is exact whatever the ambient decimal context: sums, differences
  and products are never rounded. An amount may therefore carry more decimals than its
  currency has minor units (an unrounded coupon, say) until :meth:`Money.quantize` is called,
  which is done when the amount is paid.
* "Half-up" is ``ROUND_HALF_UP`` of the decimal module: ties go away from zero, so 0.005 USD
  rounds to 0.01 USD and -0.005 USD to -0.01 USD (commercial rounding, symmetric for refunds
  and reversals).
* The number of decimals of a currency's minor unit comes from the CLDR data shipped with
  Babel (``babel.numbers.get_currency_precision``): 2 for USD and EUR, 0 for JPY and XOF,
  3 for KWD and BHD. CLDR records the decimals in actual use, which for a few currencies
  differs from the ISO 4217 table (IQD, LBP, SYP and YER have 0 in CLDR).
"""

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    InvalidOperation,
)
from fractions import Fraction

from babel.numbers import get_currency_precision, is_currency

from finance.exceptions import CurrencyMismatch, MoneyError, UnknownCurrency
from portal.amounts import amount_text

#: Significant digits kept when an exact rational result is written as a Decimal: the 34 digits
#: of IEEE 754 decimal128, far more than any minor unit of any amount in circulation needs.
DECIMAL_DIGITS = 34

_DECIMAL128 = Context(prec=DECIMAL_DIGITS, rounding=ROUND_HALF_EVEN)
# Additions and multiplications of finite decimals are exact under this context: nothing is
# rounded behind the caller's back, whatever precision the thread's default context has.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def fraction_to_decimal(value: Fraction) -> Decimal:
    """Write an exact rational as a Decimal of ``DECIMAL_DIGITS`` significant digits.

    The last digit is rounded half-even; a value whose decimal expansion ends within that many
    digits (1/2, 3/8) comes out exact.
    """
    return _DECIMAL128.divide(Decimal(value.numerator), Decimal(value.denominator))


@functools.cache
def _currency_code(currency: str) -> str:
    if not isinstance(currency, str):
        raise TypeError(f"currency must be an ISO 4217 code, not {type(currency).__name__}")
    # Codes are case-insensitive on input (payment providers send "usd") and stored upper-case.
    code = currency.upper()
    if not is_currency(code):
        raise UnknownCurrency(f"unknown currency code {currency!r}")
    return code


def minor_unit_exponent(currency: str) -> int:
    """Number of decimals of the currency's minor unit (USD 2, JPY 0, KWD 3), from CLDR.

    Raises :class:`UnknownCurrency` for a code that is not a currency.
    """
    return get_currency_precision(_currency_code(currency))


def too_many_decimals(currency: str) -> str:
    """What to tell someone who typed more decimals than `currency` has, in the
    active language: a currency without a minor unit (JPY, XOF) takes whole
    numbers only, which "at most 0 decimals" said badly."""
    from django.utils.translation import gettext, ngettext

    places = minor_unit_exponent(currency)
    if places == 0:
        return gettext("%(currency)s amounts are whole numbers: enter no decimals.") % {
            "currency": currency
        }
    return ngettext(
        "Use at most %(places)d decimal for %(currency)s.",
        "Use at most %(places)d decimals for %(currency)s.",
        places,
    ) % {"places": places, "currency": currency}


def _to_amount(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(
            f"amount must be a Decimal, int or str (floats are inexact), not {type(value).__name__}"
        )
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise MoneyError(f"not a decimal amount: {value!r}") from None
    if not amount.is_finite():
        raise MoneyError(f"amount must be finite, not {amount}")
    return amount


def _minor_unit_quantum(currency: str) -> Decimal:
    return Decimal((0, (1,), -minor_unit_exponent(currency)))


@dataclass(frozen=True, slots=True)
class Money:
    """An immutable amount of money: an exact decimal ``amount`` in an ISO 4217 ``currency``.

    ``amount`` accepts a Decimal, an int or a decimal string and is stored as a Decimal; a
    float raises TypeError. ``currency`` is stored upper-case and must be known to CLDR.

    Supported operations: ``+``, ``-``, unary ``-``, ``abs()``, multiplication by a Decimal or
    int (never by Money), and ordering. Combining or ordering two currencies raises
    :class:`CurrencyMismatch`; ``==`` between currencies is simply False. Equality is numeric,
    so ``Money("1.5", "USD") == Money("1.50", "USD")``. Nothing is rounded until
    :meth:`quantize`.
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _to_amount(self.amount))
        object.__setattr__(self, "currency", _currency_code(self.currency))

    @classmethod
    def zero(cls, currency: str) -> "Money":
        """Zero in ``currency``, written with its minor-unit decimals (``0.00 USD``)."""
        return cls.from_minor(0, currency)

    @classmethod
    def from_minor(cls, minor_units: int, currency: str) -> "Money":
        """The amount of ``minor_units`` cents, fils or yen: ``from_minor(1234, "USD")`` is 12.34."""
        if isinstance(minor_units, bool) or not isinstance(minor_units, int):
            raise TypeError(f"minor units must be an int, not {type(minor_units).__name__}")
        sign, digits, _ = Decimal(minor_units).as_tuple()
        # Built from the digit tuple so that no context precision can round a large count.
        return cls(Decimal((sign, digits, -minor_unit_exponent(currency))), currency)

    @classmethod
    def from_fraction(cls, value: Fraction, currency: str) -> "Money":
        """Round an exact rational amount half-up (ties away from zero) to the minor unit.

        The rational is rounded once, exactly: there is no intermediate decimal rounding
        that could move a value sitting just below a tie onto it.
        """
        scaled = Fraction(value) * 10 ** minor_unit_exponent(currency)
        magnitude = math.floor(abs(scaled) + Fraction(1, 2))
        return cls.from_minor(magnitude if scaled >= 0 else -magnitude, currency)

    @property
    def minor_units(self) -> int:
        """The amount as a whole number of minor units (12.34 USD -> 1234).

        Raises :class:`MoneyError` if the amount holds a fraction of a minor unit: call
        :meth:`quantize` first, so that the rounding rule is explicit at the call site.
        """
        scaled = Fraction(self.amount) * 10 ** minor_unit_exponent(self.currency)
        if scaled.denominator != 1:
            raise MoneyError(f"{self} is not a whole number of minor units; quantize it first")
        return scaled.numerator

    def quantize(self, rounding: str = ROUND_HALF_UP) -> "Money":
        """Round to the currency's minor unit, half-up (away from zero) unless told otherwise.

        ``rounding`` is one of the decimal module's rounding constants.
        """
        quantum = _minor_unit_quantum(self.currency)
        return Money(
            self.amount.quantize(quantum, rounding=rounding, context=_EXACT), self.currency
        )

    def format(self, locale: str) -> str:
        """Format for display, e.g. ``$1,234.50`` (en_US) or ``USD 1,234.50`` (es_MX):
        `portal.amounts.amount_text`, which rounds half-up to the minor unit first."""
        return amount_text(self.amount, self.currency, locale)

    def localized(self) -> str:
        """Format in the active interface language, as pages and messages show money."""
        return amount_text(self.amount, self.currency)

    def _same_currency(self, other: "Money") -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: object) -> "Money":
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(_EXACT.add(self.amount, other.amount), self.currency)

    def __sub__(self, other: object) -> "Money":
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return Money(_EXACT.subtract(self.amount, other.amount), self.currency)

    def __neg__(self) -> "Money":
        return Money(_EXACT.minus(self.amount), self.currency)

    def __abs__(self) -> "Money":
        return Money(_EXACT.abs(self.amount), self.currency)

    def __mul__(self, factor: object) -> "Money":
        if isinstance(factor, bool) or not isinstance(factor, Decimal | int):
            return NotImplemented
        return Money(_EXACT.multiply(self.amount, Decimal(factor)), self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount <= other.amount

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount > other.amount

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.amount >= other.amount

    def __str__(self) -> str:
        return f"{self.amount:f} {self.currency}"


def _weight(weight: object) -> Fraction:
    if isinstance(weight, bool) or not isinstance(weight, Decimal | int):
        raise TypeError(f"weights must be Decimal or int, not {type(weight).__name__}")
    if isinstance(weight, Decimal) and not weight.is_finite():
        raise ValueError(f"weights must be finite, not {weight}")
    if weight < 0:
        raise ValueError(f"weights must not be negative, got {weight}")
    return Fraction(weight)


def allocate(total: Money, weights: Sequence[Decimal | int]) -> list[Money]:
    """Split ``total`` in proportion to ``weights`` so that the parts add up to it exactly.

    Largest-remainder (Hamilton) method in minor units: each part first gets the floor of its
    exact share; the minor units left over go one each to the parts with the largest
    remainders, ties going to the larger weight and then to the earlier part. A part never
    differs from its exact share by a whole minor unit or more, and a zero weight gets zero.

    A negative total is split as its absolute value and every part negated, so a reversal
    mirrors the original split unit for unit.

    ``total`` must be a whole number of minor units (:class:`MoneyError` otherwise: quantize
    it first). Raises ValueError for negative or non-finite weights and when no weight is
    positive (including no weights at all), TypeError for float weights.
    """
    exact_weights = [_weight(weight) for weight in weights]
    weight_sum = sum(exact_weights)
    if weight_sum == 0:
        raise ValueError("cannot allocate: no positive weight")
    units = abs(total.minor_units)
    shares = [units * weight / weight_sum for weight in exact_weights]
    parts = [math.floor(share) for share in shares]
    leftover = units - sum(parts)
    by_priority = sorted(
        range(len(shares)),
        key=lambda i: (-(shares[i] - parts[i]), -exact_weights[i], i),
    )
    for i in by_priority[:leftover]:
        parts[i] += 1
    sign = -1 if total.amount < 0 else 1
    return [Money.from_minor(sign * part, total.currency) for part in parts]
