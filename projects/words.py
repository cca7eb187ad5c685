"""Words the catalogue repeats on every page, translated once per process
and language.

A label defined with gettext_lazy is translated again each time it is
shown, and Django's gettext looks each message up in some twenty catalogues
(one per app whose plural rules differ) through the active language's
thread-local: about 5 µs a label. A page of cards and a filter form show a
hundred of them; their translations never change while the process runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import translation
from django_countries import countries

T = TypeVar("T")

_BUILT: list[dict] = []


def once_per_language(build: Callable[[], T]) -> Callable[[], T]:
    """`build()`, whose result is made only of translated constants, kept
    per language. Not in DEBUG, where the development server reloads the
    catalogues in place (as portal.jinja.translate)."""
    kept: dict[str | None, T] = {}
    _BUILT.append(kept)

    @functools.wraps(build)
    def in_the_active_language() -> T:
        if settings.DEBUG:
            return build()
        language = translation.get_language()
        try:
            return kept[language]
        except KeyError:
            value = kept[language] = build()
            return value

    return in_the_active_language


@receiver(setting_changed)
def _forget(*, setting, **kwargs):
    if setting in ("LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS"):
        for kept in _BUILT:
            kept.clear()


@once_per_language
def _country_names() -> dict[str, str]:
    return {}  # filled as countries come up


def country_name(code: str) -> str:
    """A country's name in the active language, as django_countries gives it."""
    names = _country_names()
    name = names.get(code)
    if name is None:
        name = names[code] = countries.name(code)
    return name
