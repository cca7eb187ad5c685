"""The seed content's French, Portuguese and Arabic (cms/content/translations): every
text translated, no translation left behind by an edit of the English, and every
figure, placeholder and paragraph break of the English kept, in the way each language
writes numbers. Money and rates are what these texts teach: a figure lost or changed
in translation would teach the wrong sum."""

import re
from collections import Counter
from decimal import Decimal

import pytest

from cms import demo
from cms.content import literacy
from cms.content.translations import LANGUAGES, UNTRANSLATED, catalogue, localized_texts

ROOTS = {**literacy.TRANSLATABLE, **demo.TRANSLATABLE}
TEXTS = {
    key: text for prefix, value in ROOTS.items() for key, text in localized_texts(value, prefix)
}

# English and Arabic: "2,269.44"; French and Portuguese: "2 269,44" (any space), "8000".
POINT = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
COMMA = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:,\d+)?|\d+(?:,\d+)?")
DECIMAL_COMMA = {"fr", "pt"}


def numbers(text: str, language: str) -> Counter:
    if language in DECIMAL_COMMA:
        found = (re.sub(r"[ \u00a0\u202f]", "", m).replace(",", ".") for m in COMMA.findall(text))
    else:
        found = (m.replace(",", "") for m in POINT.findall(text))
    return Counter(Decimal(number).normalize() for number in found)


def test_the_content_has_hundreds_of_texts():
    assert len(TEXTS) > 500
    assert sum(key.startswith("courses/") for key in TEXTS) > 400


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated(language):
    missing = sorted(key for key, code in UNTRANSLATED if code == language)
    assert not missing, f"{len(missing)} texts not translated into {language}: {missing[:5]}"
    assert all(text.get(language) for text in TEXTS.values())


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_translation_is_left_behind_by_an_edit_of_the_english(language):
    stored = catalogue(language)
    unknown = sorted(set(stored) - set(TEXTS))
    stale = sorted(key for key in set(stored) & set(TEXTS) if stored[key]["en"] != TEXTS[key]["en"])
    assert not unknown, f"translations of texts that no longer exist: {unknown[:5]}"
    assert not stale, f"the English changed since it was translated: {stale[:5]}"


def test_an_edited_english_text_drops_its_stale_translation():
    from cms.content.translations import add_translations

    key = "courses/sending-money-home.title"
    edited = {"en": "Sending money home for less, edited", "es": "Enviar dinero a casa"}
    try:
        add_translations({key: edited})
        # No French saying what the English no longer says: the English, recorded.
        assert edited["fr"] == edited["en"] and (key, "fr") in UNTRANSLATED
    finally:
        current = {"en": TEXTS[key]["en"], "es": "Enviar dinero a casa"}
        add_translations({key: current})
    assert current["fr"] == TEXTS[key]["fr"] != current["en"]
    assert (key, "fr") not in UNTRANSLATED


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_figure_of_the_english(language):
    differing = []
    for key, text in TEXTS.items():
        if key.endswith(".slug"):
            continue
        english, translated = numbers(text["en"], "en"), numbers(text[language], language)
        if english != translated:
            differing.append((key, dict(english), dict(translated)))
    assert not differing, differing[:3]


def test_the_figure_check_reads_each_language_s_way_of_writing_numbers():
    assert numbers("Send 2,269.44 USD, 4.2% of 8000", "en") == Counter(
        [Decimal("2269.44"), Decimal("4.2"), Decimal("8000")]
    )
    assert numbers("Envoyez 2\u202f269,44 USD, 4,2 % de 8 000", "fr") == numbers(
        "Send 2,269.44 USD, 4.2% of 8,000", "en"
    )
    assert numbers("4.2 %", "pt") != numbers("4.2%", "en")  # a decimal point is two numbers


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_placeholders_paragraph_breaks_and_plain_slugs(language):
    for key, text in TEXTS.items():
        english, translated = text["en"], text[language]
        assert translated == translated.strip() and translated, key
        if key.endswith(".slug"):
            assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", translated), key
            continue
        assert set(re.findall(r"\{\w+\}", english)) == set(re.findall(r"\{\w+\}", translated))
        assert english.count("|") == translated.count("|"), key
        assert not re.search(r"[\u0660-\u0669\u06f0-\u06f9]", translated), key  # Latin digits
        if language in DECIMAL_COMMA:
            assert not re.search(r"\d\.\d", translated), (key, "a decimal point")


@pytest.mark.parametrize("language", LANGUAGES)
def test_quiz_choices_stay_distinct(language):
    for course in literacy.COURSES:
        for lesson in course["lessons"]:
            for question in lesson["quiz"]:
                texts = [choice["text"][language] for choice in question["choices"]]
                assert len(set(texts)) == len(texts), (lesson["slug"], texts)


def test_sums_in_arabic_stay_left_to_right():
    from cms.content.translations import isolate_sums

    example = literacy.COURSES[0]["lessons"][0]["worked_example"]["text"]
    kept = example["ar"].replace("\xa0", " ")
    assert "\u20662.5% × 300 = 7.50 USD\u2069" not in kept
    assert "\u2066300 × 2.5% = 7.50 USD\u2069" in kept
    assert "\u206612.50 ÷ 300 = 4.17%\u2069" in kept
    # A sum does not break over two lines: its spaces are no-break spaces.
    assert "\u2066300\xa0×\xa02.5%\xa0=\xa07.50\xa0USD\u2069" in example["ar"]
    assert "\u2066" not in example["fr"] + example["es"] + example["en"]
    assert isolate_sums("صحيح: 6,000 − 1,200 − (400 × 6) = 2,400 USD.") == (
        "صحيح: \u2066" + "6,000 − 1,200 − (400 × 6) = 2,400 USD".replace(" ", "\xa0") + "\u2069."
    )
    assert isolate_sums("الغاية 10.c") == "الغاية \u206610.c\u2069"
    assert isolate_sums("سنة 2017 و 4.2%") == "سنة 2017 و 4.2%"  # no sum, nothing added
