"""A back-office page opens only from a session that passed the second factor: having
TOTP turned on is not enough when the session was opened with the password alone, and
Wagtail's own login form, which would take a password alone, only sends people to the
portal's."""

import pytest

from projects.models import Document, Project
from tests.conftest import enable_totp, totp_now
from tests.factories import PASSWORD, StaffFactory, UserFactory
from tests.projects.factories import DocumentFactory, ProjectFactory

pytestmark = pytest.mark.django_db

BACK_OFFICE = ["/admin/", "/en/dashboard/review/"]


def _reviewer():
    """A reviewer who may open Wagtail's admin (the demo's Reviewers group)."""
    from django.contrib.auth.models import Group, Permission

    person = StaffFactory()
    group, _ = Group.objects.get_or_create(name="Reviewers")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    person.groups.add(group)
    return person


def _signed_in_by_password_alone(client, user):
    # Django's own login: no second step, as Wagtail's login form did.
    assert client.login(email=user.email, password=PASSWORD)


def test_wagtail_login_form_takes_no_password_and_sends_to_the_portal_login(client):
    reviewer = _reviewer()
    enable_totp(reviewer)

    response = client.post(
        "/admin/login/?next=/admin/pages/", {"username": reviewer.email, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/en/accounts/login/?next=%2Fadmin%2Fpages%2F"
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/")["Location"].startswith("/en/accounts/login/")


@pytest.mark.parametrize(
    "next_url", ["https://elsewhere.example/admin/", "//elsewhere.example/", "/admin/login/"]
)
def test_wagtail_login_never_sends_elsewhere_or_back_to_itself(client, next_url):
    response = client.get("/admin/login/", {"next": next_url})

    assert response["Location"] == "/en/accounts/login/?next=%2Fadmin%2F"


def test_wagtail_login_sends_a_signed_in_person_on(client):
    client.force_login(UserFactory())

    assert client.get("/admin/login/?next=/admin/pages/")["Location"] == "/admin/pages/"


@pytest.mark.parametrize("path", BACK_OFFICE)
def test_password_alone_is_not_enough_when_totp_is_on(client, path):
    reviewer = _reviewer()
    secret = enable_totp(reviewer)
    _signed_in_by_password_alone(client, reviewer)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/en/accounts/2fa/reauthenticate/?next=")
    # A wrong code keeps the door shut; the right one opens it and leads back.
    wrong = client.post(response["Location"], {"code": "000000"})
    assert wrong.status_code == 200
    assert client.get(path).status_code == 302
    right = client.post(response["Location"], {"code": totp_now(secret)})
    assert right["Location"] == path
    assert client.get(path).status_code == 200


def test_a_real_sign_in_with_the_code_opens_the_back_office(client):
    reviewer = _reviewer()
    secret = enable_totp(reviewer)

    client.post("/en/accounts/login/", {"login": reviewer.email, "password": PASSWORD})
    client.post("/en/accounts/2fa/authenticate/", {"code": totp_now(secret)})

    for path in BACK_OFFICE:
        assert client.get(path).status_code == 200, path


@pytest.mark.django_db(transaction=True)  # committed as in production: allauth's signal runs
def test_turning_totp_on_proves_the_second_factor_for_this_session(client):
    reviewer = _reviewer()
    client.post("/en/accounts/login/", {"login": reviewer.email, "password": PASSWORD})
    activation = client.get("/admin/")["Location"]
    assert activation.startswith("/en/accounts/2fa/totp/activate/")

    # allauth asks for the password again before TOTP is turned on.
    confirm = client.get(activation)["Location"]
    assert confirm.startswith("/en/accounts/reauthenticate/")
    assert client.post(confirm, {"password": PASSWORD})["Location"] == activation
    assert client.get(activation).status_code == 200
    secret = client.session["mfa.totp.secret"]  # the one the page shows as a QR code
    done = client.post(activation, {"code": totp_now(secret)})

    assert done.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_signing_out_forgets_the_second_factor(client):
    reviewer = _reviewer()
    enable_totp(reviewer)
    client.force_login(reviewer)
    assert client.get("/admin/").status_code == 200

    client.logout()
    _signed_in_by_password_alone(client, reviewer)

    assert client.get("/admin/")["Location"].startswith("/en/accounts/2fa/reauthenticate/")


def test_a_session_of_one_person_proves_nothing_for_another(client):
    first, second = _reviewer(), _reviewer()
    enable_totp(first)
    enable_totp(second)
    client.force_login(first)
    assert client.get("/admin/").status_code == 200

    # Signing in as someone else rotates the session; allauth's record names its user.
    _signed_in_by_password_alone(client, second)

    assert client.get("/admin/")["Location"].startswith("/en/accounts/2fa/reauthenticate/")


def test_a_private_document_is_a_back_office_download_for_reviewers_not_for_the_owner(
    client, territory
):
    project = ProjectFactory(territory=territory, status=Project.Status.SUBMITTED)
    document = DocumentFactory(project=project, kind=Document.Kind.BUSINESS_PLAN, is_public=False)
    url = f"/en/projects/{project.slug}/documents/{document.pk}/"
    reviewer = _reviewer()
    enable_totp(reviewer)

    _signed_in_by_password_alone(client, reviewer)
    refused = client.get(url)
    assert refused.status_code == 302
    assert refused["Location"].startswith("/en/accounts/2fa/reauthenticate/")
    assert not refused.has_header("Content-Disposition")

    client.force_login(reviewer)  # password and code
    assert client.get(url)["Content-Disposition"].startswith("attachment")

    client.logout()
    _signed_in_by_password_alone(client, project.owner)
    assert client.get(url)["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    "language, said",
    [
        ("es", "Introduzca un código de su aplicación de autenticación"),
        ("fr", "Saisissez un code de votre application d&#x27;authentification"),
        ("ar", "أدخل رمزًا من تطبيق المصادقة"),
    ],
)
def test_the_request_for_a_code_is_in_the_persons_language(client, language, said):
    reviewer = _reviewer()
    enable_totp(reviewer)
    _signed_in_by_password_alone(client, reviewer)

    page = client.get(f"/{language}/dashboard/review/", follow=True)

    assert page.redirect_chain[-1][0].startswith(f"/{language}/accounts/2fa/reauthenticate/")
    assert said in page.content.decode()
