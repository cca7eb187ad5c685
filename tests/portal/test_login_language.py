"""Signing in leads to the pages in the person's preferred language, whatever language
the login page was shown in, unless the page asked for is in the language they picked on
this browser."""

import pytest
from django.conf import settings

from tests.conftest import enable_totp, totp_now
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/en/accounts/login/"


def sign_in(client, user, path: str = LOGIN, **data):
    return client.post(path, {"login": user.email, "password": PASSWORD, **data})


def test_the_demo_investor_lands_on_the_french_dashboard(client, seeded):
    # /accounts/login/ sends an English browser to /en/accounts/login/.
    assert client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")["Location"] == LOGIN
    response = client.post(
        LOGIN, {"login": "investor@puente.example", "password": "puente-demo-2026"}
    )
    assert response["Location"] == "/fr/dashboard/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert client.get("/fr/dashboard/")["Location"] == "/fr/dashboard/investor/"
    page = client.get("/fr/dashboard/investor/").content.decode()
    assert '<html lang="fr" dir="ltr">' in page


@pytest.mark.parametrize(
    ("going_to", "lands_on"),
    [
        ("/en/projects/?sector=agriculture", "/ar/projects/?sector=agriculture"),
        ("/dashboard/investor/", "/ar/dashboard/investor/"),
        ("/ar/profile/", "/ar/profile/"),
        ("/admin/", "/admin/"),
    ],
)
def test_the_page_asked_for_is_shown_in_the_preferred_language(client, going_to, lands_on):
    user = UserFactory(preferred_language="ar")
    response = sign_in(client, user, next=going_to)
    assert response["Location"] == lands_on


def test_a_page_in_the_language_picked_on_this_browser_keeps_it(client):
    user = UserFactory(preferred_language="fr")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    response = sign_in(client, user, "/es/accounts/login/", next="/es/projects/")
    assert response["Location"] == "/es/projects/"
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    # Without a page asked for, the preference decides.
    client.logout()
    response = sign_in(client, user, "/es/accounts/login/")
    assert response["Location"] == "/fr/dashboard/"


def test_after_the_second_factor_too(client):
    user = UserFactory(preferred_language="pt")
    secret = enable_totp(user)
    response = sign_in(client, user, next="/en/dashboard/investor/")
    assert response["Location"] == "/en/accounts/2fa/authenticate/"
    response = client.post("/en/accounts/2fa/authenticate/", {"code": totp_now(secret)})
    assert response["Location"] == "/pt/dashboard/investor/"
