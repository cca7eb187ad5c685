"""Coupon runs started twice for the same date: the second is told, in words, when the coupon
was paid and that nothing was posted again; staff start a run from Wagtail's admin; and a run
that fails midway leaves no leg behind. SQLite and PostgreSQL (the race needs PostgreSQL)."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connections

from finance import returns_services as rs
from finance.ledger import Leg, Transaction
from finance.money import Money
from finance.returns import CouponRun, Distribution, DistributionLine
from tests.conftest import enable_totp, requires_postgres
from tests.factories import UserFactory
from tests.finance.test_returns import START, assert_ledger_consistent, funded_bond, staff, wallet

D = Decimal
FIRST = datetime.date(2025, 7, 15)  # the first coupon of a bond issued on START
SECOND = datetime.date(2026, 1, 15)


@pytest.fixture
def bond(db):
    offering, holders = funded_bond()  # 3, 2 and 5 bonds of 100 at 5%, twice a year
    rs.bond_issue(offering=offering, issue_date=START)
    return offering, holders


def test_a_second_start_for_the_same_date_is_told_and_posts_nothing(bond):
    offering, holders = bond
    person = staff()
    run = rs.coupon_run_start(offering=offering, payment_date=FIRST, by=person, today=FIRST)
    assert run.total == D("25.00") and run.holders == 3
    wallets, legs = [wallet(h) for h in holders], Leg.objects.count()
    with pytest.raises(rs.CouponRunAlreadyDone, match="Nothing was posted again") as done:
        rs.coupon_run_start(offering=offering, payment_date=FIRST, by=staff(), today=FIRST)
    message = str(done.value)
    assert "already paid" in message and "25.00" in message and "3 holders" in message
    assert person.get_username() in message or person.get_full_name() in message
    assert done.value.run == run
    assert Leg.objects.count() == legs and [wallet(h) for h in holders] == wallets
    assert CouponRun.objects.count() == 1
    assert_ledger_consistent()


def test_a_coupon_paid_by_the_schedule_is_named_so(bond):
    offering, _holders = bond
    rs.coupon_run(offering=offering, payment_date=FIRST, today=FIRST)  # the daily task
    with pytest.raises(rs.CouponRunAlreadyDone, match="the daily schedule"):
        rs.coupon_run_start(offering=offering, payment_date=FIRST, by=staff(), today=FIRST)
    # The task itself stays quietly idempotent: it returns the run it finds.
    assert rs.coupon_run(offering=offering, payment_date=FIRST, today=FIRST).pk
    assert CouponRun.objects.count() == 1


def test_a_run_that_fails_midway_leaves_no_leg_and_can_run_again(bond, monkeypatch):
    offering, holders = bond
    legs, transactions = Leg.objects.count(), Transaction.objects.count()
    real_post_many = rs.post_many

    def half_then_fail(postings, **kwargs):
        real_post_many(postings[:1], **kwargs)  # the first holder is paid...
        raise RuntimeError("connection lost")  # ...and the run dies before the others

    monkeypatch.setattr(rs, "post_many", half_then_fail)
    with pytest.raises(RuntimeError):
        rs.coupon_run_start(offering=offering, payment_date=FIRST, by=staff(), today=FIRST)
    assert Leg.objects.count() == legs and Transaction.objects.count() == transactions
    assert not CouponRun.objects.exists() and not Distribution.objects.exists()
    assert not DistributionLine.objects.exists()
    assert all(wallet(h).amount == 0 for h in holders)
    monkeypatch.undo()
    run = rs.coupon_run_start(offering=offering, payment_date=FIRST, by=staff(), today=FIRST)
    assert sum((wallet(h) for h in holders), Money.zero("USD")) == Money(run.total, "USD")
    assert_ledger_consistent()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_started_at_the_same_instant_pay_once_and_the_other_is_told():
    offering, holders = funded_bond()
    # Committed here, so the disbursement already issued the bond, dated today.
    day = rs.bond_issue(offering=offering, issue_date=START).periods()[0].payment_date
    people = [staff(), staff()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def start(person) -> None:
        barrier.wait()
        try:
            rs.coupon_run_start(offering=offering, payment_date=day, by=person, today=day)
            outcome = "paid"
        except rs.CouponRunAlreadyDone:
            outcome = "told"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=start, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["paid", "told"]
    assert CouponRun.objects.count() == 1
    assert sum((wallet(h) for h in holders), Money.zero("USD")) == Money("25.00", "USD")
    assert_ledger_consistent()


# --- The staff trigger in Wagtail's admin ------------------------------------------------------


@pytest.fixture
def admin_client(client, reviewer):
    enable_totp(reviewer)
    client.force_login(reviewer)
    return client


def test_staff_run_a_due_coupon_from_the_admin_and_a_second_click_is_told(admin_client, bond):
    offering, holders = bond
    page = admin_client.get(f"/admin/money/offerings/{offering.pk}/coupons/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-coupon="2025-07-15" data-paid="0"' in body and "Run coupon for" in body
    url = f"/admin/money/offerings/{offering.pk}/coupons/run/"
    first = admin_client.post(url, {"payment_date": "2025-07-15"}, follow=True).content.decode()
    assert "paid: $25.00 to 3 holders" in first
    assert 'data-coupon="2025-07-15" data-paid="1"' in first
    legs = Leg.objects.count()
    second = admin_client.post(url, {"payment_date": "2025-07-15"}, follow=True).content.decode()
    assert "already paid" in second and "Nothing was posted again" in second
    assert Leg.objects.count() == legs and CouponRun.objects.count() == 1
    assert sum((wallet(h) for h in holders), Money.zero("USD")) == Money("25.00", "USD")
    assert_ledger_consistent()


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"payment_date": "2025-07-16"}, "No coupon of this bond is paid on 2025-07-16"),
        ({"payment_date": "2099-01-15"}, "No coupon of this bond is paid on"),
        ({"payment_date": "soon"}, "Choose the coupon date"),
        ({}, "Choose the coupon date"),
    ],
)
def test_a_date_without_a_coupon_is_refused_with_the_reason(admin_client, bond, posted, message):
    offering, _holders = bond
    url = f"/admin/money/offerings/{offering.pk}/coupons/run/"
    response = admin_client.post(url, posted, follow=True)
    assert message in response.content.decode()
    assert (
        not CouponRun.objects.exists()
        and not Transaction.objects.filter(kind="returns.coupon").exists()
    )


def test_people_without_the_reviewer_role_cannot_run_coupons(client, bond):
    offering, _holders = bond
    outsider = UserFactory(is_staff=True)
    enable_totp(outsider)
    client.force_login(outsider)
    url = f"/admin/money/offerings/{offering.pk}/coupons/run/"
    assert client.post(url, {"payment_date": "2025-07-15"}).status_code in (302, 403)
    assert client.get(f"/admin/money/offerings/{offering.pk}/coupons/").status_code in (302, 403)
    assert not CouponRun.objects.exists()


def test_the_coupon_page_costs_the_same_queries_after_runs(
    admin_client, bond, django_assert_max_num_queries
):
    offering, _holders = bond
    url = f"/admin/money/offerings/{offering.pk}/coupons/"
    admin_client.get(url)
    with django_assert_max_num_queries(14):
        assert admin_client.get(url).status_code == 200
    for day in (FIRST, SECOND):
        rs.coupon_run_start(offering=offering, payment_date=day, by=staff(), today=SECOND)
    with django_assert_max_num_queries(14):
        body = admin_client.get(url).content.decode()
    assert body.count('data-paid="1"') == 2
