"""An unpaid card pledge that expires has its PaymentIntent cancelled at Stripe first, so
the investor can no longer be charged for it; against localstripe. A payment Stripe has
already taken wins over the clock, a Stripe failure leaves that one pledge for the next
run without stopping the others, and running the expiry again changes nothing."""

import datetime
import logging
import threading
from decimal import Decimal

import pytest
import stripe
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from finance import services
from finance.ledger import Transaction, balance
from finance.offerings import Offering, Payment, Pledge
from finance.payments import PaymentError, PaymentNotCancellable, provider_for
from finance.payments.stripe_provider import StripeProvider, stripe_client
from portal.models import AuditEntry
from tests.conftest import requires_postgres

from .conftest import CARD_DUE_MINOR, deliver, make_card_pledge, make_open_offering, stripe_event
from .test_stripe import pay_with, three_d_secure_card


def overdue(pledge: Pledge) -> None:
    """The pledge's time to pay has run out."""
    Pledge.objects.filter(pk=pledge.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )


def intent_status(intent_id: str) -> str:
    """What Stripe says about the intent now."""
    return stripe_client().v1.payment_intents.retrieve(intent_id).status


def reserved(offering: Offering) -> Decimal:
    return Offering.objects.get(pk=offering.pk).reserved


# --- (a) The intent of an expired card pledge is cancelled ----------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("investor_did", ["nothing", "3-D Secure pending", "card declined"])
def test_an_expiring_card_pledge_has_its_intent_cancelled_at_stripe(
    localstripe, card_pledge, cancel_calls, investor_did
):
    provider = StripeProvider()
    payment = provider.start(pledge=card_pledge)
    if investor_did == "3-D Secure pending":
        pay_with(payment.provider_reference, three_d_secure_card())
    elif investor_did == "card declined":
        with pytest.raises(stripe.CardError):
            pay_with(payment.provider_reference, "pm_card_chargeCustomerFail")
    payment = provider.sync(payment=payment)
    payment_status_before = payment.status
    assert (
        payment_status_before
        == {
            "nothing": Payment.Status.CREATED,
            "3-D Secure pending": Payment.Status.REQUIRES_ACTION,
            "card declined": Payment.Status.FAILED,
        }[investor_did]
    )
    assert reserved(card_pledge.offering) == Decimal("100")
    overdue(card_pledge)

    assert services.pledges_expire_due() == 1

    assert intent_status(payment.provider_reference) == "canceled"
    assert cancel_calls == [(payment.provider_reference, f"payment-{payment.pk}-cancel")]
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELLED
    assert payment.failure_message == "The payment was cancelled."
    assert payment.captured_minor == 0
    card_pledge.refresh_from_db()
    assert card_pledge.status == Pledge.Status.EXPIRED
    assert reserved(card_pledge.offering) == 0
    cancelled = AuditEntry.objects.get(action="payment.cancelled", object_id=str(payment.pk))
    assert cancelled.from_state == str(payment_status_before)
    assert cancelled.reason == "cancelled so that no money can be taken for an ended pledge"
    assert AuditEntry.objects.filter(
        action="pledge.expired", object_id=str(card_pledge.pk)
    ).exists()
    # The card form still on the investor's screen can no longer charge the card.
    with pytest.raises(stripe.InvalidRequestError):
        pay_with(payment.provider_reference, "pm_card_visa")
    assert intent_status(payment.provider_reference) == "canceled"
    assert not Transaction.objects.exists()
    call_command("reconcile", "--strict", verbosity=0)


@pytest.mark.urls("tests.finance.urls_for_webhook_tests")
@pytest.mark.django_db
def test_the_webhook_for_the_cancelled_intent_changes_nothing(localstripe, client, card_pledge):
    payment = StripeProvider().start(pledge=card_pledge)
    overdue(card_pledge)
    services.pledges_expire_due()
    entries = AuditEntry.objects.count()

    response = deliver(client, stripe_event("payment_intent.canceled", payment.provider_reference))

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELLED
    assert Pledge.objects.get(pk=card_pledge.pk).status == Pledge.Status.EXPIRED
    assert AuditEntry.objects.count() == entries


@pytest.mark.django_db
def test_a_pledge_without_an_intent_yet_expires_without_calling_stripe(
    localstripe, card_pledge, cancel_calls
):
    overdue(card_pledge)

    assert services.pledges_expire_due() == 1

    assert cancel_calls == []
    assert Pledge.objects.get(pk=card_pledge.pk).status == Pledge.Status.EXPIRED


@pytest.mark.django_db
def test_an_intent_created_while_the_pledge_expired_is_cancelled_not_handed_out(
    localstripe, card_pledge, monkeypatch
):
    """The investor opens the payment page as the expiry runs: the expiry finds the
    payment without an intent yet and expires the pledge; `start`, about to hand out the
    intent it just created, finds the pledge expired under its lock and cancels it."""
    overdue(card_pledge)
    create_intent = StripeProvider._create_intent

    def create_while_expiring(provider, **kwargs):
        assert services.pledges_expire_due() == 1
        return create_intent(provider, **kwargs)

    monkeypatch.setattr(StripeProvider, "_create_intent", create_while_expiring)

    with pytest.raises(PaymentError) as refused:
        StripeProvider().start(pledge=card_pledge)

    assert refused.value.user_message == "This pledge can no longer be paid."
    payment = Payment.objects.get(pledge=card_pledge)
    assert payment.provider_reference.startswith("pi_")
    assert payment.status == Payment.Status.CANCELLED
    assert intent_status(payment.provider_reference) == "canceled"
    assert Pledge.objects.get(pk=card_pledge.pk).status == Pledge.Status.EXPIRED


@pytest.mark.django_db
def test_a_payment_started_while_expiring_keeps_the_pledge_for_the_next_run(
    localstripe, card_pledge, monkeypatch
):
    """The intent is created between the cancelling and the expiring: the expiry sees,
    under the pledge's lock, a payment it did not cancel, and leaves the pledge; the next
    run cancels that intent and expires it."""
    overdue(card_pledge)
    cancel_open = services._payments_cancel_open
    started = []

    def investor_opens_the_page_meanwhile(pledge_id):
        cancelled = cancel_open(pledge_id)
        if not started:
            started.append(StripeProvider().start(pledge=Pledge.objects.get(pk=pledge_id)))
        return cancelled

    monkeypatch.setattr(services, "_payments_cancel_open", investor_opens_the_page_meanwhile)

    assert services.pledges_expire_due() == 0
    assert Pledge.objects.get(pk=card_pledge.pk).status == Pledge.Status.PENDING
    assert intent_status(started[0].provider_reference) == "requires_payment_method"

    assert services.pledges_expire_due() == 1
    assert Pledge.objects.get(pk=card_pledge.pk).status == Pledge.Status.EXPIRED
    assert intent_status(started[0].provider_reference) == "canceled"


# --- (b) A payment Stripe has taken wins over the clock --------------------------------------


@pytest.mark.django_db
def test_an_intent_that_succeeded_before_expiry_pays_the_pledge_instead(
    localstripe, card_pledge, cancel_calls
):
    """The card was charged but the webhook has not arrived yet: the refused cancel
    re-reads the intent and records the payment, so the pledge is paid, not expired."""
    payment = StripeProvider().start(pledge=card_pledge)
    assert pay_with(payment.provider_reference, "pm_card_visa").status == "succeeded"
    overdue(card_pledge)

    assert services.pledges_expire_due() == 0

    assert len(cancel_calls) == 1
    assert intent_status(payment.provider_reference) == "succeeded"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.captured_minor == CARD_DUE_MINOR
    assert payment.refunded_minor == 0
    card_pledge.refresh_from_db()
    assert card_pledge.status == Pledge.Status.PAID
    assert reserved(card_pledge.offering) == Decimal("100")
    assert balance(services.escrow_account(card_pledge.offering)).amount == Decimal("100.00")
    assert not AuditEntry.objects.filter(action="pledge.expired").exists()

    # A paid pledge is no longer due to expire: the next run does not ask Stripe again.
    assert services.pledges_expire_due() == 0
    assert len(cancel_calls) == 1
    call_command("reconcile", "--strict", verbosity=0)


@pytest.mark.django_db
def test_a_processing_payment_keeps_the_pledge_pending(card_pledge, processing_payment, caplog):
    payment = processing_payment
    overdue(card_pledge)

    with caplog.at_level(logging.INFO, logger="finance.services"):
        assert services.pledges_expire_due() == 0

    assert Pledge.objects.get(pk=card_pledge.pk).status == Pledge.Status.PENDING
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED
    assert f"pledge {card_pledge.pk} not expired" in caplog.text


@pytest.mark.django_db
def test_cancelling_a_succeeded_payment_of_an_ended_pledge_refunds_it(localstripe, card_pledge):
    """The documented late path: the pledge had ended (here it was cancelled without
    asking Stripe, as a crash between the two would leave it) when the card was charged;
    asking to cancel records the payment, which pledge_mark_paid refunds at once."""
    provider = StripeProvider()
    payment = provider.start(pledge=card_pledge)
    pay_with(payment.provider_reference, "pm_card_visa")
    with transaction.atomic():
        services._release(
            card_pledge, Pledge.Status.CANCELLED, ending=None, only_from=(Pledge.Status.PENDING,)
        )

    with pytest.raises(PaymentNotCancellable):
        provider.cancel(payment=payment)

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.refunded_minor == payment.captured_minor == CARD_DUE_MINOR
    refunds = stripe_client().v1.refunds.list(params={"payment_intent": payment.provider_reference})
    assert [refund.amount for refund in refunds.data] == [CARD_DUE_MINOR]
    assert Pledge.objects.get(pk=card_pledge.pk).status == Pledge.Status.CANCELLED
    assert AuditEntry.objects.filter(action="pledge.late_payment").count() == 1
    call_command("reconcile", "--strict", verbosity=0)


# --- (c) A Stripe failure leaves that pledge for the next run ---------------------------------


@pytest.mark.django_db
def test_a_stripe_failure_leaves_that_pledge_pending_and_the_others_expire(
    localstripe, open_offering, cancel_calls, caplog
):
    provider = StripeProvider()
    unlucky, lucky = (make_card_pledge(open_offering) for _ in range(2))
    unlucky_payment = provider.start(pledge=unlucky)
    lucky_payment = provider.start(pledge=lucky)
    by_transfer = services.pledge_create(
        offering=open_offering,
        investor=lucky.investor,
        amount=Decimal("50"),
        method="bank_transfer",
        idempotency_key="expiry-by-transfer",
    )
    transfer_payment = provider_for("bank_transfer").start(pledge=by_transfer)
    for pledge in (unlucky, lucky, by_transfer):
        overdue(pledge)
    cancel_calls.failing.add(unlucky_payment.provider_reference)

    with caplog.at_level(logging.WARNING, logger="finance.services"):
        assert services.pledges_expire_due() == 2

    assert Pledge.objects.get(pk=unlucky.pk).status == Pledge.Status.PENDING
    unlucky_payment.refresh_from_db()
    assert unlucky_payment.status == Payment.Status.CREATED
    assert intent_status(unlucky_payment.provider_reference) == "requires_payment_method"
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert any(
        f"pledge {unlucky.pk} not expired" in record.getMessage()
        and "APIConnectionError" in record.getMessage()
        for record in warnings
    )
    assert Pledge.objects.get(pk=lucky.pk).status == Pledge.Status.EXPIRED
    assert intent_status(lucky_payment.provider_reference) == "canceled"
    assert Pledge.objects.get(pk=by_transfer.pk).status == Pledge.Status.EXPIRED
    transfer_payment.refresh_from_db()
    assert transfer_payment.status == Payment.Status.CREATED  # nothing to cancel at a bank
    assert reserved(open_offering) == Decimal("100")  # the unlucky pledge's 100 only

    # Stripe answers again: the next run cancels with the same idempotency key and expires.
    cancel_calls.failing.clear()
    assert services.pledges_expire_due() == 1
    assert Pledge.objects.get(pk=unlucky.pk).status == Pledge.Status.EXPIRED
    assert intent_status(unlucky_payment.provider_reference) == "canceled"
    keys = [key for intent, key in cancel_calls if intent == unlucky_payment.provider_reference]
    assert keys == [f"payment-{unlucky_payment.pk}-cancel"] * 2
    assert reserved(open_offering) == 0


@pytest.mark.django_db
def test_unreachable_stripe_expires_nothing_by_card(settings, card_pledge, caplog):
    Payment.objects.create(
        pledge=card_pledge,
        provider="stripe",
        provider_reference="pi_unreachable",
        amount_minor=CARD_DUE_MINOR,
        currency="USD",
    )
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port
    overdue(card_pledge)

    with caplog.at_level(logging.WARNING, logger="finance.services"):
        assert services.pledges_expire_due() == 0

    assert Pledge.objects.get(pk=card_pledge.pk).status == Pledge.Status.PENDING
    assert f"pledge {card_pledge.pk} not expired" in caplog.text


# --- (d) Running the expiry again is harmless ----------------------------------------------


@pytest.mark.django_db
def test_running_the_expiry_twice_cancels_and_expires_once(localstripe, card_pledge, cancel_calls):
    payment = StripeProvider().start(pledge=card_pledge)
    overdue(card_pledge)

    assert services.pledges_expire_due() == 1
    assert services.pledges_expire_due() == 0
    # Asking the provider again, as a retried task might, calls Stripe no more.
    assert StripeProvider().cancel(payment=Payment.objects.get(pk=payment.pk)).status == (
        Payment.Status.CANCELLED
    )

    assert len(cancel_calls) == 1
    assert intent_status(payment.provider_reference) == "canceled"
    assert AuditEntry.objects.filter(action="payment.cancelled").count() == 1
    assert AuditEntry.objects.filter(action="pledge.expired").count() == 1
    assert reserved(card_pledge.offering) == 0
    assert Pledge.objects.get(pk=card_pledge.pk).status == Pledge.Status.EXPIRED


@pytest.mark.django_db
def test_an_intent_already_cancelled_at_stripe_counts_as_cancelled(
    localstripe, card_pledge, cancel_calls
):
    """A run that cancelled at Stripe and then died before expiring the pledge (or staff
    who cancelled the intent in Stripe's dashboard): Stripe refuses a second cancel, the
    intent is re-read, and the pledge expires."""
    payment = StripeProvider().start(pledge=card_pledge)
    stripe_client().v1.payment_intents.cancel(payment.provider_reference)
    overdue(card_pledge)

    assert services.pledges_expire_due() == 1

    assert len(cancel_calls) == 1
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELLED
    assert Pledge.objects.get(pk=card_pledge.pk).status == Pledge.Status.EXPIRED


# --- No row lock is held while Stripe is asked ------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_no_row_lock_is_held_while_stripe_is_asked_to_cancel(localstripe, monkeypatch):
    pledge = make_card_pledge(make_open_offering())
    payment = StripeProvider().start(pledge=pledge)
    overdue(pledge)
    cancel_intent = StripeProvider._cancel_intent
    seen: list[str] = []

    def lock_elsewhere() -> None:
        # Another connection takes every row the expiry will lock, without waiting.
        try:
            with transaction.atomic():
                Offering.objects.select_for_update(nowait=True).get(pk=pledge.offering_id)
                Pledge.objects.select_for_update(nowait=True).get(pk=pledge.pk)
                Payment.objects.select_for_update(nowait=True).get(pk=payment.pk)
            seen.append("locked")
        except DatabaseError as error:
            seen.append(f"blocked: {error}")
        finally:
            connection.close()

    def cancel_while_checking(provider, intent_id, *, idempotency_key):
        thread = threading.Thread(target=lock_elsewhere)
        thread.start()
        thread.join(10)
        return cancel_intent(provider, intent_id, idempotency_key=idempotency_key)

    monkeypatch.setattr(StripeProvider, "_cancel_intent", cancel_while_checking)

    assert services.pledges_expire_due() == 1

    assert seen == ["locked"]
    assert Pledge.objects.get(pk=pledge.pk).status == Pledge.Status.EXPIRED
    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.CANCELLED
