"""The seed content in French, Portuguese and Arabic.

The seed content (``cms.content.literacy`` and ``cms.demo``) is written with English and
Spanish side by side. The other languages live here, one JSON file per language, so a
translator works on one file: ``{key: {"en": the English it translates, "<code>": the
translation}}``. Keys name where a text sits in the content (``localized_texts`` makes
them: ``courses/loans-and-interest.lessons[0].quiz[1].choices[2].feedback``).

``add_translations`` fills the translations into the content's localized texts. A
translation whose English no longer matches the content's (the English was edited since),
or a text not translated yet, is replaced by the English, so the page says what the
English says rather than something it no longer says; each such text is recorded in
``UNTRANSLATED``, and the content tests name every one.

Nothing here imports Django or Wagtail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

#: Languages translated here, beyond the English and Spanish of the content itself.
LANGUAGES = ("fr", "pt", "ar")

_HERE = Path(__file__).resolve().parent

# Structured fields that hold figures or identifiers, not text.
_NOT_TEXT = frozenset({"inputs", "results", "kind"})


def is_localized_text(value) -> bool:
    """A dict of language code -> text, with English (what every text has)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("en"), str)
        and all(isinstance(text, str) for text in value.values())
    )


def localized_texts(value, path: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield (key, localized text) for every localized text in ``value``, the key
    starting with ``path``."""
    if is_localized_text(value):
        yield path, value
    elif isinstance(value, dict):
        for name, item in value.items():
            if name not in _NOT_TEXT:
                yield from localized_texts(item, f"{path}.{name}")
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            yield from localized_texts(item, f"{path}[{index}]")


@cache
def catalogue(language: str) -> dict[str, dict[str, str]]:
    """The translations of one language, as stored: key -> {"en": ..., language: ...}."""
    with (_HERE / f"{language}.json").open(encoding="utf-8") as file:
        return json.load(file)


#: Languages written right to left, whose texts keep their sums left to right.
RIGHT_TO_LEFT = frozenset({"ar"})

# A sum as the texts write it: figures (with a percent sign, a currency code or a
# bracket) joined by operators, "300 × 2.5% = 7.50 USD"; and a goal's number, "10.c".
_FIGURE = r"\(?[0-9][0-9.,]*%?\)?(?: ?[A-Z]{3}\b)?"
_SUM = re.compile(rf"{_FIGURE}(?: ?[×÷=+−/] ?{_FIGURE})+|\b[0-9]+\.[a-z]\b")


def isolate_sums(text: str) -> str:
    """A right-to-left text with each sum kept left to right (between LRI and
    PDI), as sums with Latin digits are read: without it "12.50 ÷ 300 = 4.17%"
    showed as "%4.17 = 300 ÷ 12.50", a wrong division read left to right. Its
    spaces do not break: a sum wrapped over two lines read as two sums, the
    second line's part on the right of the first's."""
    return _SUM.sub(
        lambda found: f"\u2066{found.group(0).replace(' ', NO_BREAK_SPACE)}\u2069", text
    )


NO_BREAK_SPACE = "\u00a0"


#: (key, language) of every text given in English for want of a current translation.
UNTRANSLATED: set[tuple[str, str]] = set()


def add_translations(roots: Mapping[str, object]) -> None:
    """Add the stored translations to every localized text under ``roots`` (key
    prefix -> content), in place, where the stored English is still the content's;
    elsewhere the English, recorded in ``UNTRANSLATED``."""
    for language in LANGUAGES:
        stored = catalogue(language)
        for prefix, value in roots.items():
            for key, text in localized_texts(value, prefix):
                entry = stored.get(key)
                if entry is not None and entry.get("en") == text["en"] and entry.get(language):
                    translated = entry[language]
                    if language in RIGHT_TO_LEFT:
                        translated = isolate_sums(translated)
                    text[language] = translated
                    UNTRANSLATED.discard((key, language))
                else:
                    text[language] = text["en"]
                    UNTRANSLATED.add((key, language))
