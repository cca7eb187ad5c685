"""Who a request belongs to: the session store and the authentication
backends read the session and the person with prepared statements
(portal/sessions.py, portal/auth.py), and must answer as Django's own do:
a signed-in person is recognised on their next request, an expired session
or a deactivated account is treated as signed out."""

import datetime

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "/en/dashboard/investor/"


def sign_in(client, user):
    response = client.post("/en/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]


def test_signing_in_by_email_keeps_the_person_signed_in_on_the_next_request(client):
    user = UserFactory()
    sign_in(client, user)
    # The first backend that knows the person signs them in: with email as
    # the username field, that is the model backend.
    assert client.session[BACKEND_SESSION_KEY] == "portal.auth.ModelBackend"
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert response.wsgi_request.user == user


def test_a_session_past_its_expiry_is_signed_out(client):
    user = UserFactory()
    sign_in(client, user)
    assert client.get(DASHBOARD).status_code == 200
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert response.wsgi_request.user.is_anonymous


def test_an_unknown_session_key_is_signed_out(client):
    client.cookies["sessionid"] = "no-such-session-key-0123456789abcd"
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response.wsgi_request.user.is_anonymous


def test_a_deactivated_account_is_signed_out_on_its_next_request(client):
    user = UserFactory()
    sign_in(client, user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response.wsgi_request.user.is_anonymous


def test_a_deleted_account_is_signed_out(client):
    user = UserFactory()
    client.force_login(user)
    user.delete()
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response.wsgi_request.user.is_anonymous


def test_a_signed_in_request_reads_its_session_and_person_in_one_query_each(
    client, django_assert_num_queries
):
    from django.contrib.auth import get_user

    user = UserFactory()
    client.force_login(user)
    request = client.get(DASHBOARD).wsgi_request
    request.session = client.session  # a fresh store: nothing loaded yet
    del request._cached_user
    with django_assert_num_queries(2):
        assert get_user(request) == user
