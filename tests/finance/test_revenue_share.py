"""Revenue share for real users: the entrepreneur reports each period's revenue with a
document, pays the investors' share by bank transfer (a reference per report) or staff record
money received; the share is distributed pro rata until the agreed multiple is reached, the
rest held for review. SQLite and PostgreSQL (run with DATABASE_URL for the ledger's triggers
and reconcile --strict on PostgreSQL)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from stdnum import iso11649

from finance import returns_services as rs
from finance.bank import BankStatementLine, suspense_account
from finance.ledger import Leg, Transaction, balance
from finance.money import Money
from finance.portfolio import Status, portfolio_for
from finance.returns import Distribution, DistributionLine, RevenueReport
from finance.statements_import import import_statement
from portal.models import AuditEntry, Notification
from tests.conftest import enable_totp
from tests.factories import MembershipFactory, OrganizationFactory, StaffFactory, UserFactory
from tests.finance.builders import make_offering
from tests.finance.test_loan_repayment_channels import csv_statement
from tests.finance.test_returns import (
    assert_ledger_consistent,
    close_and_disburse,
    fund,
    funded_revenue_share,
    staff,
    wallet,
)

pytestmark = pytest.mark.django_db
D = Decimal
DISBURSED = datetime.date(2024, 12, 31)  # funded_revenue_share backdates the disbursement
Q1 = (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31))
Q2 = (datetime.date(2025, 4, 1), datetime.date(2025, 6, 30))
Q3 = (datetime.date(2025, 7, 1), datetime.date(2025, 9, 30))
Q4 = (datetime.date(2025, 10, 1), datetime.date(2025, 12, 31))


def document(name="sales.pdf", content=b"%PDF-1.4 quarterly sales"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def report(offering, period, figure, **overrides):
    values = {
        "offering": offering,
        "period_start": period[0],
        "period_end": period[1],
        "revenue": D(figure),
        "document": document(),
        "by": offering.project.owner,
    }
    values.update(overrides)
    return rs.revenue_report_submit(**values)


def pay(report_, amount, source, currency="USD", on=datetime.date(2025, 4, 10)):
    return rs.revenue_share_pay(
        report=report_, amount=Money(amount, currency), received_on=on, source_id=source
    )


def shared_total(offering) -> Decimal:
    return DistributionLine.objects.filter(distribution__offering=offering).aggregate(
        s=Sum("income")
    )["s"] or D("0")


@pytest.fixture
def share():
    """A revenue share of 10% capped at 1.5 x 1,000 raised (600 + 400), disbursed on
    2024-12-31."""
    return funded_revenue_share()


# --- Reports: every refusal -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"revenue": None}, "revenue", "cannot be left out"),
        ({"revenue": D("-5")}, "revenue", "cannot be negative"),
        ({"revenue": D("10.005")}, "revenue", "whole minor units"),
        ({"currency": "EUR"}, "currency", "in USD"),
        ({"document": None}, "document", "Attach a document"),
        ({"period_end": Q2[0] - datetime.timedelta(days=1)}, "period_end", "on or after"),
        ({"period_start": Q1[1], "period_end": Q2[0]}, "period_start", "overlaps"),
        (
            {"period_start": datetime.date(2025, 3, 1), "period_end": datetime.date(2025, 5, 31)},
            "period_start",
            "overlaps",
        ),
        ({"period_start": DISBURSED - datetime.timedelta(days=1)}, "period_start", "disbursement"),
        ({"period_end": "tomorrow"}, "period_end", "ends in the future"),
    ],
)
def test_a_report_that_breaks_a_rule_is_refused_on_its_field_and_saves_nothing(
    share, overrides, field, message
):
    offering, _investors = share
    report(offering, Q1, "10000")
    if overrides.get("period_end") == "tomorrow":
        overrides["period_end"] = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(rs.RevenueReportRefused, match=message) as refused:
        report(offering, Q2, "4000", **overrides)
    assert refused.value.field == field
    assert RevenueReport.objects.count() == 1


def test_only_the_entrepreneur_of_a_disbursed_revenue_share_reports(share):
    offering, (investor, _other) = share
    with pytest.raises(rs.RevenueReportRefused, match="Only the entrepreneur"):
        report(offering, Q1, "100", by=investor)
    waiting = make_offering(instrument="revenue_share", revenue_share=D("0.1"), cap_multiple=2)
    with pytest.raises(rs.RevenueReportRefused, match="once the money has been disbursed"):
        report(waiting, Q1, "100")
    loan = make_offering(instrument="loan")
    with pytest.raises(rs.RevenueReportRefused, match="Only a revenue share"):
        report(loan, Q1, "100")
    assert not RevenueReport.objects.exists()


def test_a_period_starting_on_the_disbursement_day_and_ending_today_is_accepted(share):
    offering, _investors = share
    accepted = report(offering, (DISBURSED, timezone.localdate()), "0")
    assert accepted.share_due == 0 and accepted.status == RevenueReport.Status.NOTHING_DUE


# --- Paying the share ---------------------------------------------------------------------------


def test_the_same_payment_recorded_twice_moves_money_once(share):
    offering, (big, small) = share
    q1 = report(offering, Q1, "10000")  # 10% of 10,000: 1,000 due
    first = pay(q1, "100.00", "bankline:7")
    transactions = Transaction.objects.count()
    again = pay(q1, "100.00", "bankline:7")
    assert first.recorded and not again.recorded
    assert again.shared == first.shared == Money("100.00", "USD")
    assert Transaction.objects.count() == transactions
    q1.refresh_from_db()
    assert q1.share_paid == D("100.00") and q1.status == RevenueReport.Status.DUE
    assert wallet(big).amount == D("60.00") and wallet(small).amount == D("40.00")
    # Another payment of the same amount (another bank line) is another payment.
    pay(q1, "100.00", "bankline:8")
    q1.refresh_from_db()
    assert q1.share_paid == D("200.00")
    assert wallet(big).amount == D("120.00") and wallet(small).amount == D("80.00")
    assert Distribution.objects.filter(kind=Distribution.Kind.REVENUE_SHARE).count() == 2
    assert_ledger_consistent()


def test_a_payment_in_another_currency_or_not_above_zero_is_refused(share):
    offering, _investors = share
    q1 = report(offering, Q1, "10000")
    with pytest.raises(rs.RevenueReportRefused, match="in EUR but the share is due in USD"):
        pay(q1, "100.00", "bankline:1", currency="EUR")
    with pytest.raises(rs.RevenueReportRefused, match="above zero"):
        pay(q1, "0", "bankline:2")
    with pytest.raises(rs.RevenueReportRefused, match="future"):
        pay(q1, "10", "bankline:3", on=timezone.localdate() + datetime.timedelta(days=1))
    assert not Transaction.objects.filter(kind__startswith="returns.").exists()


def test_the_cap_stops_the_share_and_what_is_paid_beyond_is_held(client, share):
    offering, (big, small) = share
    owner = offering.project.owner
    # Cap 1.5 x 1,000 = 1,500: 1,000 + 400, then only 100 of the 900.
    reports = [report(offering, q, r) for q, r in ((Q1, "10000"), (Q2, "4000"), (Q3, "9000"))]
    assert [r.share_due for r in reports] == [D("1000.00"), D("400.00"), D("100.00")]
    assert [r.cap_reached for r in reports] == [False, False, True]
    with pytest.raises(rs.RevenueReportRefused, match="cap of .* has been reached"):
        report(offering, Q4, "5000")
    pay(reports[0], "1000.00", "bankline:1")
    paid = pay(reports[1], "500.00", "bankline:2")  # 100 more than its share
    assert paid.shared == Money("400.00", "USD") and paid.excess == Money("100.00", "USD")
    pay(reports[2], "100.00", "bankline:3")
    late = pay(reports[2], "50.00", "bankline:4")  # the cap is paid: all of it is held
    assert late.shared.amount == 0 and late.excess == Money("50.00", "USD")
    assert shared_total(offering) == D("1500.00")
    assert wallet(big).amount == D("900.00") and wallet(small).amount == D("600.00")
    assert balance(rs.excess_account(offering)) == Money("150.00", "USD")
    assert all(r.status == RevenueReport.Status.PAID for r in RevenueReport.objects.all())
    standing = rs.revenue_share_standing(offering, list(RevenueReport.objects.all()))
    assert standing.complete and standing.unpaid.amount == 0
    client.force_login(owner)
    body = client.get(f"/en/revenue-shares/{offering.pk}/").content.decode()
    assert "data-complete" in body and "data-report-form" not in body
    assert "150.00" in body.split("data-excess>", 1)[1].split("</dd>", 1)[0]
    assert_ledger_consistent()


def test_a_failure_midway_leaves_no_half_payment(share, monkeypatch):
    offering, (big, _small) = share
    q1 = report(offering, Q1, "10000")
    legs = Leg.objects.count()

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(rs, "post_transaction", broken)
    with pytest.raises(RuntimeError):
        pay(q1, "1500.00", "bankline:1")  # shares 1,000 (posted), then fails holding 500
    assert Leg.objects.count() == legs
    assert not Distribution.objects.exists() and not DistributionLine.objects.exists()
    q1.refresh_from_db()
    assert q1.share_paid == 0 and wallet(big).amount == 0
    monkeypatch.undo()
    assert pay(q1, "1500.00", "bankline:1").recorded
    assert_ledger_consistent()


# --- By bank transfer, quoting the report's reference -------------------------------------------


def test_each_report_has_its_own_reference_and_nothing_else_matches_it(share):
    offering, _investors = share
    q1, q2 = report(offering, Q1, "10000"), report(offering, Q2, "100")
    reference = rs.revenue_share_reference(q1)
    assert iso11649.is_valid(reference) and reference != rs.revenue_share_reference(q2)
    assert rs.revenue_report_for_reference(reference) == q1
    assert rs.revenue_report_for_reference(iso11649.format(reference).lower()) == q1
    assert rs.loan_for_repayment_reference(reference) is None
    assert rs.revenue_report_for_reference(rs.loan_repayment_reference(offering)) is None


def test_a_transfer_quoting_the_reference_is_shared_once_even_imported_twice(share):
    offering, (big, small) = share
    q1 = report(offering, Q1, "10000")
    reference = rs.revenue_share_reference(q1)
    data = csv_statement(("REV-1", datetime.date(2025, 4, 20), D("1200.00"), "USD", reference))
    line = import_statement(file_bytes=data, filename="a.csv", uploaded_by=staff()).lines.get()
    assert line.status == BankStatementLine.Status.REVENUE_SHARE
    (note,) = line.note_lines
    assert f"report {q1.pk}" in note and "200.00 USD beyond the share due" in note
    import_statement(file_bytes=data + b"", filename="b.csv", uploaded_by=staff())
    q1.refresh_from_db()
    assert q1.share_paid == D("1000.00") and q1.status == RevenueReport.Status.PAID
    assert wallet(big).amount == D("600.00") and wallet(small).amount == D("400.00")
    assert balance(rs.excess_account(offering)) == Money("200.00", "USD")
    assert Distribution.objects.get().source_key == f"revenue:{q1.pk}:bankline:{line.pk}"
    assert Distribution.objects.get().paid_on == datetime.date(2025, 4, 20)
    assert_ledger_consistent()


def test_a_transfer_in_another_currency_waits_for_staff_with_the_reason(share):
    offering, (big, _small) = share
    q1 = report(offering, Q1, "10000")
    data = csv_statement(
        ("REV-2", datetime.date(2025, 4, 20), D("900.00"), "EUR", rs.revenue_share_reference(q1))
    )
    line = import_statement(file_bytes=data, filename="eur.csv", uploaded_by=staff()).lines.get()
    assert line.status == BankStatementLine.Status.UNMATCHED and line.needs_attention
    assert "paid in EUR, but the share is due in USD" in " ".join(line.note_lines)
    assert balance(suspense_account("EUR")) == Money("900.00", "EUR")
    assert wallet(big).amount == 0
    assert_ledger_consistent()


# --- The entrepreneur's page ------------------------------------------------------------------


def form_data(period=Q2, revenue="4000", currency="USD", upload=None):
    return {
        "period_start": period[0].isoformat(),
        "period_end": period[1].isoformat(),
        "revenue": revenue,
        "currency": currency,
        "document": upload or document(),
    }


def test_the_entrepreneur_reports_and_sees_the_share_due_and_how_to_pay(client, share):
    offering, _investors = share
    report(offering, Q1, "10000")
    client.force_login(offering.project.owner)
    page = client.get(f"/en/revenue-shares/{offering.pk}/")
    assert page.status_code == 200
    assert page.context["form"]["period_start"].value() == Q2[0]  # where the last one stopped
    response = client.post(
        f"/en/revenue-shares/{offering.pk}/", form_data(revenue="4 000,50"), follow=True
    )
    q2 = RevenueReport.objects.get(period_start=Q2[0])
    assert q2.revenue == D("4000.50") and q2.share_due == D("400.05")
    assert q2.document.name.endswith(".pdf")
    body = response.content.decode()
    assert rs.revenue_share_reference(q2) in body and "400.05" in body
    assert "1,500.00" in body.split("data-cap>", 1)[1].split("</dd>", 1)[0]
    assert "1,400.05" in body.split("data-unpaid>", 1)[1].split("</dd>", 1)[0]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"revenue": "-10"}, "revenue", "cannot be negative"),
        ({"revenue": ""}, "revenue", "cannot be left out"),
        ({"revenue": "lots"}, "revenue", "such as 250"),
        ({"currency": "EUR"}, "currency", "in USD"),
        ({"period": (Q1[1], Q2[1])}, "period_start", "overlaps"),
        ({"period": (datetime.date(2024, 10, 1), DISBURSED)}, "period_start", "disbursement"),
        (
            {"period": (Q2[0], datetime.date(2099, 1, 1))},
            "period_end",
            "ends in the future",
        ),
        ({"upload": document("sales.pdf", b"<html>not a pdf</html>")}, "document", "not accepted"),
        ({"upload": document("empty.pdf", b"")}, "document", "empty"),
    ],
)
def test_a_refused_report_shows_a_clear_error_on_its_field(client, share, data, field, message):
    offering, _investors = share
    report(offering, Q1, "10000")
    client.force_login(offering.project.owner)
    response = client.post(f"/en/revenue-shares/{offering.pk}/", form_data(**data))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert message in " ".join(errors[field]), errors
    assert RevenueReport.objects.count() == 1


WHO = ["owner", "other entrepreneur", "lender", "anonymous", "staff", "staff without 2FA"]
# who: (page, report, document)
EXPECTED = {
    "owner": (200, 302, 200),
    "other entrepreneur": (404, 404, 404),
    "lender": (200, 403, 403),
    "anonymous": (302, 302, 302),
    "staff": (200, 403, 200),
    # Staff see the page and the business's papers through the back office: turn on
    # two-factor authentication first.
    "staff without 2FA": (302, 302, 302),
}


@pytest.mark.parametrize("who", WHO)
def test_who_may_see_report_and_download(client, share, who):
    offering, (lender, _other) = share
    q1 = report(offering, Q1, "10000")
    person = {
        "owner": offering.project.owner,
        "other entrepreneur": make_offering(instrument="loan").project.owner,
        "lender": lender,
        "anonymous": None,
        "staff": StaffFactory(),
        "staff without 2FA": StaffFactory(),
    }[who]
    if who == "staff":
        enable_totp(person)
    if person is not None:
        client.force_login(person)
    url = f"/en/revenue-shares/{offering.pk}/"
    page = client.get(url)
    posted = client.post(url, form_data())
    download = client.get(f"{url}reports/{q1.pk}/document/")
    assert (page.status_code, posted.status_code, download.status_code) == EXPECTED[who]
    if who == "anonymous":
        assert "login" in page["Location"]
    if who == "staff without 2FA":
        for response in (page, posted, download):
            assert "/2fa/totp/activate/" in response["Location"]
    if page.status_code == 200:
        body = page.content.decode()
        assert ("data-report-form" in body) == (who == "owner")
        assert ("/document/" in body) == (who in ("owner", "staff", "staff without 2FA"))
    if download.status_code == 200:
        assert download["Content-Disposition"].startswith("attachment")
        assert download["Content-Type"] == "application/pdf"
        assert b"".join(download.streaming_content).startswith(b"%PDF-")
    assert RevenueReport.objects.count() == (2 if who == "owner" else 1)


def test_the_page_costs_the_same_queries_with_many_reports(
    client, share, django_assert_max_num_queries
):
    offering, _investors = share
    client.force_login(offering.project.owner)
    client.get(f"/en/revenue-shares/{offering.pk}/")  # the site's settings row is made once
    with django_assert_max_num_queries(10):
        assert client.get(f"/en/revenue-shares/{offering.pk}/").status_code == 200
    start = Q1[0]
    for month in range(10):
        end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
        made = report(offering, (start, end), "500")
        pay(made, "25.00", f"bankline:{month}")
        start = end + datetime.timedelta(days=1)
    # Ten reports and their payments cost what none did, plus the one query for payments.
    with django_assert_max_num_queries(10):
        response = client.get(f"/en/revenue-shares/{offering.pk}/")
    assert response.content.decode().count("data-report=") == 10


def test_the_entrepreneur_finds_the_page_on_the_dashboard(client, share):
    offering, _investors = share
    owner = offering.project.owner
    MembershipFactory(user=owner, organization=OrganizationFactory(kind="enterprise"))
    client.force_login(owner)
    body = client.get("/en/dashboard/entrepreneur/").content.decode()
    assert f"/en/revenue-shares/{offering.pk}/" in body


# --- Staff record money received (Wagtail admin) --------------------------------------------------


def test_staff_record_a_payment_once_per_reference_in_the_admin(client, share, reviewer):
    offering, (big, _small) = share
    q1 = report(offering, Q1, "10000")
    enable_totp(reviewer)
    client.force_login(reviewer)
    page = client.get(f"/admin/money/offerings/{offering.pk}/revenue/")
    assert page.status_code == 200 and rs.revenue_share_reference(q1) in page.content.decode()
    url = f"/admin/money/offerings/{offering.pk}/revenue/{q1.pk}/payments/"
    data = {"amount": "1100", "currency": "USD", "received_on": "2025-04-12", "reference": "X 1"}
    first = client.post(url, data, follow=True).content.decode()
    assert "1,000.00 shared" in first and "100.00 beyond the share due" in first
    again = client.post(url, {**data, "reference": "  X   1 "})  # the same, as typed again
    assert again.status_code == 302
    repeated = client.get(again["Location"]).content.decode()
    assert "already recorded" in repeated
    q1.refresh_from_db()
    assert q1.share_paid == D("1000.00") and wallet(big).amount == D("600.00")
    wrong = client.post(url, {**data, "currency": "EUR", "reference": "X 2"}, follow=True)
    assert "in EUR but the share is due in USD" in wrong.content.decode()
    assert Distribution.objects.count() == 1
    assert_ledger_consistent()


def test_people_without_the_reviewer_role_cannot_record_payments(client, share):
    offering, _investors = share
    q1 = report(offering, Q1, "10000")
    outsider = UserFactory(is_staff=True)
    enable_totp(outsider)
    client.force_login(outsider)
    url = f"/admin/money/offerings/{offering.pk}/revenue/{q1.pk}/payments/"
    data = {"amount": "100", "currency": "USD", "received_on": "2025-04-12", "reference": "Y"}
    assert client.post(url, data).status_code in (302, 403)
    assert client.get(f"/admin/money/offerings/{offering.pk}/revenue/").status_code in (302, 403)
    q1.refresh_from_db()
    assert q1.share_paid == 0


# --- Staff check each report against its document -------------------------------------------------


def test_staff_query_a_report_then_verify_it_and_everyone_who_reads_it_sees_which(
    client, share, reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    offering, (lender, _small) = share
    owner = offering.project.owner
    owner.preferred_language = "es"
    owner.save(update_fields=["preferred_language"])
    q1 = report(offering, Q1, "10000")
    assert q1.check_state == RevenueReport.Check.PENDING
    enable_totp(reviewer)
    client.force_login(reviewer)
    admin = f"/admin/money/offerings/{offering.pk}/revenue/"
    assert 'data-check="pending"' in client.get(admin).content.decode()
    url = f"{admin}{q1.pk}/check/"

    # A query needs a note: refused without one, nothing recorded.
    refused = client.post(url, {"verdict": "queried", "note": "  "}, follow=True)
    assert "Write what is queried" in refused.content.decode()
    q1.refresh_from_db()
    assert q1.check_state == RevenueReport.Check.PENDING and q1.checked_by is None

    note = "The bank statement shows 8,000.00, not 10,000.00 (50% off?)"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"verdict": "queried", "note": note}, follow=True)
        client.post(url, {"verdict": "queried", "note": note})  # a double click
    assert "queried: the entrepreneur has been told" in response.content.decode()
    q1.refresh_from_db()
    assert (q1.check_state, q1.check_note, q1.checked_by) == ("queried", note, reviewer)
    assert q1.share_due == D("1000.00")  # what is due does not change
    audit = AuditEntry.objects.filter(object_id=str(q1.pk), action__startswith="revenue.q")
    assert [(a.from_state, a.to_state, a.reason) for a in audit] == [("pending", "queried", note)]
    # The entrepreneur is told in their language, by notification and email.
    told = Notification.objects.get(recipient=owner)
    assert told.message.startswith("El personal") and note in told.message
    assert [m.to for m in mailoutbox] == [[owner.email]]

    # The entrepreneur and the investors see the query and its note on the report.
    for person in (owner, lender):
        client.force_login(person)
        body = client.get(f"/en/revenue-shares/{offering.pk}/").content.decode()
        assert 'data-check="queried"' in body and "8,000.00, not 10,000.00" in body
    client.force_login(lender)
    body = client.get(f"/es/revenue-shares/{offering.pk}/").content.decode()
    assert "Cuestionado por el personal" in body

    # Explained: staff verify it, and the entrepreneur hears the query is cleared.
    client.force_login(reviewer)
    client.post(url, {"verdict": "verified", "note": ""})
    q1.refresh_from_db()
    assert q1.check_state == RevenueReport.Check.VERIFIED and q1.check_note == ""
    assert Notification.objects.filter(recipient=owner).count() == 2
    client.force_login(lender)
    body = client.get(f"/en/revenue-shares/{offering.pk}/").content.decode()
    assert 'data-check="verified"' in body and "Checked against the document" in body
    assert "8,000.00" not in body


def test_the_reviewers_dashboard_lists_the_revenue_shares_with_reports_to_check(
    client, share, reviewer
):
    offering, _investors = share
    q1, q2 = report(offering, Q1, "10000"), report(offering, Q2, "0")
    enable_totp(reviewer)
    client.force_login(reviewer)

    def panel() -> str:
        body = client.get("/es/dashboard/review/").content.decode()
        start = body.find("data-revenue-checks")
        return body[start : body.find("</section>", start)] if start >= 0 else ""

    shown = panel()
    assert "Informes de ingresos por revisar" in shown
    assert f'data-offering="{offering.pk}"' in shown and "<td>2</td><td>0</td>" in shown
    assert f"/admin/money/offerings/{offering.pk}/revenue/" in shown
    rs.revenue_report_check(report=q1, verdict="queried", note="Which bank?", by=reviewer)
    assert "<td>1</td><td>1</td>" in panel()
    for each in (q1, q2):
        rs.revenue_report_check(report=each, verdict="verified", by=reviewer)
    assert panel() == ""


@pytest.mark.parametrize(
    "who", ["lender", "staff without the reviewer role", "who reported it", "the owner now"]
)
def test_a_report_is_checked_only_by_a_reviewer_who_did_not_make_it(client, share, who):
    offering, (lender, _small) = share
    q1 = report(offering, Q1, "10000")
    person = {
        "lender": lender,
        "staff without the reviewer role": UserFactory(is_staff=True),
        "who reported it": offering.project.owner,
        "the owner now": UserFactory(),
    }[who]
    if who == "the owner now":
        # The project changed hands after the report: its owner is not who reported it.
        type(offering.project).objects.filter(pk=offering.project_id).update(owner=person)
        q1.refresh_from_db()
        assert q1.submitted_by_id != person.pk
    if who in ("who reported it", "the owner now"):
        # A reviewer too: nobody checks their own figures.
        MembershipFactory(
            user=person, organization=OrganizationFactory(kind="operator"), role="reviewer"
        )
    with pytest.raises(rs.RevenueReportRefused):
        rs.revenue_report_check(report=q1, verdict="verified", by=person)
    enable_totp(person)
    client.force_login(person)
    response = client.post(
        f"/admin/money/offerings/{offering.pk}/revenue/{q1.pk}/check/", {"verdict": "verified"}
    )
    assert response.status_code in (302, 403)
    q1.refresh_from_db()
    assert q1.check_state == RevenueReport.Check.PENDING
    assert not AuditEntry.objects.filter(action="revenue.verified").exists()


def test_a_long_query_is_quoted_short_in_the_notification_and_whole_on_the_page(
    client, share, reviewer
):
    offering, _investors = share
    q1 = report(offering, Q1, "10000")
    note = "The March bank statement does not match. " * 20  # 840 characters
    rs.revenue_report_check(report=q1, verdict="queried", note=note, by=reviewer)
    told = Notification.objects.get(recipient=offering.project.owner)
    assert len(told.message) < 300 and told.message.endswith("…")
    assert told.url == f"/en/revenue-shares/{offering.pk}/"
    client.force_login(offering.project.owner)
    body = client.get(told.url).content.decode()
    assert note.strip() in body


def test_a_report_is_checked_under_its_own_offering_only(client, share, reviewer):
    offering, _investors = share
    q1 = report(offering, Q1, "10000")
    other, _ = funded_revenue_share()
    enable_totp(reviewer)
    client.force_login(reviewer)
    # Not found under another offering (Wagtail's admin answers its 404 by a redirect).
    response = client.post(
        f"/admin/money/offerings/{other.pk}/revenue/{q1.pk}/check/", {"verdict": "verified"}
    )
    assert response.status_code != 200
    q1.refresh_from_db()
    assert q1.check_state == RevenueReport.Check.PENDING
    bad = client.post(
        f"/admin/money/offerings/{offering.pk}/revenue/{q1.pk}/check/",
        {"verdict": "approved"},
        follow=True,
    )
    assert "verified or queried" in bad.content.decode()
    q1.refresh_from_db()
    assert q1.check_state == RevenueReport.Check.PENDING


def test_the_database_refuses_a_query_without_a_note_or_a_check_by_nobody(share):
    offering, _investors = share
    q1 = report(offering, Q1, "10000")
    for fields in (
        {
            "check_state": "queried",
            "check_note": "",
            "checked_by": q1.submitted_by,
            "checked_at": timezone.now(),
        },
        {"check_state": "verified"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            RevenueReport.objects.filter(pk=q1.pk).update(**fields)


# --- Investors' portfolio ------------------------------------------------------------------------


def holding(investor, offering, today=None):
    return next(
        h for h in portfolio_for(investor, today=today).holdings if h.offering.pk == offering.pk
    )


def test_investors_see_income_and_a_share_not_paid_in_time_as_late(share):
    offering, (big, _small) = share
    q1 = report(offering, Q1, "10000")
    shown = holding(big, offering)
    assert shown.status == Status.ON_TIME
    assert shown.next_payments[0][1] == Money("600.00", "USD")  # their part of what is due
    RevenueReport.objects.filter(pk=q1.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(days=rs.REVENUE_SHARE_PAYMENT_DAYS + 5)
    )
    late = holding(big, offering)
    assert late.status == Status.LATE and late.days_late == 5
    pay(q1, "1000.00", "bankline:1")
    paid = holding(big, offering)
    assert paid.status == Status.ON_TIME and paid.income_received == Money("600.00", "USD")


def test_a_report_overdue_under_the_terms_shows_the_holding_late(share):
    offering, (big, _small) = share
    offering.periods_per_year = 4  # a report every quarter
    offering.save(update_fields=["periods_per_year"])
    # The first quarter runs 2024-12-31 to 2025-03-30; its report is expected 30 days later.
    assert holding(big, offering, today=datetime.date(2025, 4, 29)).status == Status.ON_TIME
    late = holding(big, offering, today=datetime.date(2025, 5, 9))
    assert late.status == Status.LATE and late.days_late == 10
    report(offering, (DISBURSED, datetime.date(2025, 3, 30)), "0")
    assert holding(big, offering, today=datetime.date(2025, 5, 9)).status == Status.ON_TIME


def test_without_a_reporting_frequency_no_report_is_ever_overdue(share):
    offering, (big, _small) = share
    assert holding(big, offering, today=datetime.date(2026, 1, 1)).status == Status.ON_TIME


def test_a_holding_whose_cap_is_paid_shows_repaid_and_a_link_to_the_reports(client, share):
    offering, (big, _small) = share
    for q, revenue in ((Q1, "10000"), (Q2, "5000")):
        made = report(offering, q, revenue)
        pay(made, str(made.share_due), f"bankline:{made.pk}")
    shown = holding(big, offering)
    assert shown.status == Status.REPAID and shown.income_received == Money("900.00", "USD")
    client.force_login(big)
    body = client.get("/en/portfolio/").content.decode()
    assert f"/en/revenue-shares/{offering.pk}/" in body


def test_a_full_cycle_leaves_the_ledger_reconciled(share):
    """Reports, transfers quoting the references, a staff-recorded payment, money beyond the
    cap: reconcile --strict passes after each step and the wallets hold what was shared."""
    offering, (big, small) = share
    q1 = report(offering, Q1, "6000")
    assert_ledger_consistent()
    data = csv_statement(("C-1", Q2[0], D("600.00"), "USD", rs.revenue_share_reference(q1)))
    import_statement(file_bytes=data, filename="c1.csv", uploaded_by=staff())
    assert_ledger_consistent()
    q2 = report(offering, Q2, "12000")  # 1,200 due, of which 900 is left under the cap
    assert q2.share_due == D("900.00") and q2.cap_reached
    rs.revenue_share_pay(
        report=q2,
        amount=Money("1000.00", "USD"),
        received_on=Q3[0],
        source_id="manual:RCPT-9",
        by=staff(),
    )
    assert_ledger_consistent()
    assert shared_total(offering) == D("1500.00")
    assert wallet(big) + wallet(small) == Money("1500.00", "USD")
    assert balance(rs.excess_account(offering)) == Money("100.00", "USD")


def test_an_offering_raised_from_more_investors_splits_to_the_minor_unit(db):
    offering = make_offering(
        instrument="revenue_share", target=D("900"), revenue_share=D("0.1"), cap_multiple=2
    )
    people = fund(offering, ["300", "300", "300"])
    offering = close_and_disburse(offering)
    made = rs.revenue_report_submit(
        offering=offering,
        period_start=timezone.localdate(),
        period_end=timezone.localdate(),
        revenue=D("1000.00"),
        document=document(),
        by=offering.project.owner,
    )
    pay(made, "100.00", "bankline:1", on=timezone.localdate())
    assert sorted(wallet(p).amount for p in people) == [D("33.33"), D("33.33"), D("33.34")]
