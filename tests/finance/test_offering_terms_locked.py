"""Investors pledge on an offering's terms: once it is open, staff editing it in
Wagtail's admin see its money terms but cannot change them, may only lower its
cap to no less than what pledges reserve, and may move its closing date only
to a moment that breaks no pledge."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from finance.offerings import Offering, Pledge
from tests.conftest import enable_totp
from tests.factories import UserFactory

from .builders import make_offering, make_pledge, pay

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def staff(client):
    person = UserFactory(is_staff=True, is_superuser=True)
    enable_totp(person)
    client.force_login(person)
    return client


def form_of(offering: Offering, **changes) -> dict:
    """What the edit form posts for `offering` as it is, with `changes`."""
    local = timezone.localtime
    values = {
        "project": offering.project_id or "",
        "issuer": offering.issuer_id or "",
        "title": offering.title,
        "instrument": offering.instrument,
        "currency": offering.currency,
        "target": str(offering.target),
        "hard_cap": "" if offering.hard_cap is None else str(offering.hard_cap),
        "min_ticket": str(offering.min_ticket),
        "max_ticket": "" if offering.max_ticket is None else str(offering.max_ticket),
        "opens_at": local(offering.opens_at).strftime("%Y-%m-%d %H:%M:%S"),
        "closes_at": local(offering.closes_at).strftime("%Y-%m-%d %H:%M:%S"),
        "funding_rule": offering.funding_rule,
        "annual_rate": "",
        "tenor_months": "",
        "schedule_type": "",
        "periods_per_year": "",
        "day_count": "",
        "face_value": "",
        "revenue_share": "",
        "cap_multiple": "",
    }
    return values | changes


def edit(client, offering, **changes):
    return client.post(reverse("offering:edit", args=[offering.pk]), form_of(offering, **changes))


@pytest.fixture
def funded():
    """Open, target $10,000, hard cap $20,000, $14,880 paid by two investors and
    $120 awaiting payment: $15,000 reserved."""
    offering = make_offering(target=D("10000"), hard_cap=D("20000"), min_ticket=D("10"))
    pay(make_pledge(offering, "9880"))
    pay(make_pledge(offering, "5000"))
    make_pledge(offering, "120")
    offering.refresh_from_db()
    assert offering.reserved == D("15000")
    return offering


def test_the_money_terms_of_an_open_offering_are_shown_but_not_editable(staff, funded):
    page = staff.get(reverse("offering:edit", args=[funded.pk]))
    assert page.status_code == 200
    form = page.context["form"]
    for name in ("currency", "instrument", "target", "funding_rule", "min_ticket", "opens_at"):
        assert form.fields[name].disabled, name
    for name in ("title", "hard_cap", "closes_at"):
        assert not form.fields[name].disabled, name
    html = page.content.decode()
    assert 'name="currency"' in html and "USD" in html
    assert "Fixed since the offering opened: investors pledge on these terms." in html


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("currency", "EUR"),
        ("instrument", "loan"),
        ("target", "12000"),
        ("funding_rule", "keep"),
        ("min_ticket", "500"),
    ],
)
def test_a_term_posted_anyway_is_refused_and_nothing_changes(staff, funded, field, value):
    before = Offering.objects.values().get(pk=funded.pk)
    response = edit(staff, funded, **{field: value, "title": "Renamed"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        field: ["Investors have pledged on this term: it can no longer change."]
    }
    assert Offering.objects.values().get(pk=funded.pk) == before


def test_the_audited_currency_change_no_longer_saves(staff, funded):
    edit(staff, funded, currency="EUR")
    funded.refresh_from_db()
    assert funded.currency == "USD"
    assert set(Pledge.objects.filter(offering=funded).values_list("currency", flat=True)) == {"USD"}


def test_a_cap_below_what_pledges_reserve_is_a_form_error_naming_the_amount(staff, funded):
    response = edit(staff, funded, hard_cap="12000")
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "hard_cap": [
            "Pledges already reserve $15,000.00 of this offering: what it may raise cannot be less."
        ]
    }
    assert "Pledges already reserve $15,000.00" in response.content.decode()
    funded.refresh_from_db()
    assert funded.hard_cap == D("20000")


def test_the_cap_of_an_open_offering_may_be_lowered_not_raised(staff, funded):
    response = edit(staff, funded, hard_cap="25000")
    assert response.context["form"].errors == {
        "hard_cap": [
            "Once an offering is open its hard cap may be lowered, not raised: investors "
            "pledged on at most $20,000.00 being raised."
        ]
    }
    # As a browser posts it: disabled fields are not sent.
    sent = {name: form_of(funded)[name] for name in ("title", "hard_cap", "closes_at")}
    response = staff.post(
        reverse("offering:edit", args=[funded.pk]),
        sent | {"hard_cap": "15000", "title": "Still, phase one"},
    )
    assert response.status_code == 302, response.context["form"].errors
    funded.refresh_from_db()
    assert (funded.hard_cap, funded.title, funded.reserved) == (
        D("15000"),
        "Still, phase one",
        D("15000"),
    )
    assert funded.status == Offering.Status.OPEN


def test_a_pledge_made_while_the_form_is_saved_is_not_overwritten(staff, funded, monkeypatch):
    """The form saves only what it edits: `reserved` and `status` stay as the
    pledges and the closing leave them, even when a pledge comes in between
    the edit view's read of the offering and its save."""
    clean = Offering.clean
    interleaved = []

    def clean_while_an_investor_pledges(offering):
        if not interleaved:
            interleaved.append(make_pledge(funded, "100"))
        clean(offering)

    monkeypatch.setattr(Offering, "clean", clean_while_an_investor_pledges)
    response = edit(staff, funded, title="Renamed")
    assert response.status_code == 302, response.context["form"].errors
    assert interleaved
    funded.refresh_from_db()
    assert (funded.title, funded.reserved) == ("Renamed", D("15100"))


def test_an_offering_opened_while_its_draft_form_is_saved_keeps_its_terms(staff, monkeypatch):
    draft = make_offering(status="draft", target=D("5000"))
    clean = Offering.clean

    def clean_while_a_colleague_opens_it(offering):
        Offering.objects.filter(pk=draft.pk).update(status=Offering.Status.OPEN)
        clean(offering)

    monkeypatch.setattr(Offering, "clean", clean_while_a_colleague_opens_it)
    response = edit(staff, draft, currency="EUR")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The offering changed while this form was open (it opened or closed): reload the "
        "page to see its terms as they are now."
    ]
    draft.refresh_from_db()
    assert (draft.currency, draft.status) == ("USD", Offering.Status.OPEN)


def test_without_a_hard_cap_the_target_is_what_it_may_raise(staff):
    offering = make_offering(target=D("10000"), hard_cap=None)
    pay(make_pledge(offering, "8000"))
    offering.refresh_from_db()
    # The target is a term: refused.
    response = edit(staff, offering, target="7000")
    assert list(response.context["form"].errors) == ["target"]
    # A hard cap above the target raises what it may raise: refused.
    response = edit(staff, offering, hard_cap="12000")
    assert list(response.context["form"].errors) == ["hard_cap"]


def test_a_closing_date_may_move_but_never_into_the_past(staff, funded):
    now = timezone.localtime()
    response = edit(
        staff, funded, closes_at=(now - datetime.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    )
    assert response.context["form"].errors == {
        "closes_at": ["Choose a closing date in the future."]
    }
    later = (now + datetime.timedelta(days=60)).replace(second=0, microsecond=0)
    response = edit(staff, funded, closes_at=later.strftime("%Y-%m-%d %H:%M"))
    assert response.status_code == 302, response.context["form"].errors
    funded.refresh_from_db()
    assert funded.closes_at == later


def test_a_closing_date_never_cuts_short_a_pledge_awaiting_payment(staff, funded):
    pending = funded.pledges.get(status=Pledge.Status.PENDING)
    pending.expires_at = timezone.now() + datetime.timedelta(days=5)
    pending.save(update_fields=["expires_at"])
    sooner = timezone.localtime() + datetime.timedelta(days=2)
    response = edit(staff, funded, closes_at=sooner.strftime("%Y-%m-%d %H:%M"))
    errors = response.context["form"].errors
    assert list(errors) == ["closes_at"]
    assert errors["closes_at"][0].startswith("A pledge awaiting payment may be paid until ")
    funded.refresh_from_db()
    assert funded.closes_at > timezone.now() + datetime.timedelta(days=20)


def test_a_closed_offering_keeps_its_cap_and_closing_date(staff, funded):
    Offering.objects.filter(pk=funded.pk).update(status=Offering.Status.SUCCEEDED)
    funded.refresh_from_db()
    form = staff.get(reverse("offering:edit", args=[funded.pk])).context["form"]
    assert form.fields["hard_cap"].disabled and form.fields["closes_at"].disabled
    response = edit(staff, funded, hard_cap="16000")
    assert list(response.context["form"].errors) == ["hard_cap"]
    funded.refresh_from_db()
    assert funded.hard_cap == D("20000")


def test_a_draft_without_pledges_stays_fully_editable(staff):
    draft = make_offering(status="draft", target=D("5000"))
    response = edit(staff, draft, currency="EUR", target="6000", min_ticket="20")
    assert response.status_code == 302, response.context["form"].errors
    draft.refresh_from_db()
    assert (draft.currency, draft.target, draft.min_ticket) == ("EUR", D("6000"), D("20"))
