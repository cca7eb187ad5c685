"""Languages without translated content (French, Portuguese, Arabic): territory
pages, the glossary and the glossary terms used in lessons are shown in English
with a clear notice, never a 404, and laid out left to right even in an Arabic
page; search keeps to the visitor's language; Spanish has real translations."""

import re

import pytest
from django.utils import translation
from wagtail.models import Locale, Page

from cms.models import GlossaryTerm, LessonPage, TerritoryPage

UNTRANSLATED = ["fr", "pt", "ar"]
DIRECTION = {"fr": "ltr", "pt": "ltr", "ar": "rtl"}


def _notice(html: str) -> str:
    assert 'class="notice translation-notice"' in html
    return html.split('class="notice translation-notice"')[1].split("</p>")[0]


@pytest.fixture
def english_territory(cms_seeded):
    return TerritoryPage.objects.filter(locale__language_code="en").order_by("path").first()


@pytest.mark.parametrize("language", UNTRANSLATED)
def test_territory_page_falls_back_to_english_with_a_notice(english_territory, client, language):
    page = english_territory.get_translation(Locale.objects.get(language_code=language))
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
    assert f'href="/{language}/places/{english_territory.slug}/"' in html


def test_territory_pages_are_translated_into_spanish(english_territory, client):
    spanish = english_territory.get_translation(Locale.objects.get(language_code="es"))
    assert spanish.alias_of_id is None
    assert spanish.specific.summary.startswith(english_territory.specific.government.name)
    html = client.get(spanish.url).content.decode()
    assert "invita a su diáspora a invertir" in html
    assert "translation-notice" not in html


@pytest.mark.parametrize("language", UNTRANSLATED)
def test_glossary_page_lists_english_terms_with_a_notice(cms_seeded, client, language):
    hub = Page.objects.get(locale__language_code=language, slug="learn")
    response = client.get(f"{hub.url}glossary/")
    assert response.status_code == 200
    html = response.content.decode()
    _notice(html)
    english = GlossaryTerm.objects.filter(locale__language_code="en").count()
    assert html.count('<dt id="term-') == english >= 10
    assert html.count('<dt id="term-') == html.count('lang="en" dir="ltr">') // 2
    assert "Exchange-rate margin" in html


def test_glossary_page_mixes_translated_terms_with_a_notice(cms_seeded, client):
    english = GlossaryTerm.objects.get(locale__language_code="en", term="Exchange-rate margin")
    french = english.copy_for_translation(Locale.objects.get(language_code="fr"))
    french.term, french.definition = "Marge de change", "La différence entre deux taux."
    french.save()
    html = client.get("/fr/learn/glossary/").content.decode()
    assert "Certains termes" in html or "Some terms" in html
    assert f'<dt id="term-{french.pk}">Marge de change</dt>' in html
    assert "Exchange-rate margin" not in html
    assert 'lang="en" dir="ltr">Mid-market rate</dt>' in html


@pytest.fixture
def lesson_path():
    return "learn/sending-money-home/what-a-remittance-really-costs/"


@pytest.mark.parametrize("language", UNTRANSLATED)
def test_glossary_terms_in_an_untranslated_lesson_say_they_are_in_english(
    cms_seeded, client, lesson_path, language
):
    response = client.get(f"/{language}/{lesson_path}")
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


def test_an_english_lesson_in_an_arabic_page_reads_left_to_right(cms_seeded, client, lesson_path):
    """The English lesson runs left to right ("8 USD, 4% of what you send", not
    "USD, 4% of what you send 8"); what Puente says around it stays Arabic."""
    html = client.get(f"/ar/{lesson_path}").content.decode()
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
    index = Page.objects.get(locale__language_code=language, slug="stories")
    html = client.get(index.url).content.decode()
    cards = html.split('<li class="card story-card">')[1:]
    assert cards and all('<p dir="auto">' in card for card in cards)
    assert all('<h2 class="card-title" dir="auto">' in card for card in cards)


def test_a_glossary_term_translated_since_shows_in_the_visitors_language(
    cms_seeded, client, lesson_path
):
    english = GlossaryTerm.objects.get(locale__language_code="en", term="Exchange-rate margin")
    portuguese = english.copy_for_translation(Locale.objects.get(language_code="pt"))
    portuguese.term = "Margem cambial"
    portuguese.definition = "A diferença entre a taxa de mercado e a taxa do fornecedor."
    portuguese.save()
    html = client.get(f"/pt/{lesson_path}").content.decode()
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
    html = client.get(f"/{language}/search/", {"q": "remittance"}).content.decode()
    results = html.split('class="search-results"')[1].split("</ol>")[0]
    links = [part.split('"')[0] for part in results.split('href="')[1:]]
    assert links and all(link.startswith(f"/{language}/") for link in links), links
    assert f"/{language}/learn/sending-money-home/" in results

    place = client.get(f"/{language}/search/", {"q": english_territory.title}).content.decode()
    assert f'href="/{language}/places/{english_territory.slug}/"' in place


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
