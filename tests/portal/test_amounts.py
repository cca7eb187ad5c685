"""Sums of money read the same on every page, whichever app owns them: the
projects app's amounts go through the same formatting as finance's Money."""

from decimal import Decimal

import pytest
from django.template import engines
from django.utils import translation

from finance.money import Money
from portal.amounts import amount_or_blank, amount_text
from tests.projects.test_review import review_page, sign_in
from tests.projects.test_review import submitted as submitted  # noqa: F401 - fixture


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("en", "1234.5", "USD", "$1,234.50"),
        ("en", "0.125", "USD", "$0.13"),  # half-up, where Babel alone would give 0.12
        ("es", "25000", "USD", "USD\u00a025,000.00"),
        ("fr", "25000", "EUR", "25\u202f000,00\u00a0€"),
        ("en", "1500", "JPY", "¥1,500"),
        ("en", "1.2345", "KWD", "KWD\u00a01.235"),
        ("ar", "26000", "USD", "\u200f26,000.00\u00a0\u2066US$\u2069"),
    ],
)
def test_an_amount_reads_as_money_does(language, amount, currency, expected):
    with translation.override(language):
        text = amount_text(Decimal(amount), currency)
        assert text == expected
        assert text == Money(Decimal(amount), currency).localized()


def test_the_amount_filter_reads_the_same_in_both_template_engines():
    context = {"value": Decimal("25000.00"), "currency": "USD", "none": None}
    django = engines["django"].from_string(
        "{% load amounts %}{{ value|amount:currency }}|{{ none|amount:currency|default:'—' }}"
    )
    jinja = engines["jinja2"].from_string(
        "{{ value|amount(currency) }}|{{ none|amount(currency) or '—' }}"
    )
    with translation.override("es"):
        assert django.render(context) == jinja.render(context) == "USD\u00a025,000.00|—"
    assert amount_or_blank("", "USD") == ""
    assert amount_or_blank("12.5", "USD") == "$12.50"  # a stored snapshot keeps text


def test_the_review_page_writes_the_budget_as_money(client, reviewer, submitted):  # noqa: F811
    sign_in(client, reviewer)
    page = client.get(review_page(submitted)).content.decode()
    assert "Funding sought: $25,000.00 (Loan)." in page
    assert "<td>$15,000.00</td>" in page and "<th>$25,000.00</th>" in page
    assert "25000.00 USD" not in page


def test_the_verification_page_writes_limits_as_money(client, django_user_model):
    investor = django_user_model.objects.create_user(email="limits@example.org", password="x")
    client.force_login(investor)
    page = client.get("/en/verification/").content.decode()
    assert "$1,000.00" in page and "$10,000.00" in page
