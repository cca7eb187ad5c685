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


def page_at(path: str) -> tuple[Page, str] | tuple[None, str]:
    """The content page served at `path` ("/es/aprender/glossary/"), and what of
    the path is its own sub-page ("glossary/", a routable page's view): in the
    tree of the path's language, else the default language's page the fallback
    serves there. One query for the homes, one for the pages."""
    language = translation.get_language_from_path(path)
    if not language:
        return None, ""
    try:
        with translation.override(language):
            match = resolve(path)
    except Resolver404:
        return None, ""
    if match.url_name != "wagtail_serve":
        return None, ""
    slugs = match.args[0] if match.args else match.kwargs.get("path", "")
    parts = [part for part in slugs.split("/") if part]
    homes = dict(
        Page.objects.filter(
            depth=2, locale__language_code__in={language, settings.LANGUAGE_CODE}
        ).values_list("locale__language_code", "url_path")
    )
    # Every page the path could be, from the whole path down to the home page.
    wanted = {
        f"{home}{''.join(f'{part}/' for part in parts[:length])}": (code, length)
        for code, home in homes.items()
        for length in range(len(parts), -1, -1)
    }
    found = {page.url_path: page for page in Page.objects.filter(url_path__in=wanted, live=True)}
    # The deepest page, in the path's own language first.
    ranked = sorted(found, key=lambda url: (wanted[url][0] != language, -wanted[url][1]))
    if not ranked:
        return None, ""
    page = found[ranked[0]]
    return page, "".join(f"{part}/" for part in parts[wanted[ranked[0]][1] :])


def path_in_language(path: str, language: str) -> str | None:
    """The address of the content page at `path` in `language`, or None when no
    content page is served there (the URLconf's own translation then applies)."""
    page, rest = page_at(path)
    if page is None:
        return None
    links = language_links(page, None, language)
    return next(link["url"] for link in links if link["code"] == language) + rest
