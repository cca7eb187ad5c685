"""Transactions that handle several pledges lock them all first, in pk order.

A bank statement import books its lines in file order and an offering closing
goes through its pledges one by one; before either touches a payment, a pool
or the project, it holds every pledge it may handle (`services.pledges_lock`).
Otherwise an import holding pledge B and waiting for A, and a closing holding A
(and the project row) and waiting for B, deadlock.

Each test stops the workflow after its first pledge and checks, from another
connection, that the pledges it has not reached yet are already locked. Before
the fix they were free, so these tests failed."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import OperationalError, connections, transaction
from django.utils import timezone

from finance import services, statements_import
from finance.offerings import Offering, Pledge
from finance.statements_import import import_statement
from tests.conftest import requires_postgres
from tests.finance.builders import make_offering, make_pledge, pay
from tests.finance.test_loan_repayment_channels import csv_statement

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

TIMEOUT = 20


def is_locked(pledge: Pledge) -> bool:
    """Whether another transaction holds the pledge's row lock (asked without waiting)."""
    try:
        with transaction.atomic():
            list(Pledge.objects.select_for_update(nowait=True).filter(pk=pledge.pk))
    except OperationalError:
        return True
    return False


def pause_after_first_call(monkeypatch, module, name: str):
    """Make `module.name` stop after its first call until released; returns
    (reached, release) events."""
    original = getattr(module, name)
    reached, release = threading.Event(), threading.Event()
    calls = []

    def paused(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            reached.set()
            assert release.wait(TIMEOUT), "the test never released the workflow"
        return result

    monkeypatch.setattr(module, name, paused)
    return reached, release


def run_in_thread(work) -> tuple[threading.Thread, list]:
    errors: list[BaseException] = []

    def target():
        try:
            work()
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, errors


def test_a_statement_import_locks_every_pledge_it_names_before_booking_the_first(monkeypatch):
    offering = make_offering(currency="EUR")
    first, second = make_pledge(offering, "100"), make_pledge(offering, "200")
    # The file names the later pledge first: booking in file order alone would
    # take `second`, then `first`.
    statement = csv_statement(
        ("E-2", datetime.date(2026, 3, 2), second.total_due.amount, "EUR", second.bank_reference),
        ("E-1", datetime.date(2026, 3, 2), first.total_due.amount, "EUR", first.bank_reference),
    )
    reached, release = pause_after_first_call(monkeypatch, statements_import, "match_line")
    thread, errors = run_in_thread(
        lambda: import_statement(file_bytes=statement, filename="march.csv", uploaded_by=None)
    )
    try:
        assert reached.wait(TIMEOUT), errors
        assert is_locked(first), "the import had not locked the pledge of its second line"
        assert is_locked(second)
    finally:
        release.set()
        thread.join(TIMEOUT)
    assert not errors, errors
    statuses = set(Pledge.objects.filter(pk__in=[first.pk, second.pk]).values_list("status"))
    assert statuses == {(Pledge.Status.PAID,)}


def test_an_offering_closing_locks_all_its_pledges_before_refunding_the_first(monkeypatch):
    offering = make_offering(
        target=Decimal("100000"), funding_rule=Offering.FundingRule.ALL_OR_NOTHING
    )
    first, second = make_pledge(offering, "100"), make_pledge(offering, "200")
    pending = make_pledge(offering, "300")
    for pledge in (first, second):
        pay(pledge)
    Offering.objects.filter(pk=offering.pk).update(
        closes_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    reached, release = pause_after_first_call(monkeypatch, services, "refund_pledge")
    thread, errors = run_in_thread(lambda: services.offering_close(offering=offering))
    try:
        assert reached.wait(TIMEOUT), errors
        assert is_locked(second), "the closing had not locked the pledge it refunds next"
        assert is_locked(pending)
    finally:
        release.set()
        thread.join(TIMEOUT)
    assert not errors, errors
    offering.refresh_from_db()
    assert offering.status == Offering.Status.FAILED
    assert dict(Pledge.objects.filter(offering=offering).values_list("pk", "status")) == {
        first.pk: Pledge.Status.REFUNDED,
        second.pk: Pledge.Status.REFUNDED,
        pending.pk: Pledge.Status.EXPIRED,
    }
