import functools

from django.conf import settings
from django.urls import get_urlconf, translate_url
from django.utils import translation

from .permissions import Role, roles_of
from .registry import menu_entries


@functools.lru_cache(maxsize=4096)
def _language_links(urlconf, languages: tuple, path: str, current: str) -> tuple[dict, ...]:
    # The same page in every language: resolving the path and reversing it
    # five times costs about half a millisecond, and the answer depends only
    # on the URLconf, the languages, the path and the language shown.
    return tuple(
        {
            "code": code,
            "name": name,
            "url": translate_url(path, code),
            "current": code == current,
        }
        for code, name in languages
    )


def site_chrome(request):
    """What every page's header and footer need: roles, menu, languages."""
    roles = roles_of(request.user) if hasattr(request, "user") else frozenset()
    current = translation.get_language() or settings.LANGUAGE_CODE
    path = request.get_full_path()
    urlconf = get_urlconf() or settings.ROOT_URLCONF  # the request's own, if it set one
    return {
        "roles": roles,
        "Role": Role,
        "menu": [entry for entry in menu_entries() if entry.visible_to(roles)],
        "language_links": _language_links(urlconf, tuple(settings.LANGUAGES), path, current),
        "text_direction": "rtl" if translation.get_language_bidi() else "ltr",
    }
