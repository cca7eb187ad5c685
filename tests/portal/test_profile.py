import pytest

from portal.models import ConsentRecord

pytestmark = pytest.mark.django_db


def test_profile_edit_saves_and_records_marketing_consent_change(client, user):
    client.force_login(user)
    response = client.post(
        "/en/profile/",
        {
            "full_name": "Ana Pérez",
            "country_of_residence": "US",
            "country_of_origin": "MX",
            "preferred_language": "es",
            "preferred_currency": "MXN",
            "is_returnee": "on",
            "marketing": "on",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.full_name, user.preferred_language, user.preferred_currency, user.is_returnee) == (
        "Ana Pérez",
        "es",
        "MXN",
        True,
    )
    assert user.current_consents()[ConsentRecord.Kind.MARKETING].granted
    # Withdrawing is a new record; the history stays.
    client.post(
        "/en/profile/",
        {
            "full_name": "Ana Pérez",
            "country_of_residence": "US",
            "country_of_origin": "MX",
            "preferred_language": "es",
            "preferred_currency": "MXN",
        },
    )
    history = list(user.consents.filter(kind="marketing").order_by("recorded_at", "pk"))
    assert [c.granted for c in history] == [True, False]


def test_bad_profile_input_keeps_what_was_typed_and_saves_nothing(client, user):
    client.force_login(user)
    before = user.full_name
    response = client.post(
        "/en/profile/",
        {
            "full_name": "x" * 500,
            "country_of_residence": "ZZ",
            "country_of_origin": "MX",
            "preferred_language": "xx",
            "preferred_currency": "BTC",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert {
        "full_name",
        "country_of_residence",
        "preferred_language",
        "preferred_currency",
    } <= form.errors.keys()
    user.refresh_from_db()
    assert user.full_name == before
    assert "Please correct the errors below" in response.content.decode()


def test_oversized_request_is_refused_with_400_not_500(client, user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client.force_login(user)
    response = client.post("/en/profile/", {"full_name": "y" * 5000})
    assert response.status_code == 400
