"""The entrepreneur repays a loan by card: the page that takes the amount (what is due by
default) and the card (Stripe.js, as for pledges), and the webhook that, once Stripe says the
intent succeeded, records the repayment exactly once from Stripe's clearing account and
shares it among the lenders. Refusals, duplicated and out-of-order events, who may pay, and
the ledger after it all."""

import datetime
import itertools
import json
import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
import stripe
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from finance import returns_services as rs
from finance import services
from finance.ledger import Leg, Transaction, balance
from finance.money import Money
from finance.offerings import ProviderEvent
from finance.payments.stripe_provider import StripeProvider
from finance.returns import LoanCardPayment, LoanSchedule, Repayment
from finance.schedules import add_months
from portal.models import AuditEntry
from tests.conftest import enable_totp, requires_postgres
from tests.factories import UserFactory
from tests.finance.conftest import deliver, stripe_event, stripe_signature
from tests.finance.test_returns import assert_ledger_consistent, funded_loan, staff, wallet
from tests.finance.test_stripe import pay_with

pytestmark = pytest.mark.urls("tests.finance.urls_for_webhook_tests")

D = Decimal
DECLINED = {"type": "card_error", "code": "card_declined", "message": "Your card was declined."}
_keys = itertools.count(1)


class FakeIntents:
    """Stands in for Stripe's PaymentIntents: intents are read back in whatever state the
    test gives them; creations and reads are counted."""

    def __init__(self):
        self.intents: dict[str, dict] = {}
        self.created = Counter()
        self.retrievals = Counter()

    def create(self, *, card_payment):
        intent_id = f"pi_loan_{card_payment.pk}"
        self.created[intent_id] += 1
        self.intents.setdefault(
            intent_id,
            {
                "id": intent_id,
                "object": "payment_intent",
                "amount": card_payment.amount_minor,
                "currency": card_payment.currency.lower(),
                "client_secret": f"{intent_id}_secret_x",
                "status": "requires_payment_method",
                "last_payment_error": None,
                "metadata": {
                    "puente_kind": "loan_repayment",
                    "loan_card_payment": str(card_payment.pk),
                    "offering_id": str(card_payment.offering_id),
                },
            },
        )
        return stripe.PaymentIntent.construct_from(dict(self.intents[intent_id]), "sk_test")

    def set(self, intent_id: str, status: str, *, error=None, **fields):
        self.intents[intent_id].update(status=status, last_payment_error=error, **fields)

    def retrieve(self, intent_id: str):
        self.retrievals[intent_id] += 1
        if intent_id not in self.intents:
            raise stripe.InvalidRequestError("No such payment_intent", "id", http_status=404)
        return stripe.PaymentIntent.construct_from(dict(self.intents[intent_id]), "sk_test")


@pytest.fixture
def fake_stripe(monkeypatch):
    fake = FakeIntents()
    monkeypatch.setattr(
        StripeProvider,
        "_create_loan_repayment_intent",
        lambda provider, *, card_payment: fake.create(card_payment=card_payment),
    )
    monkeypatch.setattr(
        StripeProvider, "_retrieve_intent", lambda provider, intent_id: fake.retrieve(intent_id)
    )
    return fake


def recent_start() -> datetime.date:
    """A draw date that leaves the first monthly installment 15 days overdue today and the
    second one due in about two weeks."""
    return add_months(timezone.localdate(), -1) - datetime.timedelta(days=15)


def make_loan(amounts=("500", "300", "200"), **terms):
    offering, lenders = funded_loan(amounts, **terms)
    schedule = rs.loan_fix_schedule(offering=offering, start_date=recent_start())
    return offering, lenders, schedule


@pytest.fixture
def loan(db):
    return make_loan()


def start(offering, amount, *, payer=None, currency=None, key=None) -> LoanCardPayment:
    return rs.loan_card_payment_start(
        offering=offering,
        payer=payer or offering.project.owner,
        amount=Money(amount, currency or offering.currency),
        idempotency_key=key or f"card-{next(_keys)}",
    )


def loan_event(event_type: str, card_payment: LoanCardPayment, *, event_id=None) -> dict:
    """The event Stripe sends for a loan repayment intent: its object carries the metadata."""
    event = stripe_event(event_type, card_payment.provider_reference, event_id=event_id)
    event["data"]["object"]["metadata"] = {
        "puente_kind": "loan_repayment",
        "loan_card_payment": str(card_payment.pk),
    }
    return event


def clearing(currency: str = "USD") -> Money:
    return balance(services.clearing_account("stripe", currency))


def ledger_snapshot() -> tuple[int, int, int]:
    return Transaction.objects.count(), Leg.objects.count(), Repayment.objects.count()


def page(offering) -> str:
    return f"/en/loans/{offering.pk}/repay-by-card/"


def detail(card_payment) -> str:
    return f"/en/loans/{card_payment.offering_id}/repay-by-card/{card_payment.pk}/"


# --- The webhook records the repayment, once ------------------------------------------------------


def test_succeeded_intent_is_a_repayment_from_stripe_clearing_shared_by_lenders(
    client, loan, fake_stripe
):
    offering, (a, b, c), schedule = loan
    first = schedule.installments.get(number=1)
    external_before = balance(services.external_account("USD"))
    card_payment = start(offering, first.payment)
    assert card_payment.amount_minor == Money(first.payment, "USD").minor_units
    assert card_payment.client_secret == f"{card_payment.provider_reference}_secret_x"
    assert not Transaction.objects.filter(legs__account__kind="provider_clearing").exists()

    fake_stripe.set(card_payment.provider_reference, "succeeded")
    response = deliver(client, loan_event("payment_intent.succeeded", card_payment))

    assert (response.status_code, response.content) == (200, b"processed")
    card_payment.refresh_from_db()
    assert card_payment.status == LoanCardPayment.Status.SUCCEEDED
    repayment = card_payment.repayment
    assert repayment.method == Repayment.Method.CARD
    assert repayment.reference == card_payment.provider_reference
    assert repayment.received_on == timezone.localdate()
    assert (repayment.interest_part, repayment.principal_part, repayment.excess) == (
        first.interest,
        first.principal,
        0,
    )
    assert repayment.allocations.get().days_late == 15
    first.refresh_from_db()
    assert first.is_paid
    assert wallet(a).amount + wallet(b).amount + wallet(c).amount == first.payment
    assert wallet(a).amount == (first.payment * D("0.5")).quantize(D("0.01"))
    # Stripe holds the money: its clearing account paid the lenders, the outside world did not.
    assert clearing() == -Money(first.payment, "USD")
    assert balance(services.external_account("USD")) == external_before
    assert ProviderEvent.objects.get().processed_at is not None
    assert AuditEntry.objects.filter(action="loan.card_payment_succeeded").count() == 1
    assert_ledger_consistent()


def test_duplicate_and_out_of_order_events_record_nothing_twice(client, loan, fake_stripe):
    offering, _lenders, schedule = loan
    first = schedule.installments.get(number=1)
    card_payment = start(offering, first.payment)
    intent = card_payment.provider_reference

    # Declined first, then paid with another card; the failure's event arrives after.
    fake_stripe.set(intent, "requires_payment_method", error=DECLINED)
    deliver(client, loan_event("payment_intent.payment_failed", card_payment))
    card_payment.refresh_from_db()
    assert card_payment.status == LoanCardPayment.Status.FAILED
    fake_stripe.set(intent, "succeeded")
    late_failure = loan_event("payment_intent.payment_failed", card_payment)
    assert deliver(client, late_failure).status_code == 200
    card_payment.refresh_from_db()
    assert (card_payment.status, card_payment.failure_message) == ("succeeded", "")
    after_first = ledger_snapshot()
    reads = fake_stripe.retrievals[intent]

    success = loan_event("payment_intent.succeeded", card_payment)
    statuses = [
        deliver(client, event).status_code
        for event in (
            success,
            success,
            late_failure,
            loan_event("payment_intent.succeeded", card_payment),
        )
    ]
    rs.loan_card_payment_sync(card_payment=card_payment)

    assert statuses == [200, 200, 200, 200]
    assert ledger_snapshot() == after_first
    assert Repayment.objects.get().amount == first.payment
    # Final after the first success: no more calls to Stripe.
    assert fake_stripe.retrievals[intent] == reads
    assert AuditEntry.objects.filter(action="loan.card_payment_succeeded").count() == 1
    assert not ProviderEvent.objects.filter(processed_at=None).exists()
    assert_ledger_consistent()


def test_event_body_is_only_a_trigger(client, loan, fake_stripe):
    offering, lenders, schedule = loan
    card_payment = start(offering, schedule.installments.get(number=1).payment)
    # The event says succeeded; Stripe says nothing was paid yet.
    deliver(client, loan_event("payment_intent.succeeded", card_payment))

    card_payment.refresh_from_db()
    assert card_payment.status == LoanCardPayment.Status.CREATED
    assert not Repayment.objects.exists()
    assert [wallet(p).amount for p in lenders] == [0, 0, 0]


def test_event_without_metadata_still_finds_the_loan_repayment(client, loan, fake_stripe):
    offering, _lenders, schedule = loan
    card_payment = start(offering, schedule.installments.get(number=1).payment)
    fake_stripe.set(card_payment.provider_reference, "succeeded")

    thin = stripe_event("payment_intent.succeeded", card_payment.provider_reference)
    assert deliver(client, thin).content == b"processed"
    assert LoanCardPayment.objects.get().repayment is not None


def test_loan_repayment_event_for_an_unknown_intent_is_left_for_staff(client, loan, fake_stripe):
    event = stripe_event("payment_intent.succeeded", "pi_not_ours")
    event["data"]["object"]["metadata"] = {"puente_kind": "loan_repayment"}

    assert deliver(client, event).content == b"unknown payment"
    assert ProviderEvent.objects.get().processed_at is None
    assert not fake_stripe.retrievals


def test_stripe_refusing_the_intent_leaves_no_attempt_to_pay(
    client, loan, fake_stripe, monkeypatch
):
    offering, _lenders, _schedule = loan

    def refused(provider, *, card_payment):
        raise stripe.APIConnectionError("connection refused")

    monkeypatch.setattr(StripeProvider, "_create_loan_repayment_intent", refused)
    client.force_login(offering.project.owner)
    response = client.post(page(offering), {"amount": "20.00", "currency": "USD", "key": "k"})

    assert response.status_code == 400
    assert "not answering" in response.content.decode()
    assert "data-card-payment=" not in response.content.decode()
    assert not Transaction.objects.filter(legs__account__kind="provider_clearing").exists()


def test_intent_that_is_not_this_card_payment_is_left_unprocessed(client, loan, fake_stripe):
    offering, _lenders, schedule = loan
    card_payment = start(offering, schedule.installments.get(number=1).payment)
    fake_stripe.set(card_payment.provider_reference, "succeeded", amount=1)

    response = deliver(client, loan_event("payment_intent.succeeded", card_payment))

    assert response.status_code == 500
    assert ProviderEvent.objects.get().processed_at is None
    assert LoanCardPayment.objects.get().status == LoanCardPayment.Status.CREATED
    assert not Repayment.objects.exists()


def test_stripe_unreachable_answers_503_and_the_retry_records_it(
    client, loan, fake_stripe, monkeypatch
):
    offering, _lenders, schedule = loan
    card_payment = start(offering, schedule.installments.get(number=1).payment)
    fake_stripe.set(card_payment.provider_reference, "succeeded")
    event = loan_event("payment_intent.succeeded", card_payment)

    def unreachable(provider, intent_id):
        raise stripe.APIConnectionError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(StripeProvider, "_retrieve_intent", unreachable)
        response = deliver(client, event)
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert not Repayment.objects.exists()

    assert deliver(client, event).status_code == 200
    assert Repayment.objects.get().method == Repayment.Method.CARD


def test_paying_more_than_is_due_now_holds_the_rest_for_review(client, loan, fake_stripe):
    offering, lenders, schedule = loan
    first = schedule.installments.get(number=1)
    card_payment = start(offering, first.payment + D("25.00"))
    fake_stripe.set(card_payment.provider_reference, "succeeded")

    deliver(client, loan_event("payment_intent.succeeded", card_payment))

    repayment = LoanCardPayment.objects.get().repayment
    assert repayment.excess == D("25.00")
    assert balance(rs.excess_account(offering)) == Money("25.00", "USD")
    assert sum(wallet(p).amount for p in lenders) == first.payment
    assert clearing() == -Money(first.payment + D("25.00"), "USD")
    client.force_login(offering.project.owner)
    body = client.get(detail(card_payment)).content.decode()
    assert "data-card-repaid" in body and "$25.00 more than was due is held" in body
    assert_ledger_consistent()


def test_a_loan_written_off_after_the_payment_started_holds_the_money_for_staff(
    client, loan, fake_stripe, reviewer
):
    offering, lenders, schedule = loan
    amount = schedule.installments.get(number=1).payment
    card_payment = start(offering, amount)
    rs.loan_write_off(offering=offering, by=staff(), reason="Cooperative closed")
    fake_stripe.set(card_payment.provider_reference, "succeeded")

    assert deliver(client, loan_event("payment_intent.succeeded", card_payment)).status_code == 200

    card_payment.refresh_from_db()
    assert card_payment.status == LoanCardPayment.Status.SUCCEEDED
    assert card_payment.repayment is None and "written off" in card_payment.held_reason
    assert not Repayment.objects.exists()
    assert [wallet(p).amount for p in lenders] == [0, 0, 0]
    assert balance(rs.excess_account(offering)) == Money(amount, "USD")
    assert clearing() == -Money(amount, "USD")
    client.force_login(offering.project.owner)
    assert "data-card-held" in client.get(detail(card_payment)).content.decode()
    # Staff find it on the offering's page, with the form to send it back.
    enable_totp(reviewer)
    client.force_login(reviewer)
    body = client.get(f"/admin/money/offerings/{offering.pk}/actions/").content.decode()
    assert 'data-held-leg="returns.card_repayment_held"' in body
    assert "Card payment that could no longer be applied" in body and "held/return/" in body
    # Delivered again: held once.
    before = ledger_snapshot()
    deliver(client, loan_event("payment_intent.succeeded", card_payment))
    assert ledger_snapshot() == before
    assert_ledger_consistent()


# --- Refusals before any intent exists -------------------------------------------------------------


def test_another_currency_is_refused_before_any_intent(client, loan, fake_stripe):
    offering, _lenders, _schedule = loan
    with pytest.raises(rs.RepaymentRefused, match="repaid in USD"):
        start(offering, "100.00", currency="EUR")

    client.force_login(offering.project.owner)
    for currency in ("EUR", "XYZ"):
        response = client.post(
            page(offering), {"amount": "100.00", "currency": currency, "key": "k1"}
        )
        assert response.status_code == 400
        assert "repaid in USD" in response.content.decode()
    assert not LoanCardPayment.objects.exists()
    assert not fake_stripe.created


@pytest.mark.parametrize("amount", ["0", "-5.00", "10.001"])
def test_amounts_not_above_zero_or_in_fractions_of_a_cent_are_refused(loan, fake_stripe, amount):
    offering, _lenders, _schedule = loan
    with pytest.raises(rs.RepaymentRefused, match="above zero"):
        start(offering, amount)
    assert not LoanCardPayment.objects.exists() and not fake_stripe.created


def test_more_than_is_still_owed_is_refused(client, loan, fake_stripe):
    offering, _lenders, schedule = loan
    owed = sum(i.payment for i in schedule.installments.all())
    with pytest.raises(rs.RepaymentRefused, match="still owed"):
        start(offering, owed + D("0.01"))
    client.force_login(offering.project.owner)
    response = client.post(page(offering), {"amount": "abc", "currency": "USD", "key": "k"})
    # Read as every amount of the portal is: what is not one is refused with an example.
    assert response.status_code == 400
    assert "Enter an amount such as 250 or 250.50." in response.content.decode()
    assert start(offering, owed).money == Money(owed, "USD")  # the whole loan, early: fine


def test_written_off_loan_shows_why_and_takes_no_card(client, loan, fake_stripe):
    offering, _lenders, _schedule = loan
    rs.loan_write_off(offering=offering, by=staff(), reason="Cooperative closed")
    with pytest.raises(rs.RepaymentRefused, match="written off"):
        start(offering, "50.00")

    client.force_login(offering.project.owner)
    body = client.get(page(offering)).content.decode()
    assert "data-card-refused" in body and "written off" in body and 'name="amount"' not in body
    client.post(page(offering), {"amount": "50.00", "currency": "USD", "key": "k"})
    assert "data-repay-by-card" not in client.get(f"/en/loans/{offering.pk}/").content.decode()
    assert not LoanCardPayment.objects.exists() and not fake_stripe.created


def test_loan_without_a_schedule_yet_is_refused(client, db, fake_stripe):
    offering, _lenders = funded_loan()
    with pytest.raises(rs.RepaymentRefused, match="no repayment schedule yet"):
        start(offering, "50.00")
    client.force_login(offering.project.owner)
    body = client.get(page(offering)).content.decode()
    assert "no repayment schedule yet" in body and 'name="amount"' not in body


def test_repaid_loan_takes_no_more_card_payments(loan, fake_stripe):
    offering, _lenders, schedule = loan
    total = sum(i.payment for i in schedule.installments.all())
    rs.repayment_record(
        offering=offering,
        amount=Money(total, "USD"),
        received_on=schedule.installments.order_by("number").last().due_date,
        idempotency_key="all-at-once",
    )
    assert LoanSchedule.objects.get(pk=schedule.pk).status == LoanSchedule.Status.REPAID
    with pytest.raises(rs.RepaymentRefused, match="repaid"):
        start(offering, "1.00")


# --- Who may pay ----------------------------------------------------------------------------------


def viewer(role: str, offering, lenders):
    return {
        "lender": lambda: lenders[0],
        "staff": staff,
        "other": UserFactory,
        "anonymous": lambda: None,
    }[role]()


@pytest.mark.parametrize(
    "role, expected", [("lender", 403), ("staff", 403), ("other", 404), ("anonymous", 302)]
)
def test_only_the_entrepreneur_repays_by_card(client, loan, fake_stripe, role, expected):
    offering, lenders, schedule = loan
    card_payment = start(offering, schedule.installments.get(number=1).payment)
    person = viewer(role, offering, lenders)
    if role == "staff":
        enable_totp(person)  # staff reach the loan through the back office
    if person is not None:
        client.force_login(person)
    form = {"amount": "10.00", "currency": "USD", "key": "k-intruder"}

    answers = [
        client.get(page(offering)),
        client.post(page(offering), form),
        client.get(detail(card_payment)),
        client.post(detail(card_payment) + "refresh/"),
    ]

    assert [r.status_code for r in answers] == [expected] * 4
    for response in answers:
        assert card_payment.client_secret not in response.content.decode()
    if expected == 302:
        assert answers[0]["Location"].startswith("/en/accounts/login/")
    assert LoanCardPayment.objects.count() == 1
    assert sum(fake_stripe.created.values()) == 1
    assert fake_stripe.retrievals[card_payment.provider_reference] == 0
    if person is not None:
        with pytest.raises(rs.RepaymentRefused):
            start(offering, "10.00", payer=person)


def test_the_entrepreneur_sees_the_link_and_lenders_do_not(client, loan):
    offering, lenders, _schedule = loan
    client.force_login(offering.project.owner)
    body = client.get(f"/en/loans/{offering.pk}/").content.decode()
    assert f'href="{page(offering)}"' in body
    for person in (lenders[0], staff()):
        client.force_login(person)
        assert "data-repay-by-card" not in client.get(f"/en/loans/{offering.pk}/").content.decode()


def test_a_card_payment_of_another_loan_is_not_found_under_this_one(client, loan, fake_stripe):
    offering, _lenders, schedule = loan
    other, _other_lenders, other_schedule = make_loan(project=offering.project)
    theirs = start(other, other_schedule.installments.get(number=1).payment)
    client.force_login(offering.project.owner)
    wrong = f"/en/loans/{offering.pk}/repay-by-card/{theirs.pk}/"
    assert client.get(wrong).status_code == 404
    assert client.post(wrong + "refresh/").status_code == 404
    assert client.get(detail(theirs)).status_code == 200


# --- The pages ------------------------------------------------------------------------------------


def test_page_proposes_what_is_due_and_a_double_submit_makes_one_intent(client, loan, fake_stripe):
    offering, lenders, schedule = loan
    first = schedule.installments.get(number=1)
    client.force_login(offering.project.owner)
    body = client.get(page(offering)).content.decode()
    due = Money(first.payment, "USD").quantize().amount
    assert f'value="{due}"' in body
    assert f"${due:,}" in body.split("data-card-due>", 1)[1].split("</dd>", 1)[0]
    assert f"${due:,}" in body.split("data-card-arrears>", 1)[1].split("</dd>", 1)[0]

    form = {"amount": str(first.payment), "currency": "USD", "key": "page-key"}
    responses = [client.post(page(offering), form) for _ in range(2)]

    card_payment = LoanCardPayment.objects.get()
    assert {r["Location"] for r in responses} == {detail(card_payment)}
    assert sum(fake_stripe.created.values()) == 1
    body = client.get(detail(card_payment)).content.decode()
    for expected in (
        f'data-client-secret="{card_payment.client_secret}"',
        f'data-stripe-key="{settings.STRIPE_PUBLISHABLE_KEY}"',
        f'<script src="{settings.STRIPE_JS_URL}">',
        "finance/card.js",
        f'action="{detail(card_payment)}refresh/"',
        f'data-return-url="http://testserver{detail(card_payment)}"',
    ):
        assert expected in body

    # The card form posts back here after Stripe.js confirmed: the page re-reads Stripe.
    fake_stripe.set(card_payment.provider_reference, "succeeded")
    response = client.post(detail(card_payment) + "refresh/")
    assert response["Location"] == detail(card_payment)
    body = client.get(detail(card_payment)).content.decode()
    assert "data-card-repaid" in body and 'id="card-form"' not in body
    # In the history both the entrepreneur and the lenders see.
    for person in (offering.project.owner, lenders[1]):
        client.force_login(person)
        history = client.get(f"/en/loans/{offering.pk}/").content.decode()
        assert 'data-repayment-method="card"' in history


def test_declined_card_is_shown_and_the_form_stays_for_another_card(client, loan, fake_stripe):
    offering, _lenders, schedule = loan
    card_payment = start(offering, schedule.installments.get(number=1).payment)
    fake_stripe.set(card_payment.provider_reference, "requires_payment_method", error=DECLINED)
    deliver(client, loan_event("payment_intent.payment_failed", card_payment))

    client.force_login(offering.project.owner)
    body = client.get(detail(card_payment)).content.decode()
    assert "data-card-failure>Your card was declined." in body
    assert 'id="card-form"' in body
    listing = client.get(page(offering)).content.decode()
    assert 'data-status="failed"' in listing and "Your card was declined." in listing


def test_cancelled_intent_says_so_and_offers_a_new_payment(client, loan, fake_stripe):
    offering, _lenders, schedule = loan
    card_payment = start(offering, schedule.installments.get(number=1).payment)
    fake_stripe.set(card_payment.provider_reference, "canceled")
    rs.loan_card_payment_sync(card_payment=card_payment)

    client.force_login(offering.project.owner)
    body = client.get(detail(card_payment)).content.decode()
    assert "The payment was cancelled." in body and 'id="card-form"' not in body
    assert f'href="{page(offering)}"' in body


def test_zero_decimal_currency_is_charged_in_whole_units(client, db, fake_stripe):
    offering, lenders, schedule = make_loan(
        ("50000", "30000", "20000"), currency="JPY", min_ticket=D("1000")
    )
    first = schedule.installments.get(number=1)
    card_payment = start(offering, first.payment)
    assert card_payment.amount_minor == int(first.payment)  # yen, not hundredths of a yen
    assert fake_stripe.intents[card_payment.provider_reference]["amount"] == int(first.payment)
    with pytest.raises(rs.RepaymentRefused, match="whole JPY"):
        start(offering, "100.5")

    fake_stripe.set(card_payment.provider_reference, "succeeded")
    deliver(client, loan_event("payment_intent.succeeded", card_payment))

    assert sum(wallet(p, "JPY").amount for p in lenders) == first.payment
    assert clearing("JPY") == -Money(first.payment, "JPY")
    assert_ledger_consistent()


def test_card_pages_cost_the_same_queries_with_more_payments(
    client, loan, fake_stripe, django_assert_max_num_queries
):
    offering, _lenders, schedule = loan
    owner = offering.project.owner
    client.force_login(owner)
    client.get(page(offering))  # the site's settings row is created on the first page
    with django_assert_max_num_queries(6):
        assert client.get(page(offering)).status_code == 200
    amount = schedule.installments.get(number=1).payment / 4
    for index in range(6):
        card_payment = start(offering, amount.quantize(D("0.01")))
        if index % 2:
            fake_stripe.set(card_payment.provider_reference, "succeeded")
            rs.loan_card_payment_sync(card_payment=card_payment)
    with django_assert_max_num_queries(6):
        assert client.get(page(offering)).status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get(detail(card_payment)).status_code == 200
    # The loan page keeps the cost the bank-transfer tests pinned.
    with django_assert_max_num_queries(13):
        assert client.get(f"/en/loans/{offering.pk}/").status_code == 200


# --- PostgreSQL: the ledger's triggers, reconcile, concurrent deliveries ------------------------------


@requires_postgres
def test_reconcile_strict_passes_after_card_repayments(client, loan, fake_stripe):
    offering, lenders, schedule = loan
    first, second = schedule.installments.order_by("number")[:2]
    paid = []
    for amount in (first.payment, second.payment + D("3.00")):
        card_payment = start(offering, amount)
        fake_stripe.set(card_payment.provider_reference, "succeeded")
        deliver(client, loan_event("payment_intent.succeeded", card_payment))
        paid.append(amount)
        assert_ledger_consistent()
    assert clearing() == -Money(sum(paid), "USD")
    assert sum(wallet(p).amount for p in lenders) + balance(
        rs.excess_account(offering)
    ).amount == sum(paid)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_record_one_repayment(settings, fake_stripe):
    settings.PUENTE_LOCK_TIMEOUT_MS = 500
    offering, _lenders, schedule = make_loan()
    card_payment = start(offering, schedule.installments.get(number=1).payment)
    fake_stripe.set(card_payment.provider_reference, "succeeded")
    payloads = [
        json.dumps(loan_event(kind, card_payment))
        for kind in ["payment_intent.succeeded"] * 6 + ["payment_intent.payment_failed"] * 2
    ]
    statuses: list[int] = []
    barrier = threading.Barrier(len(payloads))

    def worker(payload: str) -> None:
        try:
            client = Client()
            barrier.wait(10)
            for _attempt in range(40):
                signature = stripe_signature(payload, settings.STRIPE_WEBHOOK_SECRET)
                status = client.post(
                    "/webhooks/stripe/",
                    data=payload,
                    content_type="application/json",
                    HTTP_STRIPE_SIGNATURE=signature,
                ).status_code
                if status != 503:
                    break
                time.sleep(0.05)
            statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * len(payloads)
    assert Repayment.objects.count() == 1
    assert LoanCardPayment.objects.get().repayment_id == Repayment.objects.get().pk
    assert AuditEntry.objects.filter(action="loan.card_payment_succeeded").count() == 1
    assert_ledger_consistent()


# --- Against localstripe, with Stripe's own webhook delivery ------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_card_repayment_through_localstripe_and_its_webhook(localstripe, live_server):
    localstripe.register_webhook(
        live_server.url + "/webhooks/stripe/",
        settings.STRIPE_WEBHOOK_SECRET,
        events=["payment_intent.succeeded", "payment_intent.payment_failed"],
    )
    offering, lenders, schedule = make_loan(("5000", "3000", "2000"), currency="JPY")
    first = schedule.installments.get(number=1)
    client = Client()
    client.force_login(offering.project.owner)

    declined_form = {"amount": str(first.payment), "currency": "JPY", "key": "ls-1"}
    response = client.post(page(offering), declined_form)
    declined = LoanCardPayment.objects.get()
    assert response["Location"] == detail(declined)
    stored = localstripe.stored("payment_intent", declined.provider_reference)
    assert (stored.amount, stored.currency) == (int(first.payment), "jpy")
    assert stored.metadata["puente_kind"] == "loan_repayment"
    assert stored.metadata["loan_card_payment"] == str(declined.pk)
    with pytest.raises(stripe.CardError):
        pay_with(declined.provider_reference, "pm_card_chargeCustomerFail")
    client.post(detail(declined) + "refresh/")
    declined.refresh_from_db()
    assert declined.status == LoanCardPayment.Status.FAILED
    assert declined.failure_message == "Your card was declined."

    response = client.post(page(offering), {**declined_form, "key": "ls-2"})
    card_payment = LoanCardPayment.objects.exclude(pk=declined.pk).get()
    assert pay_with(card_payment.provider_reference, "pm_card_visa").status == "succeeded"
    # Recorded when Stripe's webhook says so (localstripe sends it after 1 s).
    deadline = time.monotonic() + 15
    while LoanCardPayment.objects.get(pk=card_payment.pk).repayment_id is None:
        assert time.monotonic() < deadline, "the webhook never recorded the repayment"
        time.sleep(0.1)

    repayment = Repayment.objects.get()
    assert (repayment.method, repayment.amount) == (Repayment.Method.CARD, first.payment)
    assert sum(wallet(p, "JPY").amount for p in lenders) == first.payment
    assert clearing("JPY") == -Money(first.payment, "JPY")
    # This intent's event: a webhook a test before this one set off may arrive meanwhile.
    event = ProviderEvent.objects.get(
        type="payment_intent.succeeded",
        payload__data__object__id=card_payment.provider_reference,
    )
    assert event.processed_at is not None
    assert_ledger_consistent()
