"""The anonymous page cache of the catalogue and the project page
(projects/caching.py): what is served from it, what never is, and how the CSRF
token of the language switcher survives it."""

import re
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client, RequestFactory
from django.utils import translation

from projects import caching
from projects.models import Project
from tests.factories import UserFactory
from tests.projects.factories import ProjectFactory

pytestmark = pytest.mark.django_db

CATALOGUE = "/en/projects/"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"')


@pytest.fixture(autouse=True)
def _cache_on(settings):
    settings.PUENTE_ANONYMOUS_PAGE_SECONDS = 60


@pytest.fixture
def project():
    return ProjectFactory(title="Agave cooperative", slug="agave-cooperative")


def without_tokens(response) -> str:
    return TOKEN.sub("TOKEN", response.content.decode())


@pytest.mark.parametrize("which", ["catalogue", "project page"])
def test_second_anonymous_request_is_served_from_the_cache(
    client, project, django_assert_num_queries, which
):
    url = CATALOGUE if which == "catalogue" else project.get_absolute_url()
    first = client.get(url)
    assert first.status_code == 200
    assert first["Cache-Control"] == "private, max-age=60"  # it issues the CSRF cookie
    assert "sessionid" not in first.cookies

    with django_assert_num_queries(0):
        second = client.get(url)
    assert second.status_code == 200
    assert without_tokens(second) == without_tokens(first)
    assert "Agave cooperative" in second.content.decode()
    # The visitor has their CSRF cookie now: nothing is set, a proxy may keep it.
    assert second["Cache-Control"] == "public, max-age=60"
    assert "csrftoken" not in second.cookies
    assert "Cookie" in second["Vary"]
    # The language is in the URL: Accept-Language changes nothing.
    assert "Accept-Language" not in second["Vary"]

    # Another visitor, without any cookie, is served from the cache too.
    with django_assert_num_queries(0):
        head = Client().head(url)
    assert head.status_code == 200


def test_each_visitor_gets_a_csrf_token_for_their_own_cookie(project):
    first_visitor, second_visitor = Client(), Client(enforce_csrf_checks=True)
    first = first_visitor.get(CATALOGUE)
    second = second_visitor.get(CATALOGUE)  # from the cache
    token_one, token_two = (
        TOKEN.search(first.content.decode()),
        TOKEN.search(second.content.decode()),
    )
    assert token_one and token_two
    assert "csrftoken" in second.cookies
    assert second.cookies["csrftoken"].value != first.cookies["csrftoken"].value
    # The language switcher of the cached page still works.
    switched = second_visitor.post(
        "/i18n/setlang/",
        {"language": "es", "next": CATALOGUE, "csrfmiddlewaretoken": token_two.group(1)},
    )
    assert switched.status_code == 302
    assert switched["Location"] == "/es/projects/"


def test_signed_in_people_always_get_a_fresh_page(client, project):
    anonymous = client.get(project.get_absolute_url())
    assert "Log in to follow this project" in anonymous.content.decode()

    client.force_login(UserFactory())
    for _ in range(2):
        response = client.get(project.get_absolute_url())
        html = response.content.decode()
        assert "Follow this project" in html and "Log in to follow" not in html
        assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    # Nor is a signed-in person's page ever served to anyone else.
    Project.objects.filter(pk=project.pk).update(title="Renamed")
    client.get(project.get_absolute_url())
    client.logout()
    assert "Agave cooperative" in Client().get(project.get_absolute_url()).content.decode()


def test_signed_in_requests_are_never_served_from_the_cache(
    client, project, django_assert_max_num_queries
):
    client.get(CATALOGUE)  # cached for anonymous visitors
    client.force_login(UserFactory())
    client.get(CATALOGUE)
    with django_assert_max_num_queries(50) as captured:
        client.get(CATALOGUE)
    assert len(captured.captured_queries) > 0


def test_an_unpublished_project_is_never_cached(client, django_assert_max_num_queries):
    draft = ProjectFactory(title="Draft idea", status=Project.Status.DRAFT, published_at=None)
    url = draft.get_absolute_url()
    assert client.get(url).status_code == 404  # not cached either
    # Even if someone who may not see it were shown it, the page is not kept.
    with mock.patch("projects.selectors.can_view_unpublished", return_value=True):
        first = client.get(url)
        assert first.status_code == 200
        assert "public" not in first.get("Cache-Control", "")
        with django_assert_max_num_queries(50) as captured:
            again = client.get(url)
    assert again.status_code == 200
    assert len(captured.captured_queries) > 0
    # Published, it is shown at once (the 404 was not cached).
    Project.objects.filter(pk=draft.pk).update(status=Project.Status.APPROVED)
    assert client.get(url).status_code == 200


def test_query_strings_are_distinct_cache_keys(client, django_assert_max_num_queries):
    ProjectFactory(title="Clinic", sector="health")
    ProjectFactory(title="Mill", sector="agriculture")
    health = client.get(CATALOGUE, {"sector": "health"}).content.decode()
    with django_assert_max_num_queries(50) as captured:
        farming = client.get(CATALOGUE, {"sector": "agriculture"}).content.decode()
    assert len(captured.captured_queries) > 0
    assert ">Clinic<" in health and ">Mill<" not in health
    assert ">Mill<" in farming and ">Clinic<" not in farming
    # Each is then served from its own entry.
    assert ">Clinic<" in client.get(CATALOGUE, {"sector": "health"}).content.decode()


def test_a_cached_page_in_one_language_is_not_served_in_another(client, project):
    english = client.get(CATALOGUE)
    assert "<h1>Projects</h1>" in english.content.decode()
    spanish = client.get("/es/projects/", HTTP_ACCEPT_LANGUAGE="en")
    html = spanish.content.decode()
    assert '<html lang="es"' in html and "<h1>Proyectos</h1>" in html
    # The key holds the language, not only the path.
    request = RequestFactory().get(CATALOGUE)
    with translation.override("en"):
        key_en = caching.cache_key(request)
    with translation.override("fr"):
        key_fr = caching.cache_key(request)
    assert key_en != key_fr


def test_a_change_the_portal_makes_shows_at_once(
    client, project, django_capture_on_commit_callbacks
):
    """Saving a project (or anything on its page) moves the cache's generation
    on at commit: the next anonymous visitor gets a fresh page."""
    url = "/en/projects/agave-cooperative/"
    assert "$5,400.00 raised so far" in client.get(url).content.decode()
    assert "Agave cooperative" in client.get(CATALOGUE).content.decode()  # both cached
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        project.title = "Agave and mezcal cooperative"
        project.save()
    assert callbacks, "saving a project must schedule the cache's next generation"
    assert "Agave and mezcal cooperative" in Client().get(url).content.decode()
    assert "Agave and mezcal cooperative" in Client().get(CATALOGUE).content.decode()


def test_funding_written_by_finance_shows_at_once(
    client, project, django_capture_on_commit_callbacks
):
    """project_add_funding is one UPDATE (no signal): it says so itself."""
    from finance.services import project_add_funding

    url = "/en/projects/agave-cooperative/"
    assert "$5,400.00 raised so far" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        project_add_funding(project.pk, Decimal("600"), "USD")
    assert "$6,000.00 raised so far" in Client().get(url).content.decode()


def test_a_change_outside_the_portals_code_is_stale_for_the_ttl_only(client, project):
    """A bare UPDATE (a shell, a data fix) sends no signal: anonymous visitors
    may see the old figures until the entry expires."""
    url = "/en/projects/agave-cooperative/"
    assert "$5,400.00 raised so far" in client.get(url).content.decode()
    Project.objects.filter(pk=project.pk).update(amount_raised=Decimal("6000"), funded_percent=50)
    assert "$5,400.00 raised so far" in client.get(url).content.decode()
    client.force_login(UserFactory())
    assert "$6,000.00 raised so far" in client.get(url).content.decode()
    client.logout()
    with translation.override("en"):
        caching.cache.delete(caching.cache_key(RequestFactory().get(url)))  # as if expired
    assert "$6,000.00 raised so far" in Client().get(url).content.decode()


def test_no_cache_when_the_ttl_is_zero(client, project, settings, django_assert_max_num_queries):
    settings.PUENTE_ANONYMOUS_PAGE_SECONDS = 0
    client.get(CATALOGUE)
    with django_assert_max_num_queries(50) as captured:
        response = client.get(CATALOGUE)
    assert len(captured.captured_queries) > 0
    assert "max-age" not in response.get("Cache-Control", "")


def test_a_visitor_with_messages_gets_a_fresh_page(client, project):
    client.get(CATALOGUE)  # cached
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies["messages"] = storage._encode([Message(constants.INFO, "Welcome back")])
    response = client.get(CATALOGUE)
    assert "Welcome back" in response.content.decode()
    assert "public" not in response.get("Cache-Control", "")
    # The message was shown once and is not kept in the cache for others.
    assert "Welcome back" not in Client().get(CATALOGUE).content.decode()


def test_responses_that_set_cookies_or_fail_are_not_cached(rf, project):
    calls = []

    def view(request):
        calls.append(1)
        from django.http import HttpResponse

        response = HttpResponse("hello")
        response.set_cookie("flavour", "oat")
        return response

    def missing(request):
        calls.append(1)
        from django.http import HttpResponseNotFound

        return HttpResponseNotFound("no")

    from django.contrib.auth.models import AnonymousUser

    for wrapped in (caching.anonymous_page_cache(view), caching.anonymous_page_cache(missing)):
        calls.clear()
        for _ in range(2):
            request = rf.get("/en/whatever/")
            request.user = AnonymousUser()
            response = wrapped(request)
            assert "max-age" not in response.get("Cache-Control", "")
        assert len(calls) == 2
