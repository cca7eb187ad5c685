"""The Stripe webhook (payment succeeded) and the investor's cancellation
racing on the same pledge: both take their row locks in the one order of
finance/services.py (offering, pledge, payment, pools, project), so they
never deadlock, and whoever wins, the pledge, its payment, its matching, the
offering's capacity, the escrow and the catalogue's figures agree.

Before the fix, paying locked the payment, then the pledge together with
its offering (a select_related under FOR UPDATE), while cancelling locks the
offering, then the pledge: three rounds of this test gave PostgreSQL
"deadlock detected" twice and a queue of lock timeouts behind them."""

import random
import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
import stripe
from django.db import connection, transaction
from django.test import Client

from finance import services
from finance.ledger import balance
from finance.offerings import MatchAllocation, MatchingPool, Payment, Pledge
from finance.payments.stripe_provider import StripeProvider
from portal.models import AuditEntry
from tests.conftest import requires_postgres, row_locked_elsewhere
from tests.factories import OrganizationFactory

from .builders import recording
from .conftest import deliver, make_card_pledge, make_investor, make_open_offering, stripe_event

pytestmark = [
    requires_postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("tests.finance.urls_for_webhook_tests"),
]

ROUNDS = 15
RACES_PER_ROUND = 8  # pledges raced at once: 16 threads, 16 connections


class SlowStripe:
    """Stripe's side: every intent has succeeded; reading one takes a few
    milliseconds (the webhook holds its locks meanwhile), refunds succeed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rng = random.Random(4)
        self.refunds: list[str] = []

    def pause(self) -> None:
        with self.lock:
            delay = self.rng.uniform(0, 0.004)
        time.sleep(delay)

    def create(self, *, payment, pledge):
        return stripe.PaymentIntent.construct_from(
            {"id": f"pi_race_{payment.pk}", "client_secret": f"pi_race_{payment.pk}_secret"},
            "sk_test",
        )

    def retrieve(self, intent_id: str):
        payment = Payment.objects.get(provider_reference=intent_id)
        self.pause()
        return stripe.PaymentIntent.construct_from(
            {
                "id": intent_id,
                "amount": payment.amount_minor,
                "currency": payment.currency.lower(),
                "status": "succeeded",
                "last_payment_error": None,
            },
            "sk_test",
        )

    def cancel(self, intent_id: str):
        """Stripe refuses to cancel an intent that has succeeded."""
        self.pause()
        raise stripe.InvalidRequestError(
            "You cannot cancel this PaymentIntent because it has a status of succeeded.",
            param=None,
            code="payment_intent_unexpected_state",
        )

    def refund(self, *, intent_id: str, amount_minor: int, idempotency_key: str):
        with self.lock:
            self.refunds.append(idempotency_key)
        return stripe.Refund.construct_from({"id": f"re_{idempotency_key}"}, "sk_test")


@pytest.fixture
def slow_stripe(monkeypatch):
    fake = SlowStripe()
    monkeypatch.setattr(StripeProvider, "_create_intent", lambda provider, **kw: fake.create(**kw))
    monkeypatch.setattr(
        StripeProvider, "_retrieve_intent", lambda provider, intent_id: fake.retrieve(intent_id)
    )
    monkeypatch.setattr(StripeProvider, "_create_refund", lambda provider, **kw: fake.refund(**kw))
    monkeypatch.setattr(
        StripeProvider, "_cancel_intent", lambda provider, intent_id, **kw: fake.cancel(intent_id)
    )
    return fake


def race(payments: list[Payment], seed: int) -> tuple[Counter, list[str]]:
    """For each payment, at the same instant: Stripe's webhook says it
    succeeded, and the investor cancels the pledge. Returns the webhook's
    answers and what went wrong on the investor's side."""
    start = threading.Barrier(2 * len(payments))
    answers: Counter = Counter()
    failures: list[str] = []
    lock = threading.Lock()

    def webhook(payment: Payment, rng: random.Random) -> None:
        try:
            start.wait()
            time.sleep(rng.uniform(0, 0.004))
            event = stripe_event("payment_intent.succeeded", payment.provider_reference)
            status = deliver(Client(), event).status_code
            with lock:
                answers[status] += 1
        finally:
            connection.close()

    def cancel(payment: Payment, rng: random.Random) -> None:
        try:
            start.wait()
            time.sleep(rng.uniform(0, 0.006))
            pledge = Pledge.objects.select_related("offering", "investor").get(pk=payment.pledge_id)
            services.pledge_cancel(pledge=pledge, by=pledge.investor)
        except Exception as error:  # every failure is reported by the test
            with lock:
                failures.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    rng = random.Random(seed)
    threads = []
    for payment in payments:
        threads.append(
            threading.Thread(target=webhook, args=(payment, random.Random(rng.random())))
        )
        threads.append(threading.Thread(target=cancel, args=(payment, random.Random(rng.random()))))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers, failures


def test_webhook_and_cancellation_racing_never_deadlock_and_agree(slow_stripe):
    offering = make_open_offering()
    project = offering.project
    project.funding_sought = Decimal("100000")
    project.save(update_fields=["funding_sought"])
    pool = MatchingPool.objects.create(
        offering=offering,
        sponsor=OrganizationFactory(name="Municipio"),
        ratio=1,
        cap_per_offering=Decimal("100000"),
    )
    all_payments: list[Payment] = []
    answers: Counter = Counter()
    failures: list[str] = []
    for round_number in range(ROUNDS):
        payments = [
            StripeProvider().start(
                pledge=make_card_pledge(offering, amount=str(10 + i), investor=make_investor())
            )
            for i in range(RACES_PER_ROUND)
        ]
        round_answers, round_failures = race(payments, seed=round_number)
        answers.update(round_answers)
        failures.extend(round_failures)
        all_payments.extend(payments)

    # No deadlock (the webhook would answer 503, the cancellation raise).
    assert not failures, failures
    assert answers == {200: ROUNDS * RACES_PER_ROUND}

    pledges = {p.pk: p for p in Pledge.objects.filter(offering=offering)}
    payments = {p.pledge_id: p for p in Payment.objects.filter(pledge__offering=offering)}
    live = Counter()
    for allocation in MatchAllocation.objects.filter(pool=pool, released=False):
        live[allocation.pledge_id] += allocation.amount
    late = set(
        int(pk)
        for pk in AuditEntry.objects.filter(
            action="pledge.late_payment", object_type="finance.pledge"
        ).values_list("object_id", flat=True)
    )
    outcomes = Counter()
    for pledge in pledges.values():
        payment = payments[pledge.pk]
        assert payment.status == Payment.Status.SUCCEEDED
        outcomes[pledge.status] += 1
        if pledge.status == Pledge.Status.PAID:
            # Cancelling in the reflection period is never refused.
            pytest.fail(f"pledge {pledge.pk} is paid although its investor cancelled it")
        elif pledge.status == Pledge.Status.REFUNDED:
            # Paid first, then cancelled: money and matching went back.
            assert payment.refunded_minor == payment.captured_minor, pledge.pk
            assert live[pledge.pk] == 0, pledge.pk
        else:
            # Cancelled first: the payment arrived late and went straight back
            # through Stripe; it matched nothing. Before the lock-order fix a
            # pledge paid a moment before the cancellation ended here too, with
            # its money and matching kept.
            assert pledge.status == Pledge.Status.CANCELLED, pledge.pk
            assert pledge.pk in late, pledge.pk
            assert payment.refunded_minor == payment.captured_minor, pledge.pk
            assert live[pledge.pk] == 0, pledge.pk
    print(f"outcomes: {dict(outcomes)}")

    offering.refresh_from_db()
    pool.refresh_from_db()
    project.refresh_from_db()
    assert offering.reserved == 0
    assert pool.committed == sum(live.values(), Decimal("0")) == 0
    # Every payment went back, late ones included: nothing is left in escrow.
    assert balance(services.escrow_account(offering)).amount == 0
    assert project.amount_raised == 0
    assert len(slow_stripe.refunds) == len(pledges)


def test_paying_waits_for_the_pledge_without_holding_its_payment():
    """`pledge_mark_paid` locks the pledge and the payment in one statement:
    while another transaction holds the pledge, the payment stays free. A
    statement that took the payment first (FOR UPDATE OF in the other order)
    would hold it while waiting, and a workflow holding the pledge and asking
    for the payment (a cancellation, a bank line) would deadlock with it."""
    pledge = make_card_pledge(make_open_offering())
    payment = recording.start(pledge=pledge)
    Payment.objects.filter(pk=payment.pk).update(
        status=Payment.Status.SUCCEEDED, captured_minor=payment.amount_minor
    )
    failures: list[BaseException] = []

    def pay():
        try:
            services.pledge_mark_paid(payment=payment)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)
        finally:
            connection.close()

    with row_locked_elsewhere(Pledge, pledge.pk):
        payer = threading.Thread(target=pay)
        payer.start()
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        with connection.cursor() as cursor:
            for _ in range(200):
                cursor.execute(waiting)
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.01)
            else:
                pytest.fail("the payment never waited for the pledge")
        with transaction.atomic():
            # Raises "could not obtain lock" if the waiting payer holds it.
            Payment.objects.select_for_update(nowait=True).get(pk=payment.pk)
    payer.join(10)
    assert not payer.is_alive() and not failures, failures
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.PAID
