from django.conf import settings
from django.urls import translate_url
from django.utils import translation

from .permissions import Role, roles_of
from .registry import menu_entries


def site_chrome(request):
    """What every page's header and footer need: roles, menu, languages."""
    roles = roles_of(request.user) if hasattr(request, "user") else frozenset()
    current = translation.get_language() or settings.LANGUAGE_CODE
    path = request.get_full_path()
    return {
        "roles": roles,
        "Role": Role,
        "menu": [entry for entry in menu_entries() if entry.visible_to(roles)],
        "language_links": [
            {
                "code": code,
                "name": name,
                "url": translate_url(path, code),
                "current": code == current,
            }
            for code, name in settings.LANGUAGES
        ],
        "text_direction": "rtl" if translation.get_language_bidi() else "ltr",
    }
