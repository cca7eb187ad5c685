"""The matching page offers to add matching only where it can succeed, and names each
offering once."""

from decimal import Decimal

import pytest

from finance import services
from finance.offerings import MatchingPool
from portal.models import Organization
from projects.models import Project
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.finance import test_matching_pools as matching_pools
from tests.finance.test_matching_pools import LIST, TERMS, form_url, own_organization

from .builders import make_offering

pytestmark = pytest.mark.django_db

municipio = matching_pools.municipio
jerez_offering = matching_pools.jerez_offering

ALREADY = "Your government already matches this offering."


def commit(offering, sponsor: Organization, by) -> MatchingPool:
    return services.matching_pool_create(
        offering=offering,
        sponsor=sponsor,
        ratio=Decimal("1"),
        cap_per_offering=Decimal("500"),
        cap_per_contributor=None,
        by=by,
    )


def test_an_offering_the_government_already_matches_offers_no_matching_to_add(
    client, municipio, jerez_offering
):
    commit(jerez_offering, own_organization(municipio), municipio)
    client.force_login(municipio)

    listing = client.get(LIST).content.decode()
    assert form_url(jerez_offering) not in listing and "Add matching" not in listing
    assert ALREADY in listing

    page = client.get(form_url(jerez_offering))
    assert page.status_code == 200
    html = page.content.decode()
    assert ALREADY in html and 'name="sponsor"' not in html
    assert "<li>Municipio: 1 for each 1, up to $500.00</li>" in html

    posted = client.post(
        form_url(jerez_offering), {**TERMS, "sponsor": own_organization(municipio).pk}
    )
    assert posted.status_code == 400 and ALREADY in posted.content.decode()
    assert MatchingPool.objects.count() == 1


def test_only_the_governments_not_matching_yet_are_offered_as_sponsors(
    client, municipio, jerez_offering, territory
):
    """An administrator of two governments of the territory: one matches already, the
    other may still."""
    state = OrganizationFactory(kind="local_government", territory=territory.parent, name="Estado")
    MembershipFactory(organization=state, user=municipio, role="admin")
    commit(jerez_offering, own_organization_named(municipio, "Municipio"), municipio)
    client.force_login(municipio)

    listing = client.get(LIST).content.decode()
    assert form_url(jerez_offering) in listing and ALREADY not in listing
    form = client.get(form_url(jerez_offering)).content.decode()
    assert f'<option value="{state.pk}" selected>Estado</option>' in form
    assert ">Municipio</option>" not in form

    response = client.post(form_url(jerez_offering), {**TERMS, "sponsor": state.pk})
    assert response.status_code == 302
    assert set(MatchingPool.objects.values_list("sponsor__name", flat=True)) == {
        "Municipio",
        "Estado",
    }
    assert ALREADY in client.get(LIST).content.decode()


def own_organization_named(user, name: str) -> Organization:
    return user.memberships.get(organization__name=name).organization


def test_each_offering_is_named_once_and_its_opportunity_only_when_named_otherwise(
    client, municipio, territory
):
    cellar = Project.objects.create(
        owner=UserFactory(), title="An ageing cellar", status="approved", territory=territory
    )
    make_offering(project=cellar, title="An ageing cellar")
    kitchen = Project.objects.create(
        owner=UserFactory(), title="School kitchen", status="approved", territory=territory
    )
    make_offering(project=kitchen, title="Stoves for the kitchen")
    client.force_login(municipio)
    html = client.get(LIST).content.decode()
    assert "<td>An ageing cellar (USD)</td>" in html
    assert "<td>Stoves for the kitchen — School kitchen (USD)</td>" in html
