"""Who sees which dashboard and which organization page."""

import pytest
from django.db import IntegrityError, transaction

from portal.models import Organization, Territory
from portal.permissions import Role, governs_territory, roles_of
from tests.conftest import enable_totp
from tests.factories import MembershipFactory, OrganizationFactory, TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db

DASHBOARDS = {
    Role.INVESTOR: "/en/dashboard/investor/",
    Role.ENTREPRENEUR: "/en/dashboard/entrepreneur/",
    Role.LOCAL_GOVERNMENT: "/en/dashboard/government/",
    Role.REVIEWER: "/en/dashboard/review/",
}


def test_roles_follow_memberships(user, entrepreneur, government_member, reviewer):
    assert roles_of(user) == {Role.INVESTOR}
    assert roles_of(entrepreneur) == {Role.INVESTOR, Role.ENTREPRENEUR}
    assert roles_of(government_member) == {Role.INVESTOR, Role.LOCAL_GOVERNMENT}
    assert roles_of(reviewer) == {Role.INVESTOR, Role.REVIEWER}


def test_a_person_can_belong_to_several_organizations(entrepreneur, territory):
    gov = OrganizationFactory(kind="local_government", territory=territory)
    MembershipFactory(user=entrepreneur, organization=gov)
    entrepreneur = type(entrepreneur).objects.get(pk=entrepreneur.pk)
    assert {Role.ENTREPRENEUR, Role.LOCAL_GOVERNMENT} <= roles_of(entrepreneur)


@pytest.mark.parametrize("fixture", ["user", "entrepreneur", "government_member", "reviewer"])
def test_each_dashboard_only_for_its_role(request, client, fixture):
    person = request.getfixturevalue(fixture)
    enable_totp(person)
    client.force_login(person)
    mine = roles_of(person)
    for role, url in DASHBOARDS.items():
        status = client.get(url).status_code
        assert status == (200 if role in mine else 403), (fixture, url, status)


def test_dashboard_redirects_to_most_specific_role(client, government_member):
    enable_totp(government_member)
    client.force_login(government_member)
    assert client.get("/en/dashboard/")["Location"] == "/en/dashboard/government/"


def test_anonymous_visitors_are_sent_to_login(client):
    for url in DASHBOARDS.values():
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/en/accounts/login/")


def test_role_tabs_and_sections_are_real(client, entrepreneur):
    client.force_login(entrepreneur)
    page = client.get("/en/dashboard/entrepreneur/").content.decode()
    org = entrepreneur.organizations.get()
    assert org.name in page
    assert 'href="/en/dashboard/investor/"' in page  # tab to the other role
    page = client.get("/en/dashboard/investor/").content.decode()
    assert "Profile" in page and "complete" in page
    assert "Turn on two-factor authentication" in page


def test_reviewer_sees_organizations_awaiting_verification(client, reviewer):
    pending = OrganizationFactory(name="Cooperativa Nueva", verified=False)
    enable_totp(reviewer)
    client.force_login(reviewer)
    page = client.get("/en/dashboard/review/").content.decode()
    assert pending.name in page


def test_organization_page_is_for_members_and_reviewers_only(client, entrepreneur, reviewer):
    org = entrepreneur.organizations.get()
    url = f"/en/organizations/{org.slug}/"
    outsider = UserFactory()
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.force_login(entrepreneur)
    assert client.get(url).status_code == 200
    client.force_login(reviewer)
    assert client.get(url).status_code == 200
    assert client.get("/en/organizations/no-such-org/").status_code == 404


def test_governs_territory_covers_places_inside(government_member, territory):
    assert governs_territory(government_member, territory)
    other = TerritoryFactory(name="Senegal", slug="sn", country="SN")
    assert not governs_territory(government_member, other)


def test_database_refuses_a_local_government_without_territory():
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.create(kind="local_government", name="X", slug="x", country="MX")


def test_database_refuses_a_region_without_parent():
    with pytest.raises(IntegrityError), transaction.atomic():
        Territory.objects.create(name="Orphan", slug="orphan", level="region", country="MX")


def test_dashboard_query_count_does_not_grow_with_memberships(
    client, django_assert_max_num_queries, territory
):
    person = UserFactory()
    for _ in range(12):
        MembershipFactory(user=person, organization=OrganizationFactory(kind="enterprise"))
    client.force_login(person)
    with django_assert_max_num_queries(12):
        assert client.get("/en/dashboard/entrepreneur/").status_code == 200


def test_dashboard_heading_and_tabs_name_the_role(client, entrepreneur):
    client.force_login(entrepreneur)
    page = client.get("/en/dashboard/entrepreneur/").content.decode()
    assert "<h1>Entrepreneur dashboard</h1>" in page
    assert ">Investor</a>" in page and ">Entrepreneur</a>" in page
