"""The second factor does not lose the way: confirming a code (a TOTP code or a
recovery code) to reach a back-office page or a security setting, or signing in with
a recovery code, leads to the page asked for; an address on another site is never
followed."""

import html
import re
import time

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

from tests.conftest import enable_totp, totp_now
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.S)
ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
INPUT = re.compile(r"<input\b([^>]*)>")


def submit(client, page, action_ends_with: str, **fields):
    """Post the page's form whose action ends with `action_ends_with`, as a browser
    would: its hidden fields (the CSRF token, `next`) with `fields` filled in."""
    for form in FORM.finditer(page.content.decode()):
        attrs = dict(ATTR.findall(form["attrs"]))
        action = html.unescape(attrs.get("action", ""))
        if attrs.get("method", "").lower() == "post" and action.endswith(action_ends_with):
            data = {}
            for tag in INPUT.findall(form["body"]):
                field = {k: html.unescape(v) for k, v in ATTR.findall(tag)}
                if field.get("type") == "hidden":
                    data[field["name"]] = field.get("value", "")
            return client.post(action, {**data, **fields})
    raise AssertionError(f"no form posting to …{action_ends_with}")


def codes_for(user, kind: str):
    """A way to produce a valid second-factor code of `kind` for `user`."""
    secret = enable_totp(user)
    recovery = iter(RecoveryCodes.activate(user).get_unused_codes())
    return (lambda: totp_now(secret)) if kind == "totp" else (lambda: next(recovery))


def signed_in_a_while_ago(client, user):
    """Signed in (password and code) longer ago than allauth trusts for a change of
    security settings without confirming again."""
    client.force_login(user)
    session = client.session
    records = session[AUTHENTICATION_METHODS_SESSION_KEY]
    for record in records:
        record["at"] = time.time() - 60 * 60
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session.save()


@pytest.mark.parametrize("kind", ["totp", "recovery_code"])
@pytest.mark.parametrize("language", ["es", "ar"])
def test_confirming_a_code_leads_to_the_back_office_page_asked_for(
    client, reviewer, kind, language
):
    code = codes_for(reviewer, kind)
    assert client.login(email=reviewer.email, password=PASSWORD)  # no second factor yet
    asked_for = f"/{language}/dashboard/review/?page=2"

    sent_to = client.get(asked_for)["Location"]
    assert sent_to.startswith(f"/{language}/accounts/2fa/reauthenticate/?next=")
    confirmed = submit(client, client.get(sent_to), "/2fa/reauthenticate/", code=code())

    assert confirmed.status_code == 302
    assert confirmed["Location"] == asked_for
    assert client.get(asked_for).status_code == 200


@pytest.mark.parametrize("kind", ["totp", "recovery_code"])
def test_confirming_a_code_leads_to_the_security_setting_asked_for(client, kind):
    user = UserFactory(preferred_language="fr")
    code = codes_for(user, kind)
    signed_in_a_while_ago(client, user)
    asked_for = "/en/accounts/2fa/recovery-codes/generate/"

    # allauth asks for the password first and offers the authenticator app instead.
    password_page = client.get(client.get(asked_for)["Location"])
    offered = re.search(
        r'href="([^"]*/accounts/2fa/reauthenticate/\?[^"]*)"', password_page.content.decode()
    )
    assert offered, "no way to confirm with a code"
    code_page = client.get(html.unescape(offered[1]))
    confirmed = submit(client, code_page, "/2fa/reauthenticate/", code=code())

    assert confirmed.status_code == 302
    assert confirmed["Location"] == asked_for
    assert client.get(asked_for).status_code == 200


def test_signing_in_with_a_recovery_code_leads_to_the_page_asked_for(client):
    user = UserFactory(preferred_language="es")
    code = codes_for(user, "recovery_code")

    login_page = client.get("/en/accounts/login/", {"next": "/en/projects/?sector=agriculture"})
    second_step = submit(
        client, login_page, "/accounts/login/", login=user.email, password=PASSWORD
    )
    assert second_step["Location"] == "/en/accounts/2fa/authenticate/"
    signed_in = submit(
        client, client.get(second_step["Location"]), "/2fa/authenticate/", code=code()
    )

    # The page asked for, in the person's preferred language.
    assert signed_in["Location"] == "/es/projects/?sector=agriculture"
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize(
    "elsewhere", ["https://elsewhere.example/en/dashboard/", "//elsewhere.example/"]
)
def test_an_address_on_another_site_is_not_followed_after_a_recovery_code(client, elsewhere):
    user = UserFactory(preferred_language="es")
    code = codes_for(user, "recovery_code")

    client.post(
        "/en/accounts/login/", {"login": user.email, "password": PASSWORD, "next": elsewhere}
    )
    signed_in = client.post("/en/accounts/2fa/authenticate/", {"code": code(), "next": elsewhere})

    assert signed_in["Location"] == "/es/dashboard/"


@pytest.mark.parametrize(
    "elsewhere", ["https://elsewhere.example/en/dashboard/", "//elsewhere.example/"]
)
def test_an_address_on_another_site_is_not_followed_after_confirming(client, reviewer, elsewhere):
    code = codes_for(reviewer, "totp")
    assert client.login(email=reviewer.email, password=PASSWORD)

    confirmed = client.post(
        "/en/accounts/2fa/reauthenticate/?" + f"next={elsewhere}",
        {"code": code(), "next": elsewhere},
    )

    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/en/dashboard/"
