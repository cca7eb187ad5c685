"""Card payments through Stripe, against localstripe: paying (with Stripe's
own webhook delivery), declines, 3-D Secure, zero-decimal currencies and
refunds, and what the pledge and the ledger say after each."""

import time
from decimal import Decimal

import pytest
import stripe
from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import F

from finance.ledger import Transaction, balance
from finance.offerings import Payment, Pledge, ProviderEvent, Refund
from finance.payments import PaymentError
from finance.payments.stripe_provider import StripeProvider, stripe_client
from finance.services import escrow_account, fees_account, refund_pledge

from .conftest import deliver, make_card_pledge, make_open_offering, stripe_event

URLS = "tests.finance.urls_for_webhook_tests"
THREE_D_SECURE_CARD = "4000002500003155"


def three_d_secure_card() -> str:
    """A payment method at localstripe whose payments wait for the bank's check."""
    card = {"number": THREE_D_SECURE_CARD, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    return stripe_client().v1.payment_methods.create(params={"type": "card", "card": card}).id


def pay_with(intent_id: str, payment_method: str):
    """Confirm the intent with a card, as stripe.js does from the pledge page.

    Real Stripe takes `confirm(id, payment_method=...)` in one call;
    localstripe only confirms an intent that already has its payment method,
    so the method is attached first."""
    client = stripe_client()
    client.v1.payment_intents.update(intent_id, params={"payment_method": payment_method})
    return client.v1.payment_intents.confirm(intent_id)


def reconcile_strict():
    # Raises CommandError(returncode=1) on any difference.
    call_command("reconcile", "--strict", verbosity=0)


@pytest.mark.urls(URLS)
@pytest.mark.django_db(transaction=True)
def test_card_payment_is_confirmed_by_stripes_own_webhook(localstripe, live_server):
    localstripe.register_webhook(
        live_server.url + "/webhooks/stripe/",
        settings.STRIPE_WEBHOOK_SECRET,
        events=["payment_intent.succeeded", "payment_intent.payment_failed"],
    )
    pledge = make_card_pledge(make_open_offering(), amount="100")
    payment = StripeProvider().start(pledge=pledge)
    assert payment.status == Payment.Status.CREATED

    intent = pay_with(payment.provider_reference, "pm_card_visa")
    assert intent.status == "succeeded"

    # Nothing is paid until Stripe's webhook says so (localstripe sends it after 1 s). The
    # webhook marks its event processed after the payment is recorded: wait for both.
    # This intent's event: a webhook a test before this one set off may arrive meanwhile.
    processed = ProviderEvent.objects.filter(
        provider="stripe",
        type="payment_intent.succeeded",
        payload__data__object__id=payment.provider_reference,
        processed_at__isnull=False,
    )
    deadline = time.monotonic() + 15
    while not processed.exists():
        assert time.monotonic() < deadline, "the webhook never processed the payment's event"
        time.sleep(0.1)

    assert Pledge.objects.get(pk=pledge.pk).status == Pledge.Status.PAID
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.captured_minor == payment.amount_minor == 10150  # 100.00 + 1.5 % card fee
    offering = pledge.offering
    assert balance(escrow_account(offering)).amount == Decimal("100.00")
    assert balance(fees_account("USD")).amount == Decimal("1.50")
    assert Transaction.objects.filter(kind="pledge.payment").count() == 1
    reconcile_strict()


@pytest.mark.django_db
def test_start_creates_one_intent_for_the_total_due_and_returns_it_again(localstripe, card_pledge):
    provider = StripeProvider()
    payment = provider.start(pledge=card_pledge)
    again = provider.start(pledge=card_pledge)

    assert again.pk == payment.pk
    assert again.provider_reference == payment.provider_reference
    assert Payment.objects.filter(pledge=card_pledge).count() == 1
    assert payment.client_secret.startswith(payment.provider_reference + "_secret_")
    stored = localstripe.stored("payment_intent", payment.provider_reference)
    assert stored.amount == 10150
    assert stored.currency == "usd"
    assert stored.capture_method == "automatic"
    assert stored.metadata == {"pledge_id": str(card_pledge.pk), "payment_id": str(payment.pk)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "currency, amount, minor",
    [("JPY", "5000", 5000), ("XOF", "5000", 5000), ("USD", "50", 5000), ("KWD", "5", 5000)],
)
def test_intent_amount_is_in_the_currencys_own_minor_units(
    localstripe, settings, currency, amount, minor
):
    # Without the card fee, so the amount sent is exactly the pledge.
    settings.PUENTE_FEE_RATES = {**settings.PUENTE_FEE_RATES, "card": Decimal("0")}
    pledge = make_card_pledge(make_open_offering(currency=currency), amount=amount)

    payment = StripeProvider().start(pledge=pledge)

    stored = localstripe.stored("payment_intent", payment.provider_reference)
    assert (stored.amount, stored.currency) == (minor, currency.lower())
    assert payment.amount_minor == minor


@pytest.mark.django_db
def test_yen_pledge_with_card_fee_is_charged_in_whole_yen(localstripe):
    pledge = make_card_pledge(make_open_offering(currency="JPY"), amount="5000")
    payment = StripeProvider().start(pledge=pledge)

    # 5,000 JPY plus 75 JPY fee: 5075, not 507500.
    assert localstripe.stored("payment_intent", payment.provider_reference).amount == 5075

    pay_with(payment.provider_reference, "pm_card_visa")
    StripeProvider().sync(payment=payment)
    assert balance(escrow_account(pledge.offering)).amount == Decimal("5000")
    assert balance(fees_account("JPY")).amount == Decimal("75")


@pytest.mark.urls(URLS)
@pytest.mark.django_db
def test_declined_card_fails_the_payment_and_leaves_the_pledge_pending(
    localstripe, client, card_pledge
):
    payment = StripeProvider().start(pledge=card_pledge)

    with pytest.raises(stripe.CardError):
        pay_with(payment.provider_reference, "pm_card_chargeCustomerFail")
    response = deliver(
        client, stripe_event("payment_intent.payment_failed", payment.provider_reference)
    )

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert payment.failure_message == "Your card was declined."
    assert payment.captured_minor == 0
    card_pledge.refresh_from_db()
    assert card_pledge.status == Pledge.Status.PENDING
    assert not Transaction.objects.exists()


@pytest.mark.django_db
def test_three_d_secure_card_waits_for_the_bank_then_pays(localstripe, card_pledge):
    provider = StripeProvider()
    payment = provider.start(pledge=card_pledge)
    assert pay_with(payment.provider_reference, three_d_secure_card()).status == "requires_action"
    payment = provider.sync(payment=payment)
    assert payment.status == Payment.Status.REQUIRES_ACTION
    assert Pledge.objects.get(pk=card_pledge.pk).status == Pledge.Status.PENDING

    # The investor completes the bank's check in confirmCardPayment's dialog.
    localstripe.request(
        "POST",
        f"/v1/payment_intents/{payment.provider_reference}/_authenticate?success=true",
        f'{{"key": "pk_test", "client_secret": "{payment.client_secret}"}}'.encode(),
    )
    payment = provider.sync(payment=payment)
    assert payment.status == Payment.Status.SUCCEEDED
    assert Pledge.objects.get(pk=card_pledge.pk).status == Pledge.Status.PAID


@pytest.mark.django_db
def test_full_refund_goes_through_stripe_once(localstripe, card_pledge):
    provider = StripeProvider()
    payment = provider.start(pledge=card_pledge)
    pay_with(payment.provider_reference, "pm_card_visa")
    payment = provider.sync(payment=payment)
    assert payment.captured_minor == 10150

    with transaction.atomic():
        refund_pledge(pledge=card_pledge, reason="test")
    with transaction.atomic():
        refund_pledge(pledge=card_pledge, reason="test again")

    payment.refresh_from_db()
    assert payment.refunded_minor == payment.captured_minor == 10150
    refund = Refund.objects.get(payment=payment)
    assert refund.amount_minor == 10150
    assert refund.provider_reference.startswith("re_")
    stored = localstripe.stored("refund", refund.provider_reference)
    assert (stored.amount, stored.payment_intent) == (10150, payment.provider_reference)
    refunds_at_stripe = stripe_client().v1.refunds.list(
        params={"payment_intent": payment.provider_reference}
    )
    assert [r.id for r in refunds_at_stripe.data] == [refund.provider_reference]
    assert balance(escrow_account(card_pledge.offering)).amount == 0
    assert balance(fees_account("USD")).amount == 0
    reconcile_strict()

    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(refunded_minor=F("captured_minor") + 1)


@pytest.mark.django_db
def test_refund_stripe_refuses_is_a_payment_error_with_a_safe_message(localstripe, card_pledge):
    provider = StripeProvider()
    payment = provider.start(pledge=card_pledge)
    with pytest.raises(stripe.CardError):
        pay_with(payment.provider_reference, "pm_card_chargeCustomerFail")

    with pytest.raises(PaymentError) as refused:
        provider.refund(payment=payment, amount_minor=100, idempotency_key="refund-test-1")

    assert (
        refused.value.user_message
        == "The refund could not be sent to the card. Our team has been told."
    )
    assert "failed payment" in str(refused.value)  # the gateway's words stay in the log text


@pytest.mark.django_db
def test_unreachable_stripe_is_a_payment_error_the_page_can_show(settings, card_pledge):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port

    with pytest.raises(PaymentError) as unavailable:
        StripeProvider().start(pledge=card_pledge)

    assert "not answering" in unavailable.value.user_message
    payment = Payment.objects.get(pledge=card_pledge)
    assert payment.provider_reference == ""  # the next try creates the intent
