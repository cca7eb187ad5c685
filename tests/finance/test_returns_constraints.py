"""A repayment's parts add up to its amount: the database checks it, exactly on PostgreSQL
(numeric) and on SQLite too, where decimal columns are stored as binary floating point and
136.33 + 1175.56 is not 1311.89 unless both sides are rounded to the columns' decimals."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance import returns_services as rs
from finance.money import Money
from finance.returns import Repayment
from tests.finance.test_returns import START, funded_loan

D = Decimal

#: The demo loan's terms (finance/demo.py): 6% a year, 24 monthly annuity payments. On
#: 29,600.00 each payment is 1,311.89, and the third splits into 136.33 interest and
#: 1,175.56 principal.
DEMO_TERMS = {"annual_rate": D("0.06"), "tenor_months": 24, "schedule_type": "annuity"}


@pytest.fixture
def demo_loan(db):
    offering, _lenders = funded_loan(amounts=("14800", "14800"), **DEMO_TERMS)
    return offering, rs.loan_fix_schedule(offering=offering, start_date=START)


def test_the_third_installment_of_the_demo_loan_is_recorded(demo_loan):
    offering, schedule = demo_loan
    third = schedule.installments.get(number=3)
    assert (third.interest, third.principal) == (D("136.33"), D("1175.56"))
    for installment in schedule.installments.filter(number__lte=3).order_by("number"):
        rs.repayment_record(
            offering=offering,
            amount=Money("1311.89", "USD"),
            received_on=installment.due_date,
            idempotency_key=f"demo-{installment.number}",
        )

    repayment = Repayment.objects.get(idempotency_key="demo-3")
    assert repayment.amount == D("1311.89")
    assert (repayment.interest_part, repayment.principal_part) == (D("136.33"), D("1175.56"))
    assert repayment.excess == 0
    third.refresh_from_db()
    assert third.is_paid


def _row(offering, schedule, amount, interest, principal, excess, *, key):
    return Repayment.objects.create(
        offering=offering,
        schedule=schedule,
        amount=amount,
        currency="USD",
        received_on=datetime.date(2025, 3, 15),
        interest_part=interest,
        principal_part=principal,
        excess=excess,
        arrears_after=D("0"),
        idempotency_key=key,
    )


def test_the_exact_figures_are_stored_and_a_part_off_by_a_cent_is_refused(demo_loan):
    offering, schedule = demo_loan
    _row(offering, schedule, D("1311.89"), D("136.33"), D("1175.56"), D("0"), key="exact")
    _row(offering, schedule, D("1311.89"), D("136.33"), D("1175.00"), D("0.56"), key="excess")
    for interest, principal, excess in [
        (D("136.33"), D("1175.55"), D("0")),
        (D("136.33"), D("1175.56"), D("0.01")),
        (D("136.329"), D("1175.56"), D("0")),
    ]:
        with pytest.raises(IntegrityError, match="repayment_fully_applied"), transaction.atomic():
            _row(offering, schedule, D("1311.89"), interest, principal, excess, key="off")
    assert Repayment.objects.filter(offering=offering).count() == 2


amounts = st.decimals(min_value=D("0"), max_value=D("99999999.999"), places=3)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(interest=amounts, principal=amounts, excess=amounts, off=st.sampled_from([0, 1, -1]))
def test_any_parts_are_stored_when_they_add_up_and_refused_when_a_tenth_of_a_cent_off(
    demo_loan, interest, principal, excess, off
):
    offering, schedule = demo_loan
    amount = interest + principal + excess + D("0.001") * off
    if amount <= 0:
        return
    with transaction.atomic():
        if off:
            with pytest.raises(IntegrityError, match="repayment_fully_applied"):
                with transaction.atomic():
                    _row(offering, schedule, amount, interest, principal, excess, key="any")
        else:
            _row(offering, schedule, amount, interest, principal, excess, key="any")
            assert Repayment.objects.filter(idempotency_key="any").exists()
        transaction.set_rollback(True)
