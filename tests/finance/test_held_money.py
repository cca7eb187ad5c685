"""Money held for an offering (paid beyond what was due, or after it could no longer be
applied) and sent back by staff: the offering's admin page shows what is held and how it
came, and recording a transfer back moves it out of the excess account once per reference,
never more than is held."""

from __future__ import annotations

import datetime
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from finance import returns_services as rs
from finance.ledger import Account, Transaction
from finance.money import Money
from portal.models import AuditEntry
from tests.conftest import enable_totp, requires_postgres, row_locked_elsewhere
from tests.factories import UserFactory
from tests.finance.test_returns import START, assert_ledger_consistent, funded_loan

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def loan_with_excess():
    """A loan whose first installment was paid 3.00 over: 3.00 held."""
    offering, _lenders = funded_loan()
    schedule = rs.loan_fix_schedule(offering=offering, start_date=START)
    first = schedule.installments.get(number=1)
    rs.repayment_record(
        offering=offering,
        amount=Money(first.payment + D("3.00"), "USD"),
        received_on=first.due_date,
        idempotency_key="over",
    )
    assert rs.excess_held(offering) == Money("3.00", "USD")
    return offering


def send_back(offering, amount: Money, reference: str, by) -> rs.HeldMoneyReturned:
    return rs.excess_return(
        offering=offering,
        amount=amount,
        sent_on=datetime.date(2025, 3, 1),
        reference=reference,
        by=by,
    )


def returned(offering) -> int:
    return Transaction.objects.filter(kind="returns.excess_returned").count()


def test_staff_send_held_money_back_once_per_reference_and_never_more_than_held(
    client, loan_with_excess, reviewer
):
    offering = loan_with_excess
    enable_totp(reviewer)
    client.force_login(reviewer)
    page = f"/admin/money/offerings/{offering.pk}/actions/"
    body = client.get(page).content.decode()
    assert "data-held" in body and "3.00" in body
    assert 'data-held-leg="returns.excess_held"' in body and "Paid beyond what was due" in body
    url = f"/admin/money/offerings/{offering.pk}/held/return/"
    data = {"amount": "2.00", "sent_on": "2025-03-01", "reference": "TR  0042"}

    done = client.post(url, data, follow=True).content.decode()
    assert "2.00 sent back" in done and "1.00 is still held" in done
    assert rs.excess_held(offering) == Money("1.00", "USD")
    assert 'data-held-leg="returns.excess_returned"' in done
    # The same transfer typed again records nothing.
    again = client.post(url, {**data, "reference": " TR 0042 "}, follow=True).content.decode()
    assert "already recorded: nothing was recorded again" in again
    # The same reference for another amount, and more than is held, are refused.
    other = client.post(url, {**data, "amount": "1.00"}, follow=True).content.decode()
    assert "already recorded for another amount" in other
    more = client.post(url, {**data, "amount": "1.01", "reference": "TR 43"}, follow=True)
    assert "Only $1.00 is held" in more.content.decode()
    assert rs.excess_held(offering) == Money("1.00", "USD") and returned(offering) == 1
    assert AuditEntry.objects.filter(action="returns.excess_returned").count() == 1

    # The loan's page shows what is held now, not what was ever paid over.
    client.force_login(offering.project.owner)
    loan = client.get(f"/en/loans/{offering.pk}/").content.decode()
    assert "data-excess>$1.00<" in loan
    assert_ledger_consistent()


def test_the_rest_sent_back_empties_the_hold_and_the_form_goes(client, loan_with_excess, reviewer):
    offering = loan_with_excess
    send_back(offering, Money("3.00", "USD"), "all", reviewer)
    assert rs.excess_held(offering).amount == 0
    enable_totp(reviewer)
    client.force_login(reviewer)
    page = f"/admin/money/offerings/{offering.pk}/actions/"
    body = client.get(page, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Dinero retenido para revisión" in body  # the history stays
    assert "Devuelto a quien pagó" in body
    assert "held/return/" not in body  # nothing left to send back
    assert_ledger_consistent()


@pytest.mark.parametrize(
    ("amount", "reference", "message"),
    [
        (Money("1.00", "EUR"), "r", "held in USD"),
        (Money("0", "USD"), "r", "greater than zero"),
        (Money("0.001", "USD"), "r", "whole minor units"),
        (Money("1.00", "USD"), "   ", "reference of the transfer"),
    ],
)
def test_a_return_that_breaks_a_rule_is_refused_and_moves_nothing(
    loan_with_excess, reviewer, amount, reference, message
):
    with pytest.raises(rs.HeldMoneyRefused, match=message):
        send_back(loan_with_excess, amount, reference, reviewer)
    assert rs.excess_held(loan_with_excess) == Money("3.00", "USD")


def test_only_reviewers_send_held_money_back(client, loan_with_excess):
    offering = loan_with_excess
    for person in (offering.project.owner, UserFactory(is_staff=True)):
        with pytest.raises(rs.HeldMoneyRefused, match="Only staff"):
            send_back(offering, Money("1.00", "USD"), "x", person)
        enable_totp(person)
        client.force_login(person)
        response = client.post(
            f"/admin/money/offerings/{offering.pk}/held/return/",
            {"amount": "1.00", "sent_on": "2025-03-01", "reference": "x"},
        )
        assert response.status_code in (302, 403)
    assert rs.excess_held(offering) == Money("3.00", "USD") and returned(offering) == 0


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_return_submitted_twice_at_once_is_recorded_and_audited_once(
    loan_with_excess, reviewer
):
    """Both submissions wait for the held money's account; the second, let in after the
    first committed, finds it recorded: one transaction, one audit entry, one "recorded"."""
    offering = loan_with_excess
    results, failures = [], []

    def submit():
        try:
            results.append(send_back(offering, Money("2.00", "USD"), "TR 7", reviewer).recorded)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)
        finally:
            connection.close()

    with row_locked_elsewhere(Account, rs.excess_account(offering).pk):
        threads = [threading.Thread(target=submit) for _ in range(2)]
        for thread in threads:
            thread.start()
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        with connection.cursor() as cursor:
            for _ in range(300):
                cursor.execute(waiting)
                if cursor.fetchone()[0] >= 2:
                    break
                time.sleep(0.01)
            else:
                pytest.fail(f"the two submissions never both waited for the account: {failures}")
    for thread in threads:
        thread.join(10)
    assert not failures, failures
    assert sorted(results) == [False, True]
    assert returned(offering) == 1
    assert AuditEntry.objects.filter(action="returns.excess_returned").count() == 1
    assert rs.excess_held(offering) == Money("1.00", "USD")
