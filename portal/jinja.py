"""The Jinja2 environment, for the pages that show many values per view.

The Django template language resolves, localises and escapes each value
through several layers of Python; on the project page that was a third of
the time a view took. Jinja2 compiles a template into Python code once, so
the same markup renders several times faster. Such templates live in an
app's `jinja2/` folder and keep to what both `makemessages` and Jinja2 read:
`{{ _("text") }}` for a translatable string, `|format(name=value)` for its
placeholders (the msgid is the one a `{% blocktranslate %}` would make), and
Django's own filters for dates, numbers and file sizes, and the portal's
`amount` for sums of money, so that a page says things exactly as the rest
of the portal does.
"""

from __future__ import annotations

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import defaultfilters
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from jinja2 import Environment, StrictUndefined

from portal.amounts import amount_or_blank
from portal.registry import render_fragments


def render(template_name: str, context: dict, request=None) -> SafeString:
    """A template of the Jinja2 engine, as HTML a Django template or
    format_html() shows as it is (the environment escapes every value)."""
    return mark_safe(render_to_string(template_name, context, request, using="jinja2"))  # noqa: S308


_TRANSLATED: dict[tuple[str | None, str], str] = {}


def translate(message: str) -> str:
    """gettext(), remembered per language: a template's strings are
    constants, and Django's gettext looks each up in several catalogues
    through the active language's thread-local, some 5 µs a string. Not in
    DEBUG, where the development server reloads the catalogues in place."""
    if settings.DEBUG:
        return translation.gettext(message)
    key = (translation.get_language(), message)
    translated = _TRANSLATED.get(key)
    if translated is None:
        if len(_TRANSLATED) > 20_000:  # bounded, should a template ever pass variables
            _TRANSLATED.clear()
        translated = _TRANSLATED[key] = translation.gettext(message)
    return translated


@receiver(setting_changed)
def _forget_translations(*, setting, **kwargs):
    if setting in ("LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS"):
        _TRANSLATED.clear()


def url(name: str, *args) -> str:
    return reverse(name, args=args)


def environment(**options) -> Environment:
    # A name the template does not know is an error, not an empty string.
    options["undefined"] = StrictUndefined
    options.pop("autoescape", None)
    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(translate, translation.ngettext, newstyle=False)
    env.globals.update(url=url, fragments=render_fragments)
    env.filters.update(
        amount=amount_or_blank,
        date=defaultfilters.date,
        floatformat=defaultfilters.floatformat,
        linebreaks=defaultfilters.linebreaks_filter,
        linebreaksbr=defaultfilters.linebreaksbr,
        filesizeformat=defaultfilters.filesizeformat,
        urlencode=defaultfilters.urlencode,
    )
    return env
