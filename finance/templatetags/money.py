from decimal import Decimal

from django import template

from finance.money import Money

register = template.Library()


@register.filter
def money(value, currency: str | None = None) -> str:
    """Format a Money (or an amount with `currency`) in the page's language."""
    if value is None or value == "":
        return ""
    if not isinstance(value, Money):
        value = Money(Decimal(str(value)), currency or "USD")
    return value.localized()


@register.filter
def card_failure(message: str) -> str:
    """A card payment's stored failure message, in the page's language."""
    from finance.payments.stripe_provider import failure_text

    return failure_text(message) if message else ""


@register.filter
def installment_status(status: str) -> str:
    """An installment's status (`Installment.status()`) as the page's language says it."""
    from finance.returns import Installment

    return str(Installment.STATUS_LABELS.get(status, status))
