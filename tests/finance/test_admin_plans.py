"""Monthly plans in the staff back office: reviewers see every plan with what
it pledged and paid, filter and search them; nobody else gets in."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from pytest_django.asserts import assertNumQueries

from finance import plans
from finance.offerings import Pledge
from finance.plans import plan_start, plans_run
from tests.conftest import enable_totp
from tests.factories import UserFactory

from .builders import make_offering, make_pledge

pytestmark = pytest.mark.django_db

URL = "/admin/finance/plans/"
NEXT_MONTH = (timezone.localdate().replace(day=1) + datetime.timedelta(days=32)).replace(day=10)


def sign_in(client, user):
    enable_totp(user)
    client.force_login(user)
    return client


def _plan(email: str, amount: str = "100", title: str = "Water"):
    investor = UserFactory(email=email, verification_tier="enhanced")
    pledge = make_pledge(make_offering(title=title), amount, investor=investor, method="remittance")
    return plan_start(pledge=pledge, day=10)


def rows(html: str) -> dict[str, str]:
    body = html.split('id="plans"')[1].split("</table>")[0]
    return {chunk.split('"', 1)[0]: chunk for chunk in body.split('<tr id="plan-')[1:]}


def test_a_reviewer_sees_each_plan_with_its_pledges_and_payments(client, reviewer):
    paying = _plan("ana@example.org", "100", "Water for Tlacolula")
    stopped = _plan("luis@example.org", "40", "Bakery")
    plans.plan_stop(plan=stopped, by=stopped.investor)
    plans_run(NEXT_MONTH)
    # The first pledge of Ana's plan is paid, the month's is not.
    Pledge.objects.filter(pk=paying.first_pledge_id).update(status=Pledge.Status.PAID)
    sign_in(client, reviewer)
    client.get(URL)  # the roles are kept in the session from the first page on
    # Two for the plans (a count and the list, pledges counted in it); the
    # rest is the session, the second factor and Wagtail's menu.
    with assertNumQueries(12):
        html = client.get(URL).content.decode()
    found = rows(html)
    assert set(found) == {str(paying.pk), str(stopped.pk)}
    ana = found[str(paying.pk)]
    assert "ana@example.org" in ana and "Water for Tlacolula" in ana
    assert "$100.00" in ana and "day 10" in ana
    # The first pledge and next month's: two made, one of them paid.
    assert "<td>2</td>" in ana and "<td>1 · $100.00</td>" in ana
    assert 'data-status="active"' in ana
    luis = found[str(stopped.pk)]
    assert 'data-status="stopped"' in luis and "<td>1</td>" in luis and "0 · $0.00" in luis
    for number in range(3):
        _plan(f"more{number}@example.org")
    with assertNumQueries(12):  # whatever the number of plans
        assert len(rows(client.get(URL).content.decode())) == 5


def test_filter_by_status_and_search(client, reviewer):
    active = _plan("ana@example.org", title="Water")
    stopped = _plan("luis@example.org", title="Bakery")
    plans.plan_stop(plan=stopped, by=stopped.investor)
    sign_in(client, reviewer)
    assert set(rows(client.get(URL, {"status": "stopped"}).content.decode())) == {str(stopped.pk)}
    assert set(rows(client.get(URL, {"q": "ANA@"}).content.decode())) == {str(active.pk)}
    assert set(rows(client.get(URL, {"q": "bakery"}).content.decode())) == {str(stopped.pk)}
    html = client.get(URL, {"q": "nobody", "status": "nonsense"}).content.decode()
    assert "No monthly plan matches." in html


def test_the_menu_and_page_are_for_reviewers_only(client, reviewer):
    _plan("ana@example.org")
    sign_in(client, reviewer)
    assert URL in client.get("/admin/").content.decode()
    client.logout()
    editor = UserFactory(is_staff=True)
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    editor.groups.add(editors)
    sign_in(client, editor)
    assert URL not in client.get("/admin/").content.decode()
    assert client.get(URL).status_code == 403
    client.logout()
    client.force_login(UserFactory())
    assert client.get(URL).status_code in (302, 403)


def test_pages_keep_the_filter(client, reviewer, monkeypatch):
    from finance.admin_plans import PlansView

    monkeypatch.setattr(PlansView, "paginate_by", 2)
    made = [_plan(f"p{number}@example.org") for number in range(3)]
    sign_in(client, reviewer)
    first = client.get(URL, {"status": "active", "q": "example"}).content.decode()
    assert "Page 1 of 2" in first
    assert 'href="?status=active&amp;q=example&amp;p=2"' in first
    second = client.get(URL, {"status": "active", "q": "example", "p": "2"}).content.decode()
    assert set(rows(second)) == {str(made[0].pk)}  # the oldest, last
    assert 'href="?status=active&amp;q=example&amp;p=1"' in second
