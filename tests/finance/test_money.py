import dataclasses
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finance.exceptions import (
    CurrencyMismatch,
    FinanceError,
    MoneyError,
    UnknownCurrency,
)
from finance.money import Money, allocate, fraction_to_decimal, minor_unit_exponent

pytestmark = []


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


# Currency data


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("JPY", 0), ("XOF", 0), ("USD", 2), ("EUR", 2), ("KWD", 3), ("BHD", 3)],
)
def test_minor_unit_exponent_comes_from_cldr(currency, exponent):
    assert minor_unit_exponent(currency) == exponent


def test_unknown_currency_is_rejected():
    with pytest.raises(UnknownCurrency):
        minor_unit_exponent("ZZZ")
    with pytest.raises(UnknownCurrency):
        Money(1, "ZZZ")
    assert issubclass(UnknownCurrency, MoneyError)


def test_currency_code_is_case_insensitive_and_stored_upper_case():
    assert Money(1, "usd").currency == "USD"
    assert Money(1, "usd") == Money(1, "USD")


# Construction


def test_accepts_decimal_int_and_str():
    assert Money(Decimal("1.50"), "USD").amount == Decimal("1.50")
    assert Money(7, "JPY").amount == Decimal(7)
    assert Money("0.125", "KWD").amount == Decimal("0.125")


@pytest.mark.parametrize("amount", [0.1, 1.0, True, None, [1]])
def test_rejects_float_and_other_types(amount):
    with pytest.raises(TypeError):
        Money(amount, "USD")


@pytest.mark.parametrize("amount", ["abc", "NaN", "Infinity", Decimal("-Infinity")])
def test_rejects_non_numbers(amount):
    with pytest.raises(MoneyError):
        Money(amount, "USD")


def test_is_frozen_and_hashable():
    money = usd("1.50")
    with pytest.raises(dataclasses.FrozenInstanceError):
        money.amount = Decimal(2)  # type: ignore[misc]
    # Equality is numeric, so 1.5 and 1.50 are one dictionary key.
    assert usd("1.5") == usd("1.50")
    assert len({usd("1.5"), usd("1.50")}) == 1


def test_zero_has_the_minor_unit_decimals():
    assert str(Money.zero("USD")) == "0.00 USD"
    assert str(Money.zero("JPY")) == "0 JPY"
    assert str(Money.zero("KWD")) == "0.000 KWD"


# Arithmetic


def test_addition_subtraction_negation():
    assert usd("10.10") + usd("0.05") == usd("10.15")
    assert usd("10.10") - usd("10.15") == usd("-0.05")
    assert -usd("3.20") == usd("-3.20")
    assert abs(usd("-3.20")) == usd("3.20")


def test_multiplication_by_decimal_and_int_is_unrounded():
    # 10.00 x 0.125 = 1.25 exactly; 0.10 x 0.333 = 0.0333, kept until quantize().
    assert usd("10.00") * Decimal("0.125") == usd("1.25")
    assert usd("0.10") * Decimal("0.333") == usd("0.0333")
    assert 3 * usd("0.10") == usd("0.30")
    assert Decimal("0.5") * usd("0.10") == usd("0.05")


@pytest.mark.parametrize("factor", [1.5, usd("2.00"), True])
def test_multiplication_by_float_money_or_bool_is_a_type_error(factor):
    with pytest.raises(TypeError):
        usd("1.00") * factor
    with pytest.raises(TypeError):
        factor * usd("1.00")


def test_arithmetic_is_exact_whatever_the_ambient_precision():
    # With a 5-digit context, Decimal("123456.789") + Decimal("0.001") would round to 1.2346E+5.
    with localcontext() as context:
        context.prec = 5
        assert usd("123456.789") + usd("0.001") == usd("123456.790")
        assert usd("123456.78") * 3 == usd("370370.34")


def test_mixing_currencies_raises_currency_mismatch():
    eur = Money("1.00", "EUR")
    with pytest.raises(CurrencyMismatch):
        usd("1.00") + eur
    with pytest.raises(CurrencyMismatch):
        usd("1.00") - eur
    with pytest.raises(CurrencyMismatch):
        usd("1.00") < eur
    assert issubclass(CurrencyMismatch, MoneyError)
    assert issubclass(MoneyError, FinanceError)


def test_equality_across_currencies_is_false_not_an_error():
    assert usd("1.00") != Money("1.00", "EUR")


def test_ordering():
    assert usd("1.00") < usd("1.01") <= usd("1.01")
    assert usd("2") > usd("1.99") >= usd("1.990")
    assert max(usd("0.10"), usd("0.09"), usd("-5")) == usd("0.10")


def test_adding_a_number_is_a_type_error():
    with pytest.raises(TypeError):
        usd("1.00") + 1  # type: ignore[operator]


# Rounding and minor units


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        # Exact ties go away from zero (half-up): 2.675 has no exact binary value and
        # round(2.675, 2) gives 2.67 in floating point.
        ("2.675", "USD", "2.68"),
        ("-2.675", "USD", "-2.68"),
        ("0.125", "USD", "0.13"),
        ("0.005", "USD", "0.01"),
        ("0.0049999", "USD", "0.00"),
        ("2.5", "JPY", "3"),
        ("-2.5", "JPY", "-3"),
        ("1.0005", "KWD", "1.001"),
        ("1.00049", "BHD", "1.000"),
    ],
)
def test_quantize_rounds_half_up_to_the_minor_unit(amount, currency, rounded):
    result = Money(amount, currency).quantize()
    assert result.amount == Decimal(rounded)
    # The exponent is the currency's: 0.00 USD, not 0 USD.
    assert result.amount.as_tuple().exponent == -minor_unit_exponent(currency)


def test_quantize_with_another_rounding_mode():
    assert usd("0.125").quantize(ROUND_HALF_EVEN) == usd("0.12")
    assert usd("0.129").quantize(ROUND_DOWN) == usd("0.12")


def test_minor_units_round_trip():
    assert usd("12.34").minor_units == 1234
    assert usd("-0.05").minor_units == -5
    assert Money(1234, "JPY").minor_units == 1234
    assert Money("1.234", "KWD").minor_units == 1234
    assert Money.from_minor(1234, "USD") == usd("12.34")
    assert Money.from_minor(5, "KWD").amount == Decimal("0.005")
    assert Money.from_minor(-7, "JPY").amount == Decimal(-7)


def test_from_minor_is_exact_for_counts_longer_than_the_decimal_precision():
    count = 10**40 + 1
    assert Money.from_minor(count, "USD").minor_units == count


def test_minor_units_refuses_a_fraction_of_a_minor_unit():
    with pytest.raises(MoneyError, match="quantize"):
        usd("0.001").minor_units  # noqa: B018
    with pytest.raises(MoneyError):
        Money("1.5", "JPY").minor_units  # noqa: B018


def test_from_minor_refuses_non_integers():
    with pytest.raises(TypeError):
        Money.from_minor(1.0, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money.from_minor(True, "USD")


def test_from_fraction_rounds_exact_ties_half_up():
    # 10306.50 x 1% = 103.065 exactly: half-up gives 103.07.
    assert Money.from_fraction(Fraction(103065, 1000), "USD") == usd("103.07")
    # Just below the tie stays below, however close.
    assert Money.from_fraction(Fraction(103065, 1000) - Fraction(1, 10**30), "USD") == usd("103.06")
    assert Money.from_fraction(Fraction(-1, 200), "USD") == usd("-0.01")
    assert Money.from_fraction(Fraction(1, 3), "KWD") == Money("0.333", "KWD")
    assert Money.from_fraction(Fraction(5, 2), "JPY") == Money(3, "JPY")


def test_fraction_to_decimal_keeps_34_significant_digits():
    assert fraction_to_decimal(Fraction(1, 2)) == Decimal("0.5")
    assert fraction_to_decimal(Fraction(1, 3)) == Decimal("0." + "3" * 34)
    assert fraction_to_decimal(Fraction(2, 3)) == Decimal("0." + "6" * 33 + "7")


# Formatting


def test_format_uses_babel_locale_rules():
    assert usd("1234.5").format("en_US") == "$1,234.50"
    assert Money("1234.5", "EUR").format("de_DE") == "1.234,50\xa0€"
    assert Money("1234.5", "JPY").format("ja_JP") == "￥1,235"


def test_a_currency_written_in_letters_is_kept_apart_from_the_digits():
    # CLDR's currency spacing, which Babel does not apply: as ICU writes these.
    assert usd("1000").format("es_MX") == "USD\xa01,000.00"
    assert usd("-1000").format("es_MX") == "-USD\xa01,000.00"
    assert Money("1000", "KWD").format("en_US") == "KWD\xa01,000.000"
    assert Money("1000", "XOF").format("en_US") == "F\u202fCFA\xa01,000"
    # Symbols and amounts that already have a space are left as they were.
    assert Money("1000", "MXN").format("es_MX") == "$1,000.00"
    assert Money("1000", "PHP").format("en_US") == "₱1,000.00"
    assert Money("1000", "MXN").format("en_US") == "MX$1,000.00"
    assert usd("1000").format("fr_FR") == "1\u202f000,00\xa0$US"
    assert Money("1000", "PHP").format("fr_FR") == "1\u202f000,00\xa0PHP"


def test_in_arabic_a_latin_currency_symbol_is_kept_left_to_right():
    # "US$" between LRI and PDI: otherwise its "$" is laid out before the letters
    # in a right-to-left line ("$US 1,000.00").
    assert usd("1000").format("ar") == "\u200f1,000.00\xa0\u2066US$\u2069"
    assert Money("1000", "MXN").format("ar") == "\u200f1,000.00\xa0\u2066MX$\u2069"
    # A symbol without Latin letters, and left-to-right languages, are left as they were.
    assert Money("1000", "EUR").format("ar") == "\u200f1,000.00\xa0€"
    assert "\u2066" not in Money("1000", "SAR").format("ar")  # "ر.س."
    assert "\u2066" not in usd("1000").format("fr_FR")


def test_format_rounds_half_up_not_half_even():
    # Babel alone would show $0.12 for 0.125 (it rounds half-even).
    assert usd("0.125").format("en_US") == "$0.13"


def test_str_is_plain_decimal_notation():
    assert str(Money(Decimal("1E+3"), "USD")) == "1000 USD"
    assert str(usd("-0.50")) == "-0.50 USD"


# Allocation


def test_allocate_yen_over_three_equal_weights():
    # 100 / 3 = 33.33 each: floors 33 + 33 + 33 = 99, the 1 yen left goes to the first.
    assert allocate(Money(100, "JPY"), [1, 1, 1]) == [
        Money(34, "JPY"),
        Money(33, "JPY"),
        Money(33, "JPY"),
    ]


def test_allocate_dinar_over_three_equal_weights():
    # 1.000 KWD = 1000 fils; 1000 / 3 = 333.33: 333 each and one fils left for the first.
    assert allocate(Money("1", "KWD"), [1, 1, 1]) == [
        Money("0.334", "KWD"),
        Money("0.333", "KWD"),
        Money("0.333", "KWD"),
    ]


def test_allocate_uses_the_largest_remainders():
    # 10.00 USD by 1 : 2 : 3 = 1.6667, 3.3333, 5.0000: floors 1.66 + 3.33 + 5.00 = 9.99; the
    # remainders are 0.67, 0.33 and 0 cents, so the missing cent goes to the first.
    assert allocate(usd("10.00"), [1, 2, 3]) == [usd("1.67"), usd("3.33"), usd("5.00")]


def test_allocate_ties_go_to_the_larger_weight():
    # 0.02 USD by 1 : 3 = 0.5 and 1.5 cents: both remainders are half a cent; the larger
    # weight wins the cent.
    assert allocate(usd("0.02"), [1, 3]) == [usd("0.00"), usd("0.02")]
    # 0.04 USD by 1 : 3 : 1 : 3 = 0.5, 1.5, 0.5, 1.5 cents: both leftover cents go to the 3s.
    assert allocate(usd("0.04"), [1, 3, 1, 3]) == [usd("0"), usd("0.02"), usd("0"), usd("0.02")]


def test_allocate_ties_between_equal_weights_go_to_the_earlier():
    # 0.02 USD over four equal weights: half a cent each, the first two get a cent.
    assert allocate(usd("0.02"), [5, 5, 5, 5]) == [usd("0.01"), usd("0.01"), usd("0"), usd("0")]


def test_allocate_negative_total_mirrors_the_positive_split():
    positive = allocate(Money(100, "JPY"), [1, 1, 1])
    negative = allocate(Money(-100, "JPY"), [1, 1, 1])
    assert negative == [-part for part in positive]
    assert negative == [Money(-34, "JPY"), Money(-33, "JPY"), Money(-33, "JPY")]


def test_allocate_zero_weight_gets_zero():
    assert allocate(Money(1, "JPY"), [0, 1, 1]) == [
        Money(0, "JPY"),
        Money(1, "JPY"),
        Money(0, "JPY"),
    ]
    assert allocate(usd("5.00"), [Decimal("0.5"), 0, Decimal("0.25"), Decimal("0.25")]) == [
        usd("2.50"),
        usd("0"),
        usd("1.25"),
        usd("1.25"),
    ]


def test_allocate_zero_total():
    assert allocate(Money.zero("USD"), [1, 2]) == [Money.zero("USD"), Money.zero("USD")]


@pytest.mark.parametrize("weights", [[], [0], [0, 0, 0]])
def test_allocate_without_a_positive_weight_is_an_error(weights):
    with pytest.raises(ValueError, match="no positive weight"):
        allocate(usd("1.00"), weights)


def test_allocate_rejects_bad_weights_and_totals():
    with pytest.raises(ValueError):
        allocate(usd("1.00"), [1, -1, 1])
    with pytest.raises(ValueError):
        allocate(usd("1.00"), [Decimal("NaN")])
    with pytest.raises(TypeError):
        allocate(usd("1.00"), [0.5, 0.5])  # type: ignore[list-item]
    with pytest.raises(MoneyError):
        allocate(usd("1.001"), [1, 1])


currencies = st.sampled_from(["JPY", "USD", "KWD"])
weights = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=10**6),
        st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False),
    ),
    min_size=1,
    max_size=12,
).filter(lambda ws: any(w > 0 for w in ws))


@settings(max_examples=200, deadline=None)
@given(
    units=st.integers(min_value=-(10**12), max_value=10**12),
    currency=currencies,
    weights=weights,
)
def test_allocation_sums_exactly_and_stays_within_one_minor_unit(units, currency, weights):
    total = Money.from_minor(units, currency)
    parts = allocate(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts, Money.zero(currency)) == total
    weight_sum = sum(Fraction(w) for w in weights)
    for part, weight in zip(parts, weights, strict=True):
        exact_share = units * Fraction(weight) / weight_sum
        assert abs(part.minor_units - exact_share) < 1
        if weight == 0:
            assert part.minor_units == 0
    assert allocate(-total, weights) == [-part for part in parts]
