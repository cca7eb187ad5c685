"""Pledging: idempotency, capacity, limits, knowledge test, expiry,
cancellation, matching, closing and disbursement, and what the ledger says
after each."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from stdnum import iso11649

from finance import services
from finance.ledger import balance
from finance.offerings import KnowledgeTestPass, MatchingPool, Offering, Payment, Pledge
from portal.models import Organization
from tests.conftest import ON_POSTGRES
from tests.factories import OrganizationFactory, UserFactory

from .builders import make_offering, next_key, pay, recording

pytestmark = pytest.mark.django_db


def pledge(offering, investor=None, amount="100", method="card", key=None):
    investor = investor or UserFactory(verification_tier="enhanced")
    return services.pledge_create(
        offering=offering,
        investor=investor,
        amount=Decimal(amount),
        method=method,
        idempotency_key=key or next_key(),
    )


def reconcile_clean():
    call_command("reconcile", "--strict", verbosity=0)


# Unverified investors have a yearly limit: the key is looked up before it is checked.
# Enhanced ones have none: the pledge's INSERT finds the key.
@pytest.mark.parametrize("tier", ["unverified", "enhanced"])
def test_same_key_makes_one_pledge_and_reserves_once(tier):
    offering = make_offering()
    investor = UserFactory(verification_tier=tier)
    first = pledge(offering, investor, key="form-key-1")
    again = pledge(offering, investor, key="form-key-1")
    assert first.pk == again.pk
    offering.refresh_from_db()
    assert offering.reserved == Decimal("100")
    assert Pledge.objects.count() == 1


@pytest.mark.parametrize(
    "amount, message",
    [
        ("5", "minimum pledge"),
        ("0", "greater than zero"),
        ("-10", "greater than zero"),
        ("10.001", "at most 2 decimals"),
        ("6000", "Only"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(amount, message):
    offering = make_offering(target=Decimal("5000"))
    with pytest.raises(services.PledgeRefused, match=message):
        pledge(offering, amount=amount)
    offering.refresh_from_db()
    assert offering.reserved == 0


def test_the_last_of_an_offering_can_be_taken_and_nothing_past_it():
    offering = make_offering(target=Decimal("500"), hard_cap=Decimal("500"))
    pledge(offering, amount="400")
    with pytest.raises(services.PledgeRefused, match="Only"):
        pledge(offering, amount="200")
    pledge(offering, amount="100")
    offering.refresh_from_db()
    assert offering.reserved == Decimal("500")
    Offering.objects.filter(pk=offering.pk).update(closes_at=timezone.now())
    with pytest.raises(services.PledgeRefused, match="not open"):  # full, but closed first
        pledge(offering, amount="100")


def test_pledging_and_paying_cost_a_fixed_number_of_queries():
    offering = make_offering()
    pay(pledge(offering))  # the ledger's accounts exist from the first payment on
    investor = UserFactory(verification_tier="enhanced")
    with CaptureQueriesContext(connection) as queries:
        # In a savepoint: the pledge, then the reservation (which sets the lock timeout on
        # PostgreSQL). No limit for this investor, so no look-up of the key first.
        made = pledge(offering, investor)
    assert len(queries) == 4, [q["sql"] for q in queries]
    payment = recording.start(pledge=made)
    Payment.objects.filter(pk=payment.pk).update(
        status=Payment.Status.SUCCEEDED, captured_minor=payment.amount_minor
    )
    payment.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        # In a savepoint: the pledge and payment locked in one statement, the accounts,
        # the transaction and its legs (one statement on PostgreSQL), the pledge, the audit
        # entry, the matching pools, the project's figures (the investor's notice is
        # written once this commits). The money comes from outside, an account that may
        # go negative: no lock, no balance check, no look-up of the key.
        services.pledge_mark_paid(payment=payment)
    assert len(queries) == (9 if ON_POSTGRES else 10), [q["sql"] for q in queries]
    made.refresh_from_db()
    assert made.status == Pledge.Status.PAID


def test_maximum_ticket_and_closed_offering_refused():
    offering = make_offering(max_ticket=Decimal("500"))
    with pytest.raises(services.PledgeRefused, match="maximum"):
        pledge(offering, amount="501")
    Offering.objects.filter(pk=offering.pk).update(closes_at=timezone.now())
    offering.refresh_from_db()
    with pytest.raises(services.PledgeRefused, match="not open"):
        pledge(offering)


def test_refusals_show_amounts_the_way_the_investors_language_writes_them():
    offering = make_offering(max_ticket=Decimal("1500"))
    with translation.override("fr"), pytest.raises(services.PledgeRefused) as refused:
        pledge(offering, amount="1501")
    assert "1\u202f500,00\xa0$US" in str(refused.value), str(refused.value)
    with translation.override("en"), pytest.raises(services.PledgeRefused) as refused:
        pledge(offering, amount="1501")
    assert "$1,500.00" in str(refused.value), str(refused.value)


def test_zero_decimal_currency_accepts_whole_units_only():
    offering = make_offering(currency="JPY", target=Decimal("500000"), min_ticket=Decimal("1000"))
    assert pledge(offering, amount="5000").amount == Decimal("5000")
    with pytest.raises(services.PledgeRefused, match="JPY amounts are whole numbers"):
        pledge(offering, amount="5000.5")


def test_first_loan_pledge_needs_the_knowledge_test():
    offering = make_offering(
        instrument="loan",
        annual_rate=Decimal("0.08"),
        tenor_months=24,
        periods_per_year=12,
        schedule_type="annuity",
    )
    investor = UserFactory()
    with pytest.raises(services.KnowledgeTestRequired):
        pledge(offering, investor)
    KnowledgeTestPass.objects.create(
        investor=investor, score=100, risk_acknowledged_at=timezone.now()
    )
    assert pledge(offering, investor).status == Pledge.Status.PENDING


def test_investment_limit_depends_on_verification_tier():
    offering = make_offering(target=Decimal("50000"))
    investor = UserFactory()  # unverified: 1,000 USD a year
    pledge(offering, investor, amount="900")
    with pytest.raises(services.PledgeRefused, match="investment limit") as refused:
        pledge(offering, investor, amount="200")
    # The refusal says the limit and what is left of it.
    assert "$1,000.00 over 12 months, of which $100.00 is left" in str(refused.value)
    investor.verification_tier = "identity_verified"
    investor.save()
    assert pledge(offering, investor, amount="200").amount == Decimal("200")


def test_bank_transfer_pledges_get_unique_valid_rf_references():
    offering = make_offering()
    references = {pledge(offering, method="bank_transfer").bank_reference for _ in range(20)}
    assert len(references) == 20
    assert all(iso11649.is_valid(ref) and ref.startswith("RF") for ref in references)


def test_unpaid_pledges_expire_and_release_capacity():
    offering = make_offering(target=Decimal("200"))
    stale = pledge(offering, amount="150")
    Pledge.objects.filter(pk=stale.pk).update(expires_at=timezone.now() - datetime.timedelta(1))
    with pytest.raises(services.PledgeRefused):
        pledge(offering, amount="100")
    assert services.pledges_expire_due() == 1
    assert services.pledges_expire_due() == 0
    stale.refresh_from_db()
    assert stale.status == Pledge.Status.EXPIRED
    assert pledge(offering, amount="100").status == Pledge.Status.PENDING


def test_payment_posts_the_ledger_once_with_the_fee_apart():
    offering = make_offering()
    p = pledge(offering, amount="100", method="card")
    assert p.fee == Decimal("1.50")
    payment = pay(p)
    services.pledge_mark_paid(payment=payment)  # a replayed confirmation
    p.refresh_from_db()
    assert p.status == Pledge.Status.PAID
    assert balance(services.escrow_account(offering)).amount == Decimal("100")
    assert balance(services.fees_account("USD")).amount == Decimal("1.50")
    reconcile_clean()


def test_cancel_in_reflection_period_refunds_everything_through_the_provider():
    offering = make_offering()
    investor = UserFactory()
    p = pledge(offering, investor, amount="100")
    pay(p)
    services.pledge_cancel(pledge=p, by=investor)
    p.refresh_from_db()
    offering.refresh_from_db()
    assert p.status == Pledge.Status.REFUNDED
    assert offering.reserved == 0
    assert recording.refunds[-1][1] == 10150  # 101.50 USD in cents, fee included
    assert balance(services.escrow_account(offering)).amount == 0
    assert balance(services.fees_account("USD")).amount == 0
    reconcile_clean()


def test_cancel_to_wallet_credits_the_wallet():
    offering = make_offering()
    investor = UserFactory()
    p = pledge(offering, investor, amount="40", method="bank_transfer")
    pay(p)
    services.pledge_cancel(pledge=p, by=investor, to_wallet=True)
    assert balance(services.wallet_account(investor, "USD")).amount == Decimal("40")


def test_no_cancellation_after_the_reflection_period_or_by_someone_else():
    offering = make_offering()
    investor = UserFactory()
    p = pledge(offering, investor)
    pay(p)
    with pytest.raises(services.PledgeRefused):
        services.pledge_cancel(pledge=p, by=UserFactory())
    Pledge.objects.filter(pk=p.pk).update(created_at=timezone.now() - datetime.timedelta(days=5))
    p.refresh_from_db()
    with pytest.raises(services.PledgeRefused, match="reflection"):
        services.pledge_cancel(pledge=p, by=investor)


def sponsor(name: str) -> Organization:
    return OrganizationFactory(name=name)


def test_three_for_one_matching_brings_one_from_each_sponsor():
    offering = make_offering(target=Decimal("10000"))
    pools = [
        MatchingPool.objects.create(
            offering=offering, sponsor=sponsor(n), ratio=1, cap_per_offering=Decimal("1000")
        )
        for n in ("Municipio", "Estado", "Federación")
    ]
    p = pledge(offering, amount="100", method="bank_transfer")
    pay(p)
    assert balance(services.escrow_account(offering)).amount == Decimal("400")
    assert all(pool.allocations.get().amount == Decimal("100") for pool in pools)
    reconcile_clean()


def test_matching_truncates_to_the_minor_unit_and_stops_at_caps():
    offering = make_offering(target=Decimal("10000"))
    pool = MatchingPool.objects.create(
        offering=offering,
        sponsor=sponsor("State"),
        ratio=Decimal("0.333"),
        cap_per_offering=Decimal("50"),
        cap_per_contributor=Decimal("40"),
    )
    investor = UserFactory(verification_tier="enhanced")
    pay(pledge(offering, investor, amount="100.01", method="bank_transfer"))
    pool.refresh_from_db()
    assert pool.committed == Decimal("33.30")  # 33.30333 truncated
    pay(pledge(offering, investor, amount="100", method="bank_transfer"))
    pool.refresh_from_db()
    assert pool.committed == Decimal("40.00")  # this contributor's cap binds
    pay(pledge(offering, amount="100", method="bank_transfer"))
    pool.refresh_from_db()
    assert pool.committed == Decimal("50.00") and pool.exhausted  # the offering cap binds


def test_matching_is_refunded_with_the_contribution():
    offering = make_offering()
    pool = MatchingPool.objects.create(
        offering=offering, sponsor=sponsor("Municipio"), ratio=1, cap_per_offering=Decimal("500")
    )
    investor = UserFactory()
    p = pledge(offering, investor, amount="100", method="bank_transfer")
    pay(p)
    services.pledge_cancel(pledge=p, by=investor)
    pool.refresh_from_db()
    assert pool.committed == 0
    assert balance(services.escrow_account(offering)).amount == 0
    reconcile_clean()


def test_all_or_nothing_below_target_refunds_everyone_at_close():
    offering = make_offering(target=Decimal("1000"))
    paid = [pledge(offering, amount="200", method="bank_transfer") for _ in range(2)]
    for p in paid:
        pay(p)
    waiting = pledge(offering, amount="100", method="bank_transfer")
    closed = services.offering_close(
        offering=offering, now=offering.closes_at + datetime.timedelta(seconds=1)
    )
    assert closed.status == Offering.Status.FAILED
    assert {p.status for p in Pledge.objects.filter(pk__in=[x.pk for x in paid])} == {"refunded"}
    waiting.refresh_from_db()
    assert waiting.status == Pledge.Status.EXPIRED
    assert balance(services.escrow_account(offering)).amount == 0
    reconcile_clean()


def test_successful_offering_moves_escrow_to_payable_and_needs_two_staff_to_disburse():
    offering = make_offering(target=Decimal("300"), hard_cap=Decimal("300"))
    for _ in range(3):
        pay(pledge(offering, amount="100", method="bank_transfer"))
    # The hard cap is reached; the closing waits for the last reflection period.
    last_reflection_ends = services.reflection_ends_at(offering)
    assert services.offering_close(offering=offering).status == Offering.Status.OPEN
    closed = services.offering_close(offering=offering, now=last_reflection_ends)
    assert closed.status == Offering.Status.SUCCEEDED
    assert balance(services.payable_account(offering)).amount == Decimal("300")
    first, second = UserFactory(is_staff=True), UserFactory(is_staff=True)
    services.disbursement_approve(offering=offering, by=first)
    with pytest.raises(services.FinanceError, match="different"):
        services.disbursement_approve(offering=offering, by=first)
    assert balance(services.payable_account(offering)).amount == Decimal("300")
    services.disbursement_approve(offering=offering, by=second)
    offering.refresh_from_db()
    assert offering.status == Offering.Status.DISBURSED
    assert balance(services.payable_account(offering)).amount == 0
    reconcile_clean()


def test_offering_terms_are_validated_per_instrument():
    from django.core.exceptions import ValidationError

    bond = Offering(
        title="Bond",
        instrument="bond",
        currency="USD",
        target=Decimal("1000"),
        min_ticket=Decimal("150"),
        face_value=Decimal("100"),
        opens_at=timezone.now(),
        closes_at=timezone.now() + datetime.timedelta(1),
    )
    with pytest.raises(ValidationError) as error:
        bond.full_clean()
    assert {"annual_rate", "tenor_months", "day_count", "min_ticket", "issuer"} <= set(
        error.value.message_dict
    )
    share = Offering(
        title="Share",
        instrument="revenue_share",
        currency="KWD",
        target=Decimal("1000.0005"),
        min_ticket=Decimal("1"),
        revenue_share=Decimal("1.5"),
        cap_multiple=Decimal("0.9"),
        opens_at=bond.opens_at,
        closes_at=bond.opens_at,
    )
    with pytest.raises(ValidationError) as error:
        share.full_clean()
    assert {"target", "revenue_share", "cap_multiple", "closes_at"} <= set(error.value.message_dict)


def test_catalogue_funding_figures_follow_paid_pledges_and_matching():
    offering = make_offering(target=Decimal("1000"))
    project = offering.project
    project.funding_sought = Decimal("1000")
    project.save()
    MatchingPool.objects.create(
        offering=offering, sponsor=sponsor("Municipio"), ratio=1, cap_per_offering=Decimal("100")
    )
    investor = UserFactory(verification_tier="enhanced")
    first = pledge(offering, investor, amount="150", method="bank_transfer")
    pay(first)
    project.refresh_from_db()
    assert (project.amount_raised, project.funded_percent) == (Decimal("250"), 25)
    services.pledge_cancel(pledge=first, by=investor)
    project.refresh_from_db()
    assert (project.amount_raised, project.funded_percent) == (Decimal("0"), 0)
    pay(pledge(offering, amount="333.33", method="bank_transfer"))
    project.refresh_from_db()
    assert (project.amount_raised, project.funded_percent) == (Decimal("433.33"), 43)
    incremental = (project.amount_raised, project.funded_percent)
    services.project_refresh_funding(project.pk)
    project.refresh_from_db()
    assert (project.amount_raised, project.funded_percent) == incremental
