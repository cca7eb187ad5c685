"""Pledges per second on one offering under 16 concurrent clients, each pledge
created through the real pledge view and paid with the card provider faked,
against a minimal view doing one INSERT, measured alternately in one run on
PostgreSQL. Prints figures, with the queries one pledge costs to create and
to pay; asserts only that the work was done.

The clients post the form as a browser does (URL-encoded), and the faked
provider pays as a card provider's success arrives: the payment row with
what was captured, written as the card provider writes its payment rows
(`Insert`), then `pledge_mark_paid`, which is what the webhook runs.

The investor's email is queued for a worker, as in production (serialized
as Celery sends it, and kept in a list): the test settings would send it
from inside the request that paid."""

import contextlib
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import connection, connections
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import path

from finance.money import Money
from finance.offerings import Payment, Pledge
from finance.services import pledge_fee, pledge_mark_paid
from portal import urls as portal_urls
from portal.models import AuditEntry, User
from portal.prepared import Insert
from tests.conftest import requires_postgres
from tests.finance.builders import make_offering, recording

pytestmark = [pytest.mark.perf, requires_postgres, pytest.mark.django_db(transaction=True)]

CLIENTS = 16
PER_CLIENT = 25  # pledges per client per round
# The minimal view's rounds last about as long as the pledges' (2 to 3 s):
# with rounds of 400 requests, a third of a second each, its rate swung from
# 590 to 1,270 a second between runs on the same machine.
INSERTS_PER_CLIENT = 150
ROUNDS = 3


def minimal_insert(request):
    AuditEntry.objects.create(action="bench.insert", object_type="bench", object_id="0")
    return HttpResponse("ok")


# The portal's own root URLconf (language-prefixed) plus the baseline view.
urlpatterns = [path("bench/insert/", minimal_insert), *portal_urls.urlpatterns]


def run_clients(work, per_client: int = PER_CLIENT) -> float:
    """Run `work(client_index, request_index)` per_client times from each of
    CLIENTS threads; return seconds."""
    barrier = threading.Barrier(CLIENTS)

    def client_loop(index):
        barrier.wait()
        try:
            for number in range(per_client):
                work(index, number)
        finally:
            connections.close_all()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(client_loop, range(CLIENTS)))
    return time.perf_counter() - started


@pytest.fixture
def queued_tasks(monkeypatch):
    """Each task sent is serialized as Celery sends it, and kept for a worker
    that never comes; returns what was queued."""
    from kombu.serialization import dumps

    from portal import tasks

    queued = []

    def delay(*args, **kwargs):
        queued.append(dumps((args, kwargs, {}), serializer="json"))

    monkeypatch.setattr(tasks.send_notification_email, "delay", delay)
    return queued


@pytest.mark.urls(__name__)
def test_pledges_per_second_against_a_minimal_insert(queued_tasks):
    total = CLIENTS * PER_CLIENT * ROUNDS
    offering = make_offering(
        target=Decimal(total * 10), hard_cap=Decimal(total * 10), min_ticket=Decimal("10")
    )
    investors = User.objects.bulk_create(
        User(email=f"bench{i}@example.org", verification_tier="enhanced") for i in range(CLIENTS)
    )
    clients = []
    for investor in investors:
        client = Client()
        client.force_login(investor)
        clients.append(client)

    queries: dict[str, int] = {}
    amount = Decimal("10")
    fee = pledge_fee(offering, amount, Pledge.Method.CARD)
    due_minor = Money(amount + fee, offering.currency).minor_units

    insert_payment = Insert(Payment)

    def pay(pledge_id: int) -> None:
        payment = insert_payment(
            Payment(
                pledge_id=pledge_id,
                provider=recording.name,
                provider_reference=f"rec-{pledge_id}",
                amount_minor=due_minor,
                currency=offering.currency,
                status=Payment.Status.SUCCEEDED,
                captured_minor=due_minor,
            )
        )
        pledge_mark_paid(payment=payment)

    def capture(counted: bool):
        # Capturing slows every query it sees: only the counted pledge pays for it.
        return CaptureQueriesContext(connection) if counted else contextlib.nullcontext([])

    def pledge_and_pay(index, number, round_number):
        # One pledge of the first round, while the others run, counts its queries.
        counted = round_number == 0 and index == 0 and number == PER_CLIENT // 2
        with capture(counted) as created:
            response = clients[index].post(
                f"/en/offerings/{offering.pk}/pledge/",
                urlencode(
                    {
                        "amount": str(amount),
                        "method": Pledge.Method.CARD,
                        "confirm": "1",
                        "key": f"bench-{round_number}-{index}-{number}",
                    }
                ),
                content_type="application/x-www-form-urlencoded",
            )
        assert response.status_code == 302, response.status_code
        pledge_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
        with capture(counted) as paid:
            pay(pledge_id)
        if counted:
            queries.update(create=len(created), pay=len(paid))

    def insert(index, number):
        assert clients[index].get("/bench/insert/").status_code == 200

    pledge_rates, insert_rates = [], []
    for round_number in range(ROUNDS):
        seconds = run_clients(insert, INSERTS_PER_CLIENT)
        insert_rates.append(CLIENTS * INSERTS_PER_CLIENT / seconds)
        seconds = run_clients(lambda i, n, r=round_number: pledge_and_pay(i, n, r))
        pledge_rates.append(CLIENTS * PER_CLIENT / seconds)

    paid = Pledge.objects.filter(offering=offering, status=Pledge.Status.PAID).count()
    assert paid == total
    assert len(queued_tasks) == total  # one email a payment, for a worker
    pledges, inserts = statistics.median(pledge_rates), statistics.median(insert_rates)
    print(
        f"\n{CLIENTS} concurrent clients, {ROUNDS} alternating rounds of "
        f"{CLIENTS * INSERTS_PER_CLIENT} minimal requests and {CLIENTS * PER_CLIENT} pledges, "
        "one offering, PostgreSQL"
    )
    print(f"{'':34}{'median/s':>10}{'per minute':>12}{'ratio':>8}")
    print(f"{'minimal view, one INSERT':34}{inserts:>10.1f}{inserts * 60:>12.0f}{1:>8.2f}")
    print(
        f"{'pledge created + paid (faked)':34}{pledges:>10.1f}{pledges * 60:>12.0f}"
        f"{pledges / inserts:>8.2f}"
    )
    print(f"rounds (pledges/s): {', '.join(f'{r:.1f}' for r in pledge_rates)}")
    print(f"rounds (minimal/s): {', '.join(f'{r:.1f}' for r in insert_rates)}")
    print(
        f"queries per pledge: {queries['create']} to create (the whole request), "
        f"{queries['pay']} to pay (statements, BEGIN and COMMIT included)"
    )
