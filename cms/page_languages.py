"""The same content page in every language, for the language switcher and the
page's hreflang alternates.

A page's translations have their own slugs ("/es/aprender/" is "/fr/apprendre/"),
so Django's way (reverse the same URL pattern in the other language) leads to a
page that does not exist. The translation is found by the page's translation key;
a language the page is not translated into gets the default language's page at
its address in that language, which ``HomePage.route`` serves with a notice."""

from __future__ import annotations

from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils import translation
from wagtail.models import Page


def _in_default_language(url: str, language: str) -> str:
    """The default language's page address with the prefix of `language`."""
    default = settings.LANGUAGE_CODE
    prefix = f"/{default}/"
    return f"/{language}/{url[len(prefix) :]}" if url.startswith(prefix) else url


def language_links(page: Page, request, current: str) -> tuple[dict, ...]:
    """Each language's address of `page` (one query), as the site chrome's
    ``language_links``."""
    translations = {
        found.locale.language_code: found
        for found in Page.objects.filter(translation_key=page.translation_key, live=True)
        .select_related("locale")
        .only("url_path", "locale__language_code")
    }
    default = translations.get(settings.LANGUAGE_CODE)
    default_url = default.get_url(request) if default is not None else None
    links = []
    for code, name in settings.LANGUAGES:
        found = translations.get(code)
        if found is not None:
            url = found.get_url(request)
        elif default_url:
            url = _in_default_language(default_url, code)
        else:
            url = f"/{code}/"
        links.append({"code": code, "name": name, "url": url, "current": code == current})
    return tuple(links)


def page_at(path: str) -> Page | None:
    """The content page served at `path` ("/es/aprender/"): in the tree of the
    path's language, else the default language's page the fallback serves there."""
    language = translation.get_language_from_path(path)
    if not language:
        return None
    try:
        with translation.override(language):
            match = resolve(path)
    except Resolver404:
        return None
    if match.url_name != "wagtail_serve":
        return None
    slugs = match.args[0] if match.args else match.kwargs.get("path", "")
    homes = dict(
        Page.objects.filter(
            depth=2, locale__language_code__in={language, settings.LANGUAGE_CODE}
        ).values_list("locale__language_code", "url_path")
    )
    for code in (language, settings.LANGUAGE_CODE):
        if code in homes:
            found = Page.objects.filter(url_path=f"{homes[code]}{slugs}", live=True).first()
            if found is not None:
                return found
    return None


def path_in_language(path: str, language: str) -> str | None:
    """The address of the content page at `path` in `language`, or None when no
    content page is served there (the URLconf's own translation then applies)."""
    page = page_at(path)
    if page is None:
        return None
    links = language_links(page, None, language)
    return next(link["url"] for link in links if link["code"] == language)
