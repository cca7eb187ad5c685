"""Content in every language, and content not yet translated.

The seed content is translated into every language of the portal. A page or a
glossary term an editor has not translated yet (here: a translation taken away
and the page marked "not yet translated", as the seed marks a page added in
English later) is shown in English with a clear notice, never a 404, and laid
out left to right even in an Arabic page; search keeps to the visitor's
language."""

import re
from html import escape

import pytest
from django.utils import translation
from wagtail.models import Locale, Page

from cms.models import CoursePage, GlossaryTerm, LessonPage, LiteracyHubPage, TerritoryPage

UNTRANSLATED = ["fr", "pt", "ar"]
DIRECTION = {"fr": "ltr", "pt": "ltr", "ar": "rtl"}


def untranslate(page, language: str):
    """Take away the page's translation into `language` (and what is under it) and
    mark the page "not yet translated" there, as the seed does for a new page."""
    locale = Locale.objects.get(language_code=language)
    page.get_translation(locale).delete()
    return page.copy_for_translation(locale, alias=True)


def untranslate_glossary(language: str) -> None:
    GlossaryTerm.objects.filter(locale__language_code=language).delete()


def hub_url(language: str) -> str:
    english = LiteracyHubPage.objects.get(locale__language_code="en")
    return english.get_translation(Locale.objects.get(language_code=language)).url


def _notice(html: str) -> str:
    assert 'class="notice translation-notice"' in html
    return html.split('class="notice translation-notice"')[1].split("</p>")[0]


@pytest.fixture
def english_territory(cms_seeded):
    return TerritoryPage.objects.filter(locale__language_code="en").order_by("path").first()


@pytest.mark.parametrize("language", UNTRANSLATED)
def test_territory_page_falls_back_to_english_with_a_notice(english_territory, client, language):
    page = untranslate(english_territory, language)
    assert page.alias_of_id == english_territory.pk  # marked "not yet translated"
    assert page.url.startswith(f"/{language}/")
    response = client.get(page.url)
    assert response.status_code == 200
    html = response.content.decode()
    _notice(html)
    assert f'<html lang="{language}"' in html
    assert '<article class="territory" lang="en" dir="ltr">' in html
    assert english_territory.specific.summary.split(":")[0] in html
    # The live dashboard is there too, its headings in the visitor's language.
    page_language = f'lang="{language}" dir="{DIRECTION[language]}"'
    for section in ("dashboard-title", "opportunities-title", "matching-title", "bonds-title"):
        assert f'<section aria-labelledby="{section}" {page_language}>' in html


@pytest.mark.parametrize("language", UNTRANSLATED)
def test_territory_index_lists_the_places_in_every_language(english_territory, client, language):
    index = english_territory.get_parent().specific
    page = index.get_translation(Locale.objects.get(language_code=language))
    html = client.get(page.url).content.decode()
    assert english_territory.title in html
    assert f'href="{page.url}{english_territory.slug}/"' in html


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("es", "invita a su diáspora a invertir"),
        ("fr", "diaspora"),
        ("pt", "diáspora"),
        ("ar", "المغتربين"),
    ],
)
def test_territory_pages_are_translated(english_territory, client, language, words):
    page = english_territory.get_translation(Locale.objects.get(language_code=language))
    assert page.alias_of_id is None
    summary = page.specific.summary
    assert english_territory.specific.government.name in summary
    assert summary != english_territory.specific.summary
    html = client.get(page.url).content.decode()
    assert words in html
    assert "translation-notice" not in html


@pytest.mark.parametrize("language", UNTRANSLATED)
def test_glossary_page_lists_english_terms_with_a_notice(cms_seeded, client, language):
    untranslate_glossary(language)
    response = client.get(f"{hub_url(language)}glossary/")
    assert response.status_code == 200
    html = response.content.decode()
    _notice(html)
    english = GlossaryTerm.objects.filter(locale__language_code="en").count()
    assert html.count('<dt id="term-') == english >= 10
    assert html.count('<dt id="term-') == html.count('lang="en" dir="ltr">') // 2
    assert "Exchange-rate margin" in html


def test_glossary_page_mixes_translated_terms_with_a_notice(cms_seeded, client):
    untranslate_glossary("fr")
    english = GlossaryTerm.objects.get(locale__language_code="en", term="Exchange-rate margin")
    french = english.copy_for_translation(Locale.objects.get(language_code="fr"))
    french.term, french.definition = "Marge de change", "La différence entre deux taux."
    french.save()
    html = client.get(f"{hub_url('fr')}glossary/").content.decode()
    assert "Certains termes" in html or "Some terms" in html
    assert f'<dt id="term-{french.pk}">Marge de change</dt>' in html
    assert "Exchange-rate margin" not in html
    assert 'lang="en" dir="ltr">Mid-market rate</dt>' in html


def untranslate_lesson(language: str) -> str:
    """Mark the remittance-cost lesson and the glossary not yet translated; the
    lesson's address in `language`."""
    english = LessonPage.objects.get(
        slug="what-a-remittance-really-costs", locale__language_code="en"
    )
    untranslate_glossary(language)
    return untranslate(english, language).url


@pytest.mark.parametrize("language", UNTRANSLATED)
def test_glossary_terms_in_an_untranslated_lesson_say_they_are_in_english(
    cms_seeded, client, language
):
    response = client.get(untranslate_lesson(language))
    assert response.status_code == 200
    html = response.content.decode()
    _notice(html)
    terms = html.split('<aside class="glossary-term"')[1:]
    assert len(terms) == 2
    for term in terms:
        assert '<dl lang="en" dir="ltr"><dt>' in term
        page_language = f'lang="{language}" dir="{DIRECTION[language]}"'
        assert f'<p class="glossary-fallback" {page_language}>' in term
    assert "Exchange-rate margin" in terms[0] + terms[1]


def test_an_english_lesson_in_an_arabic_page_reads_left_to_right(cms_seeded, client):
    """The English lesson runs left to right ("8 USD, 4% of what you send", not
    "USD, 4% of what you send 8"); what Puente says around it stays Arabic."""
    html = client.get(untranslate_lesson("ar")).content.decode()
    assert '<article class="lesson" lang="en" dir="ltr">' in html
    assert "8 USD, 4% of what you send" in html.split('<article class="lesson"')[1]
    arabic = 'lang="ar" dir="rtl"'
    assert f'<p class="meta" {arabic}>' in html  # "N minutes read"
    quiz = html.split('<section class="quiz"')[1].split("</section>")[0]
    assert f'<button type="submit" class="button" {arabic}>' in quiz
    calculator = html.split('<section class="calculator"')[1].split("</section>")[0]
    assert f'data-enhance="calculator" novalidate {arabic}>' in calculator
    glossary = client.get("/ar/learn/glossary/").content.decode()
    assert re.search(r'<dt id="term-\d+" lang="en" dir="ltr">Exchange-rate margin</dt>', glossary)


def test_a_translated_lesson_marks_no_language_of_its_own(cms_seeded, client):
    lesson = LessonPage.objects.get(
        slug="what-a-remittance-really-costs", locale__language_code="es"
    )
    html = client.get(lesson.url).content.decode()
    assert '<article class="lesson">' in html
    assert 'lang="en"' not in html.split("<main")[1].split("</main>")[0]


@pytest.mark.parametrize("language", UNTRANSLATED)
def test_stories_keep_the_direction_they_were_written_in(cms_seeded, client, language):
    english = Page.objects.get(locale__language_code="en", slug="stories")
    index = english.get_translation(Locale.objects.get(language_code=language))
    html = client.get(index.url).content.decode()
    cards = html.split('<li class="card story-card">')[1:]
    assert cards and all('<p dir="auto">' in card for card in cards)
    assert all('<h2 class="card-title" dir="auto">' in card for card in cards)


def test_a_glossary_term_translated_since_shows_in_the_visitors_language(cms_seeded, client):
    url = untranslate_lesson("pt")
    english = GlossaryTerm.objects.get(locale__language_code="en", term="Exchange-rate margin")
    portuguese = english.copy_for_translation(Locale.objects.get(language_code="pt"))
    portuguese.term = "Margem cambial"
    portuguese.definition = "A diferença entre a taxa de mercado e a taxa do fornecedor."
    portuguese.save()
    html = client.get(url).content.decode()
    terms = html.split('<aside class="glossary-term"')[1:]
    translated = next(term for term in terms if "Margem cambial" in term)
    assert "<dl><dt>Margem cambial</dt>" in translated and "glossary-fallback" not in translated
    untranslated = next(term for term in terms if "Mid-market rate" in term)
    assert 'lang="en"' in untranslated and "glossary-fallback" in untranslated


def test_glossary_terms_of_a_spanish_lesson_are_spanish(cms_seeded, client):
    lesson = LessonPage.objects.get(
        slug="what-a-remittance-really-costs", locale__language_code="es"
    )
    html = client.get(lesson.url).content.decode()
    assert "Margen del tipo de cambio" in html and "glossary-fallback" not in html


@pytest.mark.parametrize("language", UNTRANSLATED)
def test_search_finds_pages_in_the_visitors_language(english_territory, client, language):
    course = CoursePage.objects.get(slug="sending-money-home", locale__language_code=language)
    html = client.get(f"/{language}/search/", {"q": course.title}).content.decode()
    results = html.split('class="search-results"')[1].split("</ol>")[0]
    links = [part.split('"')[0] for part in results.split('href="')[1:]]
    assert links and all(link.startswith(f"/{language}/") for link in links), links
    assert f'href="{course.url}"' in results

    place = client.get(f"/{language}/search/", {"q": english_territory.title}).content.decode()
    index = english_territory.get_parent().get_translation(
        Locale.objects.get(language_code=language)
    )
    assert f'href="{index.url}{english_territory.slug}/"' in place


def test_seed_turns_a_page_marked_for_translation_into_the_translation(english_territory):
    from cms.demo import seed_cms

    spanish_locale = Locale.objects.get(language_code="es")
    english_territory.get_translation(spanish_locale).delete()
    alias = english_territory.copy_for_translation(spanish_locale, alias=True)
    assert alias.alias_of_id == english_territory.pk
    seed_cms()
    spanish = TerritoryPage.objects.get(pk=alias.pk)
    assert spanish.alias_of_id is None and spanish.live
    with translation.override("es"):
        assert "invita a su diáspora" in spanish.summary


@pytest.mark.parametrize(
    ("language", "direction"), [("es", "ltr"), ("fr", "ltr"), ("pt", "ltr"), ("ar", "rtl")]
)
def test_lessons_are_translated_with_their_quiz_calculator_and_glossary(
    cms_seeded, client, language, direction
):
    from cms.content.literacy import COURSES

    lesson_content = COURSES[0]["lessons"][0]
    lesson = LessonPage.objects.get(
        slug="what-a-remittance-really-costs", locale__language_code=language
    )
    assert lesson.alias_of_id is None and lesson.title == lesson_content["title"][language]
    html = client.get(lesson.url).content.decode()
    assert "translation-notice" not in html and "glossary-fallback" not in html
    assert f'<html lang="{language}" dir="{direction}">' in html
    main = html.split("<main")[1].split("</main>")[0]
    assert 'lang="en"' not in main
    # The section text, a quiz question, and a glossary term, all in the page's language.
    for text in (
        lesson_content["sections"][0]["paragraphs"][0][language],
        lesson_content["quiz"][0]["question"][language],
    ):
        assert escape(text) in main or text in main
    term = GlossaryTerm.objects.get(locale__language_code="en", term="Exchange-rate margin")
    assert escape(term.get_translation(Locale.objects.get(language_code=language)).term) in main


@pytest.mark.parametrize(
    ("start", "language"), [("es", "fr"), ("fr", "ar"), ("ar", "pt"), ("pt", "en"), ("en", "es")]
)
def test_the_language_switcher_finds_a_content_page_s_translation(
    cms_seeded, client, start, language
):
    """Translations have their own slugs: /es/aprender/... is /fr/apprendre/..."""
    for english in (
        Page.objects.get(locale__language_code="en", slug="about"),
        LessonPage.objects.get(slug="what-a-remittance-really-costs", locale__language_code="en"),
    ):
        here = english.get_translation(Locale.objects.get(language_code=start))
        there = english.get_translation(Locale.objects.get(language_code=language))
        response = client.post("/i18n/setlang/", {"language": language, "next": here.url})
        assert response.status_code == 302
        assert response["Location"] == there.url
        html = client.get(there.url).content.decode()
        assert "translation-notice" not in html
        # The page names its translations for search engines, at their own addresses.
        for code in ("en", "es", "fr", "pt", "ar"):
            translated = english.get_translation(Locale.objects.get(language_code=code))
            assert f'<link rel="alternate" hreflang="{code}" href="{translated.url}">' in html
    about = Page.objects.get(locale__language_code="en", slug="about")
    localized = {
        code: about.get_translation(Locale.objects.get(language_code=code)).slug
        for code in ("en", "es", "fr", "pt")
    }
    assert len(set(localized.values())) == 4, localized  # "about", "acerca-de", ...


def test_the_switcher_sends_to_the_english_page_where_a_translation_is_missing(cms_seeded, client):
    english = Page.objects.get(locale__language_code="en", slug="about")
    english.get_translation(Locale.objects.get(language_code="pt")).delete()
    spanish = english.get_translation(Locale.objects.get(language_code="es"))
    response = client.post(
        "/i18n/setlang/", {"language": "pt", "next": f"{spanish.url}?from=footer"}
    )
    assert response["Location"] == "/pt/about/?from=footer"
    page = client.get(response["Location"])
    assert page.status_code == 200 and "translation-notice" in page.content.decode()


def test_the_switcher_keeps_the_url_s_translation_for_other_pages(cms_seeded, client):
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/es/search/?q=agua"})
    assert response["Location"] == "/fr/search/?q=agua"
    response = client.post("/i18n/setlang/", {"language": "ar", "next": "/es/projects/"})
    assert response["Location"] == "/ar/projects/"


@pytest.mark.parametrize(("start", "language"), [("es", "fr"), ("fr", "en"), ("en", "pt")])
def test_the_switcher_keeps_a_page_s_own_view_such_as_the_glossary(
    cms_seeded, client, start, language
):
    here, there = f"{hub_url(start)}glossary/", f"{hub_url(language)}glossary/"
    response = client.post("/i18n/setlang/", {"language": language, "next": here})
    assert response["Location"] == there
    assert client.get(there).status_code == 200
    html = client.get(here).content.decode()
    assert f'<link rel="alternate" hreflang="{language}" href="{there}">' in html


@pytest.mark.parametrize("language", ["es", "fr", "pt", "ar"])
def test_each_home_page_features_courses_in_its_own_language(cms_seeded, client, language):
    course = CoursePage.objects.get(slug="sending-money-home", locale__language_code=language)
    html = client.get(f"/{language}/").content.decode()
    assert f'href="{course.url}"' in html and escape(course.title) in html


def test_the_glossary_files_accented_words_with_their_letter(cms_seeded, client):
    from cms.models import alphabetical

    words = ["Zèbre", "échéance", "Echo", "Capital", "Édition", "edad", "Árbol", "Banco"]
    assert sorted(words, key=alphabetical) == [
        "Árbol",
        "Banco",
        "Capital",
        "échéance",
        "Echo",
        "edad",
        "Édition",
        "Zèbre",
    ]
    html = client.get(f"{hub_url('fr')}glossary/").content.decode()
    terms = re.findall(r'<dt id="term-\d+">([^<]+)</dt>', html)
    assert len(terms) > 10 and terms == sorted(terms, key=alphabetical)
    assert not terms[-1].startswith(("É", "È"))


def test_french_puts_a_space_before_a_label_s_colon(cms_seeded, client):
    story = Page.objects.get(locale__language_code="en", slug="lucia-mezcal-jerez")
    french = client.get(story.get_translation(Locale.objects.get(language_code="fr")).url)
    assert "Lieu\u00a0: <a" in french.content.decode()
    assert "Place: <a" in client.get(story.url).content.decode()
    lesson = LessonPage.objects.get(
        slug="what-a-remittance-really-costs", locale__language_code="fr"
    )
    assert "\u00a0:</span>" in client.get(lesson.url).content.decode()
