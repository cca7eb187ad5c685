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


@register.simple_tag
def colon() -> str:
    """A colon after a label, as the page's language writes it: French puts a
    no-break space before it ("Lieu : Jerez"), the others do not."""
    from django.utils.translation import get_language

    return "\u00a0:" if (get_language() or "").split("-")[0] == "fr" else ":"
