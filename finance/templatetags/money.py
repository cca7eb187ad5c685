from django import template

from finance.money import Money
from portal.amounts import amount_or_blank

register = template.Library()


@register.filter
def money(value, currency: str | None = None) -> str:
    """A Money, or an amount with its `currency`, in the page's language; an
    amount without a currency is a mistake, not dollars."""
    if isinstance(value, Money):
        return value.localized()
    if currency is None and value not in (None, ""):
        raise TypeError(f"money: the amount {value!r} needs its currency")
    return amount_or_blank(value, currency)


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
