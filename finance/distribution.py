"""Pro-rata distribution of an amount among holders: dividends, project proceeds, fees."""

from collections.abc import Hashable, Sequence
from decimal import Decimal
from typing import TypeVar

from finance.exceptions import CurrencyMismatch
from finance.money import Money, allocate

Key = TypeVar("Key", bound=Hashable)


def _holding_weights(holdings: Sequence[Decimal | int | Money]) -> list[Decimal | int]:
    weights: list[Decimal | int] = []
    currencies: set[str] = set()
    for holding in holdings:
        if isinstance(holding, Money):
            currencies.add(holding.currency)
            weights.append(holding.amount)
        else:
            weights.append(holding)
    if currencies and not all(isinstance(holding, Money) for holding in holdings):
        raise TypeError("holdings must be all Money or all numbers, not a mixture")
    if len(currencies) > 1:
        raise CurrencyMismatch(f"holdings are in several currencies: {sorted(currencies)}")
    return weights


def pro_rata(
    total: Money, holdings: Sequence[tuple[Key, Decimal | int | Money]]
) -> list[tuple[Key, Money]]:
    """Share ``total`` among holders in proportion to their holdings, to the minor unit.

    ``holdings`` pairs a key (an investor id, say) with a holding: a number of units or shares
    (Decimal or int), or an invested amount (Money, all in one currency, which need not be the
    currency of ``total``: a EUR project can pay out in USD). The result keeps the order and
    the keys of ``holdings``.

    Largest-remainder method (see :func:`finance.money.allocate`): every holder gets the floor
    of their exact share in minor units and the units left over go one each to the largest
    remainders, ties going to the larger holding and then to the holder listed first. The
    shares add up to ``total`` exactly, and nobody is more than one minor unit away from their
    exact share. A negative total (a clawback) mirrors the positive split; a zero holding gets
    zero.

    Raises ValueError when no holding is positive or one is negative, TypeError for float
    holdings or a mixture of Money and numbers, CurrencyMismatch for holdings in several
    currencies, MoneyError when ``total`` has a fraction of a minor unit.
    """
    weights = _holding_weights([holding for _, holding in holdings])
    shares = allocate(total, weights)
    return [(key, share) for (key, _), share in zip(holdings, shares, strict=True)]
