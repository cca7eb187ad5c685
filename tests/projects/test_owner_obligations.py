"""Someone who owns a project in their own name, without any cooperative or company, is an
entrepreneur: signing in leads to the entrepreneur dashboard, which lists their loans and
revenue shares, and "My projects" links each disbursed one to its page. Nobody else's."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from finance import returns_services as rs
from finance.offerings import Offering
from portal.permissions import Role, roles_of
from projects.models import Project
from tests.factories import PASSWORD, MembershipFactory, OrganizationFactory, UserFactory
from tests.finance.builders import make_offering
from tests.finance.test_returns import START, close_and_disburse, fund, funded_loan

pytestmark = pytest.mark.django_db


def personal_project(owner, title="Electric tricycles for Laoag drivers", **fields) -> Project:
    return Project.objects.create(
        owner=owner, title=title, slug=re.sub(r"\W+", "-", title.lower()), **fields
    )


def disbursed_revenue_share(project) -> Offering:
    offering = make_offering(
        project=project,
        instrument="revenue_share",
        target="1000",
        revenue_share="0.10",
        cap_multiple="1.50",
    )
    fund(offering, ["600", "400"])
    return close_and_disburse(offering)


@pytest.fixture
def owner_with_loan():
    """A person with no organization who owns a funded project with a disbursed loan and a
    disbursed revenue share."""
    owner = UserFactory(preferred_language="es")
    project = personal_project(owner, status=Project.Status.FUNDED)
    loan, _lenders = funded_loan(project=project)
    # Done on commit of the disbursement in the portal; these tests never commit.
    rs.loan_fix_schedule(offering=loan, start_date=START)
    revenue = disbursed_revenue_share(project)
    return owner, project, loan, revenue


def row_of(page: str, title: str) -> str:
    """The <tr> of the list that names the project."""
    rows = re.findall(r"<tr>.*?</tr>", page, flags=re.S)
    return next(row for row in rows if title in row)


def test_owning_a_project_makes_an_entrepreneur_and_owning_none_does_not():
    person = UserFactory()
    assert roles_of(person) == {Role.INVESTOR}
    personal_project(person)
    # The project's save forgets the cached roles: the next request sees the new one.
    person = type(person).objects.get(pk=person.pk)
    assert roles_of(person) == {Role.INVESTOR, Role.ENTREPRENEUR}
    # Members of a cooperative or company stay entrepreneurs without owning anything.
    member = MembershipFactory(organization=OrganizationFactory(kind="enterprise")).user
    assert roles_of(member) == {Role.INVESTOR, Role.ENTREPRENEUR}
    Project.objects.filter(owner=person).delete()
    person = type(person).objects.get(pk=person.pk)
    assert roles_of(person) == {Role.INVESTOR}


def test_signing_in_leads_a_project_owner_to_the_entrepreneur_dashboard(client, owner_with_loan):
    owner, _project, loan, revenue = owner_with_loan
    response = client.post("/en/accounts/login/", {"login": owner.email, "password": PASSWORD})
    assert response["Location"] == "/es/dashboard/"
    assert client.get("/es/dashboard/")["Location"] == "/es/dashboard/entrepreneur/"
    page = client.get("/es/dashboard/entrepreneur/")
    assert page.status_code == 200
    body = page.content.decode()
    assert f'href="/es/loans/{loan.pk}/"' in body
    assert f'href="/es/revenue-shares/{revenue.pk}/"' in body
    # "My projects" is in the menu, and the tabs lead back to the investor's side.
    assert 'href="/es/my-projects/"' in body
    assert 'href="/es/dashboard/investor/"' in body
    # The loan's page is theirs to open.
    assert client.get(f"/es/loans/{loan.pk}/").status_code == 200
    assert client.get(f"/es/revenue-shares/{revenue.pk}/").status_code == 200


def test_my_projects_links_each_disbursed_offering_in_its_project_row(client, owner_with_loan):
    owner, project, loan, revenue = owner_with_loan
    # Another project of hers whose loan is still open for pledges: nothing to repay yet.
    waiting = personal_project(
        owner, "Garlic drying and packing in Laoag", status=Project.Status.APPROVED
    )
    open_loan = make_offering(project=waiting, instrument="loan", annual_rate="0.1")
    client.force_login(owner)
    body = client.get("/es/my-projects/").content.decode()
    row = row_of(body, project.title)
    assert f'href="/es/loans/{loan.pk}/"' in row
    assert f'href="/es/revenue-shares/{revenue.pk}/"' in row
    assert f"/es/loans/{open_loan.pk}/" not in body
    assert "/loans/" not in row_of(body, waiting.title)


def test_nobody_else_reaches_or_sees_the_owners_loan(client, owner_with_loan):
    _owner, _project, loan, revenue = owner_with_loan
    # Another personal owner, and a member of a cooperative: entrepreneurs too, but of
    # their own projects.
    others = [UserFactory(), MembershipFactory(organization=OrganizationFactory()).user]
    personal_project(others[0], "Heritage homestays network in Laoag")
    for other in others:
        client.force_login(other)
        for path in ("/en/dashboard/entrepreneur/", "/en/my-projects/"):
            body = client.get(path).content.decode()
            assert f"/en/loans/{loan.pk}/" not in body
            assert f"/en/revenue-shares/{revenue.pk}/" not in body
        assert client.get(f"/en/loans/{loan.pk}/").status_code == 404
        assert client.get(f"/en/revenue-shares/{revenue.pk}/").status_code == 404
    # Someone who owns nothing has no entrepreneur dashboard at all.
    client.force_login(UserFactory())
    assert client.get("/en/dashboard/entrepreneur/").status_code == 403
    assert client.get("/en/dashboard/")["Location"] == "/en/dashboard/investor/"


def test_my_projects_costs_the_same_queries_for_more_disbursed_offerings(client):
    owner = UserFactory()

    def add_funded_project(n: int) -> None:
        project = personal_project(owner, f"Funded project {n}", status=Project.Status.FUNDED)
        funded_loan(project=project)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/en/my-projects/").status_code == 200
        return len(captured)

    add_funded_project(1)
    client.force_login(owner)
    client.get("/en/my-projects/")  # the session and the cached roles
    one = queries()
    for n in range(2, 5):
        add_funded_project(n)
    body = client.get("/en/my-projects/").content.decode()
    assert body.count('href="/en/loans/') == 4
    assert queries() == one
