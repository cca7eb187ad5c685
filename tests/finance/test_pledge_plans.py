"""Remittance-linked monthly plans: started from a confirmed pledge, a pledge a
month on the plan's day with every check a pledge has, one per month however
often the run goes, ended (and said why) when a month is refused, stopped by
the investor alone."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connections, transaction
from django.utils import timezone, translation

from finance import plans, services
from finance.offerings import Offering, Pledge
from finance.plans import PledgePlan, plan_start, plans_run
from portal.models import AuditEntry, Notification, User
from tests.conftest import requires_postgres
from tests.factories import UserFactory

from .builders import make_offering, make_pledge

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
NEXT_MONTH = (TODAY.replace(day=1) + datetime.timedelta(days=32)).replace(day=10)


@pytest.fixture
def investor(client):
    person = UserFactory(verification_tier="enhanced")
    client.force_login(person)
    return person


def confirm(client, offering, **extra):
    data = {"amount": "100", "method": "remittance", "key": "k-plan", "confirm": "1", **extra}
    return client.post(f"/en/offerings/{offering.pk}/pledge/", data)


def test_the_review_offers_a_monthly_plan_only_for_transfers(client, investor):
    offering = make_offering()
    for method, offered in (("remittance", True), ("bank_transfer", True), ("card", False)):
        html = client.post(
            f"/en/offerings/{offering.pk}/pledge/",
            {"amount": "100", "method": method, "key": "k1"},
        ).content.decode()
        assert ('name="monthly"' in html) is offered, method
        if offered:  # today's day is chosen, up to the 28th
            assert f'<option value="{min(TODAY.day, 28)}" selected>' in html


def test_confirming_with_monthly_starts_a_plan_from_the_first_pledge(client, investor):
    offering = make_offering()
    first = confirm(client, offering, monthly="1", day="5")
    again = confirm(client, offering, monthly="1", day="5")  # a double click
    assert first.status_code == again.status_code == 302
    pledge = Pledge.objects.get()
    plan = PledgePlan.objects.get()
    assert (plan.first_pledge, plan.investor, plan.day) == (pledge, investor, 5)
    assert (plan.amount, plan.method, plan.status) == (Decimal("100"), "remittance", "active")
    assert plan.last_period == f"{TODAY:%Y-%m}"  # this month is the pledge just made
    page = client.get(first["Location"]).content.decode()
    assert "day 5 of every month" in page


@pytest.mark.parametrize("day", ["0", "29", "x", ""])
def test_a_wrong_day_makes_no_pledge(client, investor, day):
    response = confirm(client, make_offering(), monthly="1", day=day)
    assert response.status_code == 400
    assert "Choose a day between 1 and 28" in response.content.decode()
    assert not Pledge.objects.exists() and not PledgePlan.objects.exists()


def test_a_card_pledge_cannot_repeat(client, investor):
    response = confirm(client, make_offering(), method="card", monthly="1", day="5")
    assert response.status_code == 400
    assert not Pledge.objects.exists()
    with pytest.raises(services.PledgeRefused):
        plan_start(pledge=make_pledge(make_offering(), "50", method="card"), day=5)


def _plan(offering=None, *, day=10, investor=None, amount="100") -> PledgePlan:
    offering = offering or make_offering()
    pledge = make_pledge(offering, amount, investor=investor, method="bank_transfer")
    return plan_start(pledge=pledge, day=day)


def test_each_month_one_pledge_on_the_plan_s_day_and_the_investor_is_told(
    django_capture_on_commit_callbacks,
):
    plan = _plan(day=10)
    assert plans_run(NEXT_MONTH - datetime.timedelta(days=1)) == {
        "pledged": 0,
        "ended": 0,
        "skipped": 0,
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert plans_run(NEXT_MONTH)["pledged"] == 1
        assert plans_run(NEXT_MONTH)["pledged"] == 0  # the same day again
        assert plans_run(NEXT_MONTH + datetime.timedelta(days=5))["pledged"] == 0  # later
    made = list(plan.pledges())
    assert len(made) == 1
    pledge = made[0]
    assert pledge.idempotency_key == f"plan-{plan.pk}-{NEXT_MONTH:%Y-%m}"
    assert (pledge.amount, pledge.method, pledge.status) == (
        Decimal("100"),
        "bank_transfer",
        "pending",
    )
    assert pledge.bank_reference.startswith("RF")
    plan.refresh_from_db()
    assert plan.last_period == f"{NEXT_MONTH:%Y-%m}"
    told = Notification.objects.get(recipient=plan.investor, verb="plan.pledged")
    assert pledge.bank_reference in told.message and "$100.00" in told.message
    assert told.url == f"/en/pledges/{pledge.pk}/"


def test_a_missed_day_is_caught_up_later_in_its_month_and_a_missed_month_is_not_doubled():
    plan = _plan(day=10)
    # The runs of the 10th were missed: the 15th makes the pledge.
    assert plans_run(NEXT_MONTH + datetime.timedelta(days=5))["pledged"] == 1
    # A month with no run at all is not made up the month after: one pledge there.
    two_months_on = (NEXT_MONTH + datetime.timedelta(days=62)).replace(day=12)
    assert plans_run(two_months_on)["pledged"] == 1
    assert plans_run(two_months_on)["pledged"] == 0
    assert [p.idempotency_key[-7:] for p in plan.pledges()] == [
        f"{two_months_on:%Y-%m}",
        f"{NEXT_MONTH:%Y-%m}",
    ]


def test_the_notice_is_in_the_investor_s_language(django_capture_on_commit_callbacks):
    plan = _plan(investor=UserFactory(verification_tier="enhanced", preferred_language="es"))
    with django_capture_on_commit_callbacks(execute=True):  # the notice is written on commit
        plans_run(NEXT_MONTH)
    told = Notification.objects.get(recipient=plan.investor, verb="plan.pledged")
    assert "referencia" in told.message and "100.00" in told.message


def test_a_closed_offering_ends_the_plan_with_the_reason(django_capture_on_commit_callbacks):
    plan = _plan()
    Offering.objects.filter(pk=plan.offering_id).update(status=Offering.Status.SUCCEEDED)
    with django_capture_on_commit_callbacks(execute=True):  # the notice is written on commit
        assert plans_run(NEXT_MONTH) == {"pledged": 0, "ended": 1, "skipped": 0}
    plan.refresh_from_db()
    assert plan.status == "ended" and "not open" in plan.end_reason
    assert plan.pledges().count() == 0
    told = Notification.objects.get(recipient=plan.investor, verb="plan.ended")
    assert "has ended" in told.message
    assert plans_run(NEXT_MONTH + datetime.timedelta(days=31))["pledged"] == 0


def test_the_investor_s_limit_is_checked_every_month(settings):
    settings.PUENTE_INVESTMENT_LIMITS_USD = {"unverified": Decimal("150")}
    investor = UserFactory(verification_tier="unverified")
    plan = _plan(investor=investor, amount="100")
    assert plans_run(NEXT_MONTH)["ended"] == 1  # 200 in twelve months is past 150
    plan.refresh_from_db()
    assert plan.status == "ended" and plan.pledges().count() == 0


def test_a_full_offering_ends_the_plan_and_oversells_nothing():
    offering = make_offering(target=Decimal("150"), hard_cap=Decimal("150"))
    _plan(offering, amount="100")
    assert plans_run(NEXT_MONTH)["ended"] == 1
    offering.refresh_from_db()
    assert offering.reserved == Decimal("100")


def test_the_investor_stops_a_plan_and_nobody_else_can(client, investor):
    plan = _plan(investor=investor)
    other = _plan()
    assert client.post(f"/en/plans/{other.pk}/stop/").status_code == 404
    assert client.get(f"/en/plans/{plan.pk}/stop/").status_code == 405
    response = client.post(f"/en/plans/{plan.pk}/stop/")
    assert response["Location"] == "/en/pledges/"
    plan.refresh_from_db()
    other.refresh_from_db()
    assert (plan.status, other.status) == ("stopped", "active")
    assert plans_run(NEXT_MONTH) == {"pledged": 1, "ended": 0, "skipped": 0}  # the other's
    assert plan.pledges().count() == 0
    # The first pledge stays as it was; the audit trail says who stopped what.
    assert plan.first_pledge.status == "pending"
    actions = AuditEntry.objects.filter(object_type="finance.pledgeplan", object_id=str(plan.pk))
    assert [(a.action, a.actor) for a in actions.order_by("pk")] == [
        ("plan.started", investor),
        ("plan.stopped", investor),
    ]


def test_a_closed_account_makes_no_more_pledges():
    plan = _plan()
    type(plan.investor).objects.filter(pk=plan.investor_id).update(is_active=False)
    assert plans_run(NEXT_MONTH) == {"pledged": 0, "ended": 0, "skipped": 0}


def test_my_pledges_lists_the_plans(client, investor):
    plan = _plan(investor=investor, day=7)
    html = client.get("/en/pledges/").content.decode()
    section = html.split('id="plans-title"')[1]
    assert "$100.00" in section and "on day 7" in section and "Active" in section
    assert f'action="/en/plans/{plan.pk}/stop/"' in section
    with translation.override("ar"):
        arabic = client.get("/ar/pledges/").content.decode()
    assert 'id="plans-title"' in arabic and "Monthly plans" not in arabic


def test_the_run_is_a_daily_beat_task():
    from finance.tasks import BEAT_SCHEDULE, plans_monthly

    assert BEAT_SCHEDULE["finance-plans-monthly"]["task"] == "finance.tasks.plans_monthly"

    plan = _plan()
    assert plans_monthly(NEXT_MONTH.isoformat())["pledged"] == 1
    assert plan.pledges().count() == 1
    assert plans.DAYS[-1] == 28


def test_a_plan_s_pledges_say_so_on_their_page(client, investor):
    plan = _plan(investor=investor, day=9)
    plans_run(NEXT_MONTH)
    monthly = plan.pledges().get()
    for pledge in (plan.first_pledge, monthly):
        html = client.get(f"/en/pledges/{pledge.pk}/").content.decode()
        assert "made on day 9 of every month" in html
    alone = make_pledge(make_offering(), "20", investor=investor)
    assert "monthly plan" not in client.get(f"/en/pledges/{alone.pk}/").content.decode()
    plans.plan_stop(plan=plan, by=investor)
    html = client.get(f"/en/pledges/{monthly.pk}/").content.decode()
    assert "Made by a monthly plan that has ended." in html


def test_two_unpaid_months_in_a_row_end_the_plan():
    plan = _plan()
    assert plans_run(NEXT_MONTH)["pledged"] == 1
    Pledge.objects.filter(pk=plan.first_pledge_id).update(status=Pledge.Status.EXPIRED)
    # One month unpaid, the next still open: the plan goes on.
    month_after = (NEXT_MONTH + datetime.timedelta(days=31)).replace(day=10)
    assert plans_run(month_after)["pledged"] == 1
    # The two latest both expired unpaid: no more pledges; the plan ends and says why.
    plan.pledges().update(status=Pledge.Status.EXPIRED)
    third_month = (month_after + datetime.timedelta(days=31)).replace(day=10)
    assert plans_run(third_month) == {"pledged": 0, "ended": 1, "skipped": 0}
    plan.refresh_from_db()
    assert plan.status == "ended" and "expired unpaid" in plan.end_reason
    assert plan.pledges().count() == 2


def test_cancelling_the_first_pledge_stops_the_plan_and_says_so(client, investor):
    plan = _plan(investor=investor)
    page = client.get(f"/en/pledges/{plan.first_pledge_id}/").content.decode()
    assert "also stops the monthly plan it started" in page
    response = client.post(f"/en/pledges/{plan.first_pledge_id}/cancel/", follow=True)
    html = response.content.decode()
    assert "The monthly plan this pledge started is stopped too." in html
    assert "also stops the monthly plan" not in html  # the pledge has no cancel form now
    plan.refresh_from_db()
    assert (plan.status, plan.end_reason) == ("stopped", "Its first pledge was cancelled.")
    assert plans_run(NEXT_MONTH)["pledged"] == 0
    stopped = AuditEntry.objects.get(action="plan.stopped", object_id=str(plan.pk))
    assert stopped.actor == investor


def test_cancelling_a_later_month_leaves_the_plan_running(client, investor):
    plan = _plan(investor=investor)
    plans_run(NEXT_MONTH)
    monthly = plan.pledges().get()
    html = client.get(f"/en/pledges/{monthly.pk}/").content.decode()
    assert "also stops the monthly plan" not in html
    services.pledge_cancel(pledge=monthly, by=investor)
    plan.refresh_from_db()
    assert plan.status == "active"


def test_a_refused_cancellation_leaves_the_plan_running(investor):
    plan = _plan(investor=investor)
    someone_else = UserFactory()
    with pytest.raises(services.PledgeRefused):
        services.pledge_cancel(pledge=plan.first_pledge, by=someone_else)
    assert plans.plan_stop_with_first_pledge(pledge=plan.first_pledge, by=investor) is None
    plan.refresh_from_db()
    assert plan.status == "active"


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_month_is_made_while_something_else_holds_the_investor_s_row():
    """The month locks the plan's row alone. It had locked the investor's row
    too, so an update of that row (a notice counting up their unread
    notifications, which takes the lock held here) made it skip the month."""
    plan = _plan(day=10, investor=UserFactory(verification_tier="enhanced"))
    holding, release = threading.Event(), threading.Event()

    def hold_the_investor():
        try:
            with transaction.atomic():
                User.objects.select_for_update(no_key=True).get(pk=plan.investor_id)
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_investor)
    holder.start()
    try:
        assert holding.wait(10)
        assert plans_run(NEXT_MONTH) == {"pledged": 1, "ended": 0, "skipped": 0}
    finally:
        release.set()
        holder.join()
