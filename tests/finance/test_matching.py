"""Matching (3x1 style): each sponsor's match is truncated to the minor unit,
limited per contributor, and when a sponsor's cap for the offering cannot
cover every pledge matched together, what is left is split by the
largest-remainder method. Bank statement imports match their pledges
together; a single payment is a batch of one. Matching goes back with the
contribution it matched, and the page says when a pool is spent."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finance import services
from finance.ledger import balance
from finance.money import minor_unit_exponent
from finance.offerings import MatchAllocation, MatchingPool, Pledge
from finance.statements_import import import_statement
from tests.factories import OrganizationFactory, UserFactory

from .builders import make_offering, make_pledge, next_key, pay


def pool(ratio="1", cap="1000", committed="0", per_contributor=None) -> MatchingPool:
    """An unsaved pool: match_amounts only reads its terms."""
    return MatchingPool(
        ratio=Decimal(ratio),
        cap_per_offering=Decimal(cap),
        committed=Decimal(committed),
        cap_per_contributor=None if per_contributor is None else Decimal(per_contributor),
    )


def matches(the_pool, contributions, currency="USD", already=None) -> list[str]:
    amounts = services.match_amounts(
        pool=the_pool,
        contributions=[(who, Decimal(amount)) for who, amount in contributions],
        already_by_contributor={k: Decimal(v) for k, v in (already or {}).items()},
        currency=currency,
    )
    return [str(amount) for amount in amounts]


# --- The arithmetic, by hand ----------------------------------------------------------------


def test_each_match_is_truncated_to_the_minor_unit():
    # 100.01 x 0.333 = 33.30333 USD; 1001 x 0.5 = 500.5 JPY; 10.001 x 0.333 = 3.330333 KWD.
    assert matches(pool("0.333"), [("ana", "100.01")]) == ["33.30"]
    assert matches(pool("0.5", cap="100000"), [("ana", "1001")], "JPY") == ["500"]
    assert matches(pool("0.333"), [("ana", "10.001")], "KWD") == ["3.330"]


def test_a_binding_cap_is_split_by_largest_remainder_in_yen():
    # 2001 left for matches of 1000 and 3000: exact shares 500.25 and 1500.75;
    # floors 500 + 1500, and the one yen left goes to the larger remainder.
    contributions = [("ana", "1000"), ("ben", "3000")]
    assert matches(pool(cap="2001"), contributions, "JPY") == ["500", "1501"]
    # 2002 left: 500.5 and 1501.5 tie on the remainder; the larger match wins.
    assert matches(pool(cap="2002"), contributions, "JPY") == ["500", "1502"]
    # Equal matches tie on everything: the earlier pledge wins.
    assert matches(pool(cap="10"), [("a", "5"), ("b", "5"), ("c", "5")], "JPY") == ["4", "3", "3"]


def test_a_binding_cap_is_split_to_the_fils_in_dinars():
    # 2.000 KWD left for three matches of 1.000: 0.666 each and two fils over,
    # which go to the first two.
    contributions = [("a", "1.000"), ("b", "1.000"), ("c", "1.000")]
    assert matches(pool(cap="2.000"), contributions, "KWD") == ["0.667", "0.667", "0.666"]
    # What is left is counted from what the pool already committed.
    assert matches(pool(cap="5.000", committed="3.000"), contributions, "KWD") == [
        "0.667",
        "0.667",
        "0.666",
    ]


def test_cap_per_contributor_counts_earlier_matches_and_the_batch_itself():
    capped = pool(cap="10000", per_contributor="150")
    assert matches(capped, [("ana", "100"), ("ana", "100"), ("ben", "100")]) == [
        "100.00",
        "50.00",
        "100.00",
    ]
    assert matches(capped, [("ana", "100")], already={"ana": "130"}) == ["20.00"]
    assert matches(capped, [("ana", "100")], already={"ana": "150"}) == ["0.00"]


def test_the_offering_cap_split_never_lifts_anyone_past_their_own_cap():
    # Ana may receive 30 more; the 60 left is split by 30 : 100 : 50.
    capped = pool(cap="260", committed="200", per_contributor="150")
    result = matches(capped, [("ana", "100"), ("ben", "100"), ("cy", "50")], already={"ana": "120"})
    assert result == ["10.00", "33.33", "16.67"]  # 10, 33.333.., 16.666..: one cent to cy


def test_a_spent_pool_matches_nothing():
    assert matches(pool(cap="100", committed="100"), [("a", "10"), ("b", "20")]) == [
        "0.00",
        "0.00",
    ]


CURRENCIES = ["USD", "JPY", "KWD"]


@st.composite
def matching_case(draw):
    currency = draw(st.sampled_from(CURRENCIES))
    places = minor_unit_exponent(currency)
    money = st.integers(min_value=1, max_value=10**7).map(lambda n: Decimal(n).scaleb(-places))
    contributions = draw(st.lists(st.tuples(st.integers(0, 4), money), min_size=1, max_size=12))
    ratio = Decimal(draw(st.integers(1, 5000))).scaleb(-3)
    cap = Decimal(draw(st.integers(0, 10**7))).scaleb(-places)
    per_contributor = draw(
        st.none() | st.integers(0, 10**6).map(lambda n: Decimal(n).scaleb(-places))
    )
    return currency, contributions, ratio, cap, per_contributor


@given(matching_case())
@settings(max_examples=300, deadline=None)
def test_allocations_never_exceed_the_cap_and_use_it_exactly(case):
    currency, contributions, ratio, cap, per_contributor = case
    quantum = Decimal(1).scaleb(-minor_unit_exponent(currency))
    terms = MatchingPool(ratio=ratio, cap_per_offering=cap, cap_per_contributor=per_contributor)
    amounts = services.match_amounts(
        pool=terms, contributions=contributions, already_by_contributor={}, currency=currency
    )
    truncated = [
        (amount * ratio).quantize(quantum, rounding="ROUND_DOWN") for _, amount in contributions
    ]
    assert len(amounts) == len(contributions)
    assert all(a >= 0 and a == a.quantize(quantum) for a in amounts)
    assert all(a <= t for a, t in zip(amounts, truncated, strict=True))
    assert sum(amounts) <= cap
    if per_contributor is None:
        assert sum(amounts) == min(cap, sum(truncated))
    else:
        received: dict[int, Decimal] = {}
        for (who, _), amount in zip(contributions, amounts, strict=True):
            received[who] = received.get(who, 0) + amount
        assert all(total <= per_contributor for total in received.values())


# --- Pledges matched together, in the database ---------------------------------------------------


def paid_pledge(offering, amount, investor=None) -> Pledge:
    """A pledge marked paid without being matched (as inside a batch)."""
    return Pledge.objects.create(
        offering=offering,
        investor=investor or UserFactory(verification_tier="enhanced"),
        amount=Decimal(amount),
        currency=offering.currency,
        idempotency_key=next_key(),
        status=Pledge.Status.PAID,
        expires_at=offering.closes_at,
    )


def sponsor_pool(offering, name, **terms) -> MatchingPool:
    return MatchingPool.objects.create(
        offering=offering, sponsor=OrganizationFactory(name=name), **terms
    )


@pytest.mark.django_db
def test_three_sponsors_each_add_one_for_one_to_a_batch():
    offering = make_offering(target=Decimal("10000"))
    pools = [
        sponsor_pool(offering, name, ratio=1, cap_per_offering=Decimal("1000"))
        for name in ("Municipio", "Estado", "Federación")
    ]
    pledges = [paid_pledge(offering, "100"), paid_pledge(offering, "40")]
    matched = services.pledges_allocate_matching(pledges=pledges)
    # 100 brings 100 from each of three sponsors; 40 brings 40 from each.
    assert matched == {pledges[0].pk: Decimal("300"), pledges[1].pk: Decimal("120")}
    for each in pools:
        each.refresh_from_db()
        assert each.committed == Decimal("140")
    assert balance(services.escrow_account(offering)).amount == Decimal("420")
    # Run again: nothing more.
    assert services.pledges_allocate_matching(pledges=pledges) == {
        pledges[0].pk: 0,
        pledges[1].pk: 0,
    }
    assert MatchAllocation.objects.count() == 6


@pytest.mark.django_db
def test_a_cap_binding_mid_batch_is_shared_not_taken_by_the_first():
    offering = make_offering(target=Decimal("10000"))
    municipio = sponsor_pool(offering, "Municipio", ratio=1, cap_per_offering=Decimal("250"))
    estado = sponsor_pool(
        offering, "Estado", ratio=Decimal("0.5"), cap_per_offering=Decimal("1000")
    )
    pay(make_pledge(offering, "150", method="card"))
    municipio.refresh_from_db()
    assert municipio.committed == Decimal("150")  # alone, the first payment took its full match
    batch = [
        paid_pledge(offering, "100"),
        paid_pledge(offering, "100"),
        paid_pledge(offering, "50"),
    ]
    services.pledges_allocate_matching(pledges=batch)
    # 100 left for matches of 100, 100 and 50: 40, 40 and 20, not 100, 0, 0.
    got = dict(MatchAllocation.objects.filter(pool=municipio).values_list("pledge", "amount"))
    assert [got[p.pk] for p in batch] == [Decimal("40"), Decimal("40"), Decimal("20")]
    municipio.refresh_from_db()
    estado.refresh_from_db()
    assert municipio.committed == municipio.cap_per_offering and municipio.exhausted
    assert estado.committed == Decimal("75") + Decimal("125")  # never bound: half of each


@pytest.mark.django_db
def test_a_batch_respects_the_cap_per_contributor_across_its_pledges():
    offering = make_offering(target=Decimal("10000"))
    capped = sponsor_pool(
        offering,
        "Municipio",
        ratio=1,
        cap_per_offering=Decimal("1000"),
        cap_per_contributor=Decimal("120"),
    )
    ana = UserFactory(verification_tier="enhanced")
    batch = [paid_pledge(offering, "100", ana), paid_pledge(offering, "100", ana)]
    services.pledges_allocate_matching(pledges=batch)
    got = dict(MatchAllocation.objects.filter(pool=capped).values_list("pledge", "amount"))
    assert [got.get(p.pk, 0) for p in batch] == [Decimal("100"), Decimal("20")]


@pytest.mark.django_db
@given(data=st.data())
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_stored_allocations_of_each_pool_sum_to_what_it_could_give(data):
    currency = data.draw(st.sampled_from(CURRENCIES))
    places = minor_unit_exponent(currency)
    quantum = Decimal(1).scaleb(-places)
    amounts = data.draw(
        st.lists(
            st.integers(1, 10**6).map(lambda n: Decimal(n).scaleb(-places)), min_size=1, max_size=6
        )
    )
    terms = data.draw(
        st.lists(st.tuples(st.integers(1, 3000), st.integers(0, 10**6)), min_size=1, max_size=3)
    )
    with transaction.atomic():
        offering = make_offering(currency=currency, target=Decimal("1000000"))
        pools = [
            sponsor_pool(
                offering,
                f"Sponsor {i}",
                ratio=Decimal(ratio).scaleb(-3),
                cap_per_offering=Decimal(cap).scaleb(-places),
            )
            for i, (ratio, cap) in enumerate(terms)
        ]
        pledges = [paid_pledge(offering, str(amount)) for amount in amounts]
        services.pledges_allocate_matching(pledges=pledges)
        for each in pools:
            each.refresh_from_db()
            truncated = sum(
                (a * each.ratio).quantize(quantum, rounding="ROUND_DOWN") for a in amounts
            )
            stored = sum(each.allocations.values_list("amount", flat=True), Decimal("0"))
            assert stored == each.committed == min(each.cap_per_offering, truncated)
            assert each.committed <= each.cap_per_offering
        transaction.set_rollback(True)


# --- The bulk path: a bank statement --------------------------------------------------------------


@pytest.mark.django_db
def test_a_bank_statement_paying_several_pledges_shares_the_last_matching_funds():
    offering = make_offering(currency="EUR", target=Decimal("10000"))
    municipio = sponsor_pool(offering, "Municipio", ratio=1, cap_per_offering=Decimal("100"))
    pledges = [make_pledge(offering, amount) for amount in ("150.00", "50.00")]
    rows = "".join(
        f"25.11.2026;{str(p.total_due.quantize().amount).replace('.', ',')};EUR;"
        f"{p.bank_reference};Ana;E-{i};DE89370400440532013000\n"
        for i, p in enumerate(pledges)
    )
    data = ("Booking date;Amount;Currency;Reference;Remitter;Entry ID;Account\n" + rows).encode()
    import_statement(file_bytes=data, filename="statement.csv", uploaded_by=None)

    assert {p.status for p in Pledge.objects.filter(offering=offering)} == {"paid"}
    got = dict(MatchAllocation.objects.filter(pool=municipio).values_list("pledge", "amount"))
    # 100 for matches of 150 and 50: 75 and 25 (one at a time it was 100 and 0).
    assert [got[p.pk] for p in pledges] == [Decimal("75"), Decimal("25")]
    assert balance(services.escrow_account(offering)).amount == Decimal("300")
    offering.project.refresh_from_db()
    assert offering.project.amount_raised == Decimal("300")
    call_command("reconcile", "--strict", verbosity=0)


# --- Matching goes back with its contribution; the page shows a spent pool ----------------------


@pytest.mark.django_db
def test_a_refund_gives_the_matching_back_and_frees_the_pool():
    offering = make_offering(target=Decimal("10000"))
    municipio = sponsor_pool(offering, "Municipio", ratio=1, cap_per_offering=Decimal("100"))
    estado = sponsor_pool(offering, "Estado", ratio=2, cap_per_offering=Decimal("1000"))
    investor = UserFactory(verification_tier="enhanced")
    first = make_pledge(offering, "100", investor=investor)
    pay(first)
    municipio.refresh_from_db()
    assert municipio.exhausted
    services.pledge_cancel(pledge=first, by=investor)
    for each in (municipio, estado):
        each.refresh_from_db()
        assert each.committed == 0
    assert set(MatchAllocation.objects.values_list("released", flat=True)) == {True}
    assert balance(services.escrow_account(offering)).amount == 0
    assert balance(services.matching_account(municipio, "USD")).amount == 0
    # The freed funds match the next contribution.
    second = make_pledge(offering, "80")
    pay(second)
    municipio.refresh_from_db()
    assert municipio.committed == Decimal("80")
    call_command("reconcile", "--strict", verbosity=0)


@pytest.mark.django_db
def test_an_all_or_nothing_failure_returns_every_match():
    offering = make_offering(target=Decimal("10000"))
    municipio = sponsor_pool(offering, "Municipio", ratio=1, cap_per_offering=Decimal("500"))
    for amount in ("100", "200"):
        pay(make_pledge(offering, amount))
    services.offering_close(
        offering=offering, now=offering.closes_at + datetime.timedelta(seconds=1)
    )
    municipio.refresh_from_db()
    assert municipio.committed == 0
    assert balance(services.escrow_account(offering)).amount == 0
    call_command("reconcile", "--strict", verbosity=0)


@pytest.mark.django_db
def test_the_project_page_says_when_matching_funds_are_spent(client):
    offering = make_offering(target=Decimal("10000"))
    project = offering.project
    project.slug = "cooperative-still"
    project.save()
    sponsor_pool(offering, "Municipio", ratio=1, cap_per_offering=Decimal("100"))
    page = f"/en/projects/{project.slug}/"
    assert "Matching funds exhausted" not in client.get(page).content.decode()
    pay(make_pledge(offering, "100"))
    html = client.get(page).content.decode()
    assert "Matching funds exhausted" in html and "Municipio" in html


# --- At closing, funds a cancellation freed go to the contributions cut short -------------------


def close_now(offering):
    return services.offering_close(
        offering=offering, now=offering.closes_at + datetime.timedelta(seconds=1)
    )


def allocated(pledge) -> Decimal:
    return sum(
        MatchAllocation.objects.filter(pledge=pledge, released=False).values_list(
            "amount", flat=True
        ),
        Decimal(0),
    )


@pytest.mark.django_db
def test_closing_tops_up_a_match_the_cap_cut_short_once_a_cancellation_freed_funds():
    offering = make_offering(target=Decimal("100"), hard_cap=Decimal("1000"))
    municipio = sponsor_pool(offering, "Municipio", ratio=1, cap_per_offering=Decimal("150"))
    ana = UserFactory(verification_tier="enhanced")
    first = make_pledge(offering, "100", investor=ana)
    pay(first)
    cut_short = make_pledge(offering, "100")
    pay(cut_short)
    assert allocated(cut_short) == Decimal("50")  # the cap bound
    services.pledge_cancel(pledge=first, by=ana)  # gives its 100 back to the pool
    late = make_pledge(offering, "30")
    pay(late)  # first come: matched in full from the freed funds
    municipio.refresh_from_db()
    assert municipio.committed == Decimal("80")

    close_now(offering)

    offering.refresh_from_db()
    municipio.refresh_from_db()
    assert offering.status == offering.Status.SUCCEEDED
    assert allocated(cut_short) == Decimal("100")  # topped up by 50
    assert allocated(late) == Decimal("30")
    assert municipio.committed == Decimal("130")
    assert balance(services.matching_account(municipio, "USD")).amount == Decimal("-130")
    # Contributions and matches all went on to the project.
    assert balance(services.payable_account(offering)).amount == Decimal("260")
    assert balance(services.escrow_account(offering)).amount == 0
    offering.project.refresh_from_db()
    assert offering.project.amount_raised == Decimal("260")
    call_command("reconcile", "--strict", verbosity=0)
    # Closing again changes nothing.
    close_now(offering)
    municipio.refresh_from_db()
    assert municipio.committed == Decimal("130")


@pytest.mark.django_db
def test_closing_shares_freed_funds_by_largest_remainder_among_the_short():
    offering = make_offering(currency="JPY", target=Decimal("100"), hard_cap=Decimal("1000"))
    municipio = sponsor_pool(offering, "Municipio", ratio=1, cap_per_offering=Decimal("101"))
    ana = UserFactory(verification_tier="enhanced")
    first = make_pledge(offering, "101", investor=ana)
    pay(first)
    short_30, short_70 = make_pledge(offering, "30"), make_pledge(offering, "70")
    pay(short_30)
    pay(short_70)
    assert (allocated(short_30), allocated(short_70)) == (0, 0)  # the pool was spent
    services.pledge_cancel(pledge=first, by=ana)
    late = make_pledge(offering, "50")
    pay(late)  # takes 50 of the 101 freed: 51 left

    close_now(offering)

    # 51 for shortfalls of 30 and 70: exact shares 15.3 and 35.7; floors 15 + 35,
    # and the one yen over goes to the larger remainder.
    assert (allocated(short_30), allocated(short_70), allocated(late)) == (15, 36, 50)
    municipio.refresh_from_db()
    assert municipio.exhausted
    call_command("reconcile", "--strict", verbosity=0)
