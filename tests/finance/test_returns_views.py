"""The returns pages: portfolio, CSV export, wallet (reinvest, withdraw), the loan page with
days late, the issuer's bond page, staff approving withdrawals, and the dashboard panels.

The lead includes finance.urls_returns in portal/urls.py; until then these tests mount it
themselves (this module is the URLconf)."""

import datetime
import importlib
from decimal import Decimal

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path

from finance import returns_services as rs
from finance.money import Money
from finance.offerings import Offering, Pledge
from finance.returns import PayoutRequest, Repayment
from portal.urls import urlpatterns as portal_urlpatterns
from projects.models import Project
from tests.conftest import enable_totp
from tests.factories import MembershipFactory, UserFactory
from tests.finance.builders import make_offering
from tests.finance.test_returns import START, funded_bond, funded_loan, staff, wallet

urlpatterns = [
    *portal_urlpatterns[:-1],
    *i18n_patterns(path("", include("finance.urls_returns")), prefix_default_language=True),
    portal_urlpatterns[-1],
]

pytestmark = pytest.mark.urls(__name__)
D = Decimal


def test_portfolio_page_shows_holdings_charts_and_xirr(client, paid_bond):
    offering, holders = paid_bond
    client.force_login(holders[0])
    response = client.get("/en/portfolio/")
    assert response.status_code == 200
    body = response.content.decode()
    assert offering.title in body
    assert body.count("<svg") == 4
    assert "data-xirr" in body


def test_portfolio_costs_the_same_queries_for_more_holdings(
    client, paid_bond, django_assert_max_num_queries
):
    _offering, holders = paid_bond
    person = holders[0]
    client.force_login(person)
    client.get("/en/portfolio/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get("/en/portfolio/")
    for _ in range(3):
        other, _people = funded_bond()
        rs.bond_issue(offering=other, issue_date=START)
        from tests.finance.test_returns import fund

        fund(make_offering(title="Another"), ["20"], investors=[person])
    with django_assert_max_num_queries(len(one) + 6):
        # a bond holding computes its coupons in Python: no query per holding
        client.get("/en/portfolio/")


def test_csv_export_downloads(client, paid_bond):
    _offering, holders = paid_bond
    client.force_login(holders[0])
    response = client.get("/en/portfolio/transactions.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert b"returns.coupon" in response.content


def test_wallet_reinvest_and_withdraw(client, paid_bond):
    _offering, holders = paid_bond
    person = holders[2]  # 12.50 USD
    target = make_offering(title="Solar pumps", target=D("1000"), min_ticket=D("5"))
    client.force_login(person)
    page = client.get("/en/wallet/")
    assert page.status_code == 200 and "Solar pumps" in page.content.decode()
    response = client.post(
        "/en/wallet/reinvest/", {"offering": target.pk, "amount": "5.00", "key": "r1"}
    )
    assert response.status_code == 302
    assert wallet(person).amount == D("7.50")
    client.post(
        "/en/wallet/bank-accounts/",
        {"holder_name": "Ana", "iban": "DE89370400440532013000", "currency": "USD"},
    )
    account = person.bank_accounts.get()
    client.post(
        "/en/wallet/withdraw/",
        {
            "amount": "7.50",
            "currency": "USD",
            "destination": "bank",
            "bank_account": account.pk,
            "key": "w1",
        },
    )
    payout = PayoutRequest.objects.get(investor=person)
    assert wallet(person).amount == 0
    reviewer = staff()
    enable_totp(reviewer)  # the review is a back-office page
    client.force_login(reviewer)
    assert client.get("/en/payouts/review/").status_code == 200
    client.post(f"/en/payouts/{payout.pk}/decide/", {"decision": "approve"})
    payout.refresh_from_db()
    assert payout.status == PayoutRequest.Status.APPROVED


def test_loan_page_shows_schedule_repayments_and_days_late(client, db):
    offering, lenders = funded_loan()
    schedule = rs.loan_fix_schedule(offering=offering, start_date=START)
    first = schedule.installments.get(number=1)
    rs.repayment_record(
        offering=offering,
        amount=Money(first.payment + D("3.00"), "USD"),
        received_on=first.due_date + datetime.timedelta(days=4),
        idempotency_key="v1",
    )
    client.force_login(offering.project.owner)
    body = client.get(f"/en/loans/{offering.pk}/").content.decode()
    assert 'data-installment="1" data-status="paid_late"' in body
    assert "data-excess" in body
    client.force_login(UserFactory())
    assert client.get(f"/en/loans/{offering.pk}/").status_code == 404
    # Staff see it as a back-office page; a lender sees their loan without a second factor.
    watcher = staff()
    client.force_login(watcher)
    assert "/2fa/totp/activate/" in client.get(f"/en/loans/{offering.pk}/")["Location"]
    enable_totp(watcher)
    assert client.get(f"/en/loans/{offering.pk}/").status_code == 200
    client.force_login(lenders[0])
    assert client.get(f"/en/loans/{offering.pk}/").status_code == 200
    # Recording a repayment credits the lenders' wallets: a back-office action, which staff
    # without two-factor authentication are sent to turn on first.
    member = staff()
    client.force_login(member)
    posted = {"amount": "10", "currency": "USD", "received_on": "2025-03-15", "key": "x"}
    response = client.post(f"/en/loans/{offering.pk}/repayments/", posted)
    assert response.status_code == 302 and "/2fa/totp/activate/" in response["Location"]
    assert Repayment.objects.filter(offering=offering).count() == 1
    # With it on, a repayment in the wrong currency is refused with the reason.
    enable_totp(member)
    response = client.post(
        f"/en/loans/{offering.pk}/repayments/", {**posted, "currency": "EUR"}, follow=True
    )
    assert "in EUR but the loan is repaid in USD" in response.content.decode()
    assert Repayment.objects.filter(offering=offering).count() == 1
    # Without the form's key nothing is recorded; the same key on another loan is that
    # loan's own repayment, not this one's.
    response = client.post(
        f"/en/loans/{offering.pk}/repayments/", {**posted, "key": ""}, follow=True
    )
    assert "This form has expired" in response.content.decode()
    assert client.post(f"/en/loans/{offering.pk}/repayments/", posted).status_code == 302
    other, _lenders = funded_loan()
    rs.loan_fix_schedule(offering=other, start_date=START)
    client.post(f"/en/loans/{other.pk}/repayments/", posted)
    assert Repayment.objects.filter(offering=offering).count() == 2
    assert Repayment.objects.filter(offering=other).count() == 1
    with pytest.raises(rs.RepaymentRefused, match="another loan"):
        rs.repayment_record(
            offering=other,
            amount=Money("10", "USD"),
            received_on=datetime.date(2025, 3, 15),
            idempotency_key=f"manual:{offering.pk}:x",
        )


@pytest.mark.parametrize(
    "hidden",
    ["draft offering", "project not public", "no such offering", "not a number", "past any key"],
)
def test_reinvesting_in_an_offering_the_pledge_page_does_not_show_is_not_found(
    client, paid_bond, hidden
):
    """The wallet reinvests only where the pledge page lets one pledge: an offering that is
    a draft, or whose project is not public, answers 404 as a missing one does, moves no
    money and says nothing of the offering."""
    _offering, holders = paid_bond
    person = holders[2]  # 12.50 USD
    target = make_offering(title="Unpublished pumps", target=D("1000"), min_ticket=D("5"))
    posted = {"offering": target.pk, "amount": "5.00", "key": "r1"}
    if hidden == "draft offering":
        Offering.objects.filter(pk=target.pk).update(status=Offering.Status.DRAFT)
    elif hidden == "project not public":
        Project.objects.filter(pk=target.project_id).update(status=Project.Status.SUBMITTED)
    elif hidden == "no such offering":
        posted["offering"] = target.pk + 1000
    elif hidden == "past any key":
        posted["offering"] = 2**70
    else:
        posted["offering"] = "1 OR 1=1"
    client.force_login(person)
    assert client.get(f"/en/offerings/{target.pk}/pledge/").status_code == (
        404 if hidden in ("draft offering", "project not public") else 200
    )
    # The pledge page finds offerings the same way, by any id in its URL.
    assert client.get(f"/en/offerings/{2**70}/pledge/").status_code == 404
    response = client.post("/en/wallet/reinvest/", posted)
    assert response.status_code == 404
    assert "Unpublished pumps" not in response.content.decode()
    assert wallet(person).amount == D("12.50")
    assert not Pledge.objects.filter(offering=target).exists()


def test_issuer_bond_page_shows_what_is_due(client, paid_bond):
    offering, _holders = paid_bond
    member = MembershipFactory(organization=offering.issuer).user
    client.force_login(member)
    # The issuer's page is back office: not without two-factor authentication.
    assert "/2fa/totp/activate/" in client.get(f"/en/bonds/{offering.pk}/")["Location"]
    enable_totp(member)
    body = client.get(f"/en/bonds/{offering.pk}/").content.decode()
    assert 'data-kind="redemption"' in body and 'data-paid="1"' in body
    client.force_login(UserFactory())
    assert client.get(f"/en/bonds/{offering.pk}/").status_code == 404


def test_dashboard_panels_render(client, paid_bond, monkeypatch):
    from portal import registry

    # Register into copies so that the rest of the session keeps the site's own registry.
    monkeypatch.setattr(registry, "_panels", dict(registry._panels))
    monkeypatch.setattr(registry, "_menu", dict(registry._menu))
    import finance.returns_dashboards as dashboards

    importlib.reload(dashboards)
    _offering, holders = paid_bond
    client.force_login(holders[0])
    response = client.get("/en/dashboard/", follow=True)
    assert response.status_code == 200
    assert "/en/portfolio/" in response.content.decode()


def value_line_end(person) -> float:
    """The y of the value line's last point in the portfolio chart (190 is zero)."""
    import re

    from finance.portfolio import portfolio_charts, portfolio_for

    svg = portfolio_charts(portfolio_for(person))["value"]
    points = re.findall(r'<polyline points="([^"]+)"', svg)[0].split()  # the value series
    return float(points[-1].split(",")[1])


def test_the_value_line_shows_what_is_held_and_drops_to_zero_once_repaid(paid_bond):
    offering, holders = paid_bond
    assert value_line_end(holders[0]) < 190  # 300 of bonds still held
    rs.bond_redeem(offering=offering, today=datetime.date(2026, 1, 16))
    assert value_line_end(holders[0]) == 190  # redeemed: nothing held any more
