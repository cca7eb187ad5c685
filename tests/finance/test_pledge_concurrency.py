"""Concurrent pledges never take an offering past its cap (PostgreSQL row
lock), and the same test without the lock oversells, so it can fail."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client

from finance import services
from finance.ledger import balance
from finance.offerings import Offering, Pledge
from portal.models import User
from tests.conftest import requires_postgres, row_locked_elsewhere

from .builders import make_offering, pay

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

ATTEMPTS = 200
TICKETS = 50
WORKERS = 32  # concurrent database connections; PostgreSQL allows 100 by default


def run_concurrent_pledges(offering) -> dict[str, int]:
    investors = User.objects.bulk_create(
        User(email=f"crowd{i}-{offering.pk}@example.org", verification_tier="enhanced")
        for i in range(ATTEMPTS)
    )
    start = threading.Barrier(WORKERS)
    outcomes: dict[str, int] = {"paid_slot": 0, "refused": 0, "busy": 0}
    lock = threading.Lock()

    def attempt(index: int) -> None:
        if index < WORKERS:
            start.wait()  # let the first wave hit the offering at the same instant
        try:
            services.pledge_create(
                offering=offering,
                investor=investors[index],
                amount=Decimal("100"),
                method="bank_transfer",
                idempotency_key=f"crowd-{index}",
            )
            outcome = "paid_slot"
        except services.OfferingBusy:
            outcome = "busy"
        except services.PledgeRefused:
            outcome = "refused"
        finally:
            connections.close_all()
        with lock:
            outcomes[outcome] += 1

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(attempt, range(ATTEMPTS)))
    return outcomes


def test_two_hundred_concurrent_pledges_fill_exactly_fifty_tickets():
    offering = make_offering(
        target=Decimal("5000"),
        hard_cap=Decimal(100 * TICKETS),
        min_ticket=Decimal("100"),
        max_ticket=Decimal("100"),
    )
    outcomes = run_concurrent_pledges(offering)
    print(f"locked: {outcomes}")
    assert outcomes["paid_slot"] == TICKETS
    assert outcomes["refused"] + outcomes["busy"] == ATTEMPTS - TICKETS
    offering.refresh_from_db()
    assert offering.reserved == Decimal(100 * TICKETS)
    assert Pledge.objects.filter(offering=offering).count() == TICKETS
    for pledge in Pledge.objects.filter(offering=offering):
        pay(pledge)
    assert balance(services.escrow_account(offering)).amount == Decimal(100 * TICKETS)
    call_command("reconcile", "--strict", verbosity=0)


def test_without_the_row_lock_the_same_crowd_oversells(settings):
    settings.PUENTE_PLEDGE_LOCKING = False
    offering = make_offering(
        target=Decimal("5000"),
        hard_cap=Decimal(100 * TICKETS),
        min_ticket=Decimal("100"),
        max_ticket=Decimal("100"),
    )
    outcomes = run_concurrent_pledges(offering)
    print(f"unlocked: {outcomes}")
    assert connection.vendor == "postgresql"
    assert Pledge.objects.filter(offering=offering).count() > TICKETS


def concurrent_pledges_of_one_investor(offering, investor, attempts: int) -> dict[str, int]:
    start = threading.Barrier(attempts)
    outcomes: dict[str, int] = {"made": 0, "refused": 0}
    lock = threading.Lock()

    def attempt(index: int) -> None:
        start.wait()
        try:
            services.pledge_create(
                offering=offering,
                investor=investor,
                amount=Decimal("200"),
                method="bank_transfer",
                idempotency_key=f"limit-{index}",
            )
            outcome = "made"
        except services.PledgeRefused:
            outcome = "refused"
        finally:
            connections.close_all()
        with lock:
            outcomes[outcome] += 1

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        list(pool.map(attempt, range(attempts)))
    return outcomes


def test_concurrent_pledges_of_one_investor_never_pass_the_yearly_limit(settings):
    limit = settings.PUENTE_INVESTMENT_LIMITS_USD["unverified"]
    assert limit == Decimal("1000")
    offering = make_offering(target=Decimal("100000"), hard_cap=Decimal("100000"))
    investor = User.objects.create(email="eager@example.org", verification_tier="unverified")

    outcomes = concurrent_pledges_of_one_investor(offering, investor, attempts=12)

    assert outcomes == {"made": 5, "refused": 7}
    total = sum(Pledge.objects.filter(investor=investor).values_list("amount", flat=True))
    assert total == limit


@pytest.mark.parametrize(
    ("amount", "afterwards"),
    [("100", 302), ("6000", 400)],  # fits, and goes through; does not fit, and is refused
)
def test_an_offering_locked_elsewhere_answers_503_at_once_and_writes_nothing(
    settings, amount, afterwards
):
    """The lock timeout for real: another transaction holds the offering's
    row (a closing, a cancellation); the pledge page answers "busy, try
    again" within the timeout instead of queueing, and keeps no pledge. An
    amount that does not fit reserves nothing and queues for the lock with a
    locking read: the same timeout holds there."""
    settings.PUENTE_LOCK_TIMEOUT_MS = 200
    offering = make_offering(target=Decimal("5000"), hard_cap=Decimal("5000"))
    investor = User.objects.create(email="waiting@example.org", verification_tier="enhanced")
    client = Client()
    client.force_login(investor)
    with row_locked_elsewhere(Offering, offering.pk):
        started = time.monotonic()
        response = client.post(
            f"/en/offerings/{offering.pk}/pledge/",
            {"amount": amount, "method": "card", "key": "k", "confirm": "1"},
        )
        waited = time.monotonic() - started
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "try again" in response.content.decode()
    assert waited < 5  # the timeout, not the holder's 10 seconds
    assert not Pledge.objects.exists()
    offering.refresh_from_db()
    assert offering.reserved == 0
    # Once the holder is gone, the same form gets its answer.
    response = client.post(
        f"/en/offerings/{offering.pk}/pledge/",
        {"amount": amount, "method": "card", "key": "k", "confirm": "1"},
    )
    assert response.status_code == afterwards
    assert Pledge.objects.filter(amount=Decimal(amount)).count() == (afterwards == 302)
