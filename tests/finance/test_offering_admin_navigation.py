"""Reviewers find the offerings they act on: the review dashboard links each
disbursement waiting to its offering's page, the Money menu shows them what
they may use, the status of an offering says what happened, and the approval
button says when it is someone else's turn."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from finance import services
from finance.offerings import Offering, Pledge
from tests.conftest import enable_totp
from tests.factories import UserFactory

from .builders import make_offering, make_pledge, pay

pytestmark = pytest.mark.django_db

D = Decimal


def sign_in(client, person):
    enable_totp(person)
    client.force_login(person)
    return client


def closed(offering: Offering) -> Offering:
    """Closed at its date, after the reflection period of every paid pledge."""
    Pledge.objects.filter(offering=offering).update(
        created_at=timezone.now() - datetime.timedelta(days=settings.PUENTE_REFLECTION_DAYS + 1)
    )
    return services.offering_close(
        offering=offering, now=offering.closes_at + datetime.timedelta(minutes=1)
    )


@pytest.fixture
def nursery():
    """A keep-what-you-raise offering that closed with 29,600 of its 40,000 target."""
    offering = make_offering(
        title="Community forest nursery in Cherán",
        target=D("40000"),
        funding_rule=Offering.FundingRule.KEEP_WHAT_YOU_RAISE,
    )
    pay(make_pledge(offering, "29600"))
    offering = closed(offering)
    assert offering.status == Offering.Status.SUCCEEDED
    return offering


def actions_url(offering) -> str:
    return reverse("finance_offering_actions", args=[offering.pk])


# --- What the status says -----------------------------------------------------------------------


def test_a_keep_what_you_raise_offering_below_target_is_not_said_to_reach_it(
    client, reviewer, nursery
):
    html = sign_in(client, reviewer).get(actions_url(nursery)).content.decode()
    assert "target reached" not in html
    assert "Closed: funded" in html
    assert "Raised $29,600.00 of its $40,000.00 target (74%)" in html


def test_the_offering_list_says_funded_too(client, reviewer, nursery):
    html = sign_in(client, reviewer).get(reverse("offering:index")).content.decode()
    assert "Closed: funded" in html and "target reached" not in html


def test_closing_says_what_was_raised(client, reviewer):
    offering = make_offering(
        target=D("1000"), funding_rule=Offering.FundingRule.KEEP_WHAT_YOU_RAISE
    )
    pay(make_pledge(offering, "740"))
    Pledge.objects.filter(offering=offering).update(
        created_at=timezone.now() - datetime.timedelta(days=settings.PUENTE_REFLECTION_DAYS + 1)
    )
    Offering.objects.filter(pk=offering.pk).update(
        closes_at=timezone.now() - datetime.timedelta(minutes=1),
        opens_at=timezone.now() - datetime.timedelta(days=2),
    )
    sign_in(client, reviewer)
    response = client.post(f"{actions_url(offering)}close/", follow=True)
    messages = [str(m).strip() for m in response.context["messages"]]
    assert messages == ["Closed: funded. Raised $740.00 of its $1,000.00 target (74%)."]


# --- The approval button ------------------------------------------------------------------------


def test_the_first_approver_sees_the_button_disabled_and_why(client, staff_pair, nursery):
    first, second = staff_pair
    client.force_login(first)
    client.post(f"{actions_url(nursery)}disburse/")
    html = client.get(actions_url(nursery)).content.decode()
    assert "You gave the first approval; a second staff member must approve." in html
    assert 'data-approve-disbursement disabled aria-describedby="approval-waits"' in html

    client.force_login(second)
    html = client.get(actions_url(nursery)).content.decode()
    assert "You gave the first approval" not in html
    assert "data-approve-disbursement>" in html
    client.post(f"{actions_url(nursery)}disburse/")
    nursery.refresh_from_db()
    assert nursery.status == Offering.Status.DISBURSED


# --- Finding the page ---------------------------------------------------------------------------


def test_the_review_dashboard_links_each_disbursement_to_its_offering(client, staff_pair, nursery):
    first, _second = staff_pair
    client.force_login(first)
    html = client.get("/en/dashboard/review/").content.decode()
    assert f'<a href="{actions_url(nursery)}">Community forest nursery in Cherán</a>' in html

    client.post(f"{actions_url(nursery)}disburse/")  # now waiting for a second approval
    html = client.get("/en/dashboard/review/").content.decode()
    assert f'<a href="{actions_url(nursery)}">Community forest nursery in Cherán</a>' in html
    assert "a second approver is needed" in html


def test_a_reviewer_has_the_money_menu_and_the_offering_list(client, reviewer, nursery):
    sign_in(client, reviewer)
    home = client.get("/admin/").content.decode()
    for url in (
        reverse("offering:index"),
        reverse("matchingpool:index"),
        reverse("finance_bank_statements"),
        reverse("finance_plans"),
    ):
        assert url in home, url
    pools = client.get(reverse("matchingpool:index"))
    assert pools.status_code == 200
    assert reverse("matchingpool:add") not in pools.content.decode()  # sponsors commit them
    listing = client.get(reverse("offering:index"))
    assert listing.status_code == 200
    assert f'href="{actions_url(nursery)}"' in listing.content.decode()
    assert client.get(actions_url(nursery)).status_code == 200


def test_admin_staff_without_the_reviewer_role_get_no_money_menu(client, nursery):
    editor = UserFactory(is_staff=True)
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    editor.groups.add(editors)
    sign_in(client, editor)
    home = client.get("/admin/")
    assert home.status_code == 200
    html = home.content.decode()
    assert reverse("offering:index") not in html
    assert reverse("finance_bank_statements") not in html
    assert client.get(reverse("offering:index")).status_code in (302, 403)
    assert client.get(reverse("offering:edit", args=[nursery.pk])).status_code in (302, 403)


def test_an_investor_sees_neither_the_link_nor_the_menu(client, nursery):
    investor = UserFactory()
    sign_in(client, investor)
    review = client.get("/en/dashboard/review/")
    assert review.status_code == 403
    assert actions_url(nursery) not in review.content.decode()
    admin = client.get("/admin/")
    assert admin.status_code in (302, 403)
    assert reverse("offering:index") not in admin.content.decode()
    assert client.get(reverse("offering:index")).status_code in (302, 403)
