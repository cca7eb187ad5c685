"""Staff open offerings, close them and release money with four eyes, from
Wagtail's admin."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from finance.offerings import Offering, Pledge
from tests.conftest import enable_totp
from tests.factories import UserFactory

from .builders import make_offering, pay
from .test_pledges import pledge

pytestmark = pytest.mark.django_db


def test_open_close_and_disburse_with_two_different_staff(client, staff_pair):
    first, second = staff_pair
    offering = make_offering(status="draft", target=Decimal("200"), hard_cap=Decimal("200"))
    client.force_login(first)
    base = f"/admin/money/offerings/{offering.pk}/actions"
    assert client.get(f"{base}/").status_code == 200
    client.post(f"{base}/open/")
    offering.refresh_from_db()
    assert offering.status == Offering.Status.OPEN
    for _ in range(2):
        pay(pledge(offering, amount="100", method="bank_transfer"))
    # Full, but the investors may still change their minds: not closed yet.
    response = client.post(f"{base}/close/", follow=True)
    offering.refresh_from_db()
    assert offering.status == Offering.Status.OPEN
    assert "reflection period" in response.content.decode()
    Pledge.objects.filter(offering=offering).update(
        created_at=timezone.now() - datetime.timedelta(days=settings.PUENTE_REFLECTION_DAYS)
    )
    client.post(f"{base}/close/")
    offering.refresh_from_db()
    assert offering.status == Offering.Status.SUCCEEDED
    client.post(f"{base}/disburse/")
    client.post(f"{base}/disburse/")  # the same person again: refused
    offering.refresh_from_db()
    assert offering.status == Offering.Status.SUCCEEDED
    client.force_login(second)
    client.post(f"{base}/disburse/")
    offering.refresh_from_db()
    assert offering.status == Offering.Status.DISBURSED


def test_people_without_the_staff_role_cannot_act(client):
    offering = make_offering(status="draft")
    outsider = UserFactory(is_staff=True)
    enable_totp(outsider)
    client.force_login(outsider)
    assert client.post(f"/admin/money/offerings/{offering.pk}/actions/open/").status_code in (
        302,
        403,
    )
    offering.refresh_from_db()
    assert offering.status == Offering.Status.DRAFT


def test_invalid_terms_cannot_be_opened(client, staff_pair):
    offering = make_offering(status="draft", instrument="loan")  # no rate, no tenor
    client.force_login(staff_pair[0])
    response = client.post(f"/admin/money/offerings/{offering.pk}/actions/open/", follow=True)
    offering.refresh_from_db()
    assert offering.status == Offering.Status.DRAFT
    assert "rate" in response.content.decode()


def test_staff_cannot_close_an_offering_before_its_date(client, staff_pair):
    offering = make_offering(target=Decimal("200"), hard_cap=Decimal("1000"))
    pay(pledge(offering, amount="100", method="bank_transfer"))
    client.force_login(staff_pair[0])
    response = client.post(f"/admin/money/offerings/{offering.pk}/actions/close/", follow=True)
    offering.refresh_from_db()
    assert offering.status == Offering.Status.OPEN
    assert "Not closed" in response.content.decode()
