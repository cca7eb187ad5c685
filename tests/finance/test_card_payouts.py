"""Wallet withdrawals back to a card, against localstripe: approving sends Stripe refunds of
the investor's card payments (spread over several when one is too small, never more than a
payment captured less what it already refunded) and only then posts the ledger; a Stripe
failure leaves the withdrawal awaiting approval and the ledger as it was."""

import datetime
from decimal import Decimal

import pytest
import stripe
from django.core.management import call_command

from finance import returns_services as rs
from finance import services
from finance.ledger import Leg, Transaction, balance, post_transaction
from finance.money import Money
from finance.offerings import Offering, Payment, Refund
from finance.payments.stripe_provider import StripeProvider, stripe_client
from finance.returns import PayoutRequest
from tests.conftest import enable_totp
from tests.factories import StaffFactory, UserFactory
from tests.finance.builders import make_offering
from tests.finance.conftest import make_card_pledge, make_investor
from tests.finance.test_stripe import pay_with

D = Decimal


def card_payment(investor, offering, amount: str) -> Payment:
    """A pledge paid by card through localstripe, as the pledge page and the webhook do."""
    pledge = make_card_pledge(offering, amount=amount, investor=investor)
    provider = StripeProvider()
    payment = provider.start(pledge=pledge)
    pay_with(payment.provider_reference, "pm_card_visa")
    payment = provider.sync(payment=payment)
    assert payment.status == Payment.Status.SUCCEEDED
    return payment


def disburse(offering: Offering) -> None:
    services.offering_close(offering=offering, now=offering.closes_at + datetime.timedelta(1))
    services.disbursement_approve(offering=offering, by=UserFactory(is_staff=True))
    services.disbursement_approve(offering=offering, by=UserFactory(is_staff=True))
    offering.refresh_from_db()
    assert offering.status == Offering.Status.DISBURSED


def credit_wallet(investor, amount: str, key: str) -> None:
    """Returns that reached the wallet (as a coupon or a repayment would bring them)."""
    money = Money(amount, "USD")
    post_transaction(
        idempotency_key=f"test-credit:{key}",
        kind="returns.coupon",
        legs=[
            (services.external_account("USD"), -money),
            (services.wallet_account(investor, "USD"), money),
        ],
    )


@pytest.fixture
def card_investor(localstripe, db):
    """An investor who paid 100 USD then 20 USD by card (101.50 and 20.30 with the fee) into
    an offering since disbursed."""
    person = make_investor()
    offering = make_offering(target=D("120"), min_ticket=D("10"))
    first = card_payment(person, offering, "100")
    second = card_payment(person, offering, "20")
    disburse(offering)
    return person, first, second


@pytest.fixture
def approver(db):
    member = StaffFactory()
    enable_totp(member)  # the withdrawals review is a back-office page
    return member


def approve(client, approver, payout):
    client.force_login(approver)
    return client.post(
        f"/en/payouts/{payout.pk}/decide/", {"decision": "approve"}, follow=True
    ).content.decode()


def stripe_refunds(payment: Payment) -> list[int]:
    listed = stripe_client().v1.refunds.list(params={"payment_intent": payment.provider_reference})
    return sorted(refund.amount for refund in listed.data)


def refuse_refunds_of(payment: Payment, monkeypatch) -> None:
    """Stripe refuses every refund of this payment, as it does once its charge is disputed;
    other payments' refunds go through."""
    real_refund = StripeProvider._create_refund

    def refuse(self, *, intent_id, amount_minor, idempotency_key):
        if intent_id == payment.provider_reference:
            raise stripe.InvalidRequestError("This charge is disputed.", param="payment_intent")
        return real_refund(
            self, intent_id=intent_id, amount_minor=amount_minor, idempotency_key=idempotency_key
        )

    monkeypatch.setattr(StripeProvider, "_create_refund", refuse)


def reconcile_strict():
    call_command("reconcile", "--strict", verbosity=0)


def test_card_payout_refunds_at_stripe_then_posts_the_ledger(
    client, card_investor, approver, localstripe
):
    person, first, second = card_investor
    credit_wallet(person, "15.00", "a")
    client.force_login(person)
    assert "up to $121.80" in client.get("/en/wallet/").content.decode()
    payout = rs.payout_request(
        investor=person, amount=Money("15.00", "USD"), destination="card", idempotency_key="w1"
    )
    assert balance(rs.payout_hold_account(person, "USD")).amount == D("15.00")

    body = approve(client, approver, payout)

    assert "sent back to the card" in body
    payout.refresh_from_db()
    assert payout.status == PayoutRequest.Status.APPROVED
    # The newest payment (20.30) is enough on its own.
    refund = Refund.objects.get()
    assert (refund.payment_id, refund.amount_minor) == (second.pk, 1500)
    stored = localstripe.stored("refund", refund.provider_reference)
    assert (stored.amount, stored.payment_intent) == (1500, second.provider_reference)
    assert stripe_refunds(first) == []
    second.refresh_from_db()
    assert second.refunded_minor == 1500
    paid = Transaction.objects.get(idempotency_key=f"payout:{payout.pk}:paid")
    assert paid.kind == "payout.paid"
    assert balance(rs.payout_hold_account(person, "USD")).amount == 0
    assert balance(services.wallet_account(person, "USD")).amount == 0
    reconcile_strict()

    # Approving twice sends nothing more.
    approve(client, approver, payout)
    assert Refund.objects.count() == 1 and stripe_refunds(second) == [1500]


def test_card_payout_spreads_over_payments_within_what_each_can_still_refund(
    card_investor, approver, localstripe
):
    person, first, second = card_investor
    credit_wallet(person, "120.00", "b")
    # A first withdrawal takes 20.00 of the 20.30 the newest payment captured...
    earlier = rs.payout_request(
        investor=person, amount=Money("20.00", "USD"), destination="card", idempotency_key="w1"
    )
    rs.payout_approve(payout=earlier, by=approver)
    # ...so a second one of 100.00 takes its last 0.30 and 99.70 of the older payment.
    payout = rs.payout_request(
        investor=person, amount=Money("100.00", "USD"), destination="card", idempotency_key="w2"
    )
    rs.payout_approve(payout=payout, by=approver)

    first.refresh_from_db()
    second.refresh_from_db()
    assert second.refunded_minor == second.captured_minor == 2030
    assert first.refunded_minor == 9970 and first.captured_minor == 10150
    assert stripe_refunds(second) == [30, 2000]
    assert stripe_refunds(first) == [9970]
    assert sorted(r.amount_minor for r in rs.payout_card_refunds(payout)) == [30, 9970]
    # What is left on the cards (1.80) is all a further card withdrawal may take.
    assert rs.card_payout_room(person, "USD") == Money("1.80", "USD")
    with pytest.raises(rs.WalletRefused, match="At most"):
        rs.payout_request(
            investor=person, amount=Money("2.00", "USD"), destination="card", idempotency_key="w3"
        )
    assert balance(services.wallet_account(person, "USD")).amount == 0
    reconcile_strict()


def test_stripe_unreachable_leaves_the_payout_waiting_and_the_ledger_unchanged(
    client, card_investor, approver, localstripe, settings
):
    person, _first, second = card_investor
    credit_wallet(person, "10.00", "c")
    payout = rs.payout_request(
        investor=person, amount=Money("10.00", "USD"), destination="card", idempotency_key="w1"
    )
    legs_before = Leg.objects.count()
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port

    body = approve(client, approver, payout)

    assert "The card refund did not go through" in body
    assert "nothing was booked" in body
    payout.refresh_from_db()
    assert payout.status == PayoutRequest.Status.REQUESTED
    assert Leg.objects.count() == legs_before
    assert not Refund.objects.exists()
    second.refresh_from_db()
    assert second.refunded_minor == 0
    assert balance(rs.payout_hold_account(person, "USD")).amount == D("10.00")
    # Staff see the failure next to the withdrawal.
    review = client.get("/en/payouts/review/").content.decode()
    assert "data-payout-failure" in review and "not answering" in review
    reconcile_strict()

    # Stripe is back: approving again goes through, once.
    settings.STRIPE_API_BASE = localstripe.base_url
    approve(client, approver, payout)
    payout.refresh_from_db()
    assert payout.status == PayoutRequest.Status.APPROVED
    assert stripe_refunds(second) == [1000]
    assert "data-payout-failure" not in client.get("/en/payouts/review/").content.decode()
    reconcile_strict()


def test_stripe_refusing_the_second_payment_books_nothing_and_resumes_without_refunding_twice(
    card_investor, approver, localstripe, monkeypatch
):
    person, first, second = card_investor
    credit_wallet(person, "50.00", "d")
    payout = rs.payout_request(
        investor=person, amount=Money("50.00", "USD"), destination="card", idempotency_key="w1"
    )
    legs_before = Leg.objects.count()
    real_refund = StripeProvider._create_refund
    refuse_refunds_of(first, monkeypatch)
    with pytest.raises(rs.PayoutFailed, match="did not go through") as failed:
        rs.payout_approve(payout=payout, by=approver)
    assert "disputed" in failed.value.detail

    payout.refresh_from_db()
    assert payout.status == PayoutRequest.Status.REQUESTED
    # The newer payment's 20.30 did go back and is recorded; the ledger has not moved.
    assert stripe_refunds(second) == [2030] and stripe_refunds(first) == []
    assert Leg.objects.count() == legs_before
    assert not Transaction.objects.filter(idempotency_key=f"payout:{payout.pk}:paid").exists()
    # Room left on the cards: 121.80 captured less 20.30 refunded, less the 29.70 this
    # withdrawal, still waiting, has yet to send back.
    assert rs.card_payout_room(person, "USD") == Money("71.80", "USD")
    reconcile_strict()

    monkeypatch.setattr(StripeProvider, "_create_refund", real_refund)
    rs.payout_approve(payout=payout, by=approver)
    payout.refresh_from_db()
    assert payout.status == PayoutRequest.Status.APPROVED
    assert stripe_refunds(second) == [2030]  # not refunded a second time
    assert stripe_refunds(first) == [2970]
    assert balance(rs.payout_hold_account(person, "USD")).amount == 0
    reconcile_strict()


def test_card_payout_refused_when_no_card_payment_can_take_it(db, approver):
    person = make_investor()
    credit_wallet(person, "10.00", "e")
    with pytest.raises(rs.WalletRefused, match="No card payment"):
        rs.payout_request(
            investor=person, amount=Money("5.00", "USD"), destination="card", idempotency_key="w"
        )
    assert balance(services.wallet_account(person, "USD")).amount == D("10.00")


def test_rejecting_after_part_went_back_to_the_card_pays_that_part_and_returns_the_rest(
    client, card_investor, approver, localstripe, monkeypatch
):
    """Stripe refuses the older payment for good (a dispute): approving can never finish, so
    staff reject. The 20.30 already refunded to the newer payment's card stays paid out; the
    other 29.70 goes back to the wallet, and the withdrawal says so to the investor."""
    person, first, second = card_investor
    credit_wallet(person, "50.00", "f")
    payout = rs.payout_request(
        investor=person, amount=Money("50.00", "USD"), destination="card", idempotency_key="w1"
    )
    refuse_refunds_of(first, monkeypatch)
    assert "did not go through" in approve(client, approver, payout)
    external_before = balance(services.external_account("USD")).amount

    body = client.post(
        f"/en/payouts/{payout.pk}/decide/",
        {"decision": "reject", "reason": "card disputed"},
        follow=True,
    ).content.decode()

    assert "stays paid out" in body
    payout.refresh_from_db()
    assert payout.status == PayoutRequest.Status.PARTIAL
    assert stripe_refunds(second) == [2030] and stripe_refunds(first) == []
    assert balance(rs.payout_hold_account(person, "USD")).amount == 0
    assert balance(services.wallet_account(person, "USD")).amount == D("29.70")
    assert balance(services.external_account("USD")).amount == external_before + D("20.30")
    assert Transaction.objects.get(idempotency_key=f"payout:{payout.pk}:paid").kind == (
        "payout.paid"
    )
    reconcile_strict()

    # Rejecting again changes nothing; approving now is refused.
    legs = Leg.objects.count()
    rs.payout_reject(payout=payout, by=approver, reason="again")
    with pytest.raises(rs.WalletRefused, match="already decided"):
        rs.payout_approve(payout=payout, by=approver)
    assert Leg.objects.count() == legs
    client.force_login(person)
    wallet = client.get("/en/wallet/").content.decode()
    assert 'data-payout-status="partial"' in wallet
    assert "Partly paid out to the card, the rest returned to wallet" in wallet
    assert "Pagado en parte a la tarjeta" in client.get("/es/wallet/").content.decode()


def test_a_withdrawal_wholly_refunded_to_the_card_is_approved_not_rejected(
    card_investor, approver, localstripe
):
    person, first, second = card_investor
    credit_wallet(person, "15.00", "g")
    payout = rs.payout_request(
        investor=person, amount=Money("15.00", "USD"), destination="card", idempotency_key="w1"
    )
    # The refunds went out, then the process stopped before booking them.
    rs._payout_send_to_cards(payout=payout, by=approver)
    with pytest.raises(rs.WalletRefused, match="approve it"):
        rs.payout_reject(payout=payout, by=approver, reason="")
    assert rs.payout_approve(payout=payout, by=approver).status == PayoutRequest.Status.APPROVED
    reconcile_strict()
