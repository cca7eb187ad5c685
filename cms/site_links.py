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
    prefix = f"cms:site-links:{version}:{request.get_host()}:{translation.get_language()}"
    html = cache.get(f"{prefix}:{part}")
    if html is None:
        # Both parts are rendered together: one look-up of the site settings.
        from wagtail.models import Site

        from .models import SiteSettings

        site = Site.find_for_request(request)
        settings = SiteSettings.for_site(site) if site is not None else None
        rendered = {}
        for name in ("navigation", "footer"):
            links = getattr(settings, name) if settings is not None else []
            rendered[name] = render_to_string(
                f"cms/includes/{name}_links.html", {"links": links, "request": request}
            )
        cache.set_many(
            {f"{prefix}:{name}": value for name, value in rendered.items()}, CACHE_SECONDS
        )
        html = rendered[part]
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
