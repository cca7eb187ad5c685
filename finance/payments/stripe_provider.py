"""Card payments through Stripe PaymentIntents.

The page confirms the intent with stripe.js (`confirmCardPayment`, which also
runs 3-D Secure); the server never sees a card. What the server believes
about a payment always comes from re-reading the intent (`sync`), never from
a browser redirect or a webhook body."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import stripe
from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from finance.locks import set_lock_timeout
from finance.offerings import Payment, Pledge
from portal.models import AuditEntry
from portal.prepared import Insert, Update

from . import register_provider
from .base import PaymentError, PaymentNotCancellable, PaymentProvider

logger = logging.getLogger(__name__)

# Shown to the investor; Stripe's own texts are shown only for card errors,
# which Stripe writes to be shown to the cardholder.
MESSAGES = {
    "unavailable": _(
        "The card payment service is not answering. Please try again in a few minutes."
    ),
    "refused": _("The card payment could not be prepared. Please try again or contact us."),
    "not_payable": _("This pledge can no longer be paid."),
    "not_card": _("This pledge is not paid by card."),
    "refund_refused": _("The refund could not be sent to the card. Our team has been told."),
}
# Stored on the Payment in English, the language staff read it in, and never
# carrying gateway internals; pages show it translated (`failure_text`).
GENERIC_FAILURE = "The payment did not go through. Please try another card."
CANCELLED_FAILURE = "The payment was cancelled."
#: What is stored, in each language: ours, and what Stripe writes for the
#: cardholder on the usual declines.
FAILURE_TEXTS = {
    GENERIC_FAILURE: _("The payment did not go through. Please try another card."),
    CANCELLED_FAILURE: _("The payment was cancelled."),
    "Your card was declined.": _("Your card was declined."),
    "Your card has insufficient funds.": _("Your card has insufficient funds."),
    "Your card has expired.": _("Your card has expired."),
    "Your card's security code is incorrect.": _("Your card's security code is incorrect."),
    "Your card number is incorrect.": _("Your card number is incorrect."),
    "Your postal code is incorrect.": _("Your postal code is incorrect."),
    "An error occurred while processing your card. Try again in a little bit.": _(
        "An error occurred while processing your card. Try again in a little bit."
    ),
}

# Every card payment is written once and its state once or twice, as save() would.
_INSERT_PAYMENT = Insert(Payment)
_UPDATE_PAYMENT_STATE = Update(Payment, "status", "captured_minor", "failure_message", "updated_at")


def failure_text(message: str) -> str:
    """A stored card failure in the language of the page: known messages are
    translated; another message from Stripe is shown as it is in English and
    replaced by the general one in other languages."""
    known = FAILURE_TEXTS.get(message)
    if known is not None:
        return str(known)
    if (translation.get_language() or "en").split("-")[0] == "en":
        return message
    return str(FAILURE_TEXTS[GENERIC_FAILURE])


# Codes whose `last_payment_error.message` Stripe writes for the cardholder.
CARDHOLDER_CODES = frozenset(
    {
        "card_declined",
        "expired_card",
        "incorrect_cvc",
        "incorrect_number",
        "incorrect_zip",
        "insufficient_funds",
        "invalid_cvc",
        "invalid_expiry_month",
        "invalid_expiry_year",
        "invalid_number",
        "processing_error",
        "authentication_required",
        "payment_intent_authentication_failure",
    }
)
# Errors after which asking again later may succeed: the webhook answers 503.
TRANSIENT_ERRORS = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


class StripeUnavailable(PaymentError):
    """Stripe could not be reached or answered with a server error: retry later."""


@functools.lru_cache(maxsize=4)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    # One client per key and base: its HTTP sessions are per thread, so the
    # client is safe to share between request threads. A short read timeout,
    # because sync holds the payment's row lock while it waits.
    base_addresses = {"api": api_base} if api_base else None
    return stripe.StripeClient(
        api_key,
        base_addresses=base_addresses,
        http_client=stripe.RequestsClient(timeout=(5, 20)),
        max_network_retries=2,
    )


def stripe_client() -> stripe.StripeClient:
    """The client for the configured key; STRIPE_API_BASE points it elsewhere
    (localstripe in tests)."""
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE or "")


def _field(obj, name: str, default=None):
    """A field of a Stripe object that may be absent (stripe objects are not dicts)."""
    if obj is None:
        return default
    value = getattr(obj, name, default)
    return default if value is None else value


def _as_payment_error(error: stripe.StripeError, action: str) -> PaymentError:
    detail = f"stripe {action} failed: {type(error).__name__} {error.http_status} {error}"
    if isinstance(error, TRANSIENT_ERRORS):
        return StripeUnavailable(detail, user_message=str(MESSAGES["unavailable"]))
    if isinstance(error, stripe.CardError) and error.user_message:
        return PaymentError(detail, user_message=str(error.user_message))
    return PaymentError(detail, user_message=str(MESSAGES["refused"]))


def _failure_message(intent) -> str:
    if _field(intent, "status") == "canceled":
        return CANCELLED_FAILURE
    error = _field(intent, "last_payment_error")
    if error is None:
        return GENERIC_FAILURE
    message = " ".join(str(_field(error, "message", "")).split())
    if message and (
        _field(error, "type") == "card_error" or _field(error, "code") in CARDHOLDER_CODES
    ):
        return message[:300]
    return GENERIC_FAILURE


#: The audit entry's reason for what `StripeProvider.cancel` found, by the intent's status.
CANCEL_REASONS = {
    "canceled": "cancelled so that no money can be taken for an ended pledge",
    "succeeded": "not cancelled: the card payment had already succeeded",
    "processing": "not cancelled: the card payment is processing",
}


#: Metadata ``puente_kind`` of an intent that repays a loan (finance.webhooks routes on it).
LOAN_REPAYMENT_KIND = "loan_repayment"


@dataclass(frozen=True, slots=True)
class IntentState:
    """What a PaymentIntent, as just read from Stripe, says: enough for a caller outside this
    module to decide without knowing Stripe's objects.

    ``outcome`` is "succeeded", "requires_action" (3-D Secure pending), "processing",
    "failed" (declined: the same intent takes another card), "cancelled", or "" while
    nothing is decided; ``failure_message`` is safe to show the cardholder."""

    id: str
    amount_minor: int | None
    currency: str
    outcome: str
    failure_message: str
    metadata: dict


def intent_state(intent) -> IntentState:
    status = _field(intent, "status")
    failure = ""
    if status == "succeeded":
        outcome = "succeeded"
    elif status in ("requires_action", "processing"):
        outcome = status
    elif status == "canceled":
        outcome, failure = "cancelled", _failure_message(intent)
    elif status == "requires_payment_method" and _field(intent, "last_payment_error"):
        outcome, failure = "failed", _failure_message(intent)
    else:
        outcome = ""
    metadata = _field(intent, "metadata", {})
    if hasattr(metadata, "to_dict"):
        metadata = metadata.to_dict()
    amount = _field(intent, "amount")
    return IntentState(
        id=str(_field(intent, "id", "")),
        amount_minor=int(amount) if amount is not None else None,
        currency=str(_field(intent, "currency", "")).upper(),
        outcome=outcome,
        failure_message=failure,
        metadata=dict(metadata or {}),
    )


class StripeProvider(PaymentProvider):
    name = "stripe"

    # --- Calls to Stripe (one place each, so tests can stand in for them) -------------------

    def _create_intent(self, *, payment: Payment, pledge: Pledge):
        return stripe_client().v1.payment_intents.create(
            params={
                "amount": payment.amount_minor,
                "currency": payment.currency.lower(),
                "payment_method_types": ["card"],
                "capture_method": "automatic",
                "metadata": {"pledge_id": str(pledge.pk), "payment_id": str(payment.pk)},
            },
            options={"idempotency_key": f"pledge-{pledge.pk}-intent"},
        )

    def _retrieve_intent(self, intent_id: str):
        return stripe_client().v1.payment_intents.retrieve(intent_id)

    def _create_loan_repayment_intent(self, *, card_payment):
        return stripe_client().v1.payment_intents.create(
            params={
                "amount": card_payment.amount_minor,
                "currency": card_payment.currency.lower(),
                "payment_method_types": ["card"],
                "capture_method": "automatic",
                "metadata": {
                    "puente_kind": LOAN_REPAYMENT_KIND,
                    "loan_card_payment": str(card_payment.pk),
                    "offering_id": str(card_payment.offering_id),
                },
            },
            options={"idempotency_key": f"loan-card-payment-{card_payment.pk}-intent"},
        )

    def _cancel_intent(self, intent_id: str, *, idempotency_key: str):
        return stripe_client().v1.payment_intents.cancel(
            intent_id, options={"idempotency_key": idempotency_key}
        )

    def _create_refund(self, *, intent_id: str, amount_minor: int, idempotency_key: str):
        return stripe_client().v1.refunds.create(
            params={"payment_intent": intent_id, "amount": amount_minor},
            options={"idempotency_key": idempotency_key},
        )

    # --- The provider contract ---------------------------------------------------------------

    def start(self, *, pledge):
        """Find or create the pledge's Stripe Payment and its PaymentIntent.

        Moves no money: the investor's browser confirms the intent with
        stripe.js using the stored client secret. A second call (page reload,
        double click) returns the same Payment without calling Stripe; if the
        first call died between creating the row and the intent, the retry
        reuses the idempotency key and so finds the same intent. A pledge that
        ended while its intent was being created gets the intent cancelled and
        refuses, so no client secret is handed out for it."""
        with transaction.atomic():
            locked = Pledge.objects.select_for_update().get(pk=pledge.pk)
            payment = (
                Payment.objects.filter(pledge=locked, provider=self.name).order_by("pk").first()
            )
            if payment is None:
                if locked.method != Pledge.Method.CARD:
                    raise PaymentError(
                        f"pledge {locked.pk} is paid by {locked.method}",
                        user_message=str(MESSAGES["not_card"]),
                    )
                if locked.status != Pledge.Status.PENDING:
                    raise PaymentError(
                        f"pledge {locked.pk} is {locked.status}",
                        user_message=str(MESSAGES["not_payable"]),
                    )
                due = locked.total_due
                payment = _INSERT_PAYMENT(
                    Payment(
                        pledge=locked,
                        provider=self.name,
                        # Minor units of the pledge's own currency: 5000 JPY is 5000, 50 USD is 5000.
                        amount_minor=due.minor_units,
                        currency=due.currency,
                    )
                )
        if payment.provider_reference and payment.client_secret:
            return payment
        if locked.status != Pledge.Status.PENDING:
            raise PaymentError(
                f"pledge {locked.pk} is {locked.status}", user_message=str(MESSAGES["not_payable"])
            )
        try:
            intent = self._create_intent(payment=payment, pledge=locked)
        except stripe.StripeError as error:
            logger.warning("stripe intent for pledge %s failed: %s", locked.pk, error)
            raise _as_payment_error(error, "create intent") from error
        from finance.services import lock_payment

        with transaction.atomic():
            # The pledge first, then the payment (the lock order of finance/services.py).
            # Under the pledge's lock the expiry either saw this intent, and cancels it, or
            # has expired the pledge already, and the intent is cancelled here.
            payment = lock_payment(payment)
            payable = Pledge.objects.filter(
                pk=payment.pledge_id, status=Pledge.Status.PENDING
            ).exists()
            if not payment.provider_reference:
                payment.provider_reference = intent.id
                payment.client_secret = intent.client_secret
                payment.save(update_fields=["provider_reference", "client_secret", "updated_at"])
        if not payable:
            try:
                self.cancel(payment=payment)
            except PaymentError as error:
                # Nobody has its client secret, so nobody can confirm it meanwhile.
                logger.warning("stripe intent of ended pledge %s left open: %s", locked.pk, error)
            raise PaymentError(
                f"pledge {locked.pk} ended while its intent was created",
                user_message=str(MESSAGES["not_payable"]),
            )
        return payment

    def sync(self, *, payment):
        """Re-read the PaymentIntent and apply its state to the Payment.

        The intent is read while the Payment's row lock is held, so two
        deliveries racing each other apply their reads in the order they made
        them: a stale read can never overwrite a fresher one. A succeeded
        payment is final (refunds are tracked separately) and needs no call.
        Raises StripeUnavailable when Stripe cannot answer now, PaymentError
        when the intent does not match the payment, and OperationalError when
        the row lock is not granted in time."""
        from finance.services import lock_payment

        with transaction.atomic():
            set_lock_timeout()
            # The pledge first, then the payment: the lock order of finance/services.py.
            payment = lock_payment(payment)
            if payment.status == Payment.Status.SUCCEEDED or not payment.provider_reference:
                return payment
            try:
                intent = self._retrieve_intent(payment.provider_reference)
            except stripe.StripeError as error:
                logger.warning("stripe retrieve %s failed: %s", payment.provider_reference, error)
                raise _as_payment_error(error, "retrieve intent") from error
            self._apply(payment, intent)
        return payment

    def _apply(self, payment: Payment, intent, *, reason: str = "") -> None:
        amount = _field(intent, "amount")
        currency = str(_field(intent, "currency", "")).upper()
        if intent.id != payment.provider_reference or (amount, currency) != (
            payment.amount_minor,
            payment.currency,
        ):
            raise PaymentError(
                f"intent {intent.id} ({amount} {currency}) does not match payment "
                f"{payment.pk} ({payment.amount_minor} {payment.currency})",
                user_message=str(MESSAGES["refused"]),
            )
        before = payment.status
        status = _field(intent, "status")
        if status == "succeeded":
            # localstripe leaves out amount_received; an automatically captured
            # intent that succeeded received its whole amount.
            received = _field(intent, "amount_received", amount)
            payment.status = Payment.Status.SUCCEEDED
            payment.captured_minor = min(int(received), payment.amount_minor)
            payment.failure_message = ""
        elif status == "requires_action":
            # 3-D Secure: confirmCardPayment on the page shows the bank's check.
            payment.status = Payment.Status.REQUIRES_ACTION
        elif status == "canceled":
            # Final: a cancelled intent takes no card any more.
            payment.status = Payment.Status.CANCELLED
            payment.failure_message = _failure_message(intent)
        elif status == "requires_payment_method" and _field(intent, "last_payment_error"):
            # After a decline the same intent accepts another card: the page
            # shows the message and the card form again.
            payment.status = Payment.Status.FAILED
            payment.failure_message = _failure_message(intent)
        else:
            # requires_payment_method before any attempt, requires_confirmation,
            # processing: nothing decided yet.
            return
        _UPDATE_PAYMENT_STATE(payment)
        if payment.status != before:
            AuditEntry.record(
                actor=None,
                action=f"payment.{payment.status}",
                obj=payment,
                from_state=before,
                to_state=payment.status,
                reason=reason,
                data={"intent": intent.id, "intent_status": status},
            )
        if payment.status == Payment.Status.SUCCEEDED:
            from finance.services import pledge_mark_paid

            pledge_mark_paid(payment=payment)

    def cancel(self, *, payment):
        """Cancel the payment's PaymentIntent, so the investor can no longer be charged for it.

        The call to Stripe is made with no row lock held, under an idempotency key naming
        the payment; its answer is applied (as `sync` applies a read) in a short
        transaction afterwards. Applying a read made before taking the lock is safe here,
        because only final states are applied: canceled and succeeded never change again.
        An intent that was already cancelled counts as cancelled. Stripe refuses to cancel
        an intent that succeeded or is processing: then the intent is re-read, a success
        is recorded (the pledge is paid, or refunded if it had already ended) and
        PaymentNotCancellable is raised. A payment without an intent yet has nothing to
        cancel: `start` re-checks the pledge under its lock before it hands one out.
        Raises StripeUnavailable when Stripe cannot answer now, PaymentError when it
        refuses for another reason."""
        if payment.status == Payment.Status.CANCELLED:
            return payment
        if payment.status == Payment.Status.SUCCEEDED:
            raise PaymentNotCancellable(f"payment {payment.pk} has succeeded")
        if not payment.provider_reference:
            return payment
        intent_id = payment.provider_reference
        try:
            intent = self._cancel_intent(intent_id, idempotency_key=f"payment-{payment.pk}-cancel")
        except stripe.InvalidRequestError as refusal:
            # Stripe's answer for an intent no longer cancellable (succeeded, processing or
            # cancelled before); what the intent is now decides.
            intent = self._intent_after_refused_cancel(intent_id, refusal)
        except stripe.StripeError as error:
            logger.warning("stripe cancel of %s failed: %s", intent_id, error)
            raise _as_payment_error(error, "cancel intent") from error
        status = _field(intent, "status")
        if status not in ("canceled", "succeeded", "processing"):
            raise PaymentError(f"payment {payment.pk}: intent {intent_id} is {status} after cancel")
        from finance.services import lock_payment

        with transaction.atomic():
            set_lock_timeout()
            payment = lock_payment(payment)
            if payment.status != Payment.Status.SUCCEEDED:
                self._apply(payment, intent, reason=CANCEL_REASONS[status])
        if status != "canceled":
            raise PaymentNotCancellable(f"payment {payment.pk}: intent {intent_id} is {status}")
        return payment

    def _intent_after_refused_cancel(self, intent_id: str, refusal: stripe.StripeError):
        """The intent, re-read after Stripe refused to cancel it, when the refusal is
        explained by its state; raises PaymentError otherwise."""
        try:
            intent = self._retrieve_intent(intent_id)
        except stripe.StripeError as error:
            logger.warning("stripe retrieve %s failed: %s", intent_id, error)
            raise _as_payment_error(error, "retrieve intent") from error
        if _field(intent, "status") in ("canceled", "succeeded", "processing"):
            return intent
        logger.warning("stripe refused to cancel %s: %s", intent_id, refusal)
        raise _as_payment_error(refusal, "cancel intent") from refusal

    # --- Loan repayments by card (finance.returns_services) ----------------------------------

    def create_loan_repayment_intent(self, *, card_payment):
        """Create the PaymentIntent of a loan card payment (a `LoanCardPayment`) and return
        it. Moves no money: the entrepreneur's browser confirms it with stripe.js. The
        idempotency key names the card payment, so a retry after a crash gets the same
        intent back. Raises PaymentError (StripeUnavailable when worth retrying)."""
        try:
            return self._create_loan_repayment_intent(card_payment=card_payment)
        except stripe.StripeError as error:
            logger.warning(
                "stripe intent for loan card payment %s failed: %s", card_payment.pk, error
            )
            raise _as_payment_error(error, "create intent") from error

    def read_intent(self, intent_id: str) -> IntentState:
        """Re-read an intent from Stripe. Raises StripeUnavailable when Stripe cannot answer
        now, PaymentError for any other refusal."""
        try:
            intent = self._retrieve_intent(intent_id)
        except stripe.StripeError as error:
            logger.warning("stripe retrieve %s failed: %s", intent_id, error)
            raise _as_payment_error(error, "retrieve intent") from error
        return intent_state(intent)

    def refund(self, *, payment, amount_minor: int, idempotency_key: str) -> str:
        """Refund part or all of a captured PaymentIntent. Stripe keeps the
        idempotency key for 24 hours, so a retried refund workflow gets the
        first refund back instead of a second one."""
        if not payment.provider_reference:
            raise PaymentError(
                f"payment {payment.pk} has no intent to refund",
                user_message=str(MESSAGES["refund_refused"]),
            )
        try:
            refund = self._create_refund(
                intent_id=payment.provider_reference,
                amount_minor=amount_minor,
                idempotency_key=idempotency_key,
            )
        except stripe.StripeError as error:
            logger.error("stripe refund of payment %s failed: %s", payment.pk, error)
            failure = _as_payment_error(error, "refund")
            if not isinstance(failure, StripeUnavailable):
                failure.user_message = str(MESSAGES["refund_refused"])
            raise failure from error
        return refund.id


register_provider(StripeProvider())
