"""Amounts typed on the returns pages (staff recording a loan repayment, the entrepreneur
repaying by card, the investor reinvesting or withdrawing from the wallet) are read as the
pledge form reads them, in the page's language: "1311,89" in Spanish is 1,311.89, never
131,189; what could be read two ways, is not an amount or has more decimals than the
currency are refused with the reason on the page, and nothing is recorded."""

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.utils import translation
from django.utils.html import escape

from finance import returns_services as rs
from finance import services
from finance.forms import parse_amount
from finance.ledger import post_transaction
from finance.money import Money, too_many_decimals
from finance.offerings import Pledge
from finance.returns import LoanCardPayment, PayoutRequest, Repayment
from finance.schedules import add_months
from tests.conftest import enable_totp
from tests.finance.builders import make_offering
from tests.finance.test_card_repayment import fake_stripe  # noqa: F401 - fixture
from tests.finance.test_returns import funded_loan, investor, staff, wallet

pytestmark = pytest.mark.urls("tests.finance.urls_for_webhook_tests")
D = Decimal

#: Amounts as people write 1,311.89 in each language of the portal.
READ = [
    ("es", "1311,89"),  # a comma before two digits cannot group thousands: the decimal mark
    ("es", "1,311.89"),
    ("es", "1.311,89"),
    ("en", "1,311.89"),
    ("en", "1311.89"),
    ("fr", "1 311,89"),
    ("fr", "1\u202f311,89"),
    ("pt", "1311,89"),
    ("ar", "١٬٣١١٫٨٩"),
    ("es", "1311,890"),  # four digits before it: not a thousands comma, never 1,311,890
]

#: Refused, each with the reason the page gives: (language, typed, reason in that language).
REFUSED = [
    ("en", "1311.891", lambda: too_many_decimals("USD")),
    ("es", "1311.899", lambda: too_many_decimals("USD")),
    ("fr", "1 311,891", lambda: too_many_decimals("USD")),
    ("fr", "1.311", lambda: _parser_refusal("1.311")),  # 1311 or 1,311: not guessed
    ("pt", "1.311", lambda: _parser_refusal("1.311")),
    ("es", "1311,89 USD", lambda: _parser_refusal("1311,89 USD")),
    ("en", "13e2", lambda: _parser_refusal("13e2")),
]


@pytest.mark.parametrize(
    ("language", "typed", "amount"),
    [
        ("es", "1311,890", D("1311.89")),
        ("en", "12345,678", D("12345.678")),
        ("en", "0,500", D("0.5")),
        ("es", "1,311", D("1311")),  # what a thousands comma can be, it is in Spanish
        ("fr", "1,311", D("1.311")),
    ],
)
def test_a_mark_that_cannot_group_thousands_is_the_decimal_one(language, typed, amount):
    with translation.override(language):
        assert parse_amount(typed) == amount


def _parser_refusal(typed: str) -> str:
    with pytest.raises(forms.ValidationError) as refused:
        parse_amount(typed)
    return refused.value.messages[0]


def _reason(language, reason) -> str:
    with translation.override(language):
        return escape(reason())


# --- The four forms ------------------------------------------------------------------------------


def _loan():
    """A loan of 29,600 at 6% over 24 months (payments of 1,311.89), the first payment
    overdue, so 1,311.89 is both due and accepted by card."""
    offering, _lenders = funded_loan(
        amounts=("14800", "14800"),
        annual_rate=D("0.06"),
        tenor_months=24,
        schedule_type="annuity",
    )
    start = add_months(datetime.date.today(), -1) - datetime.timedelta(days=15)
    rs.loan_fix_schedule(offering=offering, start_date=start)
    return offering


def _funded_investor():
    person = investor()
    post_transaction(
        idempotency_key=f"test-top-up:{person.pk}",
        kind="test.top_up",
        legs=[
            (services.external_account("USD"), -Money("5000", "USD")),
            (services.wallet_account(person, "USD"), Money("5000", "USD")),
        ],
    )
    return person


def record_repayment(client, language, typed):
    offering = _loan()
    member = staff()
    enable_totp(member)
    client.force_login(member)
    response = client.post(
        f"/{language}/loans/{offering.pk}/repayments/",
        {"amount": typed, "currency": "USD", "received_on": "2025-03-15", "key": "typed"},
        follow=True,
    )
    recorded = Repayment.objects.filter(offering=offering).values_list("amount", flat=True)
    return list(recorded), response


def repay_by_card(client, language, typed):
    offering = _loan()
    client.force_login(offering.project.owner)
    response = client.post(
        f"/{language}/loans/{offering.pk}/repay-by-card/",
        {"amount": typed, "currency": "USD", "key": "typed"},
        follow=True,
    )
    started = LoanCardPayment.objects.filter(offering=offering)
    return [Money.from_minor(p.amount_minor, p.currency).amount for p in started], response


def reinvest(client, language, typed):
    person = _funded_investor()
    target = make_offering(title="Solar pumps", target=D("100000"), min_ticket=D("5"))
    client.force_login(person)
    response = client.post(
        f"/{language}/wallet/reinvest/",
        {"offering": target.pk, "amount": typed, "key": "typed"},
        follow=True,
    )
    pledged = Pledge.objects.filter(investor=person, offering=target)
    return list(pledged.values_list("amount", flat=True)), response


def withdraw(client, language, typed):
    person = _funded_investor()
    account = rs.bank_account_register(
        user=person, holder_name="Ana", iban="DE89370400440532013000", bic="", currency="USD"
    )
    client.force_login(person)
    response = client.post(
        f"/{language}/wallet/withdraw/",
        {
            "amount": typed,
            "currency": "USD",
            "destination": "bank",
            "bank_account": account.pk,
            "key": "typed",
        },
        follow=True,
    )
    asked = PayoutRequest.objects.filter(investor=person)
    assert wallet(person).amount == D("5000") - sum(asked.values_list("amount", flat=True))
    return list(asked.values_list("amount", flat=True)), response


FORMS = [record_repayment, repay_by_card, reinvest, withdraw]


@pytest.mark.parametrize("submit", FORMS)
@pytest.mark.parametrize(("language", "typed"), READ)
@pytest.mark.usefixtures("fake_stripe")  # Stripe is not reachable
def test_an_amount_is_read_as_written_in_the_language(client, db, submit, language, typed):
    stored, response = submit(client, language, typed)

    assert response.status_code == 200
    assert stored == [D("1311.89")]


@pytest.mark.parametrize("submit", FORMS)
@pytest.mark.parametrize(("language", "typed", "reason"), REFUSED)
@pytest.mark.usefixtures("fake_stripe")  # Stripe is not reachable
def test_an_amount_that_cannot_be_read_surely_is_refused_with_the_reason(
    client, db, submit, language, typed, reason
):
    stored, response = submit(client, language, typed)

    assert stored == []
    assert _reason(language, reason) in response.content.decode()


@pytest.mark.parametrize("language", ["en", "es", "fr", "pt", "ar"])
@pytest.mark.usefixtures("fake_stripe")  # Stripe is not reachable
def test_the_amount_due_offered_on_the_card_page_is_taken_as_it_is_shown(client, db, language):
    """What the card page fills in (the amount due) goes through unchanged when the
    entrepreneur sends it, whatever the language and the currency's decimals: 3 for KWD,
    whose "1.500" French would read two ways."""
    offering, _lenders = funded_loan(amounts=("1000",), currency="KWD")
    start = add_months(datetime.date.today(), -1) - datetime.timedelta(days=15)
    schedule = rs.loan_fix_schedule(offering=offering, start_date=start)
    due = rs.loan_amount_due_next(schedule, datetime.date.today())
    client.force_login(offering.project.owner)
    page = client.get(f"/{language}/loans/{offering.pk}/repay-by-card/").content.decode()
    shown = page.split('id="card-amount"', 1)[1].split('value="', 1)[1].split('"', 1)[0]

    client.post(
        f"/{language}/loans/{offering.pk}/repay-by-card/",
        {"amount": shown, "currency": "KWD", "key": "due"},
    )

    started = LoanCardPayment.objects.get(offering=offering)
    assert Money.from_minor(started.amount_minor, "KWD") == Money(due, "KWD").quantize()
