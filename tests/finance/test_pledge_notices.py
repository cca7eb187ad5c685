"""An investor is told, in the portal and by email, in their own language: how
to pay a pledge made for a bank transfer or a remittance, that its payment
arrived, and how it ended. Cancelling asks first, and says what happened."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from finance import services
from finance.notices import Ending
from finance.offerings import Offering, Payment, Pledge
from finance.plans import PledgePlan, plan_start, plans_run
from finance.statements_import import import_statement
from portal.models import AuditEntry, Notification, User
from tests.factories import UserFactory

from .builders import make_offering, make_pledge, pay
from .conftest import deliver, make_card_pledge, stripe_event
from .test_webhooks import FakeStripe

# Notices are written once the workflow commits: these tests commit.
pytestmark = pytest.mark.django_db(transaction=True)


def told(investor) -> list[tuple[str, str]]:
    return [
        (n.verb, n.message) for n in Notification.objects.filter(recipient=investor).order_by("pk")
    ]


@pytest.fixture
def investor():
    return UserFactory(verification_tier="enhanced", preferred_language="en")


def test_a_transfer_pledge_says_how_to_pay_it_by_email_too(client, investor):
    offering = make_offering(title="Solar pumps")
    client.force_login(investor)
    response = client.post(
        f"/en/offerings/{offering.pk}/pledge/",
        {"amount": "100", "method": "bank_transfer", "key": "k1", "confirm": "1"},
    )
    assert response.status_code == 302
    pledge = Pledge.objects.get()
    [(verb, message)] = told(investor)
    assert verb == "pledge.made"
    assert "Solar pumps" in message and pledge.bank_reference in message
    assert "$100.00" in message and "NL91ABNA0417164300" in message  # what is due, the IBAN
    [email] = mail.outbox
    assert email.to == [investor.email] and pledge.bank_reference in email.body
    assert f"/en/pledges/{pledge.pk}/" in email.body


def test_notices_are_in_the_investor_s_language(investor):
    investor.preferred_language = "fr"
    investor.save()
    pledge = make_pledge(make_offering(title="Pompes"), "100", investor=investor)
    [(_verb, message)] = told(investor)
    assert "Votre promesse" in message and "100,00" in message and pledge.bank_reference in message


def test_a_card_pledge_is_paid_on_the_page_and_told_only_when_paid(investor):
    pledge = make_pledge(make_offering(title="Bakery"), "40", investor=investor, method="card")
    assert told(investor) == []
    payment = pay(pledge)
    services.pledge_mark_paid(payment=payment)  # a replayed webhook
    [(verb, message)] = told(investor)
    assert verb == "pledge.paid"
    assert message == "Your payment of $40.60 for your pledge to Bakery has arrived."


def test_each_end_of_a_pledge_is_told(investor):
    offering = make_offering(title="Kiosk")
    expiring = make_pledge(offering, "20", investor=investor)
    Pledge.objects.filter(pk=expiring.pk).update(expires_at=timezone.now())
    assert services.pledges_expire_due() == 1
    pending = make_pledge(offering, "30", investor=investor)
    services.pledge_cancel(pledge=pending, by=investor)
    paid = make_pledge(offering, "50", investor=investor)
    pay(paid)
    services.pledge_cancel(pledge=paid, by=investor)
    endings = [(verb, message) for verb, message in told(investor) if verb != "pledge.made"]
    assert endings == [
        (
            "pledge.expired",
            "Your pledge of $20.00 to Kiosk expired unpaid; its place in the offering was "
            "given back.",
        ),
        ("pledge.cancelled", "Your pledge of $30.00 to Kiosk is cancelled. Nothing was charged."),
        ("pledge.paid", "Your payment of $50.00 for your pledge to Kiosk has arrived."),
        (
            "pledge.refunded",
            "Your pledge of $50.00 to Kiosk is cancelled. What you paid, $50.00, is on its "
            "way back to you.",
        ),
    ]


def test_an_all_or_nothing_offering_that_missed_its_target_tells_each_investor(investor):
    offering = make_offering(title="Cellar", target=Decimal("1000"))
    pay(make_pledge(offering, "100", investor=investor))
    unpaid = make_pledge(offering, "10", investor=investor)
    services.offering_close(offering=offering, now=offering.closes_at + datetime.timedelta(1))
    assert Offering.objects.get(pk=offering.pk).status == Offering.Status.FAILED
    endings = dict(told(investor))
    assert endings["pledge.refunded"] == (
        "Cellar did not reach its target, so nothing is raised: what you paid for your "
        "pledge of $100.00, $100.00, is on its way back to you."
    )
    assert endings["pledge.expired"].startswith("Your pledge of $10.00 to Cellar expired unpaid")
    assert Pledge.objects.get(pk=unpaid.pk).status == Pledge.Status.EXPIRED


def test_a_plan_s_month_is_told_once(investor):
    plan = plan_start(pledge=make_pledge(make_offering(), "100", investor=investor), day=10)
    next_month = (timezone.localdate().replace(day=1) + datetime.timedelta(days=32)).replace(day=10)
    assert plans_run(next_month)["pledged"] == 1
    verbs = [verb for verb, _message in told(investor)]
    assert verbs == ["pledge.made", "plan.pledged"]  # the first pledge's, then the month's
    assert plan.pledges().count() == 1


def test_cancelling_asks_first_and_says_what_happened(client, investor):
    offering = make_offering(title="Kiosk")
    pending = make_pledge(offering, "30", investor=investor)
    paid = make_pledge(offering, "50", investor=investor, method="card")
    pay(paid)
    client.force_login(investor)
    page = client.get(f"/en/pledges/{pending.pk}/").content.decode()
    assert f'href="/en/pledges/{pending.pk}/cancel/"' in page
    ask = client.get(f"/en/pledges/{pending.pk}/cancel/").content.decode()
    assert "Cancel this pledge?" in ask and "nothing is charged" in ask
    assert 'name="refund_to"' not in ask
    assert (
        Pledge.objects.get(pk=pending.pk).status == Pledge.Status.PENDING
    )  # asking changes nothing
    ask = client.get(f"/en/pledges/{paid.pk}/cancel/").content.decode()
    assert 'name="refund_to"' in ask and "$50.75" in ask
    done = client.post(f"/en/pledges/{pending.pk}/cancel/", follow=True).content.decode()
    assert "Your pledge is cancelled. Nothing was charged." in done
    assert "Fee" not in done.split("<h1>")[1].split("</dl>")[0]  # nothing charged, no fee shown
    assert client.get(f"/en/pledges/{pending.pk}/cancel/")["Location"] == (
        f"/en/pledges/{pending.pk}/"
    )
    done = client.post(f"/en/pledges/{paid.pk}/cancel/", follow=True).content.decode()
    assert "What you paid is on its way back to you." in done
    other = make_pledge(offering, "20")
    assert client.get(f"/en/pledges/{other.pk}/cancel/").status_code == 404
    for language in ("es", "fr", "pt", "ar"):
        fresh = make_pledge(offering, "10", investor=investor)
        html = client.get(f"/{language}/pledges/{fresh.pk}/cancel/").content.decode()
        assert "Cancel this pledge?" not in html, language


def test_history_written_after_the_fact_tells_nobody(investor):
    from finance import notices

    with notices.quiet():
        pledge = make_pledge(make_offering(), "20", investor=investor)
        pay(pledge)
    assert told(investor) == [] and mail.outbox == []
    services.pledge_cancel(
        pledge=make_pledge(make_offering(), "10", investor=investor), by=investor
    )
    assert [verb for verb, _message in told(investor)] == ["pledge.made", "pledge.cancelled"]


# --- How a pledge ended, not the audit entry's wording, says what is told -------------------------


def test_each_workflow_that_ends_a_pledge_tells_its_ending_and_audits_it_as_before(investor):
    offering = make_offering(title="Kiosk")
    expiring = make_pledge(offering, "20", investor=investor)
    Pledge.objects.filter(pk=expiring.pk).update(expires_at=timezone.now())
    assert services.pledges_expire_due() == 1
    services.pledge_cancel(pledge=make_pledge(offering, "30", investor=investor), by=investor)
    paid = make_pledge(offering, "50", investor=investor)
    pay(paid)
    services.pledge_cancel(pledge=paid, by=investor)
    cellar = make_offering(title="Cellar", target=Decimal("1000"))
    pay(make_pledge(cellar, "100", investor=investor))
    make_pledge(cellar, "10", investor=investor)
    services.offering_close(offering=cellar, now=cellar.closes_at + datetime.timedelta(1))

    endings = [(verb, message) for verb, message in told(investor) if verb != "pledge.made"]
    assert [ending for ending in endings if ending[0] != "pledge.paid"] == [
        (
            "pledge.expired",
            "Your pledge of $20.00 to Kiosk expired unpaid; its place in the offering was "
            "given back.",
        ),
        ("pledge.cancelled", "Your pledge of $30.00 to Kiosk is cancelled. Nothing was charged."),
        (
            "pledge.refunded",
            "Your pledge of $50.00 to Kiosk is cancelled. What you paid, $50.00, is on its "
            "way back to you.",
        ),
        (
            "pledge.expired",
            "Your pledge of $10.00 to Cellar expired unpaid when the offering closed.",
        ),
        (
            "pledge.refunded",
            "Cellar did not reach its target, so nothing is raised: what you paid for your "
            "pledge of $100.00, $100.00, is on its way back to you.",
        ),
    ]
    audited = AuditEntry.objects.filter(
        action__in=("pledge.expired", "pledge.cancelled", "pledge.refunded")
    ).order_by("pk")
    assert [(entry.action, entry.reason) for entry in audited] == [
        ("pledge.expired", ""),
        ("pledge.cancelled", "investor cancelled"),
        ("pledge.refunded", "investor cancelled"),
        ("pledge.expired", "offering closed"),
        ("pledge.refunded", "target missed"),
    ]


def test_what_is_told_follows_the_ending_whatever_the_audit_reason_says(investor):
    offering = make_offering(title="Mill")
    reworded = make_pledge(offering, "20", investor=investor)
    untold = make_pledge(offering, "30", investor=investor)
    mismatched = make_pledge(offering, "40", investor=investor)
    with transaction.atomic():
        services._release(
            reworded,
            Pledge.Status.EXPIRED,
            ending=Ending.CLOSED_UNPAID,
            reason="the offering's closing date passed",
            only_from=(Pledge.Status.PENDING,),
        )
    with transaction.atomic():
        services._release(untold, Pledge.Status.CANCELLED, ending=None, reason="investor cancelled")
    # An ending that cannot lead to the status is a mistake: refused, and nothing changes.
    with pytest.raises(ValueError), transaction.atomic():
        services._release(mismatched, Pledge.Status.CANCELLED, ending=Ending.TARGET_MISSED)

    assert [pair for pair in told(investor) if pair[0] != "pledge.made"] == [
        ("pledge.expired", "Your pledge of $20.00 to Mill expired unpaid when the offering closed.")
    ]
    assert Pledge.objects.get(pk=untold.pk).status == Pledge.Status.CANCELLED
    assert Pledge.objects.get(pk=mismatched.pk).status == Pledge.Status.PENDING


# --- A plan's month is told once it commits ---------------------------------------------------


class MonthUndone(Exception):
    pass


def test_a_plan_s_month_is_told_only_once_it_commits_and_a_rolled_back_one_tells_nobody(investor):
    plan = plan_start(pledge=make_pledge(make_offering(), "100", investor=investor), day=10)
    next_month = (timezone.localdate().replace(day=1) + datetime.timedelta(days=32)).replace(day=10)
    mail.outbox.clear()
    with pytest.raises(MonthUndone), transaction.atomic():
        assert plans_run(next_month)["pledged"] == 1
        assert [verb for verb, _message in told(investor)] == ["pledge.made"]  # not yet
        assert User.objects.get(pk=investor.pk).unread_notifications == 1
        raise MonthUndone
    assert [verb for verb, _message in told(investor)] == ["pledge.made"]
    assert mail.outbox == []
    assert plan.pledges().count() == 0
    assert PledgePlan.objects.get(pk=plan.pk).last_period != f"{next_month:%Y-%m}"

    assert plans_run(next_month)["pledged"] == 1
    assert [verb for verb, _message in told(investor)] == ["pledge.made", "plan.pledged"]
    assert [email.to for email in mail.outbox] == [[investor.email]]


# --- "Your payment has arrived", through the ways a payment arrives -------------------------------


@pytest.fixture
def stripe_intents(monkeypatch):
    from finance.payments.stripe_provider import StripeProvider

    fake = FakeStripe()
    monkeypatch.setattr(StripeProvider, "_create_intent", lambda provider, **kw: fake.create(**kw))
    monkeypatch.setattr(
        StripeProvider, "_retrieve_intent", lambda provider, intent_id: fake.retrieve(intent_id)
    )
    return fake


@pytest.mark.urls("tests.finance.urls_for_webhook_tests")
def test_a_card_payment_confirmed_by_stripe_twice_is_told_once(client, investor, stripe_intents):
    from finance.payments.stripe_provider import StripeProvider

    offering = make_offering(title="Bakery")
    payment = StripeProvider().start(pledge=make_card_pledge(offering, investor=investor))
    stripe_intents.set(
        payment.provider_reference, "succeeded", amount_received=payment.amount_minor
    )
    event = stripe_event("payment_intent.succeeded", payment.provider_reference)
    again = stripe_event("payment_intent.succeeded", payment.provider_reference)

    assert [deliver(client, e).status_code for e in (event, event, again)] == [200, 200, 200]

    assert Payment.objects.get(pk=payment.pk).status == Payment.Status.SUCCEEDED
    assert told(investor) == [
        ("pledge.paid", "Your payment of $101.50 for your pledge to Bakery has arrived.")
    ]
    assert [email.to for email in mail.outbox] == [[investor.email]]


def test_a_transfer_found_in_a_bank_statement_twice_is_told_once(investor):
    pledge = make_pledge(make_offering(title="Kiosk"), "250", investor=investor)
    line = f"2026-11-27,250.00,USD,Pledge {pledge.bank_reference},Ana,B-1\n"
    header = "date,amount,currency,description,remitter,entry id\n"
    import_statement(file_bytes=(header + line).encode(), filename="a.csv", uploaded_by=None)
    # The same line again, in another day's export.
    import_statement(
        file_bytes=(header + line + "2026-11-28,9.00,USD,no reference,Ana,B-2\n").encode(),
        filename="b.csv",
        uploaded_by=None,
    )

    assert Pledge.objects.get(pk=pledge.pk).status == Pledge.Status.PAID
    assert [pair for pair in told(investor) if pair[0] != "pledge.made"] == [
        ("pledge.paid", "Your payment of $250.00 for your pledge to Kiosk has arrived.")
    ]
