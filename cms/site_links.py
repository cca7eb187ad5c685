"""Editor-managed navigation and footer links, drawn into the portal's base
template through the fragment registry. Rendered links are cached per host
and language, so pages pay no query for them; saving the site settings
clears the cache."""

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import translation

CACHE_SECONDS = 300
_VERSION_KEY = "cms:site-links:version"


def _cached(request, part: str) -> str:
    if request is None:
        return ""
    version = cache.get_or_set(_VERSION_KEY, 1, None)
    key = f"cms:site-links:{version}:{part}:{request.get_host()}:{translation.get_language()}"
    html = cache.get(key)
    if html is None:
        from wagtail.models import Site

        from .models import SiteSettings

        site = Site.find_for_request(request)
        links = []
        if site is not None:
            settings = SiteSettings.for_site(site)
            links = settings.navigation if part == "navigation" else settings.footer
        html = render_to_string(
            f"cms/includes/{part}_links.html", {"links": links, "request": request}
        )
        cache.set(key, html, CACHE_SECONDS)
    return html


def navigation_links(request, obj=None) -> str:
    return _cached(request, "navigation")


def footer_links(request, obj=None) -> str:
    return _cached(request, "footer")


def forget_site_links(**kwargs) -> None:
    try:
        cache.incr(_VERSION_KEY)
    except ValueError:
        cache.set(_VERSION_KEY, 2, None)
