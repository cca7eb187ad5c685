from decimal import Decimal

from django import template
from django.utils import translation

from finance.money import Money

register = template.Library()

# Babel needs a territory to pick separators; the interface language alone
# names none, so each gets a sensible default.
LOCALES = {"en": "en_US", "es": "es_MX", "fr": "fr_FR", "pt": "pt_PT", "ar": "ar"}


@register.filter
def money(value, currency: str | None = None) -> str:
    """Format a Money (or an amount with `currency`) in the page's language."""
    if value is None or value == "":
        return ""
    if not isinstance(value, Money):
        value = Money(Decimal(str(value)), currency or "USD")
    language = (translation.get_language() or "en").split("-")[0]
    return value.format(LOCALES.get(language, "en_US"))
