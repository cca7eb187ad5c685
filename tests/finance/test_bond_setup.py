"""Local governments set up their own diaspora bond series from the portal: a draft with the
bond's terms, checked by Offering.clean, edited until staff open it, then read-only with the
issuer's page of what is due and when. Another government's series does not exist for them."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from finance import services
from finance.forms_bonds import BondSeriesForm
from finance.offerings import KnowledgeTestPass, Offering
from finance.views_bonds import SeriesNoLongerDraft, bond_series_save
from portal.models import AuditEntry, Notification
from portal.permissions import governments_of
from projects.models import Project
from tests.conftest import enable_totp
from tests.factories import MembershipFactory, OrganizationFactory, TerritoryFactory, UserFactory

from .builders import make_offering, next_key

pytestmark = pytest.mark.django_db

LIST = "/en/bonds/series/"
NEW = "/en/bonds/series/new/"


def detail_url(offering) -> str:
    return f"/en/bonds/series/{offering.pk}/"


def edit_url(offering) -> str:
    return f"/en/bonds/series/{offering.pk}/edit/"


def local(moment: datetime.datetime) -> str:
    """A moment as a datetime-local input sends it (the site's time zone is UTC)."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def terms(organization, **changes) -> dict:
    now = timezone.now()
    values = {
        "issuer": organization.pk,
        "project": "",
        "title": "Jerez water bond 2031",
        "currency": "USD",
        "face_value": "100",
        "annual_rate": "4.5",
        "periods_per_year": "2",
        "day_count": "30/360 US",
        "tenor_months": "60",
        "target": "50000",
        "hard_cap": "80000",
        "funding_rule": "all_or_nothing",
        "min_ticket": "100",
        "max_ticket": "10000",
        "opens_at": local(now - datetime.timedelta(hours=1)),
        "closes_at": local(now + datetime.timedelta(days=30)),
    }
    values.update(changes)
    return values


@pytest.fixture
def municipio(government_member):
    enable_totp(government_member)
    return government_member


@pytest.fixture
def jerez(municipio):
    return municipio.memberships.get().organization


@pytest.fixture
def other_government_member(territory):
    country = territory.parent.parent
    elsewhere = TerritoryFactory(name="Oaxaca", slug="mx-oax", level="region", parent=country)
    org = OrganizationFactory(kind="local_government", territory=elsewhere, name="Oaxaca")
    member = MembershipFactory(organization=org, role="admin").user
    enable_totp(member)
    return member


@pytest.fixture
def oaxaca(other_government_member):
    return other_government_member.memberships.get().organization


@pytest.fixture
def plain_member(jerez):
    """A member of the issuing government without the administrator role."""
    member = MembershipFactory(organization=jerez, role="member").user
    enable_totp(member)
    return member


def draft_series(issuer, **fields) -> Offering:
    now = timezone.now()
    values = {
        "issuer": issuer,
        "title": f"{issuer.name} bond",
        "instrument": "bond",
        "currency": "USD",
        "target": Decimal("50000"),
        "hard_cap": Decimal("80000"),
        "min_ticket": Decimal("100"),
        "face_value": Decimal("100"),
        "annual_rate": Decimal("0.045"),
        "periods_per_year": 2,
        "day_count": "30/360 US",
        "tenor_months": 60,
        "opens_at": now - datetime.timedelta(hours=1),
        "closes_at": now + datetime.timedelta(days=30),
        "status": Offering.Status.DRAFT,
    }
    values.update(fields)
    offering = Offering(**values)
    offering.full_clean()
    offering.save()
    return offering


# --- Setting up a series, end to end ---------------------------------------------------------


def test_a_government_submits_a_series_staff_open_it_and_investors_buy_whole_bonds(
    client, municipio, jerez, reviewer
):
    client.force_login(municipio)
    assert client.get(NEW).status_code == 200
    response = client.post(NEW, terms(jerez))
    offering = Offering.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(offering)

    assert (offering.instrument, offering.status, offering.issuer) == ("bond", "draft", jerez)
    assert (offering.face_value, offering.annual_rate, offering.periods_per_year) == (
        100,
        Decimal("0.045"),
        2,
    )
    assert (offering.day_count, offering.tenor_months) == ("30/360 US", 60)
    assert (offering.target, offering.hard_cap, offering.min_ticket, offering.max_ticket) == (
        50000,
        80000,
        100,
        10000,
    )
    entry = AuditEntry.objects.get(action="offering.created")
    assert (entry.actor, entry.object_id, entry.to_state) == (municipio, str(offering.pk), "draft")
    # The people who open offerings hear of it, with the admin page that opens it.
    notice = Notification.objects.get(recipient=reviewer, verb="offering.submitted")
    assert "Jerez water bond 2031" in notice.message
    assert notice.url == f"/admin/money/offerings/{offering.pk}/actions/"

    page = client.get(detail_url(offering)).content.decode()
    assert "Submitted for review." in page and edit_url(offering) in page
    assert "(500 bonds)" in page and "(800 bonds)" in page and "4.5% a year" in page
    listing = client.get(LIST).content.decode()
    assert "Draft, submitted for review" in listing and edit_url(offering) in listing

    opened = services.offering_open(offering=offering, by=reviewer)
    assert opened.status == Offering.Status.OPEN

    investor = UserFactory(verification_tier="enhanced")
    KnowledgeTestPass.objects.create(
        investor=investor, score=5, risk_acknowledged_at=timezone.now()
    )
    pledge = services.pledge_create(
        offering=opened,
        investor=investor,
        amount=Decimal("300"),
        method="bank_transfer",
        idempotency_key=next_key(),
    )
    assert pledge.amount == 300
    with pytest.raises(services.PledgeRefused, match="whole units"):
        services.pledge_create(
            offering=opened,
            investor=investor,
            amount=Decimal("250"),
            method="bank_transfer",
            idempotency_key=next_key(),
        )

    # Open: read-only, and the issuer's page of payments is where the list sends them.
    response = client.get(edit_url(offering))
    assert response.status_code == 302 and response["Location"] == detail_url(offering)
    response = client.post(edit_url(offering), terms(jerez, annual_rate="9"))
    assert response.status_code == 302
    offering.refresh_from_db()
    assert offering.annual_rate == Decimal("0.045") and offering.status == "open"
    page = client.get(detail_url(offering)).content.decode()
    assert "Submitted for review." not in page and edit_url(offering) not in page
    assert f"/en/bonds/{offering.pk}/" in page and "(3 bonds)" in page
    listing = client.get(LIST).content.decode()
    assert edit_url(offering) not in listing and f"/en/bonds/{offering.pk}/" in listing
    assert client.get(f"/en/bonds/{offering.pk}/").status_code == 200


def test_a_draft_s_terms_change_but_never_its_issuer(client, municipio, jerez, oaxaca):
    offering = draft_series(jerez)
    client.force_login(municipio)
    response = client.post(
        edit_url(offering), terms(jerez, issuer=oaxaca.pk, annual_rate="5", tenor_months="36")
    )
    assert response.status_code == 302 and response["Location"] == detail_url(offering)
    offering.refresh_from_db()
    assert (offering.annual_rate, offering.tenor_months, offering.issuer) == (
        Decimal("0.05"),
        36,
        jerez,
    )
    assert offering.status == "draft"
    entry = AuditEntry.objects.get(action="offering.terms_changed")
    assert {"annual_rate", "tenor_months"} <= set(entry.data["fields"])
    assert "issuer" not in entry.data["fields"]


def test_terms_saved_after_staff_opened_the_series_are_refused(municipio, jerez, reviewer):
    offering = draft_series(jerez)
    stale = Offering.objects.get(pk=offering.pk)
    form = BondSeriesForm(
        terms(jerez, annual_rate="9"), instance=stale, governments=governments_of(municipio)
    )
    assert form.is_valid(), form.errors
    services.offering_open(offering=offering, by=reviewer)

    with pytest.raises(SeriesNoLongerDraft):
        bond_series_save(form=form, by=municipio)
    offering.refresh_from_db()
    assert (offering.status, offering.annual_rate) == ("open", Decimal("0.045"))


def test_a_series_may_fund_one_of_the_government_s_own_opportunities(
    client, municipio, jerez, oaxaca, territory
):
    own = Project.objects.create(
        owner=municipio, organization=jerez, origin="municipal", title="Aqueduct", slug="aq"
    )
    entrepreneurs = Project.objects.create(
        owner=UserFactory(), title="Bakery", slug="bakery", territory=territory
    )
    theirs = Project.objects.create(
        owner=UserFactory(), organization=oaxaca, origin="municipal", title="Road", slug="road"
    )
    client.force_login(municipio)
    form_page = client.get(NEW).content.decode()
    assert "Aqueduct" in form_page and "Bakery" not in form_page and "Road" not in form_page
    for other in (entrepreneurs, theirs):
        response = client.post(NEW, terms(jerez, project=other.pk))
        assert response.status_code == 400
        assert "project" in response.context["form"].errors
    assert client.post(NEW, terms(jerez, project=own.pk)).status_code == 302
    assert Offering.objects.get().project == own


# --- Terms that make no bond -----------------------------------------------------------------

INVALID_TERMS = [
    ("title", {"title": ""}, "This field is required."),
    ("currency", {"currency": "XXX"}, "Select a valid choice."),
    ("face_value", {"face_value": ""}, "Give the face value of one bond."),
    ("face_value", {"face_value": "0"}, "Give the face value of one bond."),
    ("face_value", {"face_value": "0.005"}, "Use at most 2 decimals for USD."),
    ("annual_rate", {"annual_rate": ""}, "Give the coupon rate in percent"),
    ("annual_rate", {"annual_rate": "450"}, "Give the coupon rate in percent"),
    ("annual_rate", {"annual_rate": "-1"}, "Give the coupon rate in percent"),
    ("annual_rate", {"annual_rate": "0.045"}, "The rate is in percent: 5 means 5%, not 0.05."),
    ("periods_per_year", {"periods_per_year": ""}, "Payments per year must be 1, 2, 4 or 12."),
    ("periods_per_year", {"periods_per_year": "3"}, "Payments per year must be 1, 2, 4 or 12."),
    ("day_count", {"day_count": ""}, "Choose the bond's day count."),
    ("tenor_months", {"tenor_months": ""}, "Give the tenor in months."),
    ("tenor_months", {"tenor_months": "0"}, "The tenor must be at least one month"),
    ("tenor_months", {"tenor_months": "1201"}, "The tenor can be at most 1200 months"),
    ("target", {"target": "0"}, "greater than or equal to 1"),
    ("target", {"target": "50050"}, "a multiple of the face value, $100.00"),
    ("hard_cap", {"hard_cap": "40000"}, "The hard cap cannot be below the target."),
    ("hard_cap", {"hard_cap": "80050"}, "For example $80,100.00 buys 801 bonds."),
    ("min_ticket", {"min_ticket": "150"}, "For example $200.00 buys 2 bonds."),
    ("min_ticket", {"min_ticket": ""}, "This field is required."),
    ("max_ticket", {"max_ticket": "250"}, "Give an amount of money that buys whole bonds"),
    (
        "max_ticket",
        {"min_ticket": "500", "max_ticket": "200"},
        "The maximum ticket cannot be below the minimum.",
    ),
    ("opens_at", {"opens_at": "soon"}, "Enter a valid date/time."),
    (
        "closes_at",
        {
            "opens_at": local(timezone.now() + datetime.timedelta(days=20)),
            "closes_at": local(timezone.now() + datetime.timedelta(days=10)),
        },
        "An offering closes after it opens.",
    ),
    (
        "closes_at",
        {"closes_at": local(timezone.now() - datetime.timedelta(days=1))},
        "The sale must close at a date still to come.",
    ),
]


@pytest.mark.parametrize(
    ("field", "changes", "message"),
    INVALID_TERMS,
    ids=[f"{field}-{i}" for i, (field, _c, _m) in enumerate(INVALID_TERMS)],
)
def test_every_invalid_term_is_shown_on_its_field(
    client, municipio, jerez, field, changes, message
):
    client.force_login(municipio)
    response = client.post(NEW, terms(jerez, **changes))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert any(message in text for text in errors.get(field, [])), errors
    # Shown next to its field, and nowhere else.
    assert set(errors) == {field}, errors
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Offering.objects.exists()


def test_an_invalid_edit_keeps_the_stored_terms(client, municipio, jerez):
    offering = draft_series(jerez)
    client.force_login(municipio)
    response = client.post(edit_url(offering), terms(jerez, tenor_months="0"))
    assert response.status_code == 400
    assert "tenor_months" in response.context["form"].errors
    offering.refresh_from_db()
    assert offering.tenor_months == 60
    assert not AuditEntry.objects.filter(action="offering.terms_changed").exists()


# --- Who may ------------------------------------------------------------------------------


def _login(client, request, who):
    if who == "investor":
        client.force_login(UserFactory())
    elif who == "entrepreneur":
        client.force_login(request.getfixturevalue("entrepreneur"))
    elif who == "reviewer":
        reviewer = request.getfixturevalue("reviewer")
        enable_totp(reviewer)
        client.force_login(reviewer)
    elif who != "anonymous":
        client.force_login(request.getfixturevalue(who))


@pytest.mark.parametrize(
    ("who", "own_series", "new_series"),
    [
        ("municipio", 200, 200),
        ("other_government_member", 404, 200),
        ("investor", 403, 403),
        ("entrepreneur", 403, 403),
        ("reviewer", 403, 403),
        ("anonymous", 302, 302),
    ],
)
def test_only_members_of_the_issuing_government_see_and_change_its_series(
    client, request, jerez, who, own_series, new_series
):
    offering = draft_series(jerez)
    _login(client, request, who)

    for url in (detail_url(offering), edit_url(offering)):
        response = client.get(url)
        assert response.status_code == own_series, url
        if who == "anonymous":
            assert response["Location"].startswith("/en/accounts/login/")
    response = client.post(edit_url(offering), terms(jerez, title="Taken over"))
    assert response.status_code == (302 if own_series == 200 else own_series)
    offering.refresh_from_db()
    assert (offering.title == "Taken over") == (own_series == 200)

    assert client.get(NEW).status_code == new_series
    response = client.get(LIST)
    assert response.status_code == new_series
    if new_series == 200:
        assert (offering.title in response.content.decode()) == (own_series == 200)


def test_members_see_their_government_s_series_but_only_administrators_set_them_up(
    client, jerez, municipio, plain_member
):
    offering = draft_series(jerez, title="Jerez water bond")
    client.force_login(plain_member)
    listed = client.get(LIST).content.decode()
    assert "Jerez water bond" in listed
    assert NEW not in listed and edit_url(offering) not in listed
    detail = client.get(detail_url(offering)).content.decode()
    assert "Jerez water bond" in detail and edit_url(offering) not in detail

    for response in (
        client.get(NEW),
        client.post(NEW, terms(jerez, title="Member's bond")),
        client.get(edit_url(offering)),
        client.post(edit_url(offering), terms(jerez, title="Taken over")),
    ):
        assert response.status_code == 403
        assert "Only an administrator of" in response.content.decode()
    offering.refresh_from_db()
    assert offering.title == "Jerez water bond"
    assert list(Offering.objects.values_list("title", flat=True)) == ["Jerez water bond"]
    assert not AuditEntry.objects.filter(action__startswith="offering.").exists()

    # The administrator has the buttons and changes the terms.
    client.force_login(municipio)
    assert edit_url(offering) in client.get(detail_url(offering)).content.decode()
    assert NEW in client.get(LIST).content.decode()
    assert client.post(edit_url(offering), terms(jerez, title="Taken over")).status_code == 302
    offering.refresh_from_db()
    assert offering.title == "Taken over"


def test_an_administrator_of_one_government_is_a_member_of_another(
    client, jerez, plain_member, oaxaca
):
    """Administering one government does not let them change another's series."""
    MembershipFactory(organization=oaxaca, user=plain_member, role="admin")
    offering = draft_series(jerez, title="Jerez water bond")
    client.force_login(plain_member)
    assert client.get(NEW).status_code == 200
    # The issuer can only be the government they administer.
    response = client.post(NEW, terms(jerez, title="In Jerez's name"))
    assert response.status_code == 400 and "issuer" in response.context["form"].errors
    response = client.post(edit_url(offering), terms(jerez, title="Taken over"))
    assert response.status_code == 403
    assert "Only an administrator of Municipio can change its bonds." in response.content.decode()
    offering.refresh_from_db()
    assert offering.title == "Jerez water bond"


def test_another_government_s_series_is_indistinguishable_from_none(
    client, other_government_member, oaxaca, jerez
):
    jerez_series = draft_series(jerez, title="Jerez bond")
    client.force_login(other_government_member)
    missing = client.get("/en/bonds/series/999999/")
    theirs = client.get(detail_url(jerez_series))
    assert missing.status_code == theirs.status_code == 404
    assert "Jerez bond" not in theirs.content.decode()
    # Naming a government one does not belong to as issuer is refused; nothing is created.
    response = client.post(NEW, terms(jerez))
    assert response.status_code == 400 and "issuer" in response.context["form"].errors
    assert Offering.objects.count() == 1


def test_only_bonds_are_reached_through_the_bond_pages(client, municipio, jerez):
    loan = make_offering(
        title="Municipal loan", instrument="loan", issuer=jerez, status=Offering.Status.DRAFT
    )
    client.force_login(municipio)
    assert client.get(detail_url(loan)).status_code == 404
    assert client.get(edit_url(loan)).status_code == 404
    assert "Municipal loan" not in client.get(LIST).content.decode()


def test_a_government_member_without_two_factor_is_sent_to_set_it_up(client, jerez):
    member = MembershipFactory(organization=jerez, role="member").user
    client.force_login(member)
    response = client.get(NEW)
    assert response.status_code == 302 and "/totp/" in response["Location"]
    assert not Offering.objects.exists()


def test_the_government_dashboard_links_to_the_bond_series(client, municipio):
    client.force_login(municipio)
    page = client.get("/en/dashboard/government/").content.decode()
    assert f'href="{LIST}"' in page


# --- What the pages cost -------------------------------------------------------------------


def test_the_list_costs_the_same_for_two_series_or_twelve(
    client, municipio, jerez, reviewer, django_assert_max_num_queries
):
    for number in range(2):
        draft_series(jerez, title=f"Series {number}")
    client.force_login(municipio)
    client.get(LIST)
    with django_assert_max_num_queries(5) as few:
        assert client.get(LIST).status_code == 200
    for number in range(2, 12):
        series = draft_series(jerez, title=f"Series {number}")
        if number % 2:
            services.offering_open(offering=series, by=reviewer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(LIST).content.decode()
    assert all(f"Series {number}" in html for number in range(12))


def test_the_form_and_detail_pages_have_a_fixed_cost(
    client, municipio, jerez, django_assert_max_num_queries
):
    offering = draft_series(jerez)
    client.force_login(municipio)
    client.get(NEW)
    with django_assert_max_num_queries(7):
        assert client.get(NEW).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(edit_url(offering)).status_code == 200
    with django_assert_max_num_queries(5):
        assert client.get(detail_url(offering)).status_code == 200


def test_a_double_click_submits_one_series(client, municipio, jerez):
    client.force_login(municipio)
    page = client.get(NEW).content.decode()
    key = page.split('name="key" value="', 1)[1].split('"', 1)[0]
    first = client.post(NEW, {**terms(jerez), "key": key})
    second = client.post(NEW, {**terms(jerez), "key": key})
    assert first.status_code == second.status_code == 302
    assert Offering.objects.filter(issuer=jerez, instrument="bond").count() == 1
