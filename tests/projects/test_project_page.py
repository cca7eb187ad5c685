"""The project page (who may see it, what it shows, what it costs in queries),
following projects and territories, the list of what one follows, and
territory pages."""

import re
from decimal import Decimal

import pytest

from projects.models import Document, Follow, Project
from tests.conftest import enable_totp, totp_now
from tests.factories import MembershipFactory, OrganizationFactory, TerritoryFactory, UserFactory
from tests.projects.factories import (
    BudgetLineFactory,
    DocumentFactory,
    ImpactReportFactory,
    ImpactValueFactory,
    MilestoneFactory,
    MunicipalityFactory,
    ProjectFactory,
    ProjectPhotoFactory,
    ProjectUpdateFactory,
    RegionFactory,
    TeamMemberFactory,
    territory_chain,
)

pytestmark = pytest.mark.django_db

MAX_PAGE_QUERIES = 15

UNPUBLISHED = [
    Project.Status.DRAFT,
    Project.Status.SUBMITTED,
    Project.Status.CHANGES_REQUESTED,
    Project.Status.REJECTED,
]
PUBLISHED = [Project.Status.APPROVED, Project.Status.FUNDED, Project.Status.CLOSED]
MAY_SEE_UNPUBLISHED = {"owner", "org_member", "reviewer", "government", "regional_government"}
# They see an unpublished project through a back-office role: two-factor authentication.
BACK_OFFICE_VIEWERS = {"reviewer", "government", "regional_government", "other_government"}
VIEWERS = [
    "anonymous",
    "investor",
    "owner",
    "org_member",
    "reviewer",
    "government",
    "regional_government",
    "other_government",
]


@pytest.fixture
def organization_project(territory):
    org = OrganizationFactory(kind="enterprise", name="Cooperativa")
    owner = MembershipFactory(organization=org, role="admin").user
    return ProjectFactory(owner=owner, organization=org, territory=territory)


def viewer_for(name, project, request):
    if name == "anonymous":
        return None
    if name == "investor":
        return UserFactory()
    if name == "owner":
        return project.owner
    if name == "org_member":
        return MembershipFactory(organization=project.organization).user
    if name == "reviewer":
        return request.getfixturevalue("reviewer")
    if name == "government":
        return request.getfixturevalue("government_member")
    if name == "regional_government":
        region = project.territory.parent
        org = OrganizationFactory(kind="local_government", territory=region)
        return MembershipFactory(organization=org).user
    if name == "other_government":
        elsewhere = territory_chain("SN", "Sénégal", "Louga", "Louga")
        org = OrganizationFactory(kind="local_government", territory=elsewhere, country="SN")
        return MembershipFactory(organization=org).user
    raise AssertionError(name)


@pytest.mark.parametrize("status", UNPUBLISHED + PUBLISHED)
@pytest.mark.parametrize("viewer", VIEWERS)
def test_who_sees_the_project_page(client, request, organization_project, status, viewer):
    project = organization_project
    Project.objects.filter(pk=project.pk).update(status=status)
    person = viewer_for(viewer, project, request)
    if viewer in BACK_OFFICE_VIEWERS:
        enable_totp(person)
    if person is not None:
        client.force_login(person)
    response = client.get(project.get_absolute_url())
    visible = status in PUBLISHED or viewer in MAY_SEE_UNPUBLISHED
    assert response.status_code == (200 if visible else 404)
    html = response.content.decode()
    if visible:
        assert project.title in html
        # An unpublished page says who can see it.
        assert ("This project is not published" in html) == (status in UNPUBLISHED)
    else:
        assert project.title not in html


@pytest.mark.parametrize("viewer", ["reviewer", "government"])
def test_an_unpublished_project_is_a_back_office_page_for_reviewers_and_governments(
    client, request, organization_project, viewer
):
    project = organization_project
    Project.objects.filter(pk=project.pk).update(status=Project.Status.SUBMITTED)
    person = viewer_for(viewer, project, request)
    person.set_password("a-long-enough-password")
    person.save()
    url = project.get_absolute_url()

    # Without TOTP: sent to turn it on, then back here.
    client.force_login(person)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/en/accounts/2fa/totp/activate/")
    assert f"next={url.replace('/', '%2F')}" in response["Location"]

    # With TOTP on but a session opened with the password alone: asked for a code.
    secret = enable_totp(person)
    client.logout()
    assert client.login(email=person.email, password="a-long-enough-password")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/en/accounts/2fa/reauthenticate/")
    assert project.title not in response.content.decode()

    # The code given, the page opens in the same session.
    response = client.post(response["Location"], {"code": totp_now(secret)})
    assert response.status_code == 302 and response["Location"] == url
    assert project.title in client.get(url).content.decode()

    # Published, it is nobody's back office.
    client.logout()
    Project.objects.filter(pk=project.pk).update(status=Project.Status.APPROVED)
    assert client.login(email=person.email, password="a-long-enough-password")
    assert client.get(url).status_code == 200


def test_the_owner_and_the_team_need_no_second_factor_for_their_unpublished_project(
    client, organization_project
):
    project = organization_project
    Project.objects.filter(pk=project.pk).update(status=Project.Status.SUBMITTED)
    member = MembershipFactory(organization=project.organization).user
    for person in (project.owner, member):
        person.set_password("a-long-enough-password")
        person.save()
        assert client.login(email=person.email, password="a-long-enough-password")
        page = client.get(project.get_absolute_url())
        assert page.status_code == 200 and "This project is not published" in page.content.decode()


def test_unknown_project_is_404(client):
    assert client.get("/en/projects/no-such-project/").status_code == 404


@pytest.fixture
def full_project(territory):
    project = ProjectFactory(
        title="Agave cooperative",
        story="Twelve growers distil together.\n\nThey want to age their mezcal.",
        sdgs=[8, 12],
        funded_percent=45,
        funding_sought=Decimal("12000"),
        amount_raised=Decimal("5400"),
        risk_rating="B",
        risk_reason="Three years of bulk sales with invoices.",
        endorsement=Project.Endorsement.ENDORSED,
        endorsement_note="The municipality lends the warehouse.",
        led_by_returnee=True,
    )
    TeamMemberFactory(
        project=project, name="Lucía Hernández", role="Coordinator", is_returnee=True, is_woman=True
    )
    BudgetLineFactory(project=project, label="Barrels", amount=Decimal("9000"))
    BudgetLineFactory(project=project, label="Bottling line", amount=Decimal("8500.50"))
    ProjectPhotoFactory(
        project=project,
        caption="Agave hearts",
        image__description="Agave hearts stacked by the oven",
    )
    DocumentFactory(project=project, original_name="plan-summary.pdf", is_public=True)
    DocumentFactory(project=project, original_name="secret-quote.pdf", is_public=False)
    DocumentFactory(
        project=project,
        kind=Document.Kind.VIDEO,
        original_name="visit.mp4",
        content_type="video/mp4",
        is_public=True,
    )
    DocumentFactory(
        project=project,
        kind=Document.Kind.VIDEO,
        original_name="private.mp4",
        content_type="video/mp4",
        is_public=False,
    )
    for i in range(12):
        ProjectUpdateFactory(project=project, title=f"News number {i}")
    MilestoneFactory(project=project, title="Warehouse signed")
    verified = ImpactReportFactory(project=project)
    ImpactValueFactory(report=verified, indicator="jobs_created", value=Decimal("4"))
    ImpactValueFactory(report=verified, indicator="beneficiaries", value=Decimal("40"))
    later = ImpactReportFactory(project=project)
    ImpactValueFactory(report=later, indicator="jobs_created", value=Decimal("2"))
    unverified = ImpactReportFactory(project=project, verified_at=None)
    ImpactValueFactory(report=unverified, indicator="jobs_created", value=Decimal("100"))
    return project


def test_project_page_shows_what_an_investor_needs(client, full_project):
    project = full_project
    html = client.get(project.get_absolute_url()).content.decode()
    assert '<h1 id="project-title" dir="auto">Agave cooperative</h1>' in html
    assert "<p>Twelve growers distil together.</p>" in html
    assert "8. Decent work and economic growth" in html
    # Photos as renditions sized for the layout, with alt text.
    photo = next(tag for tag in re.findall(r"<img [^>]+>", html) if "fill-600x400" in tag)
    assert 'alt="Agave hearts stacked by the oven"' in photo
    assert re.search(r'width="\d+"', photo) and re.search(r'height="\d+"', photo)
    # Public videos only, played from the permission-checked download view.
    assert '<video controls preload="none">' in html
    assert "visit.mp4" in html and "private.mp4" not in html
    public_video = project.documents.get(original_name="visit.mp4")
    assert f"/en/projects/{project.slug}/documents/{public_video.pk}/" in html
    # Team, budget with its total, funding, risk, endorsement.
    assert "Lucía Hernández" in html and "Coordinator" in html
    assert "Barrels" in html and "8,500.50" in html and "17,500.50" in html
    assert "45% of $12,000.00" in html and "$5,400.00 raised so far." in html
    assert "Moderate risk" in html and "Three years of bulk sales with invoices." in html
    assert "Endorsed by the local government" in html
    assert "The municipality lends the warehouse." in html
    # Public documents only.
    assert "plan-summary.pdf" in html and "secret-quote.pdf" not in html
    # The latest ten updates, newest first.
    assert "News number 0" in html and "News number 9" in html
    assert "News number 10" not in html and "News number 11" not in html
    assert html.index("News number 0") < html.index("News number 9")
    assert "Warehouse signed" in html
    # Impact so far: verified reports only, summed per indicator.
    impact = html[html.index('id="impact-heading"') : html.index('id="milestones-heading"')]
    assert re.search(r"Jobs created</th><td class=\"num\">6</td>", impact)
    assert re.search(r"People who benefit</th><td class=\"num\">40</td>", impact)
    # Offerings are filled in later by the finance app.
    assert '<h2 id="offerings-heading">Offerings</h2>' in html
    assert "No offering is open for pledges yet." in html


def test_what_the_team_wrote_keeps_its_own_direction(client, full_project):
    """English written by a team reads left to right in an Arabic page, its
    full stops at the end: each piece of it sets its direction from its text."""
    html = client.get("/ar" + full_project.get_absolute_url()[3:]).content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert '<p class="lede" dir="auto">Turning local produce' in html
    assert '<div class="project-story" dir="auto"><p>Twelve growers distil together.</p>' in html
    assert re.search(r'<h3 id="update-\d+" dir="auto">News number 0</h3>', html)
    assert html.count('<div dir="auto"><p>') == 10  # the bodies of the ten updates shown
    assert '<p dir="auto">Three years of bulk sales with invoices.</p>' in html
    assert '<blockquote dir="auto">The municipality lends the warehouse.</blockquote>' in html
    assert '<strong dir="auto">Warehouse signed</strong>' in html
    assert '<figcaption dir="auto">Agave hearts</figcaption>' in html


def test_headings_are_in_order(client, full_project):
    html = client.get(full_project.get_absolute_url()).content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    levels = [int(level) for level in re.findall(r"<h([1-6])", main)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))


def test_owner_email_is_never_shown(client, full_project):
    html = client.get(full_project.get_absolute_url()).content.decode()
    assert full_project.owner.email not in html


def _page_queries(client, django_assert_max_num_queries, url) -> int:
    client.get(url)  # renditions are made on the first view, like in production
    with django_assert_max_num_queries(MAX_PAGE_QUERIES) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("viewer", ["anonymous", "follower", "government"])
def test_page_query_count_does_not_grow_with_content(
    client, request, django_assert_max_num_queries, territory, viewer
):
    small = ProjectFactory(title="Small")
    big = ProjectFactory(title="Big")
    for project, count in ((small, 1), (big, 25)):
        for _ in range(count):
            ProjectPhotoFactory(project=project)
            BudgetLineFactory(project=project)
            TeamMemberFactory(project=project)
            DocumentFactory(project=project)
            DocumentFactory(project=project, kind=Document.Kind.VIDEO, content_type="video/mp4")
            ProjectUpdateFactory(project=project)
            MilestoneFactory(project=project)
            report = ImpactReportFactory(project=project)
            ImpactValueFactory(report=report)
    if viewer == "follower":
        person = UserFactory()
        Follow.objects.create(user=person, project=big)
        Follow.objects.create(user=person, territory=territory)
        client.force_login(person)
    elif viewer == "government":
        client.force_login(request.getfixturevalue("government_member"))
    few = _page_queries(client, django_assert_max_num_queries, small.get_absolute_url())
    many = _page_queries(client, django_assert_max_num_queries, big.get_absolute_url())
    print(f"\nproject page queries ({viewer}): small {few}, big {many}")
    assert few == many


def test_follow_toggles(client, user, full_project):
    client.force_login(user)
    url = f"/en/projects/{full_project.slug}/follow/"
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == full_project.get_absolute_url()
    assert Follow.objects.filter(user=user, project=full_project).exists()
    page = client.get(full_project.get_absolute_url()).content.decode()
    assert "Stop following this project" in page
    assert "You follow Agave cooperative" in page  # the message after the redirect
    client.post(url)
    assert not Follow.objects.filter(user=user, project=full_project).exists()
    assert "Follow this project" in client.get(full_project.get_absolute_url()).content.decode()


def test_follow_button_is_idempotent(client, user, full_project):
    client.force_login(user)
    url = f"/en/projects/{full_project.slug}/follow/"
    client.post(url, {"action": "follow"})
    client.post(url, {"action": "follow"})  # a double click does not undo it
    assert Follow.objects.filter(user=user, project=full_project).count() == 1
    client.post(url, {"action": "unfollow"})
    client.post(url, {"action": "unfollow"})
    assert not Follow.objects.filter(user=user, project=full_project).exists()


def test_follow_redirects_only_to_local_pages(client, user, full_project):
    client.force_login(user)
    url = f"/en/projects/{full_project.slug}/follow/"
    response = client.post(url, {"next": "/en/following/"})
    assert response["Location"] == "/en/following/"
    for unsafe in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(url, {"next": unsafe})
        assert response["Location"] == full_project.get_absolute_url(), unsafe


@pytest.mark.parametrize("status", UNPUBLISHED)
def test_following_an_unpublished_project_is_404(client, status):
    project = ProjectFactory(status=status)
    client.force_login(project.owner)  # even its owner: there is nothing to follow yet
    response = client.post(f"/en/projects/{project.slug}/follow/")
    assert response.status_code == 404
    assert not Follow.objects.exists()


def test_follow_needs_a_signed_in_person_and_a_post(client, user, full_project):
    url = f"/en/projects/{full_project.slug}/follow/"
    response = client.post(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Follow.objects.exists()
    client.force_login(user)
    assert client.get(url).status_code == 405
    assert not Follow.objects.exists()


def test_anonymous_visitor_is_invited_to_log_in_to_follow(client, full_project):
    html = client.get(full_project.get_absolute_url()).content.decode()
    assert "Log in to follow this project" in html
    assert f'action="/en/projects/{full_project.slug}/follow/"' not in html


def test_follow_the_projects_territory(client, user, full_project):
    client.force_login(user)
    town = full_project.territory
    page = client.get(full_project.get_absolute_url()).content.decode()
    assert f'action="/en/territories/{town.slug}/follow/"' in page
    assert f"Follow {town.name}" in page
    response = client.post(
        f"/en/territories/{town.slug}/follow/", {"next": full_project.get_absolute_url()}
    )
    assert response["Location"] == full_project.get_absolute_url()
    assert Follow.objects.filter(user=user, territory=town).exists()
    page = client.get(full_project.get_absolute_url()).content.decode()
    assert f"Stop following {town.name}" in page
    client.post(f"/en/territories/{town.slug}/follow/")
    assert not Follow.objects.filter(user=user, territory=town).exists()
    assert client.post("/en/territories/atlantis/follow/").status_code == 404


def test_following_page(client, user, full_project):
    assert "/accounts/login/" in client.get("/en/following/")["Location"]
    client.force_login(user)
    assert "You do not follow any project yet." in client.get("/en/following/").content.decode()
    Follow.objects.create(user=user, project=full_project)
    Follow.objects.create(user=user, territory=full_project.territory)
    hidden = ProjectFactory(title="Back in draft")
    Follow.objects.create(user=user, project=hidden)
    Project.objects.filter(pk=hidden.pk).update(status=Project.Status.DRAFT)
    html = client.get("/en/following/").content.decode()
    assert "Agave cooperative" in html and full_project.territory.name in html
    assert "Back in draft" not in html
    assert 'aria-label="Stop following Agave cooperative"' in html
    response = client.post(
        f"/en/projects/{full_project.slug}/follow/",
        {"action": "unfollow", "next": "/en/following/"},
    )
    assert response["Location"] == "/en/following/"
    assert not Follow.objects.filter(user=user, project=full_project).exists()


def test_territory_page(client, full_project, django_assert_max_num_queries):
    region = RegionFactory()
    fresnillo = MunicipalityFactory(name="Fresnillo", slug="mx-zac-fresnillo", parent=region)
    neighbour = ProjectFactory(title="Fresnillo bakery", territory=fresnillo)
    report = ImpactReportFactory(project=neighbour)
    ImpactValueFactory(report=report, indicator="jobs_created", value=Decimal("5"))
    draft = ProjectFactory(
        title="Draft in Fresnillo", territory=fresnillo, status=Project.Status.DRAFT
    )
    ImpactValueFactory(report=ImpactReportFactory(project=draft), value=Decimal("1000"))
    elsewhere = ProjectFactory(
        title="In Louga", territory=territory_chain("SN", "Sénégal", "Louga", "Louga")
    )
    ImpactValueFactory(report=ImpactReportFactory(project=elsewhere), value=Decimal("7"))

    html = client.get(f"/en/territories/{region.slug}/").content.decode()
    assert "<h1>Zacatecas</h1>" in html
    assert "Agave cooperative" in html and "Fresnillo bakery" in html
    assert "Draft in Fresnillo" not in html and "In Louga" not in html
    assert "2 projects in Zacatecas" in html
    # 6 jobs in Jerez (verified) + 5 in Fresnillo; never the draft's or Louga's.
    assert re.search(r"Jobs created</th><td class=\"num\">11</td>", html)
    assert 'href="/en/territories/mx-zac-fresnillo/"' in html

    town = client.get(f"/en/territories/{fresnillo.slug}/").content.decode()
    assert "Fresnillo bakery" in town and "Agave cooperative" not in town
    assert re.search(r"Jobs created</th><td class=\"num\">5</td>", town)
    assert client.get("/en/territories/atlantis/").status_code == 404
    with django_assert_max_num_queries(12):
        client.get(f"/en/territories/{region.slug}/")


def test_territory_page_of_a_country_without_projects(client):
    TerritoryFactory(name="Nigeria", slug="ng", country="NG")
    html = client.get("/en/territories/ng/").content.decode()
    assert "No project is published here yet." in html
    assert "No verified impact report yet." in html


def test_project_page_in_spanish(client, full_project):
    response = client.get(f"/es/projects/{full_project.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="es"' in html
    assert 'href="/es/projects/"' in html


def test_what_people_typed_is_escaped_everywhere_on_the_page(client, territory):
    """The page's content is a Jinja2 template (portal/jinja.py): every value
    the owner or a sponsor typed must come out escaped, as in Django's."""
    attack = '<script>alert("x")</script>'
    project = ProjectFactory(
        title=attack,
        summary=attack,
        story=attack,
        risk_reason=attack,
        endorsement_note=attack,
    )
    TeamMemberFactory(project=project, name=attack, role=attack, experience=attack)
    BudgetLineFactory(project=project, label=attack)
    MilestoneFactory(project=project, title=attack)
    ProjectUpdateFactory(project=project, title=attack, body=attack)
    DocumentFactory(project=project, original_name=attack + ".pdf", is_public=True)
    html = client.get(project.get_absolute_url()).content.decode()
    assert "<script>" not in html
    assert html.count("&lt;script&gt;") >= 10
