"""Returns benchmark on PostgreSQL: a coupon run for a bond held by 20,000 investors and a
repayment distribution over 5,000 lenders, in committed transactions (so the ledger's
deferred balance triggers run), reporting seconds, ledger legs per second and the query
count; and the query count of a coupon run for 2,000 holders against 20,000, to show the
work is done in bulk (queries grow with batches, not with investors).

It prints figures and asserts no timing. Run it with

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/returnswork \\
    .venv/bin/python -m pytest tests/perf/bench_returns.py -q -s -p no:cacheprovider
"""

from __future__ import annotations

import datetime
import itertools
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import requires_postgres

pytestmark = [pytest.mark.perf, requires_postgres, pytest.mark.django_db(transaction=True)]

_batch = itertools.count()
ISSUE = datetime.date(2025, 1, 15)


def _people(count: int) -> list[int]:
    """Users in bulk: the benchmark is about distributing, not about signing up."""
    from portal.models import User

    tag = next(_batch)
    users = User.objects.bulk_create(
        [
            User(email=f"bench{tag}-{n}@example.org", password="!", full_name=f"Holder {n}")
            for n in range(count)
        ],
        batch_size=5000,
    )
    return [u.pk for u in users]


def _offering(instrument: str, holders: list[int], ticket: Decimal, **terms):
    """A disbursed offering with one paid pledge per holder, written in bulk."""
    from finance.offerings import Disbursement, Offering, Pledge
    from tests.factories import OrganizationFactory, StaffFactory, TerritoryFactory
    from tests.finance.builders import make_offering

    if instrument == "bond":
        terms["issuer"] = OrganizationFactory(kind="local_government", territory=TerritoryFactory())
    total = ticket * len(holders)
    offering = make_offering(instrument=instrument, target=total, min_ticket=ticket, **terms)
    now = timezone.now()
    Pledge.objects.bulk_create(
        [
            Pledge(
                offering=offering,
                investor_id=pk,
                amount=ticket,
                currency=offering.currency,
                method="bank_transfer",
                status=Pledge.Status.PAID,
                idempotency_key=f"bench-{offering.pk}-{pk}",
                expires_at=now,
                paid_at=now,
            )
            for pk in holders
        ],
        batch_size=5000,
    )
    staff = StaffFactory()
    Disbursement.objects.create(
        offering=offering,
        amount=total,
        status=Disbursement.Status.APPROVED,
        requested_by=staff,
        approved_at=now,
    )
    Offering.objects.filter(pk=offering.pk).update(status=Offering.Status.DISBURSED, reserved=total)
    offering.refresh_from_db()
    return offering


def _bond(holders: int):
    from finance.returns import BondIssue

    offering = _offering(
        "bond",
        _people(holders),
        Decimal("100"),
        face_value=Decimal("100"),
        annual_rate=Decimal("0.05"),
        tenor_months=24,
        periods_per_year=2,
        day_count="ACT/ACT ICMA",
    )
    issue = BondIssue(offering=offering, issue_date=ISSUE, maturity_date=ISSUE, units=holders)
    issue.maturity_date = issue.periods()[-1].accrual_end
    issue.save()
    return offering, issue


def _coupon_run(holders: int) -> tuple[float, int, int]:
    from finance.ledger import Leg
    from finance.returns_services import coupon_run

    offering, issue = _bond(holders)
    day = issue.periods()[0].payment_date
    legs_before = Leg.objects.count()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        coupon_run(offering=offering, payment_date=day, today=day)
        elapsed = time.perf_counter() - started
    legs = Leg.objects.count() - legs_before
    # Started again for the same date: posts nothing.
    with CaptureQueriesContext(connection) as again:
        coupon_run(offering=offering, payment_date=day, today=day)
    assert Leg.objects.count() - legs_before == legs
    print(f"  coupon run started twice: {len(again)} queries, 0 legs")
    return elapsed, legs, len(captured)


def test_coupon_run_for_20000_holders_and_query_growth():
    print()
    small_seconds, small_legs, small_queries = _coupon_run(2_000)
    seconds, legs, queries = _coupon_run(20_000)
    print(
        f"coupon run,   2,000 holders: {small_seconds:6.2f} s, {small_legs:6d} legs, "
        f"{small_legs / small_seconds:8.0f} legs/s, {small_queries} queries"
    )
    print(
        f"coupon run,  20,000 holders: {seconds:6.2f} s, {legs:6d} legs, "
        f"{legs / seconds:8.0f} legs/s, {queries} queries"
    )
    assert legs == 2 * 20_000


def test_repayment_distribution_over_5000_lenders():
    from finance.ledger import Leg
    from finance.money import Money
    from finance.returns_services import loan_fix_schedule, repayment_record

    offering = _offering(
        "loan",
        _people(5_000),
        Decimal("50"),
        annual_rate=Decimal("0.10"),
        tenor_months=12,
        periods_per_year=12,
        schedule_type="annuity",
    )
    schedule = loan_fix_schedule(offering=offering, start_date=ISSUE)
    first = schedule.installments.get(number=1)
    legs_before = Leg.objects.count()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        repayment = repayment_record(
            offering=offering,
            amount=Money(first.payment, offering.currency),
            received_on=first.due_date,
            idempotency_key="bench-repayment",
        )
        elapsed = time.perf_counter() - started
    legs = Leg.objects.count() - legs_before
    print()
    print(
        f"repayment of {repayment.amount} over 5,000 lenders: {elapsed:6.2f} s, {legs} legs, "
        f"{legs / elapsed:8.0f} legs/s, {len(captured)} queries"
    )
    assert legs == 2 * 5_000
