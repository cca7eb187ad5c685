"""Random sequences of pledge, pay (by a provider, late, or from the wallet),
replayed confirmation, expiry, cancel (refund) and close: after every step
every transaction balances per currency, no account goes below zero where it
must not, refunds never exceed what was captured, and while the offering is
open its escrow holds exactly the paid pledges and their matches, so money
that came back, or came too late, is not left there for the project."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings as settings_module
from django.db.models import F, Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from finance import returns_services, services
from finance.ledger import balance, post_transaction
from finance.money import Money
from finance.offerings import MatchAllocation, MatchingPool, Offering, Payment, Pledge
from finance.reconciliation import reconcile_ledger
from tests.factories import OrganizationFactory, UserFactory

from .builders import make_offering, next_key, pay

pytestmark = pytest.mark.django_db


class PledgeMachine(RuleBasedStateMachine):
    @initialize(
        currency=st.sampled_from(["USD", "JPY", "KWD"]),
        goal=st.integers(min_value=300, max_value=3000),
        all_or_nothing=st.booleans(),
    )
    def open_offering(self, currency, goal, all_or_nothing):
        self.offering = make_offering(
            currency=currency,
            target=Decimal(goal),
            hard_cap=Decimal(goal * 2),
            min_ticket=Decimal("1"),
            funding_rule="all_or_nothing" if all_or_nothing else "keep",
        )
        MatchingPool.objects.create(
            offering=self.offering,
            sponsor=OrganizationFactory(),
            ratio=Decimal("0.5"),
            cap_per_offering=Decimal(goal // 3),
        )
        self.investors = [UserFactory(verification_tier="enhanced") for _ in range(3)]
        self.pledges: list[Pledge] = []

    @rule(
        who=st.integers(0, 2),
        amount=st.integers(1, 800),
        method=st.sampled_from(["card", "bank_transfer"]),
    )
    def make_pledge(self, who, amount, method):
        try:
            self.pledges.append(
                services.pledge_create(
                    offering=self.offering,
                    investor=self.investors[who],
                    amount=Decimal(amount),
                    method=method,
                    idempotency_key=next_key(),
                )
            )
        except services.PledgeRefused:
            pass

    @precondition(lambda self: self.pledges)
    @rule(data=st.data())
    def pay_one(self, data):
        pledge = data.draw(st.sampled_from(self.pledges))
        pledge.refresh_from_db()
        if pledge.status == Pledge.Status.PENDING:
            pay(pledge)

    @precondition(lambda self: self.pledges)
    @rule(data=st.data())
    def pay_whatever_happened(self, data):
        """A provider confirms a payment even for a pledge that has ended."""
        pledge = data.draw(st.sampled_from(self.pledges))
        pledge.refresh_from_db()
        if pledge.method != "bank_transfer":
            pay(pledge)

    @rule(who=st.integers(0, 2), amount=st.integers(1, 400))
    def reinvest_from_wallet(self, who, amount):
        investor, currency = self.investors[who], self.offering.currency
        money = Money(Decimal(amount), currency)
        post_transaction(
            idempotency_key=f"property-credit:{next_key()}",
            kind="returns.coupon",
            legs=[
                (services.external_account(currency), -money),
                (services.wallet_account(investor, currency), money),
            ],
        )
        try:
            self.pledges.append(
                returns_services.wallet_reinvest(
                    investor=investor,
                    offering=self.offering,
                    amount=Decimal(amount),
                    idempotency_key=next_key(),
                )
            )
        except (services.PledgeRefused, returns_services.WalletRefused):
            pass

    @precondition(lambda self: self.pledges)
    @rule(data=st.data())
    def expire_one(self, data):
        pledge = data.draw(st.sampled_from(self.pledges))
        Pledge.objects.filter(pk=pledge.pk).update(expires_at=F("created_at"))
        services.pledges_expire_due()

    @precondition(lambda self: self.pledges)
    @rule(data=st.data())
    def replay_confirmation(self, data):
        pledge = data.draw(st.sampled_from(self.pledges))
        for payment in Payment.objects.filter(pledge=pledge, status="succeeded"):
            services.pledge_mark_paid(payment=payment)

    @precondition(lambda self: self.pledges)
    @rule(data=st.data(), to_wallet=st.booleans())
    def cancel_one(self, data, to_wallet):
        pledge = data.draw(st.sampled_from(self.pledges))
        pledge.refresh_from_db()
        try:
            services.pledge_cancel(pledge=pledge, by=pledge.investor, to_wallet=to_wallet)
        except services.PledgeRefused:
            pass

    @rule()
    def close(self):
        Offering.objects.filter(pk=self.offering.pk).update(
            closes_at=F("opens_at") + datetime.timedelta(seconds=1)
        )
        # After the last reflection period, when a successful closing completes.
        services.offering_close(
            offering=self.offering,
            now=timezone.now()
            + datetime.timedelta(days=settings_module.PUENTE_REFLECTION_DAYS + 1),
        )

    @invariant()
    def ledger_is_consistent(self):
        if not hasattr(self, "offering"):
            return
        assert reconcile_ledger() == []
        assert not Payment.objects.filter(refunded_minor__gt=F("captured_minor")).exists()
        self.offering.refresh_from_db()
        assert 0 <= self.offering.reserved <= self.offering.hard_cap
        held = balance(services.escrow_account(self.offering)).amount
        if self.offering.status == Offering.Status.OPEN:
            paid = Pledge.objects.filter(
                offering=self.offering, status=Pledge.Status.PAID
            ).aggregate(s=Sum("amount"))["s"] or Decimal(0)
            matched = MatchAllocation.objects.filter(
                pool__offering=self.offering, released=False
            ).aggregate(s=Sum("amount"))["s"] or Decimal(0)
            assert held == paid + matched
        else:
            assert held == 0


PledgeMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_random_pledge_sequences_keep_the_ledger_consistent():
    PledgeMachine.TestCase("runTest").runTest()
