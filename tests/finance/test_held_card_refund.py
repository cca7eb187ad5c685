"""Money held for review that came in by card goes back to the same card, through Stripe
(localstripe here): only what is held of each card payment, never more than the offering
holds, once; a Stripe refusal records nothing; only reviewers do it."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, connection, transaction

from finance import returns_services as rs
from finance import services
from finance.ledger import balance
from finance.money import Money
from finance.payments.base import PaymentError
from finance.payments.stripe_provider import StripeProvider, stripe_client
from finance.reconciliation import Difference
from finance.returns import LoanCardPayment
from portal.models import AuditEntry, Notification
from tests.conftest import enable_totp
from tests.factories import StaffFactory, UserFactory
from tests.finance.test_card_repayment import make_loan, start
from tests.finance.test_reconcile_figures import assert_clean, assert_found
from tests.finance.test_returns import assert_ledger_consistent, staff
from tests.finance.test_stripe import pay_with

D = Decimal


def paid_by_card(offering, amount) -> LoanCardPayment:
    """A card payment of the loan, confirmed at localstripe and read back as the webhook
    does."""
    card_payment = start(offering, amount)
    pay_with(card_payment.provider_reference, "pm_card_visa")
    card_payment = rs.loan_card_payment_sync(card_payment=card_payment)
    assert card_payment.status == LoanCardPayment.Status.SUCCEEDED
    return card_payment


def refunded_at_stripe(card_payment) -> int:
    refunds = stripe_client().v1.refunds.list(
        params={"payment_intent": card_payment.provider_reference}
    )
    return sum(int(refund.amount) for refund in refunds.auto_paging_iter())


def clearing() -> Money:
    return balance(services.clearing_account(StripeProvider.name, "USD"))


@pytest.fixture
def loan(localstripe, db):
    return make_loan()


def test_a_card_payment_held_after_a_write_off_goes_back_to_the_card_once(loan):
    offering, _lenders, schedule = loan
    amount = schedule.installments.get(number=1).payment
    card_payment = start(offering, amount)
    rs.loan_write_off(offering=offering, by=staff(), reason="Cooperative closed")
    pay_with(card_payment.provider_reference, "pm_card_visa")
    card_payment = rs.loan_card_payment_sync(card_payment=card_payment)
    assert card_payment.held_reason
    [holding] = rs.card_payments_holding(offering)
    assert holding.refundable == Money(amount, "USD")

    reviewer = StaffFactory()
    refunded = rs.excess_refund_to_card(card_payment=card_payment, by=reviewer)

    assert refunded == Money(amount, "USD")
    card_payment.refresh_from_db()
    assert card_payment.refunded_minor == card_payment.amount_minor
    assert refunded_at_stripe(card_payment) == card_payment.amount_minor
    assert rs.excess_held(offering).amount == 0
    assert clearing().amount == 0  # in through Stripe, and out again through Stripe
    entry = AuditEntry.objects.get(action="returns.excess_refunded_to_card")
    assert entry.actor == reviewer and entry.reason.startswith("re_")
    assert rs.card_payments_holding(offering) == []
    # The entrepreneur who paid is told, with a link to the payment's page.
    [told] = Notification.objects.filter(verb="loan.card_refund")
    assert told.recipient == offering.project.owner
    assert told.message.startswith(f"{Money(amount, 'USD').localized()} held from your card")
    assert told.url == f"/en/loans/{offering.pk}/repay-by-card/{card_payment.pk}/"
    # Asked again (a second click, another reviewer): nothing is left, nothing moves.
    with pytest.raises(rs.HeldMoneyRefused, match="Nothing held"):
        rs.excess_refund_to_card(card_payment=card_payment, by=StaffFactory())
    assert refunded_at_stripe(card_payment) == card_payment.amount_minor
    assert AuditEntry.objects.filter(action="returns.excess_refunded_to_card").count() == 1
    assert_ledger_consistent()


def test_only_what_was_paid_beyond_what_was_due_goes_back(
    client, loan, django_capture_on_commit_callbacks
):
    offering, _lenders, schedule = loan
    first = schedule.installments.get(number=1)
    card_payment = paid_by_card(offering, first.payment + D("25.00"))
    assert card_payment.repayment.excess == D("25.00")
    owner = offering.project.owner
    owner.preferred_language = "es"
    owner.save(update_fields=["preferred_language"])

    with django_capture_on_commit_callbacks(execute=True):
        refunded = rs.excess_refund_to_card(card_payment=card_payment, by=StaffFactory())

    assert refunded == Money("25.00", "USD")
    card_payment.refresh_from_db()
    assert card_payment.refunded_minor == 2500
    assert refunded_at_stripe(card_payment) == 2500
    assert rs.excess_held(offering).amount == 0
    # The entrepreneur's page of that payment says so.
    client.force_login(offering.project.owner)
    body = client.get(f"/en/loans/{offering.pk}/repay-by-card/{card_payment.pk}/").content.decode()
    assert "$25.00 of the money held went back to your card." in body
    # Told in Spanish, by notification and by email.
    told = Notification.objects.get(verb="loan.card_refund", recipient=owner)
    assert "volvieron a su tarjeta" in told.message
    assert [message.to for message in mail.outbox] == [[owner.email]]
    body = client.get(f"/es/loans/{offering.pk}/repay-by-card/{card_payment.pk}/").content.decode()
    assert "del dinero retenido volvieron a su tarjeta." in body
    # The repayment itself stays: the lenders keep what was due.
    assert clearing() == -Money(first.payment, "USD")
    assert_ledger_consistent()


def test_never_more_than_is_still_held(loan):
    """Part of it was already sent back by bank transfer: the card gets only the rest."""
    offering, _lenders, schedule = loan
    first = schedule.installments.get(number=1)
    card_payment = paid_by_card(offering, first.payment + D("25.00"))
    reviewer = StaffFactory()
    rs.excess_return(
        offering=offering,
        amount=Money("20.00", "USD"),
        sent_on=card_payment.created_at.date(),
        reference="TRF-1",
        by=reviewer,
    )
    assert rs.excess_refund_to_card(card_payment=card_payment, by=reviewer) == Money("5.00", "USD")
    assert refunded_at_stripe(card_payment) == 500
    assert rs.excess_held(offering).amount == 0
    assert_ledger_consistent()


def test_a_refusal_at_stripe_records_nothing(loan, monkeypatch):
    offering, _lenders, schedule = loan
    card_payment = paid_by_card(offering, schedule.installments.get(number=1).payment + D("10"))

    def refused(provider, **kwargs):
        raise PaymentError("card closed", user_message="The card's bank refused the refund.")

    monkeypatch.setattr(StripeProvider, "refund", refused)
    with pytest.raises(rs.HeldMoneyRefused, match="The card's bank refused the refund"):
        rs.excess_refund_to_card(card_payment=card_payment, by=StaffFactory())
    card_payment.refresh_from_db()
    assert card_payment.refunded_minor == 0
    assert rs.excess_held(offering) == Money("10.00", "USD")
    assert not AuditEntry.objects.filter(action="returns.excess_refunded_to_card").exists()
    assert refunded_at_stripe(card_payment) == 0


@pytest.mark.parametrize(
    "who", ["the entrepreneur", "Django staff flag only", "a lender", "a reviewer"]
)
def test_only_reviewers_send_it_back_to_the_card_from_the_admin(client, loan, who):
    from django.contrib.auth.models import Permission

    offering, lenders, schedule = loan
    card_payment = paid_by_card(offering, schedule.installments.get(number=1).payment + D("10"))
    person = {
        "the entrepreneur": offering.project.owner,
        "Django staff flag only": UserFactory(is_staff=True),
        "a lender": lenders[0],
        "a reviewer": StaffFactory(),
    }[who]
    # All of them reach Wagtail's admin: the refusal is the money page's own (Wagtail
    # sends a refused person back to the admin's home).
    person.user_permissions.add(Permission.objects.get(codename="access_admin"))
    enable_totp(person)
    client.force_login(person)
    url = f"/admin/money/offerings/{offering.pk}/held/card/{card_payment.pk}/refund/"
    response = client.post(url)
    card_payment.refresh_from_db()
    if who != "a reviewer":
        assert response.status_code == 302 and response["Location"] == "/admin/"
        assert card_payment.refunded_minor == 0
        with pytest.raises(rs.HeldMoneyRefused, match="Only staff"):
            rs.excess_refund_to_card(card_payment=card_payment, by=person)
        return
    assert response["Location"] == f"/admin/money/offerings/{offering.pk}/actions/"
    assert card_payment.refunded_minor == 1000
    page = client.get(f"/admin/money/offerings/{offering.pk}/actions/").content.decode()
    assert "Sent back to the card" in page and "$10.00 went back to the card" in page
    assert f'data-held-card="{card_payment.pk}"' not in page  # nothing left to send back


def test_the_admin_page_lists_the_card_payments_holding_money(client, loan, reviewer):
    offering, _lenders, schedule = loan
    card_payment = paid_by_card(offering, schedule.installments.get(number=1).payment + D("10"))
    enable_totp(reviewer)
    client.force_login(reviewer)
    page = client.get(f"/admin/money/offerings/{offering.pk}/actions/").content.decode()
    assert f'data-held-card="{card_payment.pk}"' in page
    assert f"/held/card/{card_payment.pk}/refund/" in page
    # A card payment named under another offering is not found there (a 404 under /admin/
    # comes back as the language-prefixed address, which is not found either).
    other, _lenders, _schedule = make_loan()
    url = f"/admin/money/offerings/{other.pk}/held/card/{card_payment.pk}/refund/"
    response = client.post(url, follow=True)
    assert response.status_code == 404
    card_payment.refresh_from_db()
    assert card_payment.refunded_minor == 0


def test_the_database_refuses_refunds_beyond_what_the_card_paid(loan):
    offering, _lenders, schedule = loan
    card_payment = paid_by_card(offering, schedule.installments.get(number=1).payment)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {LoanCardPayment._meta.db_table} SET refunded_minor = amount_minor + 1 "  # noqa: S608
            "WHERE id = %s",
            [card_payment.pk],
        )


# --- Reconciliation --------------------------------------------------------------------------


def test_card_refunds_of_held_money_agree_with_the_ledger_and_with_stripe(loan):
    offering, _lenders, schedule = loan
    card_payment = paid_by_card(offering, schedule.installments.get(number=1).payment + D("10"))
    rs.excess_refund_to_card(card_payment=card_payment, by=StaffFactory())
    assert_clean()
    assert_clean("--providers")

    # Stripe refunded more than we know of: only Stripe can tell.
    stripe_client().v1.refunds.create(
        params={"payment_intent": card_payment.provider_reference, "amount": 300}
    )
    assert_clean()
    subject = f"loan card payment {card_payment.pk} ({card_payment.provider_reference})"
    assert_found(
        [
            Difference(
                "Stripe refunded", subject, "13.00 USD (at Stripe)", "10.00 USD (refunded_minor)"
            )
        ],
        "--providers",
    )


def test_a_refunded_total_that_is_not_in_the_ledger_is_reported(loan):
    offering, _lenders, schedule = loan
    card_payment = paid_by_card(offering, schedule.installments.get(number=1).payment + D("10"))
    LoanCardPayment.objects.filter(pk=card_payment.pk).update(refunded_minor=400)
    assert_found(
        [
            Difference(
                "loan card refunded = ledger",
                f"loan card payment {card_payment.pk}",
                "0.00 USD (posted back to the card)",
                "4.00 USD (refunded_minor)",
            )
        ]
    )
