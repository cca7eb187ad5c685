"""Amounts and rates as the active interface language writes them.

Every page shows a sum of money the same way, whichever app owns it: a
project's funding sought, a budget line, a pledge or a coupon. The money
itself (exact arithmetic, minor units, allocation) is finance's `Money`;
this is only how an amount in a currency reads, so that the projects app,
which knows nothing of money, writes it as finance does.

The currency's decimals come from CLDR (Babel): 2 for USD and EUR, 0 for
JPY and XOF, 3 for KWD and BHD.
"""

import functools
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale
from babel.numbers import (
    format_currency,
    format_percent,
    get_currency_precision,
    get_currency_symbol,
)
from django.utils import translation

#: Babel needs a territory to pick separators; the interface language alone
#: names none, so each gets a sensible default.
DISPLAY_LOCALES = {"en": "en_US", "es": "es_MX", "fr": "fr_FR", "pt": "pt_PT", "ar": "ar"}


def display_locale() -> str:
    """The CLDR locale in which the active interface language shows money and numbers."""
    language = (translation.get_language() or "en").split("-")[0]
    return DISPLAY_LOCALES.get(language, DISPLAY_LOCALES["en"])


def amount_text(amount: Decimal, currency: str, locale: str | None = None) -> str:
    """`amount` of `currency` for display, e.g. ``$1,234.50`` (en_US) or
    ``USD 1,234.50`` (es_MX), in `locale` or the active language's.

    The amount is first rounded half-up to the currency's minor unit, because
    Babel on its own would round ties half-even and display 0.12 for 0.125
    USD. A currency written with letters is kept apart from the digits
    (``USD 1,234.50`` in es_MX, not ``USD1,234.50``), as CLDR's currency
    spacing asks and Babel does not do; in a right-to-left language it is
    kept together left to right."""
    locale = locale or display_locale()
    quantum = Decimal((0, (1,), -get_currency_precision(currency)))
    text = format_currency(
        Decimal(amount).quantize(quantum, rounding=ROUND_HALF_UP), currency, locale=locale
    )
    symbol = _currency_symbol(currency, locale)
    return _isolated_symbol(_currency_spacing(text, symbol), symbol, locale)


def percent_text(fraction: Decimal) -> str:
    """A rate stored as a fraction (0.0550) written as the active interface
    language writes a percentage, with the decimals it has: "5.5%", "5,5 %"."""
    return format_percent(fraction.normalize(), locale=display_locale(), decimal_quantization=False)


@functools.lru_cache(maxsize=1024)
def _currency_symbol(currency: str, locale: str) -> str:
    return get_currency_symbol(currency, locale=locale)


def _currency_spacing(text: str, symbol: str) -> str:
    """CLDR's currencySpacing (the root locale's, which the others keep): where the
    currency symbol touches a digit and its character on that side is neither a symbol
    nor a space (a letter: "USD", "F CFA"), a no-break space goes between them. "$" and
    "€" stay where they are."""
    at = text.find(symbol) if symbol else -1
    if at < 0:
        return text
    end = at + len(symbol)
    if end < len(text) and text[end].isdigit() and _apart(symbol[-1]):
        return f"{text[:end]}\u00a0{text[end:]}"
    if at > 0 and text[at - 1].isdigit() and _apart(symbol[0]):
        return f"{text[:at]}\u00a0{text[at:]}"
    return text


@functools.cache
def _right_to_left(locale: str) -> bool:
    return Locale.parse(locale).character_order == "right-to-left"


def _isolated_symbol(text: str, symbol: str, locale: str) -> str:
    """In a right-to-left language, a currency symbol written with Latin letters
    is kept together left to right (between LRI and PDI): Arabic writes
    "26,000.00 US$", and without it the "$", which takes the direction around
    it, was laid out on the wrong side of the letters ("$US 26,000.00")."""
    if not symbol or not _right_to_left(locale):
        return text
    if not any(unicodedata.bidirectional(character) == "L" for character in symbol):
        return text
    return text.replace(symbol, f"\u2066{symbol}\u2069", 1)


def _apart(character: str) -> bool:
    # CLDR's currencyMatch, [[:^S:]&[:^Z:]]: neither a symbol (Sc, Sm, So, Sk) nor a space.
    return unicodedata.category(character)[0] not in "SZ"


def amount_or_blank(value, currency: str) -> str:
    """`amount_text` of a value as a template holds it (a Decimal, an int or
    its text), or "" for no value: the `amount` filter of both template
    engines, `{{ project.funding_sought|amount:project.currency }}`."""
    if value is None or value == "":
        return ""
    return amount_text(Decimal(str(value)), currency)
