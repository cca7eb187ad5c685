"""Amounts as people type them, in each language of the portal: never read a thousand
times too small or too large."""

from decimal import Decimal

import pytest
from django import forms
from django.utils import translation

from finance.forms import parse_amount

D = Decimal


@pytest.mark.parametrize(
    "language, typed, amount",
    [
        # Unambiguous everywhere.
        ("en", "250", D("250")),
        ("fr", "250,50", D("250.50")),
        ("fr", "250.50", D("250.50")),
        ("en", "250,5", D("250.5")),
        ("pt", "1.000,50", D("1000.50")),
        ("en", "1,000.50", D("1000.50")),
        ("es", "1,234,567.89", D("1234567.89")),
        ("pt", "1.234.567", D("1234567")),
        ("fr", "12 500", D("12500")),
        ("fr", "12\u202f500,75", D("12500.75")),
        ("pt", "12\u00a0500", D("12500")),
        ("en", "1'000", D("1000")),
        ("en", " 42 ", D("42")),
        ("ar", "١٢٬٥٠٠٫٧٥", D("12500.75")),
        ("en", "-10", D("-10")),
        # One mark followed by three digits: the language's own marks decide.
        ("en", "12,500", D("12500")),
        ("en", "12.500", D("12.500")),
        ("es", "12,500", D("12500")),
        ("ar", "12,500", D("12500")),
        ("fr", "12,500", D("12.500")),
        ("pt", "12,500", D("12.500")),
    ],
)
def test_amounts_are_read_as_written_in_the_language(language, typed, amount):
    with translation.override(language):
        assert parse_amount(typed) == amount


@pytest.mark.parametrize(
    "language, typed, grouped, decimal",
    [("pt", "12.500", "12500", "12,5"), ("fr", "2.750", "2750", "2,75")],
)
def test_a_point_followed_by_three_digits_is_refused_where_it_could_mean_either(
    language, typed, grouped, decimal
):
    with translation.override(language), pytest.raises(forms.ValidationError) as refused:
        parse_amount(typed)

    message = refused.value.messages[0]
    assert typed in message and grouped in message and decimal in message


def test_the_decimal_reading_offered_drops_the_zeros_it_does_not_need():
    with translation.override("fr"), pytest.raises(forms.ValidationError) as refused:
        parse_amount("3.000")

    assert refused.value.messages[0].rstrip(".").endswith(" 3")


@pytest.mark.parametrize(
    "typed", ["", "abc", "1,00,000", "1.000,000.50", "12,50,5", "1e5", "NaN", "--5", "5-"]
)
def test_what_is_not_an_amount_is_refused(typed):
    with translation.override("en"), pytest.raises(forms.ValidationError):
        parse_amount(typed)


def test_a_huge_amount_is_refused_not_stored():
    with translation.override("en"), pytest.raises(forms.ValidationError, match="too large"):
        parse_amount("9" * 20)
