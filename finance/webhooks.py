"""Webhooks from payment providers.

Stripe signs each event; an event whose signature, secret or timestamp does
not check out is refused before anything is written. A verified event is
stored once by its id and then treated only as a trigger: the payment is
re-read from Stripe (`StripeProvider.sync`), so duplicated, late or
out-of-order deliveries all end in Stripe's real state.

An intent is a pledge's card payment (`Payment`) or an entrepreneur's card
repayment of a loan (`LoanCardPayment`, its metadata says
``puente_kind=loan_repayment``); each goes to its own sync."""

from __future__ import annotations

import json
import logging

import stripe
from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .offerings import Payment, ProviderEvent
from .payments.base import PaymentError
from .payments.stripe_provider import LOAN_REPAYMENT_KIND, StripeProvider, StripeUnavailable
from .returns import LoanCardPayment
from .returns_services import loan_card_payment_sync
from .services import OfferingBusy

logger = logging.getLogger(__name__)

#: How old a signed event may be, in seconds: older ones are refused as replays.
SIGNATURE_TOLERANCE = 300
#: Seconds Stripe is asked to wait before delivering again after a 503.
RETRY_AFTER = "5"


def _answer(status: int, text: str) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def _retry_later(text: str) -> HttpResponse:
    response = _answer(503, text)
    response["Retry-After"] = RETRY_AFTER
    return response


def _verified_event(request) -> tuple[str, str, str, dict] | None:
    """(event id, type, payment intent id or "", parsed body) of a correctly
    signed, well-formed event; None for anything else."""
    try:
        event = stripe.Webhook.construct_event(
            request.body,
            request.headers.get("Stripe-Signature", ""),
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=SIGNATURE_TOLERANCE,
        )
        body = json.loads(request.body)
        event_id, event_type = event.id, event.type
        intent_id = event.data.object.id if event_type.startswith("payment_intent.") else ""
    except (stripe.SignatureVerificationError, ValueError, TypeError, AttributeError, KeyError):
        return None
    fields = (event_id, event_type, intent_id)
    if not all(isinstance(value, str) and len(value) <= 100 for value in fields) or not event_id:
        return None
    return event_id, event_type, intent_id, body


def _store(event_id: str, event_type: str, body: dict) -> ProviderEvent:
    # Stripe delivers at least once, sometimes twice at the same moment: the
    # unique (provider, event_id) keeps one row, and the loser reads it.
    try:
        with transaction.atomic():
            return ProviderEvent.objects.create(
                provider=StripeProvider.name, event_id=event_id, type=event_type, payload=body
            )
    except IntegrityError:
        return ProviderEvent.objects.get(provider=StripeProvider.name, event_id=event_id)


def _mark_processed(event: ProviderEvent) -> None:
    ProviderEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
        processed_at=timezone.now()
    )


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def stripe_webhook(request):
    verified = _verified_event(request)
    if verified is None:
        return _answer(400, "invalid event or signature")
    event_id, event_type, intent_id, body = verified
    try:
        return _process(event_id, event_type, intent_id, body)
    except (OperationalError, OfferingBusy):
        # A lock not granted in time (or the database briefly away): Stripe
        # delivers again, and the event is stored once whatever happens.
        logger.info("stripe event %s: busy, asking to retry", event_id)
        return _retry_later("busy, retry later")
    except StripeUnavailable as error:
        logger.warning("stripe event %s: could not re-read the intent: %s", event_id, error)
        return _retry_later("provider unavailable, retry later")


def _process(event_id: str, event_type: str, intent_id: str, body: dict) -> HttpResponse:
    event = _store(event_id, event_type, body)
    if event.processed_at is not None:
        return _answer(200, "already processed")
    if not intent_id:
        _mark_processed(event)
        return _answer(200, "ignored")
    if _is_loan_repayment(body):
        return _process_loan_repayment(event, intent_id)
    payment = Payment.objects.filter(
        provider=StripeProvider.name, provider_reference=intent_id
    ).first()
    if payment is None and LoanCardPayment.objects.filter(provider_reference=intent_id).exists():
        # An event body without the intent's metadata (a thin event): the intent is still
        # known as a loan repayment by its id.
        return _process_loan_repayment(event, intent_id)
    if payment is None:
        # Not one of ours (another system on the same Stripe account), or an
        # intent whose row was never saved; left unprocessed for staff to see.
        logger.warning(
            "stripe event %s (%s) for unknown intent %s", event_id, event_type, intent_id
        )
        return _answer(200, "unknown payment")
    try:
        StripeProvider().sync(payment=payment)
    except StripeUnavailable:
        raise
    except PaymentError:
        # Not something a retry fixes by itself: keep it unprocessed and loud.
        logger.exception("stripe event %s: payment %s could not be synced", event_id, payment.pk)
        return _answer(500, "not processed")
    _mark_processed(event)
    return _answer(200, "processed")


def _is_loan_repayment(body: dict) -> bool:
    """The event's intent says it repays a loan. This only chooses where to look the intent
    up: what happened to it is always read back from Stripe."""
    data = body.get("data")
    intent = data.get("object") if isinstance(data, dict) else None
    metadata = intent.get("metadata") if isinstance(intent, dict) else None
    return isinstance(metadata, dict) and metadata.get("puente_kind") == LOAN_REPAYMENT_KIND


def _process_loan_repayment(event: ProviderEvent, intent_id: str) -> HttpResponse:
    card_payment = LoanCardPayment.objects.filter(provider_reference=intent_id).first()
    if card_payment is None:
        logger.warning(
            "stripe event %s (%s) for unknown loan repayment intent %s",
            event.event_id,
            event.type,
            intent_id,
        )
        return _answer(200, "unknown payment")
    try:
        loan_card_payment_sync(card_payment=card_payment)
    except StripeUnavailable:
        raise
    except PaymentError:
        logger.exception(
            "stripe event %s: loan card payment %s could not be synced",
            event.event_id,
            card_payment.pk,
        )
        return _answer(500, "not processed")
    _mark_processed(event)
    return _answer(200, "processed")
