from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finance.distribution import pro_rata
from finance.exceptions import CurrencyMismatch, MoneyError
from finance.money import Money

pytestmark = []


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def test_equal_holdings_split_the_odd_cent_to_the_first():
    # 100.00 / 3 = 33.333...: 33.33 each, the cent left over to the first holder.
    shares = pro_rata(usd("100.00"), [("ana", 1), ("bruno", 1), ("carla", 1)])
    assert shares == [("ana", usd("33.34")), ("bruno", usd("33.33")), ("carla", usd("33.33"))]


def test_yen_and_dinar_dividends():
    # 100 JPY over 3 equal holdings: 34, 33, 33 (no minor unit below the yen).
    yen = pro_rata(Money(100, "JPY"), [("a", Decimal(10)), ("b", Decimal(10)), ("c", Decimal(10))])
    assert [share for _, share in yen] == [Money(34, "JPY"), Money(33, "JPY"), Money(33, "JPY")]
    # 1 KWD = 1000 fils over 3: 0.334, 0.333, 0.333.
    dinar = pro_rata(Money(1, "KWD"), [("a", 1), ("b", 1), ("c", 1)])
    assert [share for _, share in dinar] == [
        Money("0.334", "KWD"),
        Money("0.333", "KWD"),
        Money("0.333", "KWD"),
    ]


def test_ties_go_to_the_larger_holding_then_to_the_first_listed():
    # 0.05 USD by 1 : 3 : 1 : 3 : 2 (sum 10): exact shares 0.5, 1.5, 0.5, 1.5, 1.0 cents.
    # Floors 0 + 1 + 0 + 1 + 1 = 3 cents; the 2 left over go to the four half-cent
    # remainders in order of holding, 3s first: "b" and "d".
    shares = pro_rata(usd("0.05"), [("a", 1), ("b", 3), ("c", 1), ("d", 3), ("e", 2)])
    assert shares == [
        ("a", usd("0.00")),
        ("b", usd("0.02")),
        ("c", usd("0.00")),
        ("d", usd("0.02")),
        ("e", usd("0.01")),
    ]
    # Among equal holdings the earlier one wins: 0.01 USD over two.
    assert pro_rata(usd("0.01"), [("x", 7), ("y", 7)]) == [("x", usd("0.01")), ("y", usd("0"))]


def test_money_holdings_in_another_currency():
    # Investments of 600 and 400 EUR share a 10.01 USD payout 60:40: 6.006 and 4.004,
    # floors 6.00 + 4.00, the cent to the larger remainder (0.6 cent > 0.4 cent).
    shares = pro_rata(usd("10.01"), [(1, Money(600, "EUR")), (2, Money(400, "EUR"))])
    assert shares == [(1, usd("6.01")), (2, usd("4.00"))]


def test_clawback_mirrors_the_payout():
    holdings = [("a", 1), ("b", 1), ("c", 1)]
    payout = pro_rata(usd("100.00"), holdings)
    clawback = pro_rata(usd("-100.00"), holdings)
    assert clawback == [(key, -share) for key, share in payout]


def test_zero_holding_gets_zero_and_keys_keep_their_order():
    shares = pro_rata(usd("1.00"), [("z", 0), ("a", 3), ("m", 1)])
    assert shares == [("z", usd("0")), ("a", usd("0.75")), ("m", usd("0.25"))]


def test_invalid_holdings():
    with pytest.raises(CurrencyMismatch):
        pro_rata(usd("1.00"), [("a", Money(1, "EUR")), ("b", Money(1, "GBP"))])
    with pytest.raises(TypeError, match="mixture"):
        pro_rata(usd("1.00"), [("a", Money(1, "EUR")), ("b", Decimal(1))])
    with pytest.raises(TypeError):
        pro_rata(usd("1.00"), [("a", 0.5), ("b", 0.5)])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        pro_rata(usd("1.00"), [])
    with pytest.raises(ValueError):
        pro_rata(usd("1.00"), [("a", 0), ("b", 0)])
    with pytest.raises(ValueError):
        pro_rata(usd("1.00"), [("a", 2), ("b", -1)])
    with pytest.raises(MoneyError):
        pro_rata(usd("1.005"), [("a", 1)])


holdings = st.lists(
    st.decimals(min_value=0, max_value=10**7, places=3),
    min_size=1,
    max_size=15,
).filter(lambda values: any(value > 0 for value in values))


@settings(max_examples=200, deadline=None)
@given(
    units=st.integers(min_value=-(10**12), max_value=10**12),
    currency=st.sampled_from(["JPY", "USD", "KWD"]),
    holdings=holdings,
    as_money=st.booleans(),
)
def test_distribution_sums_exactly(units, currency, holdings, as_money):
    total = Money.from_minor(units, currency)
    keyed = [
        (index, Money(holding, "EUR") if as_money else holding)
        for index, holding in enumerate(holdings)
    ]
    shares = pro_rata(total, keyed)
    assert [key for key, _ in shares] == list(range(len(holdings)))
    assert sum((share for _, share in shares), Money.zero(currency)) == total
    holding_sum = sum(Fraction(holding) for holding in holdings)
    for (_, share), holding in zip(shares, holdings, strict=True):
        assert abs(share.minor_units - units * Fraction(holding) / holding_sum) < 1
