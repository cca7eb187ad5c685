"""Page types: where each may be created, that each renders, is found by search in
the visitor's language, and that untranslated pages fall back with a notice."""

import pytest
from wagtail.models import Locale, Page
from wagtail.test.utils import WagtailPageTestCase

from cms.models import (
    CoursePage,
    HomePage,
    LessonPage,
    LiteracyHubPage,
    ReturneeStoryPage,
    StandardPage,
    StoryIndexPage,
    TerritoryIndexPage,
    TerritoryPage,
)


class TestPageTree(WagtailPageTestCase):
    def test_home_takes_the_sections(self):
        for child in (LiteracyHubPage, StoryIndexPage, TerritoryIndexPage, StandardPage):
            self.assertCanCreateAt(HomePage, child)
        for child in (CoursePage, LessonPage, ReturneeStoryPage, TerritoryPage):
            self.assertCanNotCreateAt(HomePage, child)

    def test_hub_course_lesson_chain(self):
        self.assertAllowedSubpageTypes(LiteracyHubPage, {CoursePage})
        self.assertAllowedSubpageTypes(CoursePage, {LessonPage})
        self.assertAllowedSubpageTypes(LessonPage, set())
        self.assertAllowedParentPageTypes(LessonPage, {CoursePage})
        self.assertAllowedParentPageTypes(CoursePage, {LiteracyHubPage})
        self.assertCanNotCreateAt(LiteracyHubPage, LessonPage)

    def test_stories_territories_and_standard_pages(self):
        self.assertAllowedSubpageTypes(StoryIndexPage, {ReturneeStoryPage})
        self.assertAllowedSubpageTypes(TerritoryIndexPage, {TerritoryPage})
        self.assertAllowedParentPageTypes(StandardPage, {HomePage, StandardPage})
        self.assertCanNotCreateAt(StandardPage, LessonPage)


PAGES = [
    (LiteracyHubPage, "en"),
    (CoursePage, "en"),
    (LessonPage, "en"),
    (StandardPage, "en"),
    (StoryIndexPage, "en"),
    (ReturneeStoryPage, "en"),
    (TerritoryIndexPage, "en"),
    (TerritoryPage, "en"),
    (LessonPage, "es"),
    (ReturneeStoryPage, "es"),
]


@pytest.mark.parametrize(
    ("model", "language"), PAGES, ids=[f"{m.__name__}-{lang}" for m, lang in PAGES]
)
def test_each_page_type_renders_and_is_found_by_search(cms_seeded, client, model, language):
    page = (
        model.objects.live().filter(locale__language_code=language, alias_of__isnull=True).first()
    )
    assert page is not None
    response = client.get(page.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"<h1>{page.title}</h1>".replace("'", "&#x27;") in html or page.title in html
    assert 'class="translation-notice"' not in html and "translation-notice" not in html

    found = client.get(f"/{language}/search/", {"q": page.title})
    assert found.status_code == 200
    assert page.url in found.content.decode()


def test_search_keeps_to_the_visitors_language(cms_seeded, client):
    english = client.get("/en/search/", {"q": "remittance"}).content.decode()
    spanish = client.get("/es/search/", {"q": "remesa"}).content.decode()
    assert "/en/learn/sending-money-home/" in english and "/es/" not in english.split("<main")[1]
    assert "/es/aprender/" in spanish and 'href="/en/' not in spanish.split("<main")[1]


def test_home_page_shows_figures_path_to_learning_and_a_story(cms_seeded, client):
    html = client.get("/en/").content.decode()
    assert "Start learning" in html and 'href="/en/learn/"' in html
    assert "The figures appear here as soon as the first pledges are paid." in html
    assert "/en/stories/" in html


def test_an_untranslated_page_is_shown_in_english_with_a_notice(cms_seeded, client):
    english = LessonPage.objects.get(
        slug="what-a-remittance-really-costs", locale__language_code="en"
    )
    french_locale = Locale.objects.get(language_code="fr")
    english.get_translation(french_locale).delete()
    lesson = english.copy_for_translation(french_locale, alias=True)
    assert lesson.alias_of_id is not None  # marked "not yet translated", as a new page is
    response = client.get(lesson.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="notice translation-notice"' in html
    assert "What a remittance really costs" in html
    assert '<html lang="fr"' in html and 'lang="en"' in html


def test_a_page_missing_from_a_language_tree_falls_back_instead_of_404(cms_seeded, client):
    english = Page.objects.get(locale__language_code="en", slug="about")
    portuguese = english.get_translation(Locale.objects.get(language_code="pt"))
    assert portuguese.slug != "about"
    portuguese.delete()
    response = client.get("/pt/about/")
    assert response.status_code == 200
    assert "translation-notice" in response.content.decode()
    assert client.get("/pt/no-such-page/").status_code == 404


def test_spanish_pages_are_real_translations(cms_seeded, client):
    course = CoursePage.objects.get(slug="sending-money-home", locale__language_code="es")
    assert course.alias_of_id is None and course.title == "Enviar dinero a casa por menos"
    html = client.get(course.url).content.decode()
    assert "translation-notice" not in html
    assert "Cuánto cuesta de verdad una remesa" in html


def test_glossary_lists_terms_in_the_visitors_language(cms_seeded, client):
    assert "Exchange-rate margin" in client.get("/en/learn/glossary/").content.decode()
    assert "Margen del tipo de cambio" in client.get("/es/aprender/glossary/").content.decode()


def test_story_needs_recorded_consent(cms_seeded):
    from django.core.exceptions import ValidationError

    story = ReturneeStoryPage.objects.filter(locale__language_code="en").first()
    story.consent_given = False
    with pytest.raises(ValidationError):
        story.full_clean()


def test_territory_page_for_each_local_government(cms_seeded, client):
    from portal.models import Organization

    governments = Organization.objects.filter(kind="local_government").count()
    pages = TerritoryPage.objects.filter(locale__language_code="en")
    assert pages.count() == governments >= 4
    html = client.get(pages.first().url).content.decode()
    assert "Diaspora money and impact here" in html and "Open opportunities" in html


def test_seed_cms_is_idempotent_and_assigns_the_workflow(cms_seeded):
    from wagtail.models import WorkflowPage

    from cms.demo import seed_cms

    before = Page.objects.count()
    seed_cms()
    assert Page.objects.count() == before
    hub = LiteracyHubPage.objects.get(locale__language_code="en")
    assert WorkflowPage.objects.get(page=hub).workflow.name == "Two-step approval"
    assert hub.get_workflow().tasks.first().specific.groups.filter(name="Moderators").exists()


def test_footer_and_navigation_links_come_from_site_settings(cms_seeded, rf):
    from django.utils import translation
    from wagtail.models import Site

    from cms.models import SiteSettings

    settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    with translation.override("es"):
        footer = {link.url for link in settings.footer}
    assert "/es/acerca-de/" in footer and "/es/riesgos/" in footer
    assert [
        link.url
        for link in SiteSettings.for_site(Site.objects.get(is_default_site=True)).navigation
    ] == [
        "/en/learn/",
        "/en/stories/",
        "/en/places/",
    ]


def test_an_open_bond_on_a_territory_page_leads_to_its_pledge_page(cms_seeded, client):
    from decimal import Decimal

    from finance.offerings import Offering
    from tests.finance.builders import make_offering

    page = TerritoryPage.objects.filter(locale__language_code="en").exclude(government=None)[0]
    bond = make_offering(
        instrument="bond",
        title="Diaspora bond 2030",
        issuer=page.government,
        face_value=Decimal("100"),
        min_ticket=Decimal("100"),
        annual_rate=Decimal("0.055"),
    )
    link = f'<a href="/en/offerings/{bond.pk}/pledge/">Diaspora bond 2030</a>'
    assert link in client.get(page.url).content.decode()

    Offering.objects.filter(pk=bond.pk).update(status=Offering.Status.SUCCEEDED)
    html = client.get(page.url).content.decode()
    assert "Diaspora bond 2030" in html and link not in html
