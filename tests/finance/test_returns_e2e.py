"""End to end on PostgreSQL (where the ledger's triggers enforce balance and append-only
legs): a loan funded by three lenders, disbursed and repaid over its schedule with one late
and one partial payment; a bond with two coupon runs and its redemption. After every step
``reconcile --strict`` passes and every wallet holds what the distribution lines paid into it
(less the withdrawals and wallet payments recorded)."""

import datetime
from decimal import Decimal

from django.db.models import Sum

from finance import returns_services as rs
from finance.money import Money
from finance.offerings import Pledge
from finance.portfolio import Status, portfolio_for
from finance.returns import CouponRun, LoanSchedule, Repayment
from tests.conftest import requires_postgres
from tests.finance.test_returns import (
    START,
    assert_ledger_consistent,
    funded_bond,
    funded_loan,
    wallet,
)

pytestmark = requires_postgres
D = Decimal


def step_checks():
    # Wallets are checked against the distribution lines, not against their own legs.
    assert_ledger_consistent()


def test_loan_with_three_lenders_repaid_with_a_late_and_a_partial_payment(db):
    offering, lenders = funded_loan(("500.00", "300.00", "200.00"))
    # The pledges were paid before the loan was drawn on START.
    Pledge.objects.filter(offering=offering).update(
        paid_at=datetime.datetime(2025, 1, 10, tzinfo=datetime.UTC)
    )
    step_checks()
    schedule = rs.loan_fix_schedule(offering=offering, start_date=START)
    step_checks()
    installments = list(schedule.installments.order_by("number"))
    total_due = sum(i.payment for i in installments)
    for installment in installments:
        if installment.number == 2:
            # Late: paid nine days after the due date.
            received = installment.due_date + datetime.timedelta(days=9)
            repayment = rs.repayment_record(
                offering=offering,
                amount=Money(installment.payment, "USD"),
                received_on=received,
                idempotency_key=f"e2e-{installment.number}",
            )
            assert repayment.allocations.get().days_late == 9
        elif installment.number == 4:
            # Partial on the due date, the rest a week later.
            part = D("60.00")
            first = rs.repayment_record(
                offering=offering,
                amount=Money(part, "USD"),
                received_on=installment.due_date,
                idempotency_key="e2e-4a",
            )
            assert first.arrears_after == installment.payment - part
            step_checks()
            holding = portfolio_for(
                lenders[0], today=installment.due_date + datetime.timedelta(days=3)
            ).holdings[0]
            assert holding.status == Status.LATE
            rs.repayment_record(
                offering=offering,
                amount=Money(installment.payment - part, "USD"),
                received_on=installment.due_date + datetime.timedelta(days=7),
                idempotency_key="e2e-4b",
            )
        else:
            rs.repayment_record(
                offering=offering,
                amount=Money(installment.payment, "USD"),
                received_on=installment.due_date,
                idempotency_key=f"e2e-{installment.number}",
            )
        step_checks()
    schedule.refresh_from_db()
    assert schedule.status == LoanSchedule.Status.REPAID
    received = [wallet(p).amount for p in lenders]
    assert sum(received) == total_due
    distributions = Repayment.objects.filter(offering=offering).count()
    for person, share in zip(lenders, (D("0.5"), D("0.3"), D("0.2")), strict=True):
        # Largest remainder: at most one cent from the exact share per distribution.
        assert abs(wallet(person).amount - total_due * share) <= D("0.01") * distributions
    assert Repayment.objects.filter(offering=offering).aggregate(s=Sum("excess"))["s"] == 0
    holding = portfolio_for(lenders[0], today=installments[-1].due_date).holdings[0]
    assert holding.status == Status.REPAID
    # 12% nominal monthly is 12.7% effective; paying in five days before the draw and the
    # late and partial payments bring the lender's actual return just under 12%.
    assert D("0.11") < holding.xirr.rate < D("0.127")


def test_bond_with_two_coupon_runs_and_redemption(db):
    offering, holders = funded_bond(units=(3, 2, 5))
    step_checks()
    issue = rs.bond_issue(offering=offering, issue_date=START)
    step_checks()
    first, second = (p.payment_date for p in issue.periods())
    rs.coupon_run(offering=offering, payment_date=first, today=first)
    step_checks()
    run = rs.coupon_run(offering=offering, payment_date=first, today=first)  # started twice
    assert CouponRun.objects.filter(offering=offering).count() == 1 and run.total == D("25.00")
    rs.coupon_run(offering=offering, payment_date=second, today=second)
    step_checks()
    rs.bond_redeem(offering=offering, today=second)
    step_checks()
    assert [wallet(h).amount for h in holders] == [D("315.00"), D("210.00"), D("525.00")]
