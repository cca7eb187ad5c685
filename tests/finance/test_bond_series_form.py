"""What the bond series form asks for is what it takes: amounts of money that buy whole
bonds, a coupon rate in percent, and a status that says the draft is under review."""

from decimal import Decimal

import pytest

from finance.forms_bonds import BondSeriesForm
from finance.offerings import Offering
from portal.permissions import governments_of
from tests.finance import test_bond_setup as bond_setup
from tests.finance.test_bond_setup import NEW, detail_url, draft_series, edit_url, terms

municipio = bond_setup.municipio
jerez = bond_setup.jerez

pytestmark = pytest.mark.django_db


def test_the_smallest_purchase_asks_for_an_amount_and_says_so_when_given_bonds(
    client, municipio, jerez
):
    client.force_login(municipio)
    page = client.get(NEW).content.decode()
    assert "Smallest purchase (an amount)" in page
    assert "With bonds of 100, 100 buys one bond and 500 buys five." in page
    assert "A whole number of bonds." not in page

    response = client.post(NEW, terms(jerez, min_ticket="1"))
    assert response.status_code == 400
    (message,) = response.context["form"].errors["min_ticket"]
    assert message == (
        "Give an amount of money that buys whole bonds: a multiple of the face value, "
        "$100.00. For example $100.00 buys 1 bond."
    )
    assert not Offering.objects.exists()
    assert client.post(NEW, terms(jerez, min_ticket="100")).status_code == 302


@pytest.mark.parametrize(
    ("language", "typed", "stored"),
    [
        ("en", "5", Decimal("0.05")),
        ("en", "5.5", Decimal("0.055")),
        ("en", "4.125%", Decimal("0.04125")),
        ("fr", "4,5", Decimal("0.045")),
        ("ar", "٤٫٥", Decimal("0.045")),
        ("en", "0", Decimal("0")),
    ],
)
def test_the_coupon_rate_is_typed_in_percent(client, municipio, jerez, language, typed, stored):
    client.force_login(municipio)
    response = client.post(f"/{language}/bonds/series/new/", terms(jerez, annual_rate=typed))
    assert response.status_code == 302, response.context["form"].errors
    assert Offering.objects.get().annual_rate == stored


@pytest.mark.parametrize("typed", ["0.05", "0.5"])
def test_a_rate_typed_as_a_fraction_is_refused_not_read_a_hundred_times_too_small(
    client, municipio, jerez, typed
):
    client.force_login(municipio)
    response = client.post(NEW, terms(jerez, annual_rate=typed))
    assert response.status_code == 400
    (message,) = response.context["form"].errors["annual_rate"]
    assert message.startswith("The rate is in percent: 5 means 5%, not 0.05.")
    assert not Offering.objects.exists()


def test_editing_shows_the_stored_rate_in_percent_and_keeps_it_unchanged(municipio, jerez):
    offering = draft_series(jerez, annual_rate=Decimal("0.04125"))
    governments = governments_of(municipio)
    form = BondSeriesForm(instance=offering, governments=governments)
    assert 'value="4.125"' in str(form["annual_rate"])

    form = BondSeriesForm(
        terms(jerez, annual_rate="4.125", tenor_months="36"),
        instance=offering,
        governments=governments,
    )
    assert form.is_valid(), form.errors
    assert "annual_rate" not in form.changed_data and "tenor_months" in form.changed_data
    assert form.cleaned_data["annual_rate"] == Decimal("0.04125")


def test_a_submitted_series_shows_the_status_the_message_announced(client, municipio, jerez):
    client.force_login(municipio)
    response = client.post(NEW, terms(jerez), follow=True)
    page = response.content.decode()
    assert "submitted for review" in page
    assert '<dd data-status="draft">Draft, submitted for review</dd>' in page

    offering = Offering.objects.get()
    Offering.objects.filter(pk=offering.pk).update(status=Offering.Status.OPEN)
    page = client.get(detail_url(offering)).content.decode()
    assert '<dd data-status="open">Open for pledges</dd>' in page
    assert edit_url(offering) not in page


def test_an_amount_finer_than_the_currency_allows_gets_the_message_about_decimals(
    client, municipio, jerez
):
    client.force_login(municipio)
    response = client.post(NEW, terms(jerez, min_ticket="100.005"))
    assert response.status_code == 400
    (message,) = response.context["form"].errors["min_ticket"]
    assert "USD" in message and "whole bonds" not in message


@pytest.mark.parametrize("language", ["en", "es", "fr", "pt", "ar"])
def test_the_form_and_its_refusals_render_in_every_language(client, municipio, jerez, language):
    client.force_login(municipio)
    url = f"/{language}/bonds/series/new/"
    assert client.get(url).status_code == 200
    response = client.post(url, terms(jerez, min_ticket="1", annual_rate="0.05"))
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"min_ticket", "annual_rate"}
