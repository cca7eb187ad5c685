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
from django.conf import settings
from django.utils import timezone

from tests.factories import UserFactory

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
