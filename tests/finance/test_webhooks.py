"""The Stripe webhook: only correctly signed, fresh events are accepted; each
is stored once and only triggers a re-read of the payment, so any number of
deliveries in any order, concurrently, ends where one clean delivery does."""

import datetime
import json
import queue
import random
import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
import stripe
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone

from finance.ledger import Account, Transaction, balances
from finance.offerings import Offering, Payment, Pledge, ProviderEvent
from finance.payments import stripe_provider
from finance.payments.stripe_provider import StripeProvider
from finance.services import pledge_fee
from portal.models import AuditEntry
from tests.conftest import requires_postgres, row_locked_elsewhere

from .conftest import (
    WEBHOOK_URL,
    deliver,
    make_card_pledge,
    make_investor,
    make_open_offering,
    stripe_event,
    stripe_signature,
)

pytestmark = pytest.mark.urls("tests.finance.urls_for_webhook_tests")

DECLINED = {"type": "card_error", "code": "card_declined", "message": "Your card was declined."}


class FakeStripe:
    """Stands in for Stripe's PaymentIntents API: intents are read back in
    whatever state the test gives them, and each read is counted."""

    def __init__(self):
        self.intents: dict[str, dict] = {}
        self.retrievals = Counter()

    def set(self, intent_id: str, status: str, *, error=None, **fields):
        self.intents[intent_id].update(status=status, last_payment_error=error, **fields)

    def create(self, *, payment, pledge):
        intent_id = f"pi_fake_{payment.pk}"
        self.intents[intent_id] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": payment.amount_minor,
            "currency": payment.currency.lower(),
            "client_secret": f"{intent_id}_secret_x",
            "status": "requires_payment_method",
            "last_payment_error": None,
            "metadata": {"pledge_id": str(pledge.pk), "payment_id": str(payment.pk)},
        }
        return stripe.PaymentIntent.construct_from(dict(self.intents[intent_id]), "sk_test")

    def retrieve(self, intent_id):
        self.retrievals[intent_id] += 1
        if intent_id not in self.intents:
            raise stripe.InvalidRequestError("No such payment_intent", "id", http_status=404)
        return stripe.PaymentIntent.construct_from(dict(self.intents[intent_id]), "sk_test")


@pytest.fixture
def fake_stripe(monkeypatch):
    fake = FakeStripe()
    monkeypatch.setattr(StripeProvider, "_create_intent", lambda provider, **kw: fake.create(**kw))
    monkeypatch.setattr(
        StripeProvider, "_retrieve_intent", lambda provider, intent_id: fake.retrieve(intent_id)
    )
    return fake


def started_payment(offering=None, amount="100", investor=None) -> Payment:
    pledge = make_card_pledge(offering or make_open_offering(), amount=amount, investor=investor)
    return StripeProvider().start(pledge=pledge)


# --- Refusals: nothing is written -------------------------------------------------------------


BAD_DELIVERIES = {
    "forged signature": lambda payload: {
        "HTTP_STRIPE_SIGNATURE": f"t={int(time.time())},v1={'0' * 64}"
    },
    "wrong secret": lambda payload: {
        "HTTP_STRIPE_SIGNATURE": stripe_signature(payload, "whsec_someone_else")
    },
    "stale timestamp": lambda payload: {
        "HTTP_STRIPE_SIGNATURE": stripe_signature(
            payload, "whsec_puente", timestamp=int(time.time()) - 301
        )
    },
    "no signature": lambda payload: {},
    "garbage header": lambda payload: {"HTTP_STRIPE_SIGNATURE": "nonsense"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(BAD_DELIVERIES))
def test_unverifiable_events_are_refused_and_nothing_is_written(
    client, settings, fake_stripe, case
):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_puente"
    payment = started_payment()
    fake_stripe.set(payment.provider_reference, "succeeded")
    payload = json.dumps(stripe_event("payment_intent.succeeded", payment.provider_reference))

    response = client.post(
        WEBHOOK_URL, data=payload, content_type="application/json", **BAD_DELIVERIES[case](payload)
    )

    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()
    assert fake_stripe.retrievals[payment.provider_reference] == 0
    assert Pledge.objects.get(pk=payment.pledge_id).status == Pledge.Status.PENDING
    assert not Transaction.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("payload", ["{not json", "[]", '{"id": "evt_1"}', '"text"'])
def test_correctly_signed_but_malformed_events_are_refused(client, payload):
    assert deliver(client, payload).status_code == 400
    assert not ProviderEvent.objects.exists()


@pytest.mark.django_db
def test_only_post_is_accepted(client):
    assert client.get(WEBHOOK_URL).status_code == 405
    assert not ProviderEvent.objects.exists()


# --- Accepted events ------------------------------------------------------------------------


@pytest.mark.django_db
def test_ignored_event_types_are_stored_once_and_answered_200(client):
    event = stripe_event("customer.created")

    assert deliver(client, event).status_code == 200
    assert deliver(client, event).status_code == 200

    stored = ProviderEvent.objects.get()
    assert (stored.provider, stored.event_id, stored.type) == (
        "stripe",
        event["id"],
        "customer.created",
    )
    assert stored.payload == event
    assert stored.processed_at is not None


@pytest.mark.django_db
def test_event_for_an_unknown_intent_is_stored_and_answered_200(client, fake_stripe):
    response = deliver(client, stripe_event("payment_intent.succeeded", "pi_not_ours"))

    assert response.status_code == 200
    stored = ProviderEvent.objects.get()
    assert stored.processed_at is None  # left for staff to look at
    assert fake_stripe.retrievals["pi_not_ours"] == 0


@pytest.mark.django_db
def test_event_body_is_only_a_trigger(client, fake_stripe):
    payment = started_payment()
    # The event claims success; Stripe says the card was declined.
    fake_stripe.set(payment.provider_reference, "requires_payment_method", error=DECLINED)

    response = deliver(client, stripe_event("payment_intent.succeeded", payment.provider_reference))

    assert response.status_code == 200
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert payment.failure_message == "Your card was declined."
    assert Pledge.objects.get(pk=payment.pledge_id).status == Pledge.Status.PENDING


@pytest.mark.django_db
def test_gateway_details_never_reach_the_failure_message(client, fake_stripe):
    payment = started_payment()
    error = {"type": "api_error", "code": "internal", "message": "shard 7 timed out (req_123)"}
    fake_stripe.set(payment.provider_reference, "requires_payment_method", error=error)

    deliver(client, stripe_event("payment_intent.payment_failed", payment.provider_reference))

    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert payment.failure_message == "The payment did not go through. Please try another card."


@pytest.mark.django_db
def test_repeated_deliveries_pay_once(client, fake_stripe):
    payment = started_payment()
    fake_stripe.set(payment.provider_reference, "succeeded", amount_received=payment.amount_minor)
    event = stripe_event("payment_intent.succeeded", payment.provider_reference)
    other = stripe_event("payment_intent.succeeded", payment.provider_reference)

    statuses = [deliver(client, e).status_code for e in (event, event, other, event)]

    assert statuses == [200, 200, 200, 200]
    assert ProviderEvent.objects.count() == 2
    assert not ProviderEvent.objects.filter(processed_at=None).exists()
    assert Transaction.objects.filter(kind="pledge.payment").count() == 1
    assert AuditEntry.objects.filter(action="pledge.paid").count() == 1
    # The payment is final after the first: no more calls to Stripe.
    assert fake_stripe.retrievals[payment.provider_reference] == 1


@pytest.mark.django_db
def test_decline_then_success_with_another_card(client, fake_stripe):
    payment = started_payment()
    intent = payment.provider_reference
    fake_stripe.set(intent, "requires_payment_method", error=DECLINED)
    deliver(client, stripe_event("payment_intent.payment_failed", intent))
    fake_stripe.set(intent, "succeeded", amount_received=payment.amount_minor)

    # The late failure event arrives after the success event: both re-read Stripe.
    deliver(client, stripe_event("payment_intent.succeeded", intent))
    deliver(client, stripe_event("payment_intent.payment_failed", intent))

    payment.refresh_from_db()
    assert (payment.status, payment.failure_message) == (Payment.Status.SUCCEEDED, "")
    assert Pledge.objects.get(pk=payment.pledge_id).status == Pledge.Status.PAID


@pytest.mark.django_db
def test_stripe_unreachable_answers_503_and_the_retry_processes_it(
    client, fake_stripe, monkeypatch
):
    payment = started_payment()
    fake_stripe.set(payment.provider_reference, "succeeded")
    event = stripe_event("payment_intent.succeeded", payment.provider_reference)

    def unreachable(provider, intent_id):
        raise stripe.APIConnectionError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(StripeProvider, "_retrieve_intent", unreachable)
        response = deliver(client, event)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert ProviderEvent.objects.get().processed_at is None

    assert deliver(client, event).status_code == 200
    assert ProviderEvent.objects.get().processed_at is not None
    assert Pledge.objects.get(pk=payment.pledge_id).status == Pledge.Status.PAID


@pytest.mark.django_db
def test_lock_timeout_answers_503(client, fake_stripe, monkeypatch):
    payment = started_payment()

    def busy(self, *, payment):
        raise OperationalError("canceling statement due to lock timeout")

    monkeypatch.setattr(StripeProvider, "sync", busy)
    response = deliver(client, stripe_event("payment_intent.succeeded", payment.provider_reference))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_payment_locked_elsewhere_answers_503_not_a_wait(settings, fake_stripe):
    settings.PUENTE_LOCK_TIMEOUT_MS = 200
    payment = started_payment()
    fake_stripe.set(payment.provider_reference, "succeeded")
    event = stripe_event("payment_intent.succeeded", payment.provider_reference)
    with row_locked_elsewhere(Payment, payment.pk):
        started = time.monotonic()
        response = deliver(Client(), event)
        assert response.status_code == 503
        assert time.monotonic() - started < 2

    assert deliver(Client(), event).status_code == 200
    assert Pledge.objects.get(pk=payment.pledge_id).status == Pledge.Status.PAID


# --- Replay: 200 pledges, each event three times, shuffled, 8 at a time ------------------------

PLEDGES = 200
DELIVERIES_EACH = 3
WORKERS = 8


def _outcome(index: int) -> str:
    return "failed" if index % 4 == 1 else "succeeded"


def _prepare_run(fake: FakeStripe, run: str, currency: str):
    """200 started card payments on a fresh offering, their intents in their
    final state at 'Stripe', and the one event each that announces it.

    Rows are written in bulk, as pledge_create and StripeProvider.start would
    leave them (those are tested above); this test is about the webhook."""
    offering = make_open_offering(currency=currency)
    investor = make_investor()
    now = timezone.now()
    pledges = Pledge.objects.bulk_create(
        Pledge(
            offering=offering,
            investor=investor,
            amount=Decimal(10 + index),
            fee=pledge_fee(offering, Decimal(10 + index), "card"),
            currency=currency,
            method="card",
            idempotency_key=f"{run}-{index}",
            created_at=now,
            expires_at=now + datetime.timedelta(days=3),
        )
        for index in range(PLEDGES)
    )
    Offering.objects.filter(pk=offering.pk).update(reserved=sum(p.amount for p in pledges))
    payments = Payment.objects.bulk_create(
        Payment(
            pledge=pledge,
            provider="stripe",
            provider_reference=f"pi_{run}_{index}",
            client_secret=f"pi_{run}_{index}_secret_x",
            amount_minor=pledge.total_due.minor_units,
            currency=currency,
        )
        for index, pledge in enumerate(pledges)
    )
    events = []
    for index, payment in enumerate(payments):
        intent = payment.provider_reference
        fake.intents[intent] = {
            "id": intent,
            "amount": payment.amount_minor,
            "currency": currency.lower(),
        }
        if _outcome(index) == "succeeded":
            fake.set(intent, "succeeded", amount_received=payment.amount_minor)
            event_type = "payment_intent.succeeded"
        else:
            fake.set(intent, "requires_payment_method", error=DECLINED)
            event_type = "payment_intent.payment_failed"
        events.append(stripe_event(event_type, intent, event_id=f"evt_{run}_{index}"))
    return offering, payments, events


def _state(offering, payments, currency: str) -> dict:
    """What a person could see of one run, with its ids taken out."""
    pledge_ids = [p.pledge_id for p in payments]
    by_pk = {p.pk: p for p in Payment.objects.filter(pk__in=[p.pk for p in payments])}
    pledges = {p.pk: p for p in Pledge.objects.filter(pk__in=pledge_ids)}
    accounts = list(Account.objects.filter(currency=currency))
    keys = {a.pk: (a.kind, a.key.replace(f"offering:{offering.pk}", "offering")) for a in accounts}
    return {
        "pledges": [pledges[pk].status for pk in pledge_ids],
        "payments": [
            (by_pk[p.pk].status, by_pk[p.pk].captured_minor, by_pk[p.pk].failure_message)
            for p in payments
        ],
        "balances": {keys[pk]: money.minor_units for pk, money in balances(accounts).items()},
        "transactions": Transaction.objects.filter(legs__currency=currency).distinct().count(),
        "audit": Counter(
            AuditEntry.objects.filter(
                object_type="finance.pledge", object_id__in=[str(pk) for pk in pledge_ids]
            ).values_list("action", flat=True)
        ),
    }


def _post(client, payload: str, header: str) -> int:
    return client.post(
        WEBHOOK_URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    ).status_code


def _deliver_until_accepted(client, payload: str, secret: str) -> int:
    """Deliver as Stripe does: again after a 503 (lock timeout), signed anew."""
    for _attempt in range(20):
        status = _post(client, payload, stripe_signature(payload, secret))
        if status != 503:
            return status
        time.sleep(0.05)
    return status


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_replayed_shuffled_concurrent_deliveries_end_like_one_clean_delivery(settings, fake_stripe):
    secret = settings.STRIPE_WEBHOOK_SECRET
    clean_offering, clean_payments, clean_events = _prepare_run(fake_stripe, "clean", "USD")
    offering, payments, events = _prepare_run(fake_stripe, "replay", "EUR")

    # The reference: every event once, in order, one at a time.
    client = Client()
    for event in clean_events:
        assert _deliver_until_accepted(client, json.dumps(event), secret) == 200
    expected = _state(clean_offering, clean_payments, "USD")
    assert Counter(expected["pledges"]) == {"paid": 150, "pending": 50}

    # The same story told three times over, shuffled, eight deliveries at once,
    # with forged, wrongly keyed and stale copies of new events mixed in.
    rng = random.Random(20240611)
    work = [("good", json.dumps(event)) for event in events * DELIVERIES_EACH]
    now = int(time.time())
    for index in range(30):
        forged = json.dumps(
            stripe_event(
                "payment_intent.succeeded",
                payments[index].provider_reference,
                event_id=f"evt_forged_{index}",
            )
        )
        header = [
            stripe_signature(forged, "whsec_wrong"),
            stripe_signature(forged, secret, timestamp=now - 3600),
            f"t={now},v1={'ab' * 32}",
        ][index % 3]
        work.append(("bad", forged, header))
    rng.shuffle(work)
    jobs: queue.Queue = queue.Queue()
    for item in work:
        jobs.put(item)
    results: Counter = Counter()
    errors: list[BaseException] = []

    def worker():
        client = Client()
        try:
            while True:
                try:
                    item = jobs.get_nowait()
                except queue.Empty:
                    return
                if item[0] == "good":
                    results["good", _deliver_until_accepted(client, item[1], secret)] += 1
                else:
                    results["bad", _post(client, item[1], item[2])] += 1
        except BaseException as error:  # reported in the main thread
            errors.append(error)
        finally:
            connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    assert not errors, errors
    assert results == {("good", 200): PLEDGES * DELIVERIES_EACH, ("bad", 400): 30}
    assert _state(offering, payments, "EUR") == expected
    assert not ProviderEvent.objects.filter(event_id__startswith="evt_forged_").exists()
    assert ProviderEvent.objects.filter(event_id__startswith="evt_replay_").count() == PLEDGES
    assert not ProviderEvent.objects.filter(processed_at=None).exists()
    print(f"{len(work)} deliveries by {WORKERS} threads in {elapsed:.2f} s")


def test_provider_registers_itself():
    from finance.payments import provider_for

    assert isinstance(provider_for("stripe"), StripeProvider)
    assert stripe_provider.StripeProvider.name == "stripe"
