"""Fixtures shared by the payment tests: open offerings, card pledges, a
running localstripe, and Stripe-signed webhook deliveries."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import itertools
import json
import time
from decimal import Decimal

import pytest
import stripe
from django.conf import settings
from django.utils import timezone

from finance.offerings import Payment
from finance.payments.stripe_provider import StripeProvider
from tests.conftest import enable_totp
from tests.factories import MembershipFactory, UserFactory

WEBHOOK_URL = "/webhooks/stripe/"
_event_ids = itertools.count(1)
_pledge_keys = itertools.count(1)


def make_open_offering(*, currency: str = "USD", target: str = "1000000", min_ticket: str = "1"):
    """An offering open for pledges now, on an approved project; donations
    with matching need no knowledge test."""
    from finance.offerings import Offering
    from projects.models import Project

    now = timezone.now()
    return Offering.objects.create(
        project=Project.objects.create(owner=UserFactory(), title="x", status="approved"),
        title=f"Water for the valley ({currency})",
        instrument="donation_matching",
        currency=currency,
        target=Decimal(target),
        min_ticket=Decimal(min_ticket),
        opens_at=now - datetime.timedelta(days=1),
        closes_at=now + datetime.timedelta(days=30),
        status=Offering.Status.OPEN,
    )


def make_investor():
    # "enhanced" has no 12-month limit, so one investor can make many pledges.
    return UserFactory(verification_tier="enhanced")


def make_card_pledge(offering, *, amount: str = "100", investor=None):
    from finance.services import pledge_create

    return pledge_create(
        offering=offering,
        investor=investor or make_investor(),
        amount=Decimal(amount),
        method="card",
        idempotency_key=f"stripe-test-{next(_pledge_keys)}",
    )


@pytest.fixture
def open_offering(db):
    return make_open_offering()


@pytest.fixture
def card_pledge(open_offering):
    """A pending card pledge of 100 USD (plus the card fee)."""
    return make_card_pledge(open_offering)


def stripe_signature(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header Stripe sends: t=<ts>,v1=<hmac_sha256(secret, "t.payload")>."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_event(event_type: str, intent_id: str = "", *, event_id: str | None = None) -> dict:
    """A Stripe event body; for payment_intent.* events its object is the intent."""
    obj = {"id": intent_id, "object": "payment_intent"} if intent_id else {"id": "cus_x"}
    return {
        "id": event_id or f"evt_test_{next(_event_ids)}",
        "object": "event",
        "api_version": "2017-08-15",
        "created": int(time.time()),
        "type": event_type,
        "data": {"object": obj},
    }


def deliver(client, event: dict | str, *, secret: str | None = None, timestamp: int | None = None):
    """POST an event to the webhook as Stripe would, signed with `secret`
    (the configured one by default)."""
    payload = event if isinstance(event, str) else json.dumps(event)
    header = stripe_signature(payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp)
    return client.post(
        WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


#: What a card pledge of 100.00 USD costs (`card_pledge`): the 1.5 % card fee on top.
CARD_DUE_MINOR = 10150


@pytest.fixture
def processing_payment(card_pledge, monkeypatch):
    """The card payment of `card_pledge`, which Stripe is processing: it refuses to cancel
    it, and reading the intent says "processing"."""
    payment = Payment.objects.create(
        pledge=card_pledge,
        provider="stripe",
        provider_reference="pi_processing",
        amount_minor=CARD_DUE_MINOR,
        currency="USD",
    )

    def refuse(provider, intent_id, *, idempotency_key):
        raise stripe.InvalidRequestError("This PaymentIntent's status is processing.", None)

    def processing(provider, intent_id):
        return stripe.PaymentIntent.construct_from(
            {"id": intent_id, "amount": CARD_DUE_MINOR, "currency": "usd", "status": "processing"},
            "sk_test",
        )

    monkeypatch.setattr(StripeProvider, "_cancel_intent", refuse)
    monkeypatch.setattr(StripeProvider, "_retrieve_intent", processing)
    return payment


@pytest.fixture
def cancel_calls(monkeypatch):
    """Every cancel call made to Stripe, as (intent id, idempotency key); a test can make
    the next calls for an intent fail by putting it in `failing`."""

    class Calls(list):
        def __init__(self):
            super().__init__()
            self.failing: set[str] = set()

    calls = Calls()
    cancel_intent = StripeProvider._cancel_intent

    def recording_cancel(provider, intent_id, *, idempotency_key):
        calls.append((intent_id, idempotency_key))
        if intent_id in calls.failing:
            raise stripe.APIConnectionError("Could not connect to Stripe (test)")
        return cancel_intent(provider, intent_id, idempotency_key=idempotency_key)

    monkeypatch.setattr(StripeProvider, "_cancel_intent", recording_cancel)
    return calls


@pytest.fixture
def staff_pair(reviewer):
    second = MembershipFactory(
        organization=reviewer.memberships.get().organization, role="reviewer"
    ).user
    second.groups.add(*reviewer.groups.all())
    for person in (reviewer, second):
        enable_totp(person)
    return reviewer, second


@pytest.fixture
def paid_bond(db):
    """A bond issued on START to its holders, with its first coupon paid on 15 July 2025."""
    import datetime

    from finance import returns_services as rs
    from tests.finance.test_returns import START, funded_bond

    offering, holders = funded_bond()
    rs.bond_issue(offering=offering, issue_date=START)
    day = datetime.date(2025, 7, 15)
    rs.coupon_run(offering=offering, payment_date=day, today=day)
    return offering, holders
