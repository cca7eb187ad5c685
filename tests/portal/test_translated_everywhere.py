"""Text that used to stay in English on translated pages: names fixed when a
module was imported, links in emails, card failures written by the gateway."""

import pytest
from django.conf import settings
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext, pgettext

from portal.notifications import notify
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_sign_up_names_and_sorts_countries_in_the_page_language(client):
    spanish = client.get("/es/accounts/signup/").content.decode()
    assert ">Perú<" in spanish and ">Peru<" not in spanish
    # Sorted in Spanish: "Alemania" (Germany) comes before "Argentina".
    assert spanish.index(">Alemania<") < spanish.index(">Argentina<")
    english = client.get("/en/accounts/signup/").content.decode()
    assert ">Peru<" in english and ">Germany<" in english


def test_notification_emails_carry_the_whole_address(django_capture_on_commit_callbacks):
    person = UserFactory(preferred_language="es")
    with django_capture_on_commit_callbacks(execute=True):
        notify([person], verb="test", message="Hola", url="/es/loans/12/")
    assert len(mail.outbox) == 1
    expected = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/es/loans/12/"
    assert mail.outbox[0].body.rstrip().endswith(expected)


def test_card_failures_are_shown_in_the_page_language():
    from finance.payments.stripe_provider import GENERIC_FAILURE, failure_text

    with translation.override("es"):
        declined = failure_text("Your card was declined.")
        assert declined == gettext("Your card was declined.") != "Your card was declined."
        # A message of the gateway we do not know: the general one, translated.
        assert failure_text("Your bank says no today.") == gettext(GENERIC_FAILURE)
    with translation.override("en"):
        assert failure_text("Your bank says no today.") == "Your bank says no today."


def test_loan_installments_show_their_status_in_the_page_language(client):
    from finance import returns_services as rs
    from tests.finance.test_returns import START, funded_loan

    offering, _lenders = funded_loan()
    rs.loan_fix_schedule(offering=offering, start_date=START)  # long past: installments late
    client.force_login(offering.project.owner)
    html = client.get(f"/es/loans/{offering.pk}/").content.decode()
    with translation.override("es"):
        late = pgettext("installment", "Late")
    assert late == "Atrasada"  # la cuota
    assert 'data-status="late"' in html
    assert f"<td>{late}</td>" in html and "<td>late</td>" not in html


@pytest.mark.parametrize("language", ["ar", "pt", "es"])
def test_a_short_password_is_refused_in_the_page_language(language):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with translation.override(language), pytest.raises(ValidationError) as refused:
        validate_password("Zq7#")
    message = " ".join(refused.value.messages)
    assert "too short" not in message


def test_catalogue_filters_name_goals_and_risks_in_the_page_language(client):
    spanish = client.get("/es/projects/").content.decode()
    assert "3. Salud y bienestar" in spanish and "Good health" not in spanish
    assert "A — Riesgo bajo" in spanish and "Low risk" not in spanish
    english = client.get("/en/projects/").content.decode()
    assert "3. Good health and well-being" in english
