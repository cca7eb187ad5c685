"""The catalogue: only published projects, filters that combine, sort orders,
invalid filter values, pagination, cards, and a query count that does not grow
with the number of projects."""

import datetime
import re
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.utils import timezone

from projects.models import Project
from projects.selectors import catalogue_queryset
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.projects.factories import (
    ImageFactory,
    MunicipalityFactory,
    ProjectFactory,
    bulk_projects,
    territory_chain,
)

pytestmark = pytest.mark.django_db

URL = "/en/projects/"
MAX_CATALOGUE_QUERIES = 12


def titles(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'class="project-card-title"><a href="[^"]+">([^<]+)</a>', html)


def ordered_titles(params: dict) -> list[str]:
    return [p.title for p in catalogue_queryset(params, user=None)]


@pytest.fixture
def senegal():
    return territory_chain("SN", "Sénégal", "Louga", "Louga")


def test_only_published_projects_are_listed(client):
    for status in Project.Status.values:
        ProjectFactory(title=f"Project {status}", status=status)
    listed = set(titles(client.get(URL)))
    assert listed == {"Project approved", "Project funded", "Project closed"}


def test_filters_combine(client, senegal):
    wanted = ProjectFactory(
        title="Solar mill in Jerez",
        story="A mill powered by the sun grinds maize for the whole village.",
        sector="renewable_energy",
        led_by_returnee=True,
    )
    ProjectFactory(
        title="Solar mill, not returnee-led",
        story="sun mill",
        sector="renewable_energy",
        led_by_returnee=False,
    )
    ProjectFactory(
        title="Returnee bakery",
        story="A bakery with a sun-dried brick oven.",
        sector="agriculture",
        led_by_returnee=True,
    )
    ProjectFactory(
        title="Solar mill in Louga",
        story="mill",
        sector="renewable_energy",
        led_by_returnee=True,
        territory=senegal,
    )
    ProjectFactory(
        title="Returnee solar shop",
        story="Selling lamps.",
        summary="",
        sector="renewable_energy",
        led_by_returnee=True,
    )
    response = client.get(
        URL, {"country": "MX", "sector": "renewable_energy", "returnee": "on", "q": "mill"}
    )
    assert response.status_code == 200
    assert titles(response) == [wanted.title]
    assert "1 project" in response.content.decode()


def test_territory_filter_takes_any_level(client, senegal):
    jerez = ProjectFactory(title="In Jerez")
    other_town = MunicipalityFactory(name="Fresnillo", slug="mx-zac-fresnillo")
    fresnillo = ProjectFactory(title="In Fresnillo", territory=other_town)
    ProjectFactory(title="In Louga", territory=senegal)
    assert set(titles(client.get(URL, {"territory": "mx"}))) == {jerez.title, fresnillo.title}
    assert set(titles(client.get(URL, {"territory": "mx-zac"}))) == {jerez.title, fresnillo.title}
    assert titles(client.get(URL, {"territory": "mx-zac-jerez"})) == [jerez.title]
    assert titles(client.get(URL, {"territory": senegal.slug})) == ["In Louga"]


def test_country_filter(client, senegal):
    ProjectFactory(title="In Jerez")
    ProjectFactory(title="In Louga", territory=senegal)
    assert titles(client.get(URL, {"country": "SN"})) == ["In Louga"]


def test_sdg_filter_matches_whole_goals_only(client):
    ProjectFactory(title="Goals 1 and 8", sdgs=[1, 8])
    ProjectFactory(title="Goal 11", sdgs=[11])
    ProjectFactory(title="Goals 6 and 11", sdgs=[6, 11])
    ProjectFactory(title="No goals", sdgs=[])
    assert titles(client.get(URL, {"sdg": "1"})) == ["Goals 1 and 8"]
    assert set(titles(client.get(URL, {"sdg": "11"}))) == {"Goal 11", "Goals 6 and 11"}
    assert titles(client.get(URL, {"sdg": "17"})) == []


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"instrument": "revenue_share"}, {"Revenue share"}),
        ({"risk": ["A", "C"]}, {"Low risk", "Substantial risk"}),
        ({"women": "on"}, {"Women-led"}),
        ({"endorsed": "on"}, {"Endorsed"}),
        ({"min_funded": "50"}, {"Funded 80", "Revenue share"}),
        ({"max_funded": "10"}, {"Low risk", "Substantial risk", "Women-led", "Endorsed"}),
        ({"min_funded": "5", "max_funded": "10"}, {"Women-led"}),
    ],
)
def test_single_filters(client, params, expected):
    ProjectFactory(title="Revenue share", instrument="revenue_share", funded_percent=60)
    ProjectFactory(title="Low risk", risk_rating="A", funded_percent=0)
    ProjectFactory(title="Substantial risk", risk_rating="C", funded_percent=0)
    ProjectFactory(title="Women-led", led_by_woman=True, funded_percent=5)
    ProjectFactory(title="Endorsed", endorsement=Project.Endorsement.ENDORSED, funded_percent=0)
    ProjectFactory(title="Funded 80", funded_percent=80)
    assert set(titles(client.get(URL, params))) == expected


def test_funding_status_filter(client):
    past = timezone.now() - datetime.timedelta(days=1)
    ProjectFactory(title="Open")
    ProjectFactory(title="Open without end", closes_at=None)
    ProjectFactory(title="Window over", closes_at=past)
    ProjectFactory(title="Funded", status=Project.Status.FUNDED, funded_percent=100)
    ProjectFactory(title="Closed", status=Project.Status.CLOSED)
    assert set(titles(client.get(URL, {"status": "open"}))) == {"Open", "Open without end"}
    assert titles(client.get(URL, {"status": "funded"})) == ["Funded"]
    assert set(titles(client.get(URL, {"status": "closed"}))) == {"Window over", "Closed"}


@pytest.fixture
def sortable():
    now = timezone.now()
    ProjectFactory(
        title="Old, half funded",
        published_at=now - datetime.timedelta(days=9),
        closes_at=now + datetime.timedelta(days=3),
        funded_percent=50,
    )
    ProjectFactory(
        title="New, unfunded",
        published_at=now - datetime.timedelta(days=1),
        closes_at=None,
        funded_percent=0,
    )
    ProjectFactory(
        title="Middle, well funded",
        published_at=now - datetime.timedelta(days=5),
        closes_at=now + datetime.timedelta(days=40),
        funded_percent=90,
    )


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["New, unfunded", "Middle, well funded", "Old, half funded"]),
        ("newest", ["New, unfunded", "Middle, well funded", "Old, half funded"]),
        ("closing", ["Old, half funded", "Middle, well funded", "New, unfunded"]),
        ("most_funded", ["Middle, well funded", "Old, half funded", "New, unfunded"]),
        ("least_funded", ["New, unfunded", "Old, half funded", "Middle, well funded"]),
    ],
)
def test_sort_orders(client, sortable, sort, expected):
    assert ordered_titles({"sort": sort}) == expected
    assert titles(client.get(URL, {"sort": sort})) == expected


def test_search_ranks_title_matches_first(client):
    ProjectFactory(title="Bakery", story="We also sell honey at the market.")
    ProjectFactory(title="Honey cooperative", story="Beekeepers of the sierra.")
    assert titles(client.get(URL, {"q": "honey"})) == ["Honey cooperative", "Bakery"]
    # Another order can still be chosen while searching.
    assert titles(client.get(URL, {"q": "honey", "sort": "newest"}))[0] == "Bakery"


def test_search_finds_words_in_the_summary(client):
    ProjectFactory(title="Cold room", summary="Keeps fish fresh for the market women.")
    ProjectFactory(title="Bakery", summary="Bread.")
    assert titles(client.get(URL, {"q": "fish"})) == ["Cold room"]


@pytest.mark.parametrize(
    "query",
    [
        "risk=Z",
        "min_funded=abc",
        "max_funded=-5",
        "sdg=99",
        "sdg=abc",
        "country=ZZ",
        "territory=atlantis",
        "sector=mining",
        "instrument=bitcoin",
        "status=forever",
        "sort=sideways",
        "page=abc",
        "page=9999",
        "min_funded=80&max_funded=20",
        "q=" + "x" * 300,
        "returnee=maybe",
        "risk=A&risk=Z",
    ],
)
def test_invalid_filter_values_never_break_the_page(client, query):
    ProjectFactory(title="Still here", funded_percent=50, risk_rating="A")
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200
    html = response.content.decode()
    # The filter that does not validate is reported on the form and left out.
    if not query.startswith(("page=", "returnee=", "min_funded=80")):
        assert 'class="errorlist' in html, query
        assert titles(response) == ["Still here"], query
    if query.startswith("min_funded=80"):
        assert "nothing would match" in html


def test_filters_are_kept_in_the_form_and_pagination_links(client):
    bulk_projects(30, sector="health")
    response = client.get(URL, {"sector": "health", "risk": "C", "sort": "least_funded"})
    html = response.content.decode()
    assert len(titles(response)) == 24
    assert "30 projects" in html
    assert '<option value="health" selected>' in html
    assert 'value="C" id="id_risk_2" checked' in html
    next_link = re.search(r'href="(\?[^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "sector=health" in next_link and "page=2" in next_link and "risk=C" in next_link
    page_two = client.get(URL + next_link)
    assert len(titles(page_two)) == 6
    assert not set(titles(page_two)) & set(titles(response))


def test_pages_past_the_end_or_invalid_show_a_real_page_with_the_total(client):
    """The total comes from the query that fetches the page (COUNT(*) OVER ());
    a page past the end falls back to counting and shows the last page."""
    bulk_projects(30, sector="health")
    last = client.get(URL, {"page": "9999"})
    assert len(titles(last)) == 6 and "30 projects" in last.content.decode()
    assert "Page 2 of 2" in last.content.decode()
    for page in ("0", "-3", "abc"):
        first = client.get(URL, {"page": page})
        assert len(titles(first)) == 24 and "30 projects" in first.content.decode()
    empty = client.get(URL, {"sector": "agriculture", "page": "3"})
    assert empty.status_code == 200 and titles(empty) == []


def test_card_shows_what_investors_compare(client):
    image = ImageFactory(description="Women sorting agave hearts")
    ProjectFactory(
        title="Agave cooperative",
        cover_image=image,
        led_by_returnee=True,
        led_by_woman=True,
        endorsement=Project.Endorsement.ENDORSED,
        funded_percent=45,
        funding_sought=Decimal("12000"),
        risk_rating="B",
        instrument="revenue_share",
    )
    ProjectFactory(title="No photo yet", cover_image=None, funded_percent=130)
    html = client.get(URL).content.decode()
    card = html[html.index("Agave cooperative") : html.index("No photo yet")]
    img = re.search(r"<img [^>]+>", card).group(0)
    assert 'alt="Women sorting agave hearts"' in img
    assert re.search(r'width="\d+"', img) and re.search(r'height="\d+"', img)
    assert "format-webp" in img
    assert "Jerez › Mexico" in card
    assert "Agriculture and agro-processing" in card and "Revenue share" in card
    assert "45% of 12,000 USD" in card
    assert 'style="width: 45%"' in card
    assert "Returnee-led" in card and "Women-led" in card
    assert "Endorsed by the local government" in card
    assert "B — Moderate risk" in card
    rest = html[html.index("No photo yet") :]
    assert 'class="image-placeholder"' in rest.split("</article>")[0]
    # Over-funded: the text says so, the bar stops at full width.
    assert "130% of 12,000 USD" in rest and 'style="width: 100%"' in rest


def test_markup_in_a_title_shows_as_text_on_its_card(client):
    ProjectFactory(title='<b>Bold</b> & "quoted" cooperative')
    html = client.get(URL).content.decode()
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &quot;quoted&quot; cooperative" in html
    assert "<b>Bold</b>" not in html


def test_card_labels_are_in_the_pages_language(client):
    ProjectFactory(title="Proyecto de mujeres", led_by_woman=True)
    card = client.get("/es/projects/").content.decode().split('class="project-card"')[1]
    assert "Dirigido por mujeres" in card and "Women-led" not in card
    card = client.get(URL).content.decode().split('class="project-card"')[1]
    assert "Women-led" in card


def test_card_places_name_their_country_in_the_pages_language(client):
    ProjectFactory(title="Agave cooperative")
    assert "Jerez › Mexico" in client.get(URL).content.decode()
    assert "Jerez › México" in client.get("/es/projects/").content.decode()
    assert "Jerez › Mexico" in client.get(URL).content.decode()


def test_cards_of_more_covers_than_one_statement_holds(django_assert_num_queries):
    """A page's covers are read in statements of COVER_SLOTS ids each."""
    from projects.selectors import COVER_SLOTS, prepare_cards, project_cards

    for i in range(COVER_SLOTS + 2):
        ProjectFactory(title=f"Project {i}", cover_image=ImageFactory())
    prepare_cards(project_cards())  # renditions are made on the first view
    with django_assert_num_queries(3):  # the projects, then the covers in two statements
        cards = prepare_cards(project_cards())
    assert len(cards) == COVER_SLOTS + 2
    assert all(card.card_image is not None for card in cards)
    assert len({card.card_image.image_id for card in cards}) == COVER_SLOTS + 2
    assert all("<img " in card.card_html for card in cards)


def test_a_place_added_later_is_offered_and_filters(client, senegal):
    ProjectFactory(title="Louga cold room", territory=senegal)
    html = client.get(URL).content.decode()
    assert 'value="sn-louga-linguere"' not in html
    town = MunicipalityFactory(
        name="Linguère", slug="sn-louga-linguere", country="SN", parent=senegal.parent
    )
    ProjectFactory(title="Linguère dairy", territory=town)
    html = client.get(URL).content.decode()
    assert '<option value="sn-louga-linguere">Louga › Linguère</option>' in html
    assert titles(client.get(URL, {"territory": "sn-louga-linguere"})) == ["Linguère dairy"]
    assert sorted(titles(client.get(URL, {"country": "SN"}))) == [
        "Linguère dairy",
        "Louga cold room",
    ]


def test_form_works_without_javascript(client):
    html = client.get(URL).content.decode()
    form = re.search(r'<form id="catalogue-filters"[^>]*>', html).group(0)
    assert 'method="get"' in form and f'action="{URL}"' in form
    assert re.search(r"<button type=\"submit\">", html)
    for name in [
        "q",
        "country",
        "territory",
        "sector",
        "sdg",
        "instrument",
        "status",
        "min_funded",
        "max_funded",
        "sort",
    ]:
        assert f'<label for="id_{name}">' in html, name
    script = Path(settings.BASE_DIR) / "projects/static/projects/catalogue.js"
    assert script.stat().st_size < 3 * 1024
    assert "projects/catalogue.js" in html


def test_spanish_catalogue(client):
    ProjectFactory(title="Proyecto en Jerez")
    response = client.get("/es/projects/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="es"' in html
    assert "<h1>Proyectos</h1>" in html
    assert 'href="/es/projects/' in html


def _catalogue_queries(client, django_assert_max_num_queries, params) -> int:
    client.get(URL, params)  # renditions are made on the first view, like in production
    with django_assert_max_num_queries(MAX_CATALOGUE_QUERIES) as captured:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
@pytest.mark.parametrize(
    "params",
    [{}, {"q": "project", "country": "MX", "sector": "agriculture", "risk": ["B", "C"]}],
    ids=["plain", "filtered"],
)
def test_query_count_does_not_grow_with_the_catalogue(
    client, django_assert_max_num_queries, signed_in, params
):
    if signed_in:
        person = UserFactory()
        MembershipFactory(user=person, organization=OrganizationFactory())
        client.force_login(person)
    covers = [ImageFactory() for _ in range(3)]
    owner = UserFactory()
    for i in range(10):
        ProjectFactory(
            owner=owner, cover_image=covers[i % 3], risk_rating="B", title=f"Project {i}"
        )
    few = _catalogue_queries(client, django_assert_max_num_queries, params)
    for start in range(10, 500, 98):
        bulk_projects(98, owner=owner, start=start, cover_image=covers[start % 3])
    assert Project.objects.count() == 500
    many = _catalogue_queries(client, django_assert_max_num_queries, params)
    print(
        f"\ncatalogue queries {params} signed_in={signed_in}: 10 projects {few}, 500 projects {many}"
    )
    assert few == many


def test_pages_do_not_write_renditions_back_to_the_cache(client):
    """Wagtail's {% image %} tag stores each rendition in the cache on every
    render, prefetched or not: with Redis, a round trip per picture that no
    query count shows."""
    from wagtail.images import get_image_model

    covers = [ImageFactory() for _ in range(3)]
    for i in range(6):
        project = ProjectFactory(cover_image=covers[i % 3])
    photo_page = project.get_absolute_url()
    from tests.projects.factories import ProjectPhotoFactory

    ProjectPhotoFactory(project=project)
    client.get(URL), client.get(photo_page)  # first views make the renditions
    cache = get_image_model().get_rendition_model().cache_backend
    writes = []
    with (
        mock.patch.object(cache, "set", side_effect=lambda *a, **k: writes.append(a[0])),
        mock.patch.object(cache, "set_many", side_effect=lambda d, *a, **k: writes.extend(d)),
    ):
        assert client.get(URL).status_code == 200
        assert client.get(photo_page).status_code == 200
    assert [key for key in writes if key.startswith("wagtail-rendition")] == []


def test_demo_projects(client, seeded):
    from projects.demo import seed_projects

    seed_projects()
    count = Project.objects.count()
    seed_projects()  # idempotent
    assert Project.objects.count() == count
    published = Project.objects.published()
    assert published.count() >= 10
    assert set(published.values_list("territory__country", flat=True)) >= {"MX", "SN", "NG", "PH"}
    assert all(p.cover_image_id for p in published)
    drafts = Project.objects.exclude(status__in=Project.PUBLIC_STATUSES)
    assert {p.status for p in drafts} >= {Project.Status.DRAFT, Project.Status.SUBMITTED}
    assert {p.owner.email for p in drafts} == {"entrepreneur@puente.example"}
    assert Project.objects.filter(impact_reports__verified_at__isnull=False).exists()
    response = client.get(URL)
    assert len(titles(response)) == published.count()
    for project in published[:3]:
        assert client.get(project.get_absolute_url()).status_code == 200


def test_the_place_filter_names_countries_in_the_pages_language(client):
    from tests.factories import TerritoryFactory

    mexico = TerritoryFactory(name="México", slug="mx", country="MX")
    ProjectFactory(title="Agave cooperative", territory=mexico)
    english = client.get(URL).content.decode()
    assert "All of Mexico" in english and '<optgroup label="Mexico">' in english
    assert "All of México" not in english
    french = client.get("/fr/projects/").content.decode()
    assert "Mexique" in french and "México" not in french
    # A project placed in the country itself: its card names the country once.
    assert 'class="project-place">Mexique</p>' in french
