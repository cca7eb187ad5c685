"""Two-factor authentication: anyone may turn it on; staff and
local-government members cannot reach the back office without it."""

import pytest

from tests.conftest import enable_totp, totp_now
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

BACK_OFFICE = ["/en/dashboard/government/", "/admin/"]


@pytest.mark.parametrize("path", BACK_OFFICE)
def test_government_member_without_totp_is_sent_to_set_it_up(client, government_member, path):
    client.force_login(government_member)
    response = client.get(path)
    assert response.status_code == 302
    assert "/accounts/2fa/totp/activate/" in response["Location"]


def test_government_member_with_totp_reaches_their_dashboard(client, government_member):
    enable_totp(government_member)
    client.force_login(government_member)
    response = client.get("/en/dashboard/government/")
    assert response.status_code == 200
    assert "Jerez" in response.content.decode()


def test_reviewer_without_totp_cannot_open_wagtail_admin(client, reviewer):
    client.force_login(reviewer)
    assert "/2fa/totp/activate/" in client.get("/admin/")["Location"]
    assert "/2fa/totp/activate/" in client.get("/en/dashboard/review/")["Location"]
    enable_totp(reviewer)
    assert client.get("/admin/").status_code == 200
    assert client.get("/en/dashboard/review/").status_code == 200


def test_staff_user_needs_totp_for_django_admin_and_only_superusers_get_in(client):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert "/2fa/totp/activate/" in client.get("/django-admin/")["Location"]
    enable_totp(staff)
    # Staff who are not superusers are not let into Django's admin.
    response = client.get("/django-admin/", follow=True)
    assert response.status_code == 403
    superuser = UserFactory(is_staff=True, is_superuser=True)
    enable_totp(superuser)
    client.force_login(superuser)
    assert client.get("/django-admin/").status_code == 200


def test_investor_is_not_forced_but_may_turn_totp_on(client, user):
    client.force_login(user)
    assert client.get("/en/dashboard/investor/").status_code == 200
    page = client.get("/en/dashboard/investor/").content.decode()
    assert "/accounts/2fa/totp/activate/" in page


def test_login_with_totp_asks_for_the_code_and_refuses_a_wrong_one(client):
    user = UserFactory()
    secret = enable_totp(user)
    response = client.post("/en/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response["Location"] == "/en/accounts/2fa/authenticate/"
    wrong = client.post("/en/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    assert "Incorrect code" in wrong.content.decode()
    assert "_auth_user_id" not in client.session
    right = client.post("/en/accounts/2fa/authenticate/", {"code": totp_now(secret)})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_totp_message_is_translated(client):
    user = UserFactory(preferred_language="es")
    enable_totp(user)
    client.post("/es/accounts/login/", {"login": user.email, "password": PASSWORD})
    wrong = client.post("/es/accounts/2fa/authenticate/", {"code": "000000"})
    assert "Código incorrecto" in wrong.content.decode()
