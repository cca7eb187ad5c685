"""Every string the code marks for translation is in the catalogs.

The catalogs are checked for untranslated entries elsewhere; this checks the
other way round: a string added to the code after the catalogs were last
extracted (`make messages`) would show in English on every translated page,
and no other test would notice. The strings are extracted as `makemessages`
extracts them, without gettext's tools: Python files with Django's keywords,
templates (Django's and the Jinja2 ones, which keep to the syntax both read)
through Django's own `templatize()`."""

import io
import re
import tokenize
from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po
from django.conf import settings
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
APPS = ("portal", "projects", "finance", "cms")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}


def _sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*")):
            if "locale" in path.parts or "static" in path.parts:
                continue
            if path.suffix == ".py":
                yield path, path.read_bytes()
            elif path.suffix in (".html", ".txt"):
                text = templatize(path.read_text(encoding="utf-8"), origin=str(path))
                # Inside brackets Python reads no indentation, which templatize()
                # keeps from the markup and xgettext ignores.
                yield path, f"(\n{text}\n)".encode()


def _extracted() -> dict[tuple[str | None, str], str]:
    found = {}
    for path, data in _sources():
        for _line, message, _comments, context in extract(
            "python", io.BytesIO(data), keywords=KEYWORDS
        ):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault((context, msgid), str(path.relative_to(ROOT)))
    return found


@pytest.fixture(scope="module")
def extracted():
    return _extracted()


def test_extraction_finds_the_strings_of_each_kind_of_source(extracted):
    assert (None, "No data yet") in extracted  # Python
    assert (None, "Identity verification") in extracted  # a Django template
    assert (None, "Opening soon") in extracted  # a Jinja2 template


def _marked_in_f_strings(data: bytes) -> list[int]:
    """Lines of translation calls inside f-strings: one STRING token up to
    Python 3.11, FSTRING_START ... FSTRING_END with the call's tokens in
    between from 3.12."""
    call = re.compile(r"\b(_|gettext|ngettext|pgettext)(_lazy)?\(")
    fstring_start = getattr(tokenize, "FSTRING_START", None)
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    lines, depth, previous = [], 0, None
    for token in tokenize.tokenize(io.BytesIO(data).readline):
        if token.type == tokenize.STRING:
            prefix = re.match(r"[a-zA-Z]*", token.string).group().lower()
            if "f" in prefix and call.search(token.string):
                lines.append(token.start[0])
        elif fstring_start is not None and token.type == fstring_start:
            depth += 1
        elif fstring_end is not None and token.type == fstring_end:
            depth -= 1
        elif depth and token.string == "(" and previous is not None:
            if call.fullmatch(previous.string + "("):
                lines.append(token.start[0])
        previous = token
    return lines


def test_no_string_is_marked_inside_an_f_string():
    """Neither xgettext nor Babel reads inside an f-string: a `_("...")` there
    never reaches the catalogs and shows in English in every language."""
    assert _marked_in_f_strings(b"x = f\"<t>{_drawn(_('No data'))}</t>\"\n") == [1]
    assert _marked_in_f_strings(b'text = _("Fine")\nx = f"{text}"\n') == []
    hidden = [
        f"{path.relative_to(ROOT)}:{line}"
        for path, data in _sources()
        if path.suffix == ".py"
        for line in _marked_in_f_strings(data)
    ]
    assert not hidden, hidden


@pytest.mark.parametrize("code", ["es", "fr", "pt", "ar"])
def test_every_marked_string_is_in_the_catalog(extracted, code):
    with open(ROOT / "locale" / code / "LC_MESSAGES" / "django.po", "rb") as handle:
        catalog = read_po(handle)
    known = {
        (message.context, message.id if isinstance(message.id, str) else message.id[0])
        for message in catalog
        if message.id
    }
    missing = sorted(
        f"{where}: {msgid!r}"
        for (context, msgid), where in extracted.items()
        if (context, msgid) not in known
    )
    assert not missing, f"run `make messages`: {len(missing)} missing, {missing[:10]}"
