"""Sign-up, verification, login, rate limiting, password reset and email
change, as a person meets them."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from portal.models import ConsentRecord, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "nadia@example.org",
    "password1": "a-long-passphrase-9",
    "password2": "a-long-passphrase-9",
    "full_name": "Nadia Sow",
    "country_of_residence": "FR",
    "country_of_origin": "SN",
    "is_returnee": "",
    "accept_terms": "on",
    "accept_privacy": "on",
}


def confirmation_url(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S*/confirm-email/\S+/)", message.body).group(1)


def test_signup_stores_profile_and_consents_and_asks_to_verify(client):
    response = client.post("/en/accounts/signup/", SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/confirm-email/"

    user = User.objects.get(email="nadia@example.org")
    assert (user.full_name, user.country_of_residence.code, user.country_of_origin.code) == (
        "Nadia Sow",
        "FR",
        "SN",
    )
    consents = user.current_consents()
    assert consents[ConsentRecord.Kind.TERMS].granted
    assert consents[ConsentRecord.Kind.PRIVACY].granted
    assert consents[ConsentRecord.Kind.MARKETING].granted is False
    assert all(c.recorded_at for c in consents.values())
    assert len(mail.outbox) == 1


def test_signup_requires_terms_and_privacy(client):
    data = {**SIGNUP, "accept_terms": "", "accept_privacy": ""}
    response = client.post("/en/accounts/signup/", data)
    assert response.status_code == 200
    assert not User.objects.filter(email=SIGNUP["email"]).exists()
    assert response.context["form"].errors.keys() >= {"accept_terms", "accept_privacy"}
    # What the person typed is kept.
    assert 'value="Nadia Sow"' in response.content.decode()


def test_cannot_log_in_before_verifying_then_can_after(client):
    client.post("/en/accounts/signup/", SIGNUP)
    client.logout()
    response = client.post(
        "/en/accounts/login/", {"login": SIGNUP["email"], "password": SIGNUP["password1"]}
    )
    assert response["Location"] == "/en/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session

    url = confirmation_url(mail.outbox[-1])
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 302
    assert EmailAddress.objects.get(email=SIGNUP["email"]).verified

    response = client.post(
        "/en/accounts/login/", {"login": SIGNUP["email"], "password": SIGNUP["password1"]}
    )
    assert response["Location"] == "/en/dashboard/"
    assert client.get("/en/dashboard/")["Location"] == "/en/dashboard/investor/"


def test_reused_or_bogus_verification_link_is_refused_clearly(client):
    client.post("/en/accounts/signup/", SIGNUP)
    url = confirmation_url(mail.outbox[-1])
    client.post(url)
    client.logout()
    # A link used twice and a made-up key both get allauth's translated
    # "expired or invalid" page, never a 500.
    for link in (url, "/es/accounts/confirm-email/not-a-real-key/"):
        response = client.get(link)
        assert response.status_code == 200, link
    assert (
        "expired or is invalid"
        in client.get("/en/accounts/confirm-email/not-a-real-key/").content.decode()
    )
    assert (
        "caducado o no es válido"
        in client.get("/es/accounts/confirm-email/not-a-real-key/").content.decode()
    )


def test_wrong_password_gets_a_translated_message(client):
    user = UserFactory(preferred_language="es")
    response = client.post("/es/accounts/login/", {"login": user.email, "password": "wrong"})
    assert response.status_code == 200
    assert "no son correctas" in response.content.decode()


def test_login_is_rate_limited_with_a_real_cache(client, settings):
    assert "locmem" in settings.CACHES["default"]["BACKEND"].lower() or "redis" in (
        settings.CACHES["default"]["BACKEND"].lower()
    )
    user = UserFactory()
    statuses = [
        client.post("/en/accounts/login/", {"login": user.email, "password": "nope"}).status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [200] * 5
    # The sixth attempt is refused even with the right password.
    blocked = client.post("/en/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert blocked.status_code == 429 or "Too many failed login attempts" in (
        blocked.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_password_reset_mail_is_in_the_persons_language(client):
    user = UserFactory(preferred_language="fr")
    response = client.post("/en/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "mot de passe" in body.lower()
    link = re.search(r"https?://[^/\s]+(/\S+/password/reset/key/\S+/)", body).group(1)
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    response = client.post(
        form_url, {"password1": "a-brand-new-passphrase", "password2": "a-brand-new-passphrase"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase")


def test_email_change_needs_verification_of_the_new_address(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/en/accounts/email/", {"action_add": "", "email": "new-address@example.org"}
    )
    assert response.status_code == 302
    assert EmailAddress.objects.filter(email="new-address@example.org", verified=False).exists()
    assert any("new-address@example.org" in m.to for m in mail.outbox)
    user.refresh_from_db()
    assert user.email != "new-address@example.org"


def test_logout_ends_the_session(client):
    client.force_login(UserFactory())
    client.post("/en/accounts/logout/")
    assert client.get("/en/dashboard/").status_code == 302
