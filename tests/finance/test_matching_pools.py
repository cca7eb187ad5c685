"""Local governments set up their own matching pools from the portal, for
offerings in their territory (or the bonds they issue), funded by their
organization; staff do the same from the admin through the same service."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from finance import services
from finance.ledger import Account, balance
from finance.offerings import MatchAllocation, MatchingPool, Offering
from portal.models import AuditEntry, Organization
from projects.models import Project
from tests.conftest import enable_totp
from tests.factories import MembershipFactory, OrganizationFactory, TerritoryFactory, UserFactory

from .builders import make_offering, make_pledge, pay

pytestmark = pytest.mark.django_db

LIST = "/en/matching/"


def form_url(offering) -> str:
    return f"/en/matching/offerings/{offering.pk}/new/"


@pytest.fixture
def jerez_offering(territory):
    project = Project.objects.create(
        owner=UserFactory(), title="School kitchen", status="approved", territory=territory
    )
    return make_offering(project=project, title="Kitchen for the school")


@pytest.fixture
def municipio(government_member):
    enable_totp(government_member)
    return government_member


@pytest.fixture
def other_government_member(territory):
    country = territory.parent.parent
    elsewhere = TerritoryFactory(name="Oaxaca", slug="mx-oax", level="region", parent=country)
    org = OrganizationFactory(kind="local_government", territory=elsewhere, name="Oaxaca")
    member = MembershipFactory(organization=org, role="admin").user
    enable_totp(member)
    return member


@pytest.fixture
def plain_member(municipio):
    """A member of the territory's government without the administrator role."""
    member = MembershipFactory(organization=own_organization(municipio), role="member").user
    enable_totp(member)
    return member


def own_organization(user) -> Organization:
    return user.memberships.get().organization


TERMS = {"ratio": "1", "cap_per_offering": "500", "cap_per_contributor": "100"}


# --- Who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [("municipio", 200), ("other_government_member", 404), ("investor", 403), ("anonymous", 302)],
)
def test_only_the_territory_s_own_government_may_add_matching(
    client, request, jerez_offering, who, expected
):
    if who == "investor":
        client.force_login(UserFactory())
    elif who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    # Funded by an organization nobody here belongs to: even the territory's
    # own government may only commit its own funds.
    someone_else = OrganizationFactory(name="Someone")
    shown = client.get(form_url(jerez_offering))
    posted = client.post(form_url(jerez_offering), {**TERMS, "sponsor": someone_else.pk})
    assert shown.status_code == expected
    assert posted.status_code == (400 if who == "municipio" else expected)
    if who == "anonymous":
        assert shown["Location"].startswith("/en/accounts/login/")
    assert not MatchingPool.objects.exists()


def test_the_list_shows_only_offerings_of_the_government_s_territory(
    client, municipio, other_government_member, jerez_offering, django_assert_max_num_queries
):
    elsewhere = make_offering(title="Well in Oaxaca")
    client.force_login(municipio)
    client.get(LIST)
    with django_assert_max_num_queries(12):
        html = client.get(LIST).content.decode()
    assert "Kitchen for the school" in html and "Well in Oaxaca" not in html
    assert form_url(jerez_offering) in html
    client.force_login(other_government_member)
    html = client.get(LIST).content.decode()
    assert "Kitchen for the school" not in html
    assert client.get(form_url(elsewhere)).status_code == 404
    client.force_login(UserFactory())
    assert client.get(LIST).status_code == 403


def test_only_the_government_s_administrators_commit_its_funds(
    client, municipio, plain_member, jerez_offering
):
    organization = own_organization(municipio)
    client.force_login(plain_member)
    html = client.get(LIST).content.decode()
    # They see the offering and what their government committed, without the way to commit.
    assert "Kitchen for the school" in html
    assert form_url(jerez_offering) not in html
    assert "administrators commit its funds" in html
    shown = client.get(form_url(jerez_offering))
    posted = client.post(form_url(jerez_offering), {**TERMS, "sponsor": organization.pk})
    assert shown.status_code == posted.status_code == 403
    assert "Only an administrator of your government can commit its funds." in (
        posted.content.decode()
    )
    assert not MatchingPool.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="matching").exists()
    # The page says why in the member's language.
    client.cookies.load({"django_language": "es"})
    spanish = client.get(form_url(jerez_offering).replace("/en/", "/es/"))
    assert spanish.status_code == 403
    assert "Solo un administrador de su gobierno puede comprometer sus fondos." in (
        spanish.content.decode()
    )

    client.force_login(municipio)
    response = client.post(form_url(jerez_offering), {**TERMS, "sponsor": organization.pk})
    assert response.status_code == 302
    assert MatchingPool.objects.get().sponsor == organization


# --- Setting one up ------------------------------------------------------------------------


def test_a_government_commits_funds_and_the_next_paid_pledge_is_matched(
    client, municipio, jerez_offering
):
    client.force_login(municipio)
    organization = own_organization(municipio)
    response = client.post(form_url(jerez_offering), {**TERMS, "sponsor": organization.pk})
    assert response.status_code == 302 and response["Location"] == LIST

    pool = MatchingPool.objects.get()
    assert (pool.offering, pool.sponsor) == (jerez_offering, organization)
    assert (pool.ratio, pool.cap_per_offering, pool.cap_per_contributor) == (1, 500, 100)
    entry = AuditEntry.objects.get(action="matching_pool.created")
    assert entry.actor == municipio
    assert entry.data["cap_per_offering"] == "500" and entry.data["currency"] == "USD"
    assert Account.objects.filter(kind=Account.Kind.MATCHING_POOL, key=f"pool:{pool.pk}").exists()

    pledge = make_pledge(jerez_offering, "150")
    pay(pledge)
    assert MatchAllocation.objects.get(pledge=pledge).amount == Decimal("100")  # per-person cap
    assert balance(services.escrow_account(jerez_offering)).amount == Decimal("250")
    assert balance(services.matching_account(pool, "USD")).amount == Decimal("-100")

    html = client.get(reverse("portal:dashboard_government")).content.decode()
    assert "Matching funds" in html and "Kitchen for the school" in html
    assert "$100.00 of $500.00 committed" in html


def test_a_sponsors_terms_are_one_sentence_in_each_language(client, municipio, jerez_offering):
    """Ratio, commitment and cap read as one sentence the translators wrote,
    with its own punctuation: an Arabic comma, not a Latin one glued on."""
    client.force_login(municipio)
    organization = own_organization(municipio)
    client.post(form_url(jerez_offering), {**TERMS, "sponsor": organization.pk})

    listing = client.get(LIST).content.decode()
    assert "<p>Municipio: 1 for each 1, $0.00 of $500.00 committed</p>" in listing
    form = client.get(form_url(jerez_offering)).content.decode()
    assert "<li>Municipio: 1 for each 1, up to $500.00</li>" in form

    for page in (client.get("/ar" + LIST[3:]), client.get("/ar" + form_url(jerez_offering)[3:])):
        html = page.content.decode()
        terms = re.search(r"<(?:p|li)>(Municipio: 1 مقابل كل 1، [^<]+)</(?:p|li)>", html)
        assert terms, html
        assert ", " not in terms.group(1)


def test_bad_terms_keep_what_was_typed_with_the_message_at_the_field(
    client, municipio, jerez_offering
):
    client.force_login(municipio)
    organization = own_organization(municipio)
    response = client.post(
        form_url(jerez_offering),
        {"sponsor": organization.pk, "ratio": "1", "cap_per_offering": "10.005"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="10.005"' in html
    assert "Use at most 2 decimals for USD." in html
    assert html.index("Use at most 2 decimals") < html.index('name="cap_per_offering"')
    assert html.index("Use at most 2 decimals") > html.index('name="ratio"')

    response = client.post(
        form_url(jerez_offering),
        {
            "sponsor": organization.pk,
            "ratio": "1",
            "cap_per_offering": "50",
            "cap_per_contributor": "80",
        },
    )
    assert response.status_code == 400
    assert "cannot be above the cap for the offering" in response.content.decode()
    assert 'value="80"' in response.content.decode()

    response = client.post(
        form_url(jerez_offering),
        {"sponsor": organization.pk, "ratio": "", "cap_per_offering": "50"},
    )
    assert response.status_code == 400 and 'value="50"' in response.content.decode()
    assert not MatchingPool.objects.exists()
    assert not AuditEntry.objects.filter(action="matching_pool.created").exists()


def test_a_second_pool_of_the_same_government_is_refused(client, municipio, jerez_offering):
    client.force_login(municipio)
    data = {**TERMS, "sponsor": own_organization(municipio).pk}
    client.post(form_url(jerez_offering), data)
    response = client.post(form_url(jerez_offering), data)
    assert response.status_code == 400
    assert "already matches this offering" in response.content.decode()
    assert MatchingPool.objects.count() == 1


def test_the_government_s_own_bond_is_its_business_but_bonds_are_not_matched(client, municipio):
    now = timezone.now()
    bond = Offering.objects.create(
        issuer=own_organization(municipio),
        title="Jerez water bond",
        instrument="bond",
        currency="USD",
        target=Decimal("100000"),
        min_ticket=Decimal("100"),
        face_value=Decimal("100"),
        annual_rate=Decimal("0.05"),
        tenor_months=36,
        periods_per_year=2,
        day_count="30/360 US",
        opens_at=now,
        closes_at=now + datetime.timedelta(days=30),
        status="open",
    )
    client.force_login(municipio)
    assert "Jerez water bond" in client.get(LIST).content.decode()
    response = client.post(form_url(bond), {**TERMS, "sponsor": own_organization(municipio).pk})
    assert response.status_code == 400
    assert "Matching applies to donations with matching" in response.content.decode()
    assert not MatchingPool.objects.exists()


def test_staff_set_up_a_pool_in_the_admin_through_the_same_service(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    enable_totp(staff)
    offering = make_offering()
    sponsor = OrganizationFactory(name="Estado")
    client.force_login(staff)
    add = reverse("matchingpool:add")
    response = client.post(
        add,
        {
            "offering": offering.pk,
            "sponsor": sponsor.pk,
            "ratio": "2",
            "cap_per_offering": "1000",
            "cap_per_contributor": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    pool = MatchingPool.objects.get()
    assert pool.ratio == 2 and pool.cap_per_contributor is None
    assert AuditEntry.objects.get(action="matching_pool.created").actor == staff

    response = client.post(
        add,
        {
            "offering": make_offering(currency="JPY").pk,
            "sponsor": sponsor.pk,
            "ratio": "1",
            "cap_per_offering": "1000.5",
        },
    )
    assert response.status_code == 200
    assert "JPY amounts are whole numbers: enter no decimals." in response.content.decode()
    assert MatchingPool.objects.count() == 1
