"""``manage.py reconcile`` checks the figures stored beside the ledger against what they sum
up: an offering's reserved capacity, a matching pool's commitment, a payment's captured and
refunded totals, refunds and card withdrawals, a project's funding figures; with
``--providers``, the card payments against Stripe's own records (localstripe here).

Each check passes on a state built through the real workflows, and reports exactly the
expected line when one stored figure is changed behind the workflows' back (an UPDATE, as a
bad migration, a manual fix or a bug would). SQLite and PostgreSQL."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from finance import returns_services as rs
from finance import services
from finance.management.commands.reconcile import format_table
from finance.money import Money
from finance.offerings import MatchingPool, Offering, Payment, Pledge, Refund
from finance.payments.stripe_provider import StripeProvider, stripe_client
from finance.reconciliation import Difference, reconcile_ledger
from finance.returns import PayoutRequest
from projects.models import Project
from tests.factories import OrganizationFactory, StaffFactory, UserFactory
from tests.finance.builders import make_offering, make_pledge, pay
from tests.finance.conftest import make_card_pledge, make_investor
from tests.finance.test_stripe import pay_with

D = Decimal


def reconcile(*options: str) -> tuple[str, int]:
    """Run ``reconcile --strict`` as cron would; returns its output and its exit status."""
    out = io.StringIO()
    try:
        call_command("reconcile", "--strict", *options, stdout=out)
    except CommandError as error:
        return out.getvalue() + str(error), error.returncode
    return out.getvalue(), 0


def assert_clean(*options: str) -> None:
    assert reconcile_ledger() == []
    output, status = reconcile(*options)
    assert status == 0, output
    assert "0 differences" in output


def assert_found(expected: list[Difference], *options: str) -> None:
    """The command prints exactly these differences, as a table, and exits with status 1."""
    output, status = reconcile(*options)
    assert format_table(expected) in output, output
    assert f", {len(expected)} differences" in output
    assert status == 1


# --- A state built through the workflows -----------------------------------------------------


@pytest.fixture
def world(db):
    """A donation offering of 300 USD matched one for one (cap 500) on a project seeking
    800 USD, what the two may raise together. A card pledge of 100 paid and matched, one of 50 pending, one of 30 cancelled unpaid,
    and one of 40 paid, matched, then cancelled in its reflection period and refunded."""
    project = Project.objects.create(
        owner=UserFactory(), title="Well", status="approved", funding_sought=D("800")
    )
    offering = make_offering(project=project, target=D("300"))
    pool = services.matching_pool_create(
        offering=offering,
        sponsor=OrganizationFactory(),
        ratio=D("1"),
        cap_per_offering=D("500"),
        by=UserFactory(is_staff=True),
    )
    paid = make_pledge(offering, "100", method="card")
    paid_payment = pay(paid)
    pending = make_pledge(offering, "50")
    cancelled = make_pledge(offering, "30")
    services.pledge_cancel(pledge=cancelled, by=cancelled.investor)
    refunded = make_pledge(offering, "40")
    refunded_payment = pay(refunded)
    services.pledge_cancel(pledge=refunded, by=refunded.investor)
    for payment in (paid_payment, refunded_payment):
        payment.refresh_from_db()
    assert Pledge.objects.get(pk=refunded.pk).status == Pledge.Status.REFUNDED
    return {
        "project": project,
        "offering": offering,
        "pool": pool,
        "paid": paid_payment,
        "pending": pending,
        "refunded": refunded_payment,
    }


def test_the_state_built_by_the_workflows_has_no_differences(world):
    offering = Offering.objects.get(pk=world["offering"].pk)
    assert offering.reserved == D("150")
    assert MatchingPool.objects.get(pk=world["pool"].pk).committed == D("100")
    project = Project.objects.get(pk=world["project"].pk)
    assert (project.amount_raised, project.funded_percent) == (D("200"), 25)
    assert (world["paid"].captured_minor, world["paid"].refunded_minor) == (10150, 0)
    assert (world["refunded"].captured_minor, world["refunded"].refunded_minor) == (4000, 4000)
    assert_clean()


def test_reserved_that_is_not_the_active_pledges_is_reported(world):
    offering = world["offering"]
    Offering.objects.filter(pk=offering.pk).update(reserved=F("reserved") + D("5"))

    expected = [
        Difference(
            "offering reserved = active pledges",
            f"offering {offering.pk}",
            "150.00 USD (pending and paid pledges)",
            "155.00 USD (reserved)",
        )
    ]
    assert reconcile_ledger() == expected
    assert_found(expected)


def test_a_pledge_ended_without_giving_its_capacity_back_is_reported(world):
    offering = world["offering"]
    Pledge.objects.filter(pk=world["pending"].pk).update(status=Pledge.Status.EXPIRED)

    expected = [
        Difference(
            "offering reserved = active pledges",
            f"offering {offering.pk}",
            "100.00 USD (pending and paid pledges)",
            "150.00 USD (reserved)",
        )
    ]
    assert reconcile_ledger() == expected
    assert_found(expected)


def test_pool_commitment_that_is_not_its_allocations_nor_its_account_is_reported(world):
    pool = world["pool"]
    MatchingPool.objects.filter(pk=pool.pk).update(committed=F("committed") - D("10"))

    expected = [
        Difference(
            "pool committed = allocations",
            f"matching pool {pool.pk}",
            "100.00 USD (allocations not released)",
            "90.00 USD (committed)",
        ),
        Difference(
            "pool committed = -pool account",
            f"matching pool {pool.pk}",
            f"100.00 USD (minus the pool:{pool.pk} account balance)",
            "90.00 USD (committed)",
        ),
    ]
    assert reconcile_ledger() == expected
    assert_found(expected)


def test_captured_total_that_is_not_the_posted_capture_is_reported(world):
    payment = world["paid"]
    Payment.objects.filter(pk=payment.pk).update(captured_minor=F("captured_minor") - 150)

    expected = [
        Difference(
            "payment captured = ledger",
            f"payment {payment.pk}",
            f"101.50 USD (posted under payment:{payment.pk}:captured)",
            "100.00 USD (captured_minor)",
        )
    ]
    assert reconcile_ledger() == expected
    assert_found(expected)


def test_a_payment_no_longer_succeeded_with_its_capture_posted_is_reported(world):
    payment = world["paid"]
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED)

    expected = [
        Difference(
            "payment status = ledger",
            f"payment {payment.pk}",
            f"succeeded (payment:{payment.pk}:captured posted)",
            "failed (status)",
        )
    ]
    assert reconcile_ledger() == expected
    assert_found(expected)


def test_refunded_total_that_is_not_the_refunds_is_reported(world):
    payment = world["refunded"]
    Payment.objects.filter(pk=payment.pk).update(refunded_minor=F("refunded_minor") - 1000)

    expected = [
        Difference(
            "payment refunded = refunds",
            f"payment {payment.pk}",
            "40.00 USD (sum of its refunds)",
            "30.00 USD (refunded_minor)",
        )
    ]
    assert reconcile_ledger() == expected
    assert_found(expected)


def test_a_refund_that_is_not_what_was_posted_is_reported(world):
    payment = world["refunded"]
    refund = Refund.objects.get(payment=payment)
    Refund.objects.filter(pk=refund.pk).update(amount_minor=3000)

    expected = [
        Difference(
            "payment refunded = refunds",
            f"payment {payment.pk}",
            "30.00 USD (sum of its refunds)",
            "40.00 USD (refunded_minor)",
        ),
        Difference(
            "refund posted",
            f"refund {refund.pk} ({refund.idempotency_key})",
            "30.00 USD (amount_minor)",
            "40.00 USD posted",
        ),
    ]
    assert reconcile_ledger() == expected
    assert_found(expected)


@pytest.mark.parametrize(
    ("field", "value", "expected", "found"),
    [
        ("amount_raised", D("210.00"), "200.00 (paid pledges and matching)", "210.00"),
        ("funded_percent", 26, "25% (of 800.00 sought)", "26% (funded_percent)"),
    ],
)
def test_project_funding_figures_that_are_not_the_paid_pledges_are_reported(
    world, field, value, expected, found
):
    project = world["project"]
    Project.objects.filter(pk=project.pk).update(**{field: value})

    check = {"amount_raised": "project amount raised", "funded_percent": "project funded percent"}
    if field == "amount_raised":
        found = f"{found} (amount_raised)"
    expected_differences = [Difference(check[field], f"project {project.pk}", expected, found)]
    assert reconcile_ledger() == expected_differences
    assert_found(expected_differences)


def test_amounts_in_a_three_decimal_currency_agree_within_what_the_project_stores(db):
    """Kuwaiti dinars have three decimals, the project's amount raised two: the stored
    figure is the rounded sum, which is no difference."""
    project = Project.objects.create(
        owner=UserFactory(), title="Dinars", status="approved", funding_sought=D("1000")
    )
    offering = make_offering(
        project=project, currency="KWD", target=D("1000"), min_ticket=D("0.001")
    )
    pay(make_pledge(offering, "10.125"))
    pay(make_pledge(offering, "5.333"))
    project.refresh_from_db()
    assert abs(project.amount_raised - D("15.458")) <= D("0.005")
    assert project.funded_percent == 1
    assert_clean()


# --- Card withdrawals and Stripe's own records (localstripe) ---------------------------------


def card_payment(investor, offering, amount: str) -> Payment:
    pledge = make_card_pledge(offering, amount=amount, investor=investor)
    provider = StripeProvider()
    payment = provider.start(pledge=pledge)
    pay_with(payment.provider_reference, "pm_card_visa")
    return provider.sync(payment=payment)


@pytest.fixture
def card_withdrawal(localstripe, db):
    """An investor paid 100 USD by card (101.50 with the fee) into an offering since
    disbursed, then took 15.00 of returns out of the wallet back to that card."""
    person = make_investor()
    offering = make_offering(target=D("100"))
    payment = card_payment(person, offering, "100")
    assert payment.status == Payment.Status.SUCCEEDED
    services.offering_close(offering=offering, now=offering.closes_at + datetime.timedelta(1))
    services.disbursement_approve(offering=offering, by=UserFactory(is_staff=True))
    services.disbursement_approve(offering=offering, by=UserFactory(is_staff=True))
    money = Money("15.00", "USD")
    from finance.ledger import post_transaction

    post_transaction(
        idempotency_key=f"test-returns:{person.pk}",
        kind="returns.coupon",
        legs=[
            (services.external_account("USD"), -money),
            (services.wallet_account(person, "USD"), money),
        ],
    )
    payout = rs.payout_request(
        investor=person, amount=money, destination="card", idempotency_key="withdraw-1"
    )
    rs.payout_approve(payout=payout, by=StaffFactory())
    payment.refresh_from_db()
    payout.refresh_from_db()
    assert payout.status == PayoutRequest.Status.APPROVED
    assert payment.refunded_minor == 1500
    return payment, payout


def test_card_withdrawal_refunds_agree_with_the_ledger_and_with_stripe(card_withdrawal):
    assert_clean()
    assert_clean("--providers")


def test_an_approved_withdrawal_its_card_refunds_do_not_cover_is_reported(card_withdrawal):
    _payment, payout = card_withdrawal
    PayoutRequest.objects.filter(pk=payout.pk).update(amount=D("20.00"))

    expected = [
        Difference(
            "card withdrawal refunds",
            f"withdrawal {payout.pk} (approved)",
            "20.00 USD (withdrawal)",
            "15.00 USD refunded to cards",
        )
    ]
    assert reconcile_ledger() == expected
    assert_found(expected)


def test_a_refund_made_at_stripe_and_not_here_is_reported_with_providers(card_withdrawal):
    payment, _payout = card_withdrawal
    stripe_client().v1.refunds.create(
        params={"payment_intent": payment.provider_reference, "amount": 500}
    )

    assert_clean()  # nothing here changed: only Stripe knows
    assert_found(
        [
            Difference(
                "Stripe refunded",
                f"payment {payment.pk} ({payment.provider_reference})",
                "20.00 USD (at Stripe)",
                "15.00 USD (refunded_minor)",
            )
        ],
        "--providers",
    )


def test_a_payment_stripe_took_that_was_never_synced_is_reported_with_providers(db, localstripe):
    pledge = make_card_pledge(make_offering(target=D("1000")), amount="100")
    payment = StripeProvider().start(pledge=pledge)
    # The card went through, but the webhook never arrived.
    pay_with(payment.provider_reference, "pm_card_visa")

    assert_clean()
    subject = f"payment {payment.pk} ({payment.provider_reference})"
    assert_found(
        [
            Difference("Stripe status", subject, "succeeded (at Stripe)", "created (status)"),
            Difference(
                "Stripe captured", subject, "101.50 USD (at Stripe)", "0.00 USD (captured_minor)"
            ),
        ],
        "--providers",
    )


def test_a_captured_total_tampered_here_differs_from_stripe_too(db, localstripe):
    payment = card_payment(make_investor(), make_offering(target=D("1000")), "100")
    Payment.objects.filter(pk=payment.pk).update(captured_minor=10000)

    subject = f"payment {payment.pk} ({payment.provider_reference})"
    assert_found(
        [
            Difference(
                "payment captured = ledger",
                f"payment {payment.pk}",
                f"101.50 USD (posted under payment:{payment.pk}:captured)",
                "100.00 USD (captured_minor)",
            ),
            Difference(
                "Stripe captured", subject, "101.50 USD (at Stripe)", "100.00 USD (captured_minor)"
            ),
        ],
        "--providers",
    )


def test_an_intent_stripe_does_not_know_is_reported(db, localstripe):
    pledge = make_card_pledge(make_offering(target=D("1000")), amount="100")
    payment = Payment.objects.create(
        pledge=pledge,
        provider="stripe",
        provider_reference="pi_unknown",
        amount_minor=10150,
        currency="USD",
    )

    output, status = reconcile("--providers")

    assert status == 1
    assert f"Stripe has the intent  payment {payment.pk} (pi_unknown)  a PaymentIntent" in output
    assert "InvalidRequestError 404" in output


def test_without_providers_nothing_is_asked_and_unreachable_stripe_fails_with_them(
    settings, db, monkeypatch
):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens on the discard port
    asked = []
    monkeypatch.setattr(
        StripeProvider, "_retrieve_intent", lambda self, intent_id: asked.append(intent_id)
    )
    pledge = make_card_pledge(make_offering(target=D("1000")), amount="100")
    Payment.objects.create(
        pledge=pledge, provider="stripe", provider_reference="pi_x", amount_minor=1, currency="USD"
    )

    assert_clean()
    assert asked == []

    monkeypatch.undo()
    output, status = reconcile("--providers")
    assert status == 1
    assert "payment providers not reconciled: Stripe did not answer about payment" in output


# --- Cost ------------------------------------------------------------------------------------


def build_offerings(count: int) -> None:
    """``count`` matched offerings, each with a card pledge paid, one pending and one paid
    then refunded, on projects of their own."""
    sponsor = OrganizationFactory()
    staff = UserFactory(is_staff=True)
    for _ in range(count):
        project = Project.objects.create(
            owner=UserFactory(), title="p", status="approved", funding_sought=D("500")
        )
        offering = make_offering(project=project, target=D("450"))
        services.matching_pool_create(
            offering=offering, sponsor=sponsor, ratio=D("1"), cap_per_offering=D("50"), by=staff
        )
        pay(make_pledge(offering, "100", method="card"))
        make_pledge(offering, "20")
        refunded = make_pledge(offering, "40")
        pay(refunded)
        services.pledge_cancel(pledge=refunded, by=refunded.investor)


def test_reconcile_costs_the_same_queries_for_many_rows(db, django_assert_max_num_queries):
    build_offerings(2)
    with CaptureQueriesContext(connection) as few:
        assert reconcile_ledger() == []
    build_offerings(30)
    assert Pledge.objects.count() == 96 and Refund.objects.count() == 32
    with CaptureQueriesContext(connection) as many:
        assert reconcile_ledger() == []
    assert len(many) == len(few)
    with django_assert_max_num_queries(25):
        assert reconcile_ledger() == []
