from django import template
from django.utils.html import format_html
from django.utils.translation import get_language_info

register = template.Library()


@register.simple_tag
def lang_attrs(code: str | None) -> str:
    """` lang="…" dir="…"` for content in another language than the page's,
    or nothing when `code` is empty, e.g. `<dd{% lang_attrs term.shown_language %}>`.

    `lang` alone is not enough: English shown in an Arabic page would still be
    laid out right to left, its full stops and figures at the wrong end."""
    if not code:
        return ""
    try:
        rtl = get_language_info(code)["bidi"]
    except KeyError:
        rtl = False
    return format_html(' lang="{}" dir="{}"', code, "rtl" if rtl else "ltr")
