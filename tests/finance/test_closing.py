"""Closing offerings and giving money back, where it used to slip:

- an offering closes by itself (Celery beat) at its closing date or once paid
  pledges fill its hard cap, never earlier;
- a successful closing waits for the reflection period of every paid pledge,
  so an investor who pledged just before the end may still cancel with a full
  refund, and the target is judged again then;
- a pledge paid from the wallet goes back to the wallet when it is refunded;
- a payment that arrives after its pledge ended goes straight back, instead of
  waiting in escrow until a closing passes it on to the project."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command

from finance import returns_services as rs
from finance import services
from finance.ledger import balance
from finance.offerings import Offering, Payment, Pledge
from finance.tasks import offerings_close
from tests.factories import UserFactory

from .builders import make_offering, make_pledge, next_key, pay, recording
from .test_card_payouts import credit_wallet

pytestmark = pytest.mark.django_db
D = Decimal
REFLECTION = datetime.timedelta(days=settings.PUENTE_REFLECTION_DAYS)


def status(offering) -> str:
    offering.refresh_from_db()
    return offering.status


def escrow(offering) -> Decimal:
    return balance(services.escrow_account(offering)).amount


# --- Closing by itself, and not before its time ----------------------------------------------


def test_beat_closes_offerings_past_their_date_and_leaves_the_others_open():
    due = make_offering(target=D("100"), hard_cap=D("1000"))
    pay(make_pledge(due, "150"))
    later = make_offering(target=D("100"), hard_cap=D("1000"))
    pay(make_pledge(later, "150"))
    after = due.closes_at + datetime.timedelta(minutes=1)
    Offering.objects.filter(pk=later.pk).update(closes_at=after + datetime.timedelta(days=1))

    assert services.offerings_close_due(now=after) == 1

    assert status(due) == Offering.Status.SUCCEEDED
    assert balance(services.payable_account(due)).amount == D("150")
    assert status(later) == Offering.Status.OPEN
    # Run again: nothing more to do.
    assert services.offerings_close_due(now=after) == 0


def test_beat_closes_an_offering_whose_paid_pledges_fill_the_hard_cap():
    offering = make_offering(target=D("100"), hard_cap=D("200"))
    first = make_pledge(offering, "100")
    pay(first)
    pending = make_pledge(offering, "100")
    # Full of pledges, not of payments: an unpaid pledge keeps its chance.
    Pledge.objects.filter(pk=first.pk).update(created_at=first.created_at - REFLECTION)
    assert services.offerings_close_due() == 0
    assert status(offering) == Offering.Status.OPEN
    pay(pending)
    Pledge.objects.filter(pk=pending.pk).update(created_at=pending.created_at - REFLECTION)
    assert offerings_close.delay().get() == 1  # the task as beat runs it
    assert status(offering) == Offering.Status.SUCCEEDED


def test_closing_before_the_date_does_nothing():
    offering = make_offering(target=D("100"), hard_cap=D("1000"))
    pay(make_pledge(offering, "500"))
    assert services.offering_close(offering=offering).status == Offering.Status.OPEN
    assert escrow(offering) == D("500")


# --- The reflection period outlives the closing date ---------------------------------------


def test_a_pledge_made_just_before_the_end_can_still_be_cancelled_after_it():
    offering = make_offering(target=D("100"), hard_cap=D("1000"), funding_rule="keep")
    early = make_pledge(offering, "100")
    pay(early)
    Pledge.objects.filter(pk=early.pk).update(created_at=early.created_at - 2 * REFLECTION)
    investor = UserFactory(verification_tier="enhanced")
    late = make_pledge(offering, "40", investor=investor)
    pay(late)
    end = offering.closes_at + datetime.timedelta(minutes=1)
    Pledge.objects.filter(pk=late.pk).update(created_at=offering.closes_at - datetime.timedelta(1))

    # At the closing date: no new pledges, but not closed while `late` may change their mind.
    assert services.offering_close(offering=offering, now=end).status == Offering.Status.OPEN
    offering.refresh_from_db()
    assert not offering.is_open(end)
    late.refresh_from_db()
    services.pledge_cancel(pledge=late, by=investor)
    late.refresh_from_db()
    assert late.status == Pledge.Status.REFUNDED
    assert escrow(offering) == D("100")

    closed = services.offering_close(offering=offering, now=late.reflection_ends_at())
    assert closed.status == Offering.Status.SUCCEEDED
    assert balance(services.payable_account(offering)).amount == D("100")
    call_command("reconcile", "--strict", verbosity=0)


def test_all_or_nothing_is_judged_when_the_last_reflection_period_ends():
    offering = make_offering(target=D("100"))
    investor = UserFactory(verification_tier="enhanced")
    pledge = make_pledge(offering, "100", investor=investor)
    pay(pledge)
    Pledge.objects.filter(pk=pledge.pk).update(
        created_at=offering.closes_at - datetime.timedelta(hours=1)
    )
    pledge.refresh_from_db()
    end = offering.closes_at + datetime.timedelta(minutes=1)
    assert services.offering_close(offering=offering, now=end).status == Offering.Status.OPEN
    services.pledge_cancel(pledge=pledge, by=investor)  # the target is missed after all
    closed = services.offering_close(offering=offering, now=pledge.reflection_ends_at())
    assert closed.status == Offering.Status.FAILED
    assert escrow(offering) == 0


# --- Money paid from the wallet goes back to the wallet ------------------------------------


def wallet(person) -> Decimal:
    return balance(services.wallet_account(person, "USD")).amount


def test_cancelling_a_pledge_paid_from_the_wallet_puts_the_money_back_there():
    investor = UserFactory(verification_tier="enhanced")
    credit_wallet(investor, "500", key="cancel")
    offering = make_offering(target=D("1000"))
    pledge = rs.wallet_reinvest(
        investor=investor, offering=offering, amount=D("200"), idempotency_key=next_key()
    )
    assert wallet(investor) == D("300")
    services.pledge_cancel(pledge=pledge, by=investor)
    assert wallet(investor) == D("500")
    assert escrow(offering) == 0
    # Refunding again changes nothing.
    pledge.refresh_from_db()
    services.refund_pledge(pledge=pledge)
    assert wallet(investor) == D("500")
    call_command("reconcile", "--strict", verbosity=0)


def test_an_all_or_nothing_failure_refunds_wallet_payments_to_the_wallet():
    investor = UserFactory(verification_tier="enhanced")
    credit_wallet(investor, "500", key="fail")
    offering = make_offering(target=D("10000"))
    rs.wallet_reinvest(
        investor=investor, offering=offering, amount=D("200"), idempotency_key=next_key()
    )
    pay(make_pledge(offering, "100"))
    closed = services.offering_close(
        offering=offering, now=offering.closes_at + datetime.timedelta(1)
    )
    assert closed.status == Offering.Status.FAILED
    assert wallet(investor) == D("500")
    assert escrow(offering) == 0
    call_command("reconcile", "--strict", verbosity=0)


# --- A payment after the pledge ended goes back at once -------------------------------------


@pytest.mark.parametrize("ended_as", ["cancelled", "expired"])
def test_a_payment_arriving_after_the_pledge_ended_is_refunded_not_kept(ended_as):
    offering = make_offering(target=D("100"), hard_cap=D("1000"), funding_rule="keep")
    pay(make_pledge(offering, "100"))
    investor = UserFactory(verification_tier="enhanced")
    late = make_pledge(offering, "50", investor=investor, method="card")
    if ended_as == "cancelled":
        services.pledge_cancel(pledge=late, by=investor)
    else:
        Pledge.objects.filter(pk=late.pk).update(expires_at=late.created_at)
        assert services.pledges_expire_due() == 1
    refunds_before = len(recording.refunds)

    payment = pay(late)  # the card provider confirms it anyway

    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.refunded_minor == payment.captured_minor
    assert recording.refunds[refunds_before:] == [
        (
            payment.pk,
            payment.captured_minor,
            f"refund:payment:{payment.pk}:{payment.captured_minor}",
        )
    ]
    assert escrow(offering) == D("100")
    services.offering_close(offering=offering, now=offering.closes_at + datetime.timedelta(1))
    # Only the pledge that stood went on to the project.
    assert balance(services.payable_account(offering)).amount == D("100")
    call_command("reconcile", "--strict", verbosity=0)
