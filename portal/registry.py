"""How apps show themselves in the site shell without the shell importing
them: each app registers its dashboard panels and menu entries from its
`AppConfig.ready()`, the way Wagtail's hooks work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse

from .permissions import Role


@dataclass(frozen=True)
class DashboardPanel:
    """A section of a role's dashboard.

    `context` receives the request and returns the template context, or None
    to leave the panel out for this person. Panels are drawn in `order`."""

    key: str
    role: Role
    template: str
    context: Callable
    order: int = 100


@dataclass(frozen=True)
class MenuEntry:
    key: str
    label: str  # a lazy translation
    url_name: str
    roles: frozenset = field(default_factory=frozenset)  # empty: everyone
    order: int = 100
    anonymous: bool = True

    @property
    def url(self) -> str:
        return reverse(self.url_name)

    def visible_to(self, roles: frozenset) -> bool:
        if not roles and not self.anonymous:
            return False
        return not self.roles or bool(self.roles & roles)


_panels: dict[str, DashboardPanel] = {}
_menu: dict[str, MenuEntry] = {}


def register_panel(panel: DashboardPanel) -> None:
    _panels[panel.key] = panel


def register_menu_entry(entry: MenuEntry) -> None:
    _menu[entry.key] = entry


def panels_for(role: Role) -> list[DashboardPanel]:
    return sorted((p for p in _panels.values() if p.role == role), key=lambda p: (p.order, p.key))


def menu_entries() -> list[MenuEntry]:
    return sorted(_menu.values(), key=lambda e: (e.order, e.key))


# --- Page fragments ---------------------------------------------------------------------
# A page of one app can show what a higher layer knows about its object (the
# project page shows the offerings finance holds for it) without importing it.

_fragments: dict[str, dict[str, Callable]] = {}


def register_fragment(slot: str, key: str, render: Callable) -> None:
    """`render(request, obj)` returns HTML (safe) or "" for nothing."""
    _fragments.setdefault(slot, {})[key] = render


def render_fragments(slot: str, request, obj) -> str:
    from django.utils.html import format_html_join

    # Fragments rendered from templates are already safe; anything else is escaped.
    renders = sorted(_fragments.get(slot, {}).items())
    return format_html_join("", "{}", ((render(request, obj),) for _key, render in renders))


# --- The same page in another language ------------------------------------------------------
# Django finds a page's address in another language by reversing its URL pattern
# with the same arguments. Content pages have translated slugs ("/es/aprender/"
# is "/fr/apprendre/"): the app serving them says where their translation is.

_path_translators: list[Callable[[str, str], str | None]] = []


def register_path_translator(translator: Callable[[str, str], str | None]) -> None:
    """`translator(path, language)` returns the address of the page at `path` in
    `language`, or None for a path it does not serve."""
    _path_translators.append(translator)


def path_in_language(path: str, language: str) -> str | None:
    """The address of the page at `path` in `language`, if an app knows it better
    than the URLconf does."""
    for translator in _path_translators:
        found = translator(path, language)
        if found:
            return found
    return None
