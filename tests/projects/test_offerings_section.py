"""The project page's offerings section says what each offering is: open to
pledges now, opening later, or closed, under a heading that matches what it
lists."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format

from finance.offerings import Offering
from tests.finance.builders import make_offering

from .factories import ProjectFactory
from .test_project_page import MAX_PAGE_QUERIES

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _offering(project, title: str, **fields) -> Offering:
    return make_offering(project=project, title=title, target=Decimal("1000"), **fields)


def _open(project, title="Open round") -> Offering:
    return _offering(project, title)


def _closed(project, title="Closed round") -> Offering:
    now = timezone.now()
    return _offering(
        project,
        title,
        opens_at=now - 40 * DAY,
        closes_at=now - 10 * DAY,
        status=Offering.Status.SUCCEEDED,
    )


def _section(html: str) -> str:
    start = html.index('<section class="offerings"')
    return html[start : html.index("</section>", start)]


def _groups(section: str) -> dict[str, list[str]]:
    """Each group heading of the section with the titles of the offerings under it."""
    groups: dict[str, list[str]] = {}
    current = None
    for level, text in re.findall(r"<h([34])[^>]*>(.*?)</h\1>", section):
        if level == "3":
            current = groups.setdefault(text, [])
        else:
            assert current is not None, f"{text} is under no group heading"
            current.append(text)
    return groups


def test_a_closed_offering_is_not_listed_as_open_for_pledges(client):
    project = ProjectFactory()
    _open(project)
    _closed(project)
    section = _section(client.get(project.get_absolute_url()).content.decode())
    assert "Offerings open for pledges" not in section
    assert _groups(section) == {
        "Open for pledges": ["Open round"],
        "Closed to pledges": ["Closed round"],
    }
    # Only the open one takes pledges.
    assert section.count("/pledge/") == 1


def test_each_offering_is_listed_under_its_state(client):
    now = timezone.now()
    project = ProjectFactory()
    _open(project)
    _closed(project)
    _offering(
        project, "Failed round", closes_at=now - 2 * DAY, opens_at=now - 20 * DAY, status="failed"
    )
    upcoming = _offering(project, "Next round", opens_at=now + 5 * DAY, closes_at=now + 40 * DAY)
    # Its window has ended; it closes when the last pledges are settled.
    _offering(project, "Settling round", opens_at=now - 20 * DAY, closes_at=now - DAY)
    _offering(project, "Draft round", status=Offering.Status.DRAFT)
    section = _section(client.get(project.get_absolute_url()).content.decode())
    groups = _groups(section)
    assert list(groups) == ["Open for pledges", "Opening soon", "Closed to pledges"]
    assert groups["Open for pledges"] == ["Open round"]
    assert groups["Opening soon"] == ["Next round"]
    # The latest to close first.
    assert groups["Closed to pledges"] == ["Settling round", "Failed round", "Closed round"]
    assert "Draft round" not in section
    assert section.count("/pledge/") == 1
    with translation.override("en"):
        opens = date_format(timezone.localtime(upcoming.opens_at), "DATE_FORMAT")
    assert f"Opens to pledges on {opens}." in section
    settling = section[section.index(">Settling round<") : section.index(">Failed round<")]
    assert "Result pending" in settling and "Open for pledges" not in settling


def test_only_closed_offerings_are_not_called_open(client):
    project = ProjectFactory()
    _closed(project)
    html = client.get(project.get_absolute_url()).content.decode()
    section = _section(html)
    assert '<h2 id="offerings-heading">Offerings</h2>' in section
    assert _groups(section) == {"Closed to pledges": ["Closed round"]}
    assert "No offering is open for pledges yet." not in section


def test_headings_stay_in_order_with_offerings(client):
    project = ProjectFactory()
    _open(project)
    _closed(project)
    html = client.get(project.get_absolute_url()).content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    levels = [int(level) for level in re.findall(r"<h([1-6])", main)]
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))


@pytest.mark.parametrize("language", ["es", "ar"])
def test_the_section_renders_in_other_languages(client, language):
    project = ProjectFactory()
    _open(project)
    _closed(project)
    response = client.get(f"/{language}" + project.get_absolute_url()[3:])
    assert response.status_code == 200
    section = _section(response.content.decode())
    assert ">Open round</h4>" in section and ">Closed round</h4>" in section
    assert section.count("/pledge/") == 1


def _page_queries(client, django_assert_max_num_queries, url) -> int:
    client.get(url)
    with django_assert_max_num_queries(MAX_PAGE_QUERIES) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_grouping_costs_no_query(client, django_assert_max_num_queries):
    now = timezone.now()
    one = ProjectFactory()
    _open(one)
    many = ProjectFactory()
    _open(many)
    _open(many, "Second open round")
    _closed(many)
    _offering(many, "Next round", opens_at=now + 5 * DAY, closes_at=now + 40 * DAY)
    few_queries = _page_queries(client, django_assert_max_num_queries, one.get_absolute_url())
    many_queries = _page_queries(client, django_assert_max_num_queries, many.get_absolute_url())
    assert few_queries == many_queries
