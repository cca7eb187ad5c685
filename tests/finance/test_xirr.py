from datetime import date, timedelta
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finance.xirr import SOLVER_CONTEXT, XirrStatus, solve_bracketed, xirr

pytestmark = []


def npv(flows, rate):
    """Net present value at ``rate`` with the XIRR convention (actual days / 365)."""
    origin = min(when for when, _ in flows)
    with localcontext(SOLVER_CONTEXT):
        return sum(
            Decimal(amount) / (1 + rate) ** (Decimal((when - origin).days) / 365)
            for when, amount in flows
        )


def test_leap_year_gives_less_than_ten_percent():
    # 2024 has 366 days: t = 366/365, so (1 + x)^(366/365) = 1.1 and
    # x = 1.1^(365/366) - 1 = 9.97136% (not 10%).
    result = xirr([(date(2024, 1, 1), Decimal(-1000)), (date(2025, 1, 1), Decimal(1100))])
    assert result.status == "ok"
    assert abs(result.rate - Decimal("0.0997136")) < Decimal("5e-8")
    with localcontext(SOLVER_CONTEXT):
        exact = Decimal("1.1") ** (Decimal(365) / 366) - 1
    assert abs(result.rate - exact) < Decimal("1e-30")


def test_common_year_gives_exactly_ten_percent():
    result = xirr([(date(2023, 1, 1), Decimal(-1000)), (date(2024, 1, 1), Decimal(1100))])
    assert abs(result.rate - Decimal("0.1")) < Decimal("1e-30")


def test_near_total_loss():
    # 0.01 back on 1,000 after 365 days: 1 + x = 0.01 / 1000 = 1e-5, x = -99.999%.
    result = xirr([(date(2023, 1, 1), Decimal(-1000)), (date(2024, 1, 1), Decimal("0.01"))])
    assert result.status == XirrStatus.OK
    assert abs(result.rate - Decimal("-0.99999")) < Decimal("1e-30")


def test_one_day_horizon():
    # 0.1% in one day: (1 + x)^(1/365) = 1.001, x = 1.001^365 - 1 = 44.025%.
    result = xirr([(date(2024, 1, 1), Decimal(-1000)), (date(2024, 1, 2), Decimal(1001))])
    with localcontext(SOLVER_CONTEXT):
        exact = Decimal("1.001") ** 365 - 1
    assert abs(result.rate - exact) < Decimal("1e-25")
    assert Decimal("0.44025") < result.rate < Decimal("0.44026")


def test_extreme_one_day_outcomes_stay_defined():
    # A thousandfold in one day: 1 + x = 1000^365 = 1e1095.
    gain = xirr([(date(2024, 1, 1), Decimal(-1)), (date(2024, 1, 2), Decimal(1000))])
    assert gain.status == "ok"
    assert abs(gain.rate / Decimal("1e1095") - 1) < Decimal("1e-30")
    # 1e-10 back on 1,000 in one day: 1 + x = 1e-4745, which is -1 to 40 digits.
    loss = xirr([(date(2024, 1, 1), Decimal(-1000)), (date(2024, 1, 2), Decimal("1e-10"))])
    assert loss.status == "ok"
    assert loss.rate == -1


def test_several_roots():
    # -100, +230, -132 a year apart: -100 g^2 + 230 g - 132 = 0 with g = 1 + x has the roots
    # g = (230 +/- 10) / 200, i.e. 10% and 20%.
    flows = [
        (date(2021, 1, 1), Decimal(-100)),
        (date(2022, 1, 1), Decimal(230)),
        (date(2023, 1, 1), Decimal(-132)),
    ]
    assert abs(npv(flows, Decimal("0.1"))) < Decimal("1e-30")
    assert abs(npv(flows, Decimal("0.2"))) < Decimal("1e-30")
    result = xirr(flows)
    assert result.status == XirrStatus.SEVERAL_ROOTS
    assert result.rate is None


def test_several_sign_changes_with_a_single_root_is_solved():
    # Invest, receive, top up, exit: the flows change sign three times, but the NPV crosses
    # zero once, so the rate is well defined.
    flows = [
        (date(2020, 1, 1), Decimal(-1000)),
        (date(2021, 1, 1), Decimal(100)),
        (date(2022, 1, 1), Decimal(-500)),
        (date(2023, 1, 1), Decimal(1800)),
    ]
    result = xirr(flows)
    assert result.status == "ok"
    assert abs(npv(flows, result.rate)) < Decimal("1e-25")


def test_no_root_among_several_sign_changes_is_undefined():
    # +100, -300, +300: the NPV 100 - 300/g + 300/g^2 (g = 1 + x) has no real zero since
    # 300^2 - 4 x 100 x 300 < 0.
    flows = [
        (date(2021, 1, 1), Decimal(100)),
        (date(2022, 1, 1), Decimal(-300)),
        (date(2023, 1, 1), Decimal(300)),
    ]
    assert xirr(flows).status == XirrStatus.UNDEFINED


@pytest.mark.parametrize(
    "flows",
    [
        [],
        [(date(2024, 1, 1), Decimal(-100))],
        # All of one sign.
        [(date(2024, 1, 1), Decimal(100)), (date(2025, 1, 1), Decimal(110))],
        [(date(2024, 1, 1), Decimal(-100)), (date(2025, 1, 1), Decimal(-110))],
        # All on one date.
        [(date(2024, 1, 1), Decimal(-100)), (date(2024, 1, 1), Decimal(110))],
        # Zero flows do not count.
        [(date(2024, 1, 1), Decimal(-100)), (date(2025, 1, 1), Decimal(0))],
        # Netted to zero on the first date: a single non-zero flow remains.
        [
            (date(2024, 1, 1), Decimal(-100)),
            (date(2024, 1, 1), Decimal(100)),
            (date(2025, 1, 1), Decimal(5)),
        ],
    ],
)
def test_undefined(flows):
    result = xirr(flows)
    assert result.status == XirrStatus.UNDEFINED
    assert result.rate is None


def test_flows_on_one_date_are_netted_and_order_does_not_matter():
    # -1,500 + 500 on the first day is -1,000; then +1,100 after 365 days: 10%.
    flows = [
        (date(2024, 1, 1), Decimal(1100)),
        (date(2023, 1, 1), Decimal(500)),
        (date(2023, 1, 1), Decimal(-1500)),
    ]
    assert abs(xirr(flows).rate - Decimal("0.1")) < Decimal("1e-30")


def test_int_amounts_are_accepted_and_floats_refused():
    assert xirr([(date(2023, 1, 1), -1000), (date(2024, 1, 1), 1100)]).status == "ok"
    with pytest.raises(TypeError):
        xirr([(date(2023, 1, 1), -1000.0), (date(2024, 1, 1), 1100.0)])


def test_solve_bracketed_needs_a_sign_change():
    with localcontext(SOLVER_CONTEXT):
        root = solve_bracketed(
            lambda x: x * x - 2, Decimal(0), Decimal(2), tolerance=Decimal("1e-35")
        )
        assert abs(root - Decimal(2).sqrt()) < Decimal("1e-34")
        with pytest.raises(ValueError, match="sign change"):
            solve_bracketed(lambda x: x * x + 1, Decimal(-1), Decimal(1), tolerance=Decimal(1))


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    invested=st.decimals(min_value=1, max_value=10**9, places=2),
    returns=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=20 * 365),
            st.decimals(min_value=Decimal("0.01"), max_value=10**9, places=2),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_investment_then_returns_has_a_unique_rate_that_zeroes_the_npv(start, invested, returns):
    flows = [(start, -invested)]
    flows += [(start + timedelta(days=days), amount) for days, amount in returns]
    result = xirr(flows)
    assert result.status == XirrStatus.OK
    assert result.rate >= -1
    # The rate has 40 significant digits, so 1 + rate keeps fewer of them after a near-total
    # loss (0.11 back on 1.00 after 9 days is 1 + rate = 1.2e-39): check the NPV where 1 + rate
    # still has over 34 digits.
    if result.rate > Decimal("-0.999999"):
        # The NPV at the rate is zero relative to the money involved.
        scale = invested + sum(amount for _, amount in returns)
        assert abs(npv(flows, result.rate)) <= scale * Decimal("1e-25")
