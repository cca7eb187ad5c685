"""Servicing a loan: staff restructure it (the old schedule stays visible, with the date and
the reason) or write it off (reason, then confirmation; repayments refused after), and the
daily notices of installments coming due and late, once per stage, in each recipient's
language."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from finance import returns_services as rs
from finance import tasks
from finance.money import Money
from finance.portfolio import Status, portfolio_for
from finance.returns import LoanSchedule, Repayment
from portal.models import AuditEntry, Notification
from tests.conftest import enable_totp
from tests.factories import StaffFactory, UserFactory
from tests.finance.test_returns import START, assert_ledger_consistent, funded_loan

D = Decimal


@pytest.fixture
def loan(db):
    """A 1,000 USD loan from three lenders, drawn on START, its first installment paid."""
    offering, lenders = funded_loan()
    schedule = rs.loan_fix_schedule(offering=offering, start_date=START)
    first = schedule.installments.get(number=1)
    rs.repayment_record(
        offering=offering,
        amount=Money(first.payment, "USD"),
        received_on=first.due_date,
        idempotency_key="servicing-1",
    )
    return offering, lenders


@pytest.fixture
def staff_member(db):
    member = StaffFactory()
    enable_totp(member)  # restructuring and writing off are back-office pages
    return member


def next_year_on(month: int, day: int) -> datetime.date:
    return datetime.date(datetime.date.today().year + 1, month, day)


def restructure_form(**overrides) -> dict:
    values = {
        "annual_rate": "6",
        "periods": "12",
        "periods_per_year": "12",
        "kind": "equal_principal",
        "first_due_date": next_year_on(3, 15).isoformat(),
        "reason": "The harvest failed; payments move to after the next one.",
    }
    values.update(overrides)
    return values


# --- Restructure ------------------------------------------------------------------------------


def test_staff_restructure_and_lenders_see_the_old_schedule_superseded(
    client, loan, staff_member, django_assert_max_num_queries
):
    offering, lenders = loan
    client.force_login(staff_member)
    page = client.get(f"/en/loans/{offering.pk}/restructure/")
    assert page.status_code == 200
    owed = sum(
        i.principal - i.principal_paid for i in rs.current_schedule(offering).installments.all()
    )
    assert (
        f"<dd data-owed>{Money(owed, 'USD').format('en')}</dd>" in page.content.decode()
    )  # shown before deciding

    response = client.post(f"/en/loans/{offering.pk}/restructure/", restructure_form())

    assert response.status_code == 302 and response["Location"] == f"/en/loans/{offering.pk}/"
    old, new = LoanSchedule.objects.filter(offering=offering).order_by("version")
    assert old.status == LoanSchedule.Status.SUPERSEDED and old.closed_at is not None
    assert (new.version, new.annual_rate, new.periods, new.kind) == (
        2,
        D("0.06"),
        12,
        "equal_principal",
    )
    first_due = new.installments.get(number=1).due_date
    assert first_due == next_year_on(3, 15)
    assert new.start_date == next_year_on(2, 15)
    assert new.installments.count() == 12
    entry = AuditEntry.objects.get(action="loan.restructured")
    assert entry.actor == staff_member and entry.reason.startswith("The harvest failed")

    client.force_login(lenders[0])
    with django_assert_max_num_queries(12):
        body = client.get(f"/en/loans/{offering.pk}/").content.decode()
    assert 'data-superseded="1"' in body
    assert 'data-status="superseded"' in body  # what v1 left unpaid moved to v2: not late
    assert "The harvest failed" in body
    assert "data-restructured" in body
    assert body.count('data-status="paid"') >= 1  # the old schedule's paid installment
    assert "Restructure</a>" not in body  # no staff actions for lenders


def test_only_staff_restructure(client, loan):
    offering, lenders = loan
    url = f"/en/loans/{offering.pk}/restructure/"
    for person in (lenders[0], offering.project.owner):
        client.force_login(person)
        assert client.get(url).status_code == 403
        assert client.post(url, restructure_form()).status_code == 403
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    # Django's staff flag, two-factor on, is not the operator's staff role.
    flag_only = UserFactory(is_staff=True)
    enable_totp(flag_only)
    client.force_login(flag_only)
    assert client.post(url, restructure_form()).status_code == 404
    with pytest.raises(rs.ScheduleRefused, match="Only staff"):
        rs.loan_restructure(
            offering=offering,
            by=flag_only,
            reason="x",
            annual_rate=D("0.06"),
            periods=12,
            periods_per_year=12,
            kind="equal_principal",
            start_date=next_year_on(3, 15),
        )
    assert LoanSchedule.objects.filter(offering=offering).count() == 1
    # Staff without two-factor authentication are sent to turn it on first.
    client.force_login(StaffFactory())
    response = client.get(url)
    assert response.status_code == 302 and "next=" in response["Location"]


def test_bad_restructure_terms_are_refused_and_keep_what_was_typed(client, loan, staff_member):
    offering, _lenders = loan
    client.force_login(staff_member)
    url = f"/en/loans/{offering.pk}/restructure/"

    response = client.post(
        url, restructure_form(annual_rate="6,5%", periods="0", reason="Rain came late")
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert 'value="6,5%"' in body and 'value="0"' in body and "Rain came late" in body
    assert "Enter a number." in body

    past = restructure_form(first_due_date="2025-01-01")
    assert "must fall due after today" in client.post(url, past).content.decode()
    day_31 = client.post(url, restructure_form(first_due_date=next_year_on(3, 31).isoformat()))
    assert day_31.status_code == 400
    assert "up to the 28th" in day_31.content.decode()
    assert next_year_on(3, 31).isoformat() in day_31.content.decode()
    no_reason = client.post(url, restructure_form(reason=" "))
    assert no_reason.status_code == 400
    assert LoanSchedule.objects.filter(offering=offering).count() == 1


# --- Write-off --------------------------------------------------------------------------------


def test_write_off_asks_to_confirm_then_lenders_see_it_and_repayments_are_refused(
    client, loan, staff_member
):
    offering, lenders = loan
    url = f"/en/loans/{offering.pk}/write-off/"
    client.force_login(staff_member)

    assert client.post(url, {"reason": ""}).status_code == 400
    confirm = client.post(url, {"reason": "The cooperative closed."})
    assert confirm.status_code == 200 and "data-confirm" in confirm.content.decode()
    assert rs.current_schedule(offering).status == LoanSchedule.Status.ACTIVE
    changed = client.post(url, {"reason": "The cooperative closed.", "change": "1"})
    assert "data-confirm" not in changed.content.decode()
    assert "The cooperative closed." in changed.content.decode()

    done = client.post(url, {"reason": "The cooperative closed.", "confirm": "1"})

    assert done.status_code == 302
    schedule = rs.current_schedule(offering)
    assert schedule.status == LoanSchedule.Status.WRITTEN_OFF
    entry = AuditEntry.objects.get(action="loan.written_off")
    assert entry.actor == staff_member and entry.reason == "The cooperative closed."

    for person in (lenders[0], offering.project.owner):
        client.force_login(person)
        body = client.get(f"/en/loans/{offering.pk}/").content.decode()
        assert "data-written-off" in body and "The cooperative closed." in body
        assert "Record a repayment" not in body
    assert portfolio_for(lenders[0]).holdings[0].status == Status.DEFAULTED

    client.force_login(staff_member)
    refused = client.post(
        f"/en/loans/{offering.pk}/repayments/",
        {"amount": "100", "currency": "USD", "received_on": "2025-04-15", "key": "late"},
        follow=True,
    )
    assert "This loan was written off; a repayment cannot be applied" in refused.content.decode()
    assert Repayment.objects.filter(offering=offering).count() == 1
    assert_ledger_consistent()


def test_only_staff_write_off(client, loan):
    offering, lenders = loan
    url = f"/en/loans/{offering.pk}/write-off/"
    client.force_login(lenders[1])
    assert client.post(url, {"reason": "x", "confirm": "1"}).status_code == 403
    client.force_login(UserFactory())
    assert client.post(url, {"reason": "x", "confirm": "1"}).status_code == 404
    assert rs.current_schedule(offering).status == LoanSchedule.Status.ACTIVE
    for person in (lenders[1], UserFactory(is_staff=True)):
        with pytest.raises(rs.ReturnsError, match="Only staff"):
            rs.loan_write_off(offering=offering, by=person, reason="x")
    assert rs.current_schedule(offering).status == LoanSchedule.Status.ACTIVE


def test_staff_list_of_loans_shows_the_late_ones(
    client, loan, staff_member, django_assert_max_num_queries
):
    offering, _lenders = loan
    client.force_login(staff_member)
    client.get("/en/loans/servicing/")
    for _ in range(3):
        rs.loan_fix_schedule(offering=funded_loan()[0], start_date=START)
    with django_assert_max_num_queries(12):
        body = client.get("/en/loans/servicing/").content.decode()
    assert body.count("data-loan=") == 4
    # Drawn in January 2025 and only the first installment paid: five installments late.
    assert f'data-loan="{offering.pk}" data-status="active"' in body
    assert "<td data-late-count>5</td>" in body


def test_portfolio_says_how_many_days_late(client, loan):
    offering, lenders = loan
    second = rs.current_schedule(offering).installments.get(number=2)
    holding = portfolio_for(lenders[0], today=second.due_date + datetime.timedelta(days=9))
    assert holding.holdings[0].status == Status.LATE
    assert holding.holdings[0].days_late == 9


# --- Notices ----------------------------------------------------------------------------------


def test_late_notices_go_once_per_stage_in_the_recipients_language(
    loan, django_capture_on_commit_callbacks
):
    offering, _lenders = loan
    owner = offering.project.owner
    owner.preferred_language = "es"
    owner.save(update_fields=["preferred_language"])
    reviewer = StaffFactory(preferred_language="fr")
    schedule = rs.current_schedule(offering)
    second = schedule.installments.get(number=2)  # due 2025-03-15, not paid
    assert second.due_date == datetime.date(2025, 3, 15)

    def run(day: datetime.date) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return tasks.installments_notify(day.isoformat())

    # Three days before: a reminder; the same day again, nothing.
    assert run(datetime.date(2025, 3, 12)) == 1
    assert run(datetime.date(2025, 3, 12)) == 0
    assert run(datetime.date(2025, 3, 13)) == 0
    reminder = Notification.objects.get(recipient=owner, verb="loan.due_soon")
    assert "15 de marzo de 2025" in reminder.message
    assert reminder.url == f"/es/loans/{offering.pk}/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [owner.email]
    assert mail.outbox[0].subject == reminder.message[:120]

    # One day late, then (with the third installment also late by then) thirty days late.
    assert run(datetime.date(2025, 3, 16)) == 1
    assert run(datetime.date(2025, 3, 16)) == 0
    assert run(datetime.date(2025, 4, 14)) == 2  # #2 thirty days late; #3 due tomorrow
    assert run(datetime.date(2025, 4, 14)) == 0
    assert Notification.objects.filter(recipient=owner).count() == 4
    assert Notification.objects.filter(recipient=owner, verb="loan.late").count() == 1
    long_late = Notification.objects.get(recipient=owner, verb="loan.long_late")
    assert "30" in long_late.message
    staff_notice = Notification.objects.get(recipient=reviewer)
    assert staff_notice.verb == "loan.long_late_staff"
    assert "15 mars 2025" in staff_notice.message
    assert staff_notice.url == f"/fr/loans/{offering.pk}/"
    assert [m.to for m in mail.outbox].count([owner.email]) == 4
    assert [m.to for m in mail.outbox].count([reviewer.email]) == 1

    # A written-off loan is not chased.
    rs.loan_write_off(offering=offering, by=reviewer, reason="closed")
    assert run(datetime.date(2025, 6, 1)) == 0


def test_wagtail_menu_links_staff_to_the_servicing_pages(client, db):
    from django.contrib.auth.models import Permission

    access_admin = Permission.objects.get(codename="access_admin")
    member = StaffFactory()
    member.user_permissions.add(access_admin)
    enable_totp(member)
    client.force_login(member)
    body = client.get("/admin/").content.decode()
    assert "/en/loans/servicing/" in body and "/en/payouts/review/" in body
    # An editor of the content, even with Django's staff flag, has no money pages.
    for editor in (UserFactory(), UserFactory(is_staff=True)):
        editor.user_permissions.add(access_admin)
        enable_totp(editor)
        client.force_login(editor)
        body = client.get("/admin/").content.decode()
        assert "/loans/servicing/" not in body and "/payouts/review/" not in body
        assert client.get("/en/loans/servicing/").status_code == 403
        assert client.get("/en/payouts/review/").status_code == 403
