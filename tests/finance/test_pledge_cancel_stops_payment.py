"""An investor who cancels a pending card pledge, and an offering that closes with card
pledges still unpaid, have the pledges' PaymentIntents cancelled at Stripe first (against
localstripe), so nobody is charged for a pledge that ended. A payment that went through
meanwhile makes the cancellation a refund; a payment Stripe is processing, or a Stripe
that does not answer, leaves the pledge (and a closing offering) as it was, and says so."""

import datetime

import pytest
import stripe
from django.core.management import call_command
from django.utils import timezone

from finance import services
from finance.offerings import Offering, Payment, Pledge
from finance.payments.stripe_provider import StripeProvider, stripe_client
from portal.models import AuditEntry

from .builders import recording
from .conftest import CARD_DUE_MINOR, make_card_pledge
from .test_pledge_expiry_cancels import intent_status, reserved
from .test_stripe import pay_with

pytestmark = pytest.mark.django_db


def cancel_through_the_page(client, pledge: Pledge, language: str = "en") -> str:
    """The investor presses "Cancel" on their pledge's page; returns the page they see."""
    client.force_login(pledge.investor)
    response = client.post(f"/{language}/pledges/{pledge.pk}/cancel/", follow=True)
    assert response.status_code == 200
    return response.content.decode()


def past_closing(offering: Offering) -> None:
    Offering.objects.filter(pk=offering.pk).update(
        closes_at=timezone.now() - datetime.timedelta(minutes=1)
    )


def status_of(pledge: Pledge) -> str:
    return Pledge.objects.values_list("status", flat=True).get(pk=pledge.pk)


# --- The investor cancels ----------------------------------------------------------------------


def test_cancelling_a_pending_card_pledge_cancels_its_intent_first(
    localstripe, card_pledge, cancel_calls, client
):
    payment = StripeProvider().start(pledge=card_pledge)

    page = cancel_through_the_page(client, card_pledge)

    assert "Your pledge is cancelled. Nothing was charged." in page
    assert cancel_calls == [(payment.provider_reference, f"payment-{payment.pk}-cancel")]
    assert intent_status(payment.provider_reference) == "canceled"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELLED
    assert status_of(card_pledge) == Pledge.Status.CANCELLED
    assert reserved(card_pledge.offering) == 0
    # The card form still open in another tab can no longer charge the card.
    with pytest.raises(stripe.InvalidRequestError):
        pay_with(payment.provider_reference, "pm_card_visa")
    call_command("reconcile", "--strict", verbosity=0)


def test_a_card_payment_that_went_through_makes_the_cancellation_a_refund(localstripe, card_pledge):
    payment = StripeProvider().start(pledge=card_pledge)
    pay_with(payment.provider_reference, "pm_card_visa")  # its webhook has not arrived yet

    services.pledge_cancel(pledge=card_pledge, by=card_pledge.investor)

    assert status_of(card_pledge) == Pledge.Status.REFUNDED
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.refunded_minor == payment.captured_minor == CARD_DUE_MINOR
    refunds = stripe_client().v1.refunds.list(params={"payment_intent": payment.provider_reference})
    assert [refund.amount for refund in refunds.data] == [CARD_DUE_MINOR]
    assert reserved(card_pledge.offering) == 0
    assert not AuditEntry.objects.filter(action="pledge.late_payment").exists()
    call_command("reconcile", "--strict", verbosity=0)


def test_a_payment_being_processed_keeps_the_pledge_and_the_investor_is_told(
    card_pledge, processing_payment, client
):
    page = cancel_through_the_page(client, card_pledge)

    assert "Your payment is being processed" in page
    assert status_of(card_pledge) == Pledge.Status.PENDING
    assert reserved(card_pledge.offering) == 100


def test_when_stripe_does_not_answer_nothing_changes_and_trying_again_works(
    localstripe, card_pledge, cancel_calls, client
):
    payment = StripeProvider().start(pledge=card_pledge)
    cancel_calls.failing.add(payment.provider_reference)

    page = cancel_through_the_page(client, card_pledge, language="es")

    assert "No pudimos comunicarnos con el servicio de pago" in page
    assert status_of(card_pledge) == Pledge.Status.PENDING
    assert reserved(card_pledge.offering) == 100
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED
    assert intent_status(payment.provider_reference) == "requires_payment_method"

    cancel_calls.failing.clear()
    page = cancel_through_the_page(client, card_pledge)

    assert "Your pledge is cancelled. Nothing was charged." in page
    assert status_of(card_pledge) == Pledge.Status.CANCELLED
    assert intent_status(payment.provider_reference) == "canceled"


def test_a_payment_started_while_cancelling_makes_the_cancellation_refuse(card_pledge, monkeypatch):
    cancel_open = services._payments_cancel_open

    def then_a_payment_starts(pledge_id):
        stopped = cancel_open(pledge_id)
        recording.start(pledge=card_pledge)  # another tab opened the card form meanwhile
        return stopped

    monkeypatch.setattr(services, "_payments_cancel_open", then_a_payment_starts)

    with pytest.raises(services.PledgeRefused, match="changed while it was being cancelled"):
        services.pledge_cancel(pledge=card_pledge, by=card_pledge.investor)

    assert status_of(card_pledge) == Pledge.Status.PENDING
    assert reserved(card_pledge.offering) == 100


# --- The offering closes -----------------------------------------------------------------------


def test_closing_cancels_the_intents_of_unpaid_card_pledges(
    localstripe, open_offering, cancel_calls
):
    pledges = [make_card_pledge(open_offering) for _ in range(2)]
    payments = [StripeProvider().start(pledge=pledge) for pledge in pledges]
    past_closing(open_offering)

    closed = services.offering_close(offering=open_offering)

    assert closed.status == Offering.Status.FAILED  # nothing was paid
    assert sorted(intent for intent, _key in cancel_calls) == sorted(
        payment.provider_reference for payment in payments
    )
    for pledge, payment in zip(pledges, payments, strict=True):
        assert status_of(pledge) == Pledge.Status.EXPIRED
        assert intent_status(payment.provider_reference) == "canceled"
    assert reserved(open_offering) == 0
    call_command("reconcile", "--strict", verbosity=0)


def test_a_payment_that_cannot_be_stopped_keeps_the_offering_open_until_the_next_run(
    localstripe,
    open_offering,
    cancel_calls,
    client,
    staff_pair,
):
    unlucky, lucky = (make_card_pledge(open_offering) for _ in range(2))
    unlucky_payment = StripeProvider().start(pledge=unlucky)
    lucky_payment = StripeProvider().start(pledge=lucky)
    cancel_calls.failing.add(unlucky_payment.provider_reference)
    past_closing(open_offering)
    client.force_login(staff_pair[0])

    response = client.post(f"/admin/money/offerings/{open_offering.pk}/actions/close/", follow=True)

    assert "could not be stopped" in response.content.decode()
    assert Offering.objects.get(pk=open_offering.pk).status == Offering.Status.OPEN
    assert status_of(lucky) == Pledge.Status.EXPIRED
    assert intent_status(lucky_payment.provider_reference) == "canceled"
    assert status_of(unlucky) == Pledge.Status.PENDING
    assert intent_status(unlucky_payment.provider_reference) == "requires_payment_method"
    assert reserved(open_offering) == 100

    cancel_calls.failing.clear()
    assert services.offerings_close_due() == 1

    assert Offering.objects.get(pk=open_offering.pk).status == Offering.Status.FAILED
    assert status_of(unlucky) == Pledge.Status.EXPIRED
    assert intent_status(unlucky_payment.provider_reference) == "canceled"
    assert reserved(open_offering) == 0
    call_command("reconcile", "--strict", verbosity=0)
