"""Returns: loan schedules and repayments, bond coupons and redemption, revenue share,
distributions, wallet and payouts, portfolio and XIRR, tasks. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import itertools
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from finance import returns_services as rs
from finance import services
from finance.ledger import Account, Leg, Transaction, balance
from finance.money import Money
from finance.offerings import KnowledgeTestPass, Offering, Pledge
from finance.portfolio import (
    Status,
    portfolio_charts,
    portfolio_for,
    transactions_csv,
    xirr_display,
)
from finance.returns import (
    CouponRun,
    Distribution,
    DistributionLine,
    Installment,
    LoanSchedule,
    PayoutRequest,
    Repayment,
    RevenueReport,
)
from finance.xirr import XirrResult, XirrStatus
from tests.factories import OrganizationFactory, StaffFactory, TerritoryFactory, UserFactory
from tests.finance.builders import make_offering, pay

_keys = itertools.count(1)
D = Decimal
START = datetime.date(2025, 1, 15)


def key(prefix: str = "k") -> str:
    return f"{prefix}-{next(_keys)}"


def investor():
    person = UserFactory(verification_tier="enhanced")
    KnowledgeTestPass.objects.create(
        investor=person, score=100, risk_acknowledged_at=timezone.now()
    )
    return person


def staff():
    return StaffFactory()


def fund(offering: Offering, amounts, investors=None) -> list:
    """Paid bank-transfer pledges (no fee) for each amount; returns the investors."""
    people = investors or [investor() for _ in amounts]
    for person, amount in zip(people, amounts, strict=True):
        pledge = services.pledge_create(
            offering=offering,
            investor=person,
            amount=D(amount),
            method="bank_transfer",
            idempotency_key=key("pledge"),
        )
        pay(pledge)
    return people


def close_and_disburse(offering: Offering) -> Offering:
    services.offering_close(offering=offering, now=offering.closes_at + datetime.timedelta(1))
    services.disbursement_approve(offering=offering, by=staff())
    services.disbursement_approve(offering=offering, by=staff())
    offering.refresh_from_db()
    assert offering.status == Offering.Status.DISBURSED
    return offering


def funded_loan(amounts=("500", "300", "200"), **terms):
    values = {
        "instrument": "loan",
        "target": sum(D(a) for a in amounts),
        "annual_rate": D("0.12"),
        "tenor_months": 6,
        "periods_per_year": 12,
        "schedule_type": "annuity",
    }
    values.update(terms)
    offering = make_offering(**values)
    lenders = fund(offering, amounts)
    return close_and_disburse(offering), lenders


def funded_bond(units=(3, 2, 5), **terms):
    values = {
        "instrument": "bond",
        "target": D(100) * sum(units),
        "min_ticket": D(100),
        "face_value": D(100),
        "annual_rate": D("0.05"),
        "tenor_months": 12,
        "periods_per_year": 2,
        "day_count": "30/360 US",
        "issuer": OrganizationFactory(kind="local_government", territory=TerritoryFactory()),
    }
    values.update(terms)
    offering = make_offering(**values)
    holders = fund(offering, [D(100) * u for u in units])
    return close_and_disburse(offering), holders


def wallet(person, currency="USD") -> Money:
    return balance(services.wallet_account(person, currency))


def expected_wallets() -> dict[tuple[int, str], int]:
    """What each investor's wallet should hold, in minor units by (user pk, currency), worked
    out from the records of what went into and out of it, none read from the ledger: the
    distribution lines paid to the investor, refunds sent to the wallet, less the pledges paid
    from it and still paid (cancelling one gives it back) and the withdrawals not rejected."""
    from finance.offerings import Payment, Refund

    held: dict[tuple[int, str], int] = {}

    def add(rows, sign: int) -> None:
        for user_id, currency, amount in rows:
            minor = amount if isinstance(amount, int) else Money(amount, currency).minor_units
            held[(user_id, currency)] = held.get((user_id, currency), 0) + sign * minor

    lines = (
        DistributionLine.objects.values("investor", "distribution__currency")
        .annotate(total=Sum("income") + Sum("principal"))
        .order_by()
    )
    add(lines.values_list("investor", "distribution__currency", "total"), +1)
    to_wallet = (
        Refund.objects.filter(destination=Refund.Destination.WALLET)
        .values("payment__pledge__investor", "payment__currency")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    )
    add(to_wallet.values_list("payment__pledge__investor", "payment__currency", "total"), +1)
    # A paid pledge with no succeeded payment was paid from the wallet, fee included.
    from_wallet = (
        Pledge.objects.filter(status=Pledge.Status.PAID)
        .exclude(payments__status=Payment.Status.SUCCEEDED)
        .values("investor", "currency")
        .annotate(total=Sum("amount") + Sum("fee"))
        .order_by()
    )
    add(from_wallet.values_list("investor", "currency", "total"), -1)
    withdrawn = (
        PayoutRequest.objects.exclude(status=PayoutRequest.Status.REJECTED)
        .values("investor", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    add(withdrawn.values_list("investor", "currency", "total"), -1)
    return {key: minor for key, minor in held.items() if minor}


def assert_ledger_consistent():
    """``reconcile --strict`` passes, and every investor wallet in the ledger holds what the
    distributions, refunds, wallet payments and withdrawals recorded say it should."""
    call_command("reconcile", "--strict", verbosity=0)
    wallets = (
        Leg.objects.filter(account__kind=Account.Kind.INVESTOR_WALLET)
        .values("account__user", "account__currency")
        .annotate(total=Sum("amount_minor"))
        .order_by()
        .values_list("account__user", "account__currency", "total")
    )
    in_ledger = {(user_id, currency): total for user_id, currency, total in wallets if total}
    assert in_ledger == expected_wallets()


# --- Loans ------------------------------------------------------------------------------------


def test_schedule_is_fixed_at_disbursement_from_the_amount_disbursed(db):
    offering, _lenders = funded_loan()
    schedule = rs.loan_fix_schedule(offering=offering, start_date=START)
    installments = list(schedule.installments.all())
    assert schedule.principal == D("1000") and schedule.version == 1
    assert len(installments) == 6
    assert sum(i.principal for i in installments) == D("1000")
    assert installments[0].due_date == datetime.date(2025, 2, 15)
    assert installments[0].interest == D("10.00")  # 1000 x 1%
    assert installments[-1].closing_balance == 0
    # Idempotent: a second call returns the same schedule.
    assert rs.loan_fix_schedule(offering=offering).pk == schedule.pk


@pytest.mark.parametrize(
    "terms",
    [
        {"tenor_months": 0},
        {"tenor_months": 5, "periods_per_year": 2},
        {"schedule_type": ""},
    ],
)
def test_terms_that_make_no_schedule_are_refused_and_nothing_is_saved(db, terms):
    offering, _lenders = funded_loan()
    Offering.objects.filter(pk=offering.pk).update(**terms)
    offering.refresh_from_db()
    with pytest.raises(rs.ScheduleRefused, match="do not make a repayment schedule"):
        rs.loan_fix_schedule(offering=offering, start_date=START)
    assert not LoanSchedule.objects.filter(offering=offering).exists()
    assert not Installment.objects.exists()


def test_bond_with_zero_tenor_makes_no_schedule(db):
    offering, _holders = funded_bond()
    Offering.objects.filter(pk=offering.pk).update(tenor_months=0)
    offering.refresh_from_db()
    with pytest.raises(rs.ScheduleRefused, match="coupon schedule"):
        rs.bond_issue(offering=offering, issue_date=START)


def test_repayment_is_split_into_interest_and_principal_and_shared_pro_rata(db):
    offering, (a, b, c) = funded_loan()
    schedule = rs.loan_fix_schedule(offering=offering, start_date=START)
    first = schedule.installments.get(number=1)
    repayment = rs.repayment_record(
        offering=offering,
        amount=Money(first.payment, "USD"),
        received_on=first.due_date,
        idempotency_key="bank-line-1",
    )
    assert repayment.interest_part == first.interest == D("10.00")
    assert repayment.principal_part == first.principal
    assert repayment.excess == 0 and repayment.arrears_after == 0
    # 50% / 30% / 20% of the payment, to the cent, adding up exactly.
    assert wallet(a).amount + wallet(b).amount + wallet(c).amount == first.payment
    assert wallet(a).amount == (first.payment * D("0.5")).quantize(D("0.01"))
    lines = DistributionLine.objects.filter(distribution=repayment.distribution)
    assert lines.aggregate(s=Sum("income"))["s"] == D("10.00")
    # The same bank line recorded twice moves nothing twice.
    legs = Leg.objects.count()
    again = rs.repayment_record(
        offering=offering,
        amount=Money(first.payment, "USD"),
        received_on=first.due_date,
        idempotency_key="bank-line-1",
    )
    assert again.pk == repayment.pk and Leg.objects.count() == legs
    assert_ledger_consistent()


def test_repayment_larger_than_due_holds_the_excess_and_shows_it(db):
    offering, lenders = funded_loan()
    schedule = rs.loan_fix_schedule(offering=offering, start_date=START)
    first = schedule.installments.get(number=1)
    repayment = rs.repayment_record(
        offering=offering,
        amount=Money(first.payment + D("25.00"), "USD"),
        received_on=first.due_date,
        idempotency_key=key(),
    )
    assert repayment.excess == D("25.00")
    assert balance(rs.excess_account(offering)) == Money("25.00", "USD")
    assert sum(wallet(p).amount for p in lenders) == first.payment
    assert_ledger_consistent()


def test_repayment_smaller_than_due_leaves_arrears_and_the_installment_late(db):
    offering, _lenders = funded_loan()
    schedule = rs.loan_fix_schedule(offering=offering, start_date=START)
    first = schedule.installments.get(number=1)
    repayment = rs.repayment_record(
        offering=offering,
        amount=Money("50.00", "USD"),
        received_on=first.due_date,
        idempotency_key=key(),
    )
    first.refresh_from_db()
    # Interest first, then principal.
    assert repayment.interest_part == D("10.00") and repayment.principal_part == D("40.00")
    assert repayment.arrears_after == first.payment - D("50.00")
    assert first.status(today=first.due_date + datetime.timedelta(days=3)) == "late"
    assert first.days_late(today=first.due_date + datetime.timedelta(days=3)) == 3
    assert rs.loan_arrears(schedule, first.due_date) == first.payment - D("50.00")


def test_wrong_currency_is_refused_with_the_reason_and_records_nothing(db):
    offering, _lenders = funded_loan()
    rs.loan_fix_schedule(offering=offering, start_date=START)
    with pytest.raises(rs.RepaymentRefused, match="in EUR but the loan is repaid in USD"):
        rs.repayment_record(
            offering=offering,
            amount=Money("100.00", "EUR"),
            received_on=START,
            idempotency_key=key(),
        )
    assert not Repayment.objects.exists()


def test_written_off_loan_refuses_repayments_and_shows_defaulted(db):
    offering, (lender, *_rest) = funded_loan()
    rs.loan_fix_schedule(offering=offering, start_date=START)
    schedule = rs.loan_write_off(offering=offering, by=staff(), reason="business closed")
    assert schedule.status == LoanSchedule.Status.WRITTEN_OFF
    with pytest.raises(rs.RepaymentRefused, match="written off"):
        rs.repayment_record(
            offering=offering,
            amount=Money("100.00", "USD"),
            received_on=START,
            idempotency_key=key(),
        )
    holding = portfolio_for(lender, today=START).holdings[0]
    assert holding.status == Status.DEFAULTED


def test_restructure_keeps_the_old_schedule_and_schedules_what_is_owed(db):
    offering, _lenders = funded_loan()
    old = rs.loan_fix_schedule(offering=offering, start_date=START)
    first = old.installments.get(number=1)
    rs.repayment_record(
        offering=offering,
        amount=Money(first.payment, "USD"),
        received_on=first.due_date,
        idempotency_key=key(),
    )
    new = rs.loan_restructure(
        offering=offering,
        by=staff(),
        reason="harvest failed",
        annual_rate=D("0.06"),
        periods=12,
        periods_per_year=12,
        kind="equal_principal",
        start_date=first.due_date,
    )
    old.refresh_from_db()
    assert old.status == LoanSchedule.Status.SUPERSEDED and old.installments.count() == 6
    assert new.version == 2 and new.principal == D("1000") - first.principal
    assert new.installments.count() == 12
    assert rs.current_schedule(offering).pk == new.pk


def test_a_failure_midway_leaves_no_half_repayment(db, monkeypatch):
    offering, _lenders = funded_loan()
    schedule = rs.loan_fix_schedule(offering=offering, start_date=START)
    legs_before = Leg.objects.count()

    def broken(postings, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(rs, "post_many", broken)
    with pytest.raises(RuntimeError):
        rs.repayment_record(
            offering=offering,
            amount=Money("100.00", "USD"),
            received_on=START + datetime.timedelta(days=31),
            idempotency_key=key(),
        )
    assert Leg.objects.count() == legs_before
    assert not Repayment.objects.exists() and not Distribution.objects.exists()
    assert not schedule.installments.filter(interest_paid__gt=0).exists()


def test_installments_past_due_are_marked_late_once(db):
    offering, _lenders = funded_loan()
    rs.loan_fix_schedule(offering=offering, start_date=START)
    today = datetime.date(2025, 4, 20)
    assert rs.installments_mark_late(today=today) == 3
    assert rs.installments_mark_late(today=today) == 0


# --- Bonds ------------------------------------------------------------------------------------


def test_coupon_run_pays_each_holder_and_a_second_run_posts_nothing(db):
    offering, holders = funded_bond()
    issue = rs.bond_issue(offering=offering, issue_date=START)
    periods = issue.periods()
    assert [p.payment_date for p in periods] == [
        datetime.date(2025, 7, 15),
        datetime.date(2026, 1, 15),
    ]
    first = periods[0].payment_date
    run = rs.coupon_run(offering=offering, payment_date=first, today=first)
    # 1,000 face x 5% x 180/360 = 25.00, split 3 : 2 : 5 bonds.
    assert run.total == D("25.00") and run.holders == 3
    assert [wallet(h).amount for h in holders] == [D("7.50"), D("5.00"), D("12.50")]
    legs = Leg.objects.count()
    again = rs.coupon_run(offering=offering, payment_date=first, today=first)
    assert again.pk == run.pk and Leg.objects.count() == legs
    assert CouponRun.objects.count() == 1
    assert_ledger_consistent()


def test_coupon_run_on_a_date_without_coupon_or_before_it_is_refused(db):
    offering, _holders = funded_bond()
    rs.bond_issue(offering=offering, issue_date=START)
    with pytest.raises(rs.CouponRunRefused, match="No coupon of this bond is paid on 2025-07-16"):
        rs.coupon_run(offering=offering, payment_date=datetime.date(2025, 7, 16))
    with pytest.raises(rs.CouponRunRefused, match="not before"):
        rs.coupon_run(
            offering=offering,
            payment_date=datetime.date(2025, 7, 15),
            today=datetime.date(2025, 7, 14),
        )
    assert not CouponRun.objects.exists() and not Distribution.objects.exists()


def test_coupon_run_query_count_does_not_grow_with_holders(db):
    def queries_for(count: int) -> int:
        offering, _holders = funded_bond(units=[1] * count)
        rs.bond_issue(offering=offering, issue_date=START)
        day = datetime.date(2025, 7, 15)
        with CaptureQueriesContext(connection) as captured:
            rs.coupon_run(offering=offering, payment_date=day, today=day)
        return len(captured)

    assert queries_for(3) == queries_for(40)


def test_redemption_pays_face_after_the_last_coupon(db):
    offering, holders = funded_bond()
    rs.bond_issue(offering=offering, issue_date=START)
    maturity = datetime.date(2026, 1, 15)
    with pytest.raises(rs.CouponRunRefused, match="redeemed on 2026-01-15"):
        rs.bond_redeem(offering=offering, today=maturity - datetime.timedelta(days=1))
    issue = rs.bond_redeem(offering=offering, today=maturity)
    assert issue.redeemed_on == maturity
    # Both coupons (25.00 each) and the 1,000 face.
    assert sum(wallet(h).amount for h in holders) == D("1050.00")
    assert CouponRun.objects.filter(offering=offering).count() == 2
    assert portfolio_for(holders[0], today=maturity).holdings[0].status == Status.REPAID
    assert_ledger_consistent()


def test_issuer_sees_what_is_due_and_when(db):
    offering, _holders = funded_bond()
    issue = rs.bond_issue(offering=offering, issue_date=START)
    due = rs.bond_payments_due(issue)
    assert [(p.kind, p.amount.amount, p.paid) for p in due] == [
        ("coupon", D("25.00"), False),
        ("coupon", D("25.00"), False),
        ("redemption", D("1000"), False),
    ]


# --- Revenue share ----------------------------------------------------------------------------


def funded_revenue_share():
    offering = make_offering(
        instrument="revenue_share",
        target=D("1000"),
        revenue_share=D("0.10"),
        cap_multiple=D("1.50"),
    )
    investors = fund(offering, ["600", "400"])
    offering = close_and_disburse(offering)
    # Disbursed before the periods the tests report: revenue before it is not shared.
    offering.disbursement.approved_at = timezone.make_aware(datetime.datetime(2024, 12, 31, 12))
    offering.disbursement.save(update_fields=["approved_at"])
    return offering, investors


def document():
    return SimpleUploadedFile("sales.pdf", b"%PDF-1.4 sales", content_type="application/pdf")


@pytest.mark.parametrize(
    ("revenue", "message"),
    [(None, "cannot be left out"), (D("-5"), "cannot be negative")],
)
def test_revenue_report_with_missing_or_negative_figure_is_refused(db, revenue, message):
    offering, _investors = funded_revenue_share()
    with pytest.raises(rs.RevenueReportRefused, match=message):
        rs.revenue_report_submit(
            offering=offering,
            period_start=datetime.date(2025, 1, 1),
            period_end=datetime.date(2025, 3, 31),
            revenue=revenue,
            document=document(),
            by=offering.project.owner,
        )
    assert not RevenueReport.objects.exists()


def test_revenue_share_is_due_until_the_cap_multiple(db, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    offering, (big, small) = funded_revenue_share()
    owner = offering.project.owner
    reports = []
    for quarter, revenue in enumerate([D("10000"), D("4000"), D("9000")]):
        start = datetime.date(2025, 1 + quarter * 3, 1)
        reports.append(
            rs.revenue_report_submit(
                offering=offering,
                period_start=start,
                period_end=start + datetime.timedelta(days=80),
                revenue=revenue,
                document=document(),
                by=owner,
            )
        )
    # Cap 1.5 x 1,000 = 1,500: 1,000 + 400, then only 100 of the 900.
    assert [r.share_due for r in reports] == [D("1000.00"), D("400.00"), D("100.00")]
    assert reports[-1].cap_reached
    rs.revenue_share_pay(
        report=reports[0],
        amount=Money("1000.00", "USD"),
        received_on=datetime.date(2025, 4, 10),
        source_id="bankline:1",
    )
    assert wallet(big).amount == D("600.00") and wallet(small).amount == D("400.00")
    with pytest.raises(rs.RevenueReportRefused, match="in EUR"):
        rs.revenue_share_pay(
            report=reports[1],
            amount=Money("400.00", "EUR"),
            received_on=datetime.date(2025, 7, 1),
            source_id="bankline:2",
        )
    assert_ledger_consistent()


# --- Wallet -----------------------------------------------------------------------------------


def test_reinvest_moves_wallet_money_into_an_open_offering(db):
    offering, holders = funded_bond()
    rs.bond_issue(offering=offering, issue_date=START)
    day = datetime.date(2025, 7, 15)
    rs.coupon_run(offering=offering, payment_date=day, today=day)
    person = holders[2]  # 12.50 USD in the wallet
    target = make_offering(title="Solar pumps", target=D("1000"), min_ticket=D("5"))
    pledge = rs.wallet_reinvest(
        investor=person, offering=target, amount=D("10.00"), idempotency_key="reinvest-1"
    )
    assert pledge.status == Pledge.Status.PAID
    assert wallet(person).amount == D("2.50")
    assert balance(services.escrow_account(target)).amount == D("10.00")
    # Not enough left: refused, and no pledge is left behind.
    with pytest.raises(rs.WalletRefused):
        rs.wallet_reinvest(
            investor=person, offering=target, amount=D("10.00"), idempotency_key="reinvest-2"
        )
    assert Pledge.objects.filter(offering=target).count() == 1
    assert_ledger_consistent()


def test_payout_is_set_aside_then_paid_or_returned(db):
    offering, holders = funded_bond()
    rs.bond_issue(offering=offering, issue_date=START)
    day = datetime.date(2025, 7, 15)
    rs.coupon_run(offering=offering, payment_date=day, today=day)
    person = holders[2]
    account = rs.bank_account_register(
        user=person, holder_name="Ana", iban="DE89 3704 0044 0532 0130 00", currency="USD"
    )
    with pytest.raises(rs.WalletRefused, match="IBAN is not valid"):
        rs.bank_account_register(
            user=person, holder_name="Ana", iban="DE00 3704 0044 0532 0130 00", currency="USD"
        )
    with pytest.raises(rs.WalletRefused, match="holds"):
        rs.payout_request(
            investor=person,
            amount=Money("50.00", "USD"),
            destination="bank",
            bank_account=account,
            idempotency_key="p0",
        )
    payout = rs.payout_request(
        investor=person,
        amount=Money("10.00", "USD"),
        destination="bank",
        bank_account=account,
        idempotency_key="p1",
    )
    assert wallet(person).amount == D("2.50")
    with pytest.raises(rs.WalletRefused, match="Only staff"):
        rs.payout_approve(payout=payout, by=person)
    payout = rs.payout_approve(payout=payout, by=staff())
    assert payout.status == PayoutRequest.Status.APPROVED
    assert balance(rs.payout_hold_account(person, "USD")).amount == 0
    second = rs.payout_request(
        investor=person,
        amount=Money("2.50", "USD"),
        destination="bank",
        bank_account=account,
        idempotency_key="p2",
    )
    rs.payout_reject(payout=second, by=staff(), reason="account closed")
    assert wallet(person).amount == D("2.50")
    with pytest.raises(rs.WalletRefused, match="card"):
        rs.payout_request(
            investor=person, amount=Money("1.00", "USD"), destination="card", idempotency_key="p3"
        )
    assert_ledger_consistent()


# --- Portfolio --------------------------------------------------------------------------------


def test_portfolio_shows_each_holding_with_income_status_and_xirr(db):
    offering, (lender, *_rest) = funded_loan()
    schedule = rs.loan_fix_schedule(offering=offering, start_date=START)
    first = schedule.installments.get(number=1)
    rs.repayment_record(
        offering=offering,
        amount=Money(first.payment, "USD"),
        received_on=first.due_date,
        idempotency_key=key(),
    )
    today = datetime.date(2025, 3, 1)
    portfolio = portfolio_for(lender, today=today)
    holding = portfolio.holdings[0]
    assert holding.invested == Money("500", "USD")
    assert holding.income_received == Money("5.00", "USD")
    assert (
        holding.outstanding_principal == Money((D("1000") - first.principal) / 2, "USD").quantize()
    )
    assert holding.accrued_today.amount > 0
    assert holding.status == Status.ON_TIME
    assert holding.next_payments[0][0] == datetime.date(2025, 3, 15)
    assert holding.xirr.status == XirrStatus.OK
    late = portfolio_for(lender, today=datetime.date(2025, 3, 20)).holdings[0]
    assert late.status == Status.LATE
    charts = portfolio_charts(portfolio)
    for svg in charts.values():
        ET.fromstring(str(svg))  # well-formed XML, as WeasyPrint needs


def test_xirr_is_shown_as_a_dash_when_undefined_or_several_roots_never_a_wrong_number():
    assert xirr_display(XirrResult(XirrStatus.UNDEFINED)) == "—"
    assert xirr_display(XirrResult(XirrStatus.SEVERAL_ROOTS)) == "—"
    assert xirr_display(XirrResult(XirrStatus.OK, D("0.0997136"))) == "9.97%"


def new_loan_holder():
    """An investor whose only holding is a loan paid in today, not disbursed yet."""
    offering = make_offering(
        instrument="loan",
        annual_rate=D("0.1"),
        tenor_months=6,
        periods_per_year=12,
        schedule_type="annuity",
    )
    (person,) = fund(offering, ["100"])
    return person


def test_funded_but_not_disbursed_holding_has_no_xirr_yet(db):
    person = new_loan_holder()
    holding = portfolio_for(person).holdings[0]
    assert holding.status == Status.FUNDING
    assert holding.xirr.status == XirrStatus.UNDEFINED
    assert holding.xirr_display == "—"
    assert holding.xirr_note == "not enough history yet"


def test_csv_export_lists_every_ledger_movement_of_the_investor(db):
    offering, holders = funded_bond()
    rs.bond_issue(offering=offering, issue_date=START)
    day = datetime.date(2025, 7, 15)
    rs.coupon_run(offering=offering, payment_date=day, today=day)
    text = transactions_csv(holders[0])
    lines = text.strip().splitlines()
    assert lines[0] == "date,transaction_id,kind,memo,account,amount,currency"
    assert any("returns.coupon" in line and ",7.50,USD" in line for line in lines)
    assert any("pledge.payment" in line and ",-300.00,USD" in line for line in lines)


# --- Tasks ------------------------------------------------------------------------------------


def test_tasks_run_due_coupons_idempotently_and_the_beat_schedule_names_real_tasks(db):
    from celery import current_app

    from finance import tasks

    offering, _holders = funded_bond()
    rs.bond_issue(offering=offering, issue_date=START)
    assert tasks.coupon_runs_due("2025-07-20") == 1
    assert tasks.coupon_runs_due("2025-07-20") == 0
    assert CouponRun.objects.count() == 1
    assert tasks.repayments_check_due("2025-07-20") == 0
    assert tasks.pledges_expire() == 0
    for entry in tasks.BEAT_SCHEDULE.values():
        assert entry["task"] in current_app.tasks


def test_missing_schedules_are_fixed_by_the_safety_net_task(db):
    from finance import tasks

    offering, _lenders = funded_loan()
    assert tasks.returns_fix_missing() == 1
    assert LoanSchedule.objects.filter(offering=offering).count() == 1
    assert tasks.returns_fix_missing() == 0


def test_no_transaction_is_left_unbalanced(db):
    offering, _lenders = funded_loan()
    rs.loan_fix_schedule(offering=offering, start_date=START)
    rs.repayment_record(
        offering=offering,
        amount=Money("123.45", "USD"),
        received_on=datetime.date(2025, 2, 15),
        idempotency_key=key(),
    )
    for txn in Transaction.objects.all():
        assert sum(txn.legs.values_list("amount_minor", flat=True)) == 0
