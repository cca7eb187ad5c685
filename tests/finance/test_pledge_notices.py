"""An investor is told, in the portal and by email, in their own language: how
to pay a pledge made for a bank transfer or a remittance, that its payment
arrived, and how it ended. Cancelling asks first, and says what happened."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from finance import services
from finance.offerings import Offering, Pledge
from finance.plans import plan_start, plans_run
from portal.models import Notification
from tests.factories import UserFactory

from .builders import make_offering, make_pledge, pay

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
