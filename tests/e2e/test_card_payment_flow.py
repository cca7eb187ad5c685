"""Paying a pledge by card, in a real browser, against localstripe: the demo
investor pledges to a donation-with-matching offering of a demo project,
sees the card fee, confirms, pays in the card form of the pledge page and
finds the pledge paid on the dashboard, with the money in the offering's
escrow account and Stripe's own webhook delivered. A declined card shows
Stripe's message and leaves the pledge pending.

localstripe's fake Stripe.js (served at <localstripe>/js.stripe.com/v3/)
renders plain inputs for the card element (number, exp_month, exp_year, cvc,
postal_code), but its `confirmCardPayment` ignores the card: it only plays
the 3-D Secure step of an intent the server already confirmed, and answers
"Bad request" for an intent that has no payment method yet, which is how the
portal (like real Stripe.js) works. So the page gets the fake script with a
small addition, `CONFIRM_WITH_CARD_JS`: its `confirmCardPayment` does what
real Stripe.js does with a card element, through `confirm_card` below: create
a payment method from the numbers typed into the element, attach it to the
intent and confirm it (what tests/finance/test_stripe.py's `pay_with` does).
Card numbers are localstripe's: 4242 4242 4242 4242 pays, 4000 0000 0000 0341
is declined when charged."""

from __future__ import annotations

import time
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import assert_accessible, submit
from tests.e2e.test_accounts_flow import log_in, path_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

INVESTOR = "investor@puente.example"
DEMO_PASSWORD = "puente-demo-2026"
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"  # localstripe: attaches, then the charge is declined
DECLINED_MESSAGE = "Your card was declined."
WEBHOOK_EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed"]

# Appended to localstripe's fake Stripe.js (see the module docstring).
CONFIRM_WITH_CARD_JS = """
;(function () {
  var fakeStripe = window.Stripe;
  window.Stripe = function (key) {
    var stripe = fakeStripe(key);
    var threeDSecure = stripe.confirmCardPayment;
    stripe.confirmCardPayment = async function (clientSecret, data) {
      var element = data && data.payment_method && data.payment_method.card;
      var card = element && element.value ? element.value.card : null;
      if (!card) {
        return {error: {type: "validation_error", message: "Your card number is incomplete."}};
      }
      var result = await window.puenteConfirmCard(clientSecret, card);
      if (result.error) { return {error: result.error}; }
      if (result.status === "requires_action") { return threeDSecure(clientSecret, data); }
      return {paymentIntent: result};
    };
    return stripe;
  };
})();
"""


def confirm_card(client_secret: str, card: dict) -> dict:
    """What Stripe does for confirmCardPayment with a card element, done
    with the secret key against localstripe; returns the intent's id and
    status, or Stripe.js's {"error": {...}}."""
    import stripe

    from finance.payments.stripe_provider import stripe_client

    client = stripe_client()
    intent_id = client_secret.split("_secret_")[0]
    if client.v1.payment_intents.retrieve(intent_id).client_secret != client_secret:
        return {"error": {"type": "invalid_request_error", "message": "Wrong client secret."}}
    try:
        method = client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {
                    "number": card["number"],
                    "exp_month": card["exp_month"],
                    "exp_year": card["exp_year"],
                    "cvc": card["cvc"],
                },
            }
        )
        client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
        intent = client.v1.payment_intents.confirm(intent_id)
    except stripe.CardError as error:
        return {"error": {"type": "card_error", "code": error.code, "message": error.user_message}}
    except stripe.InvalidRequestError as error:
        return {"error": {"type": "validation_error", "message": str(error.user_message)}}
    return {"id": intent.id, "status": intent.status}


# --- Fixtures and helpers --------------------------------------------------------------


@pytest.fixture
def stripe_site(live_site, localstripe, settings):  # noqa: F811 - the fixture imported above
    """The live site paying through localstripe (API and fake Stripe.js), whose
    webhooks reach the site's /webhooks/stripe/."""
    settings.STRIPE_JS_URL = f"{localstripe}/js.stripe.com/v3/"
    localstripe.register_webhook(
        live_site.url + "/webhooks/stripe/", settings.STRIPE_WEBHOOK_SECRET, WEBHOOK_EVENTS
    )
    return localstripe


def investor_page(new_page, stripe_site):
    page = new_page()
    page.expose_function("puenteConfirmCard", confirm_card)

    def fake_stripe_js(route):
        response = route.fetch()
        route.fulfill(response=response, body=response.text() + CONFIRM_WITH_CARD_JS)

    page.route(f"{stripe_site}/js.stripe.com/v3/", fake_stripe_js)
    log_in(page, INVESTOR, DEMO_PASSWORD)
    assert path_of(page) == "/fr/dashboard/investor/", page.url  # her preferred language
    return page


def open_donation_offering():
    from finance.offerings import Offering

    offering = (
        Offering.objects.filter(
            status="open", instrument="donation_matching", project__isnull=False
        )
        .select_related("project")
        .order_by("pk")
        .first()
    )
    assert offering is not None, "the demo data has no open donation offering on a project"
    return offering


def pledge_amount(offering) -> Decimal:
    """A small amount the offering accepts (minimum ticket, at least 25)."""
    amount = max(offering.min_ticket, Decimal("25"))
    assert amount <= offering.remaining, (amount, offering.remaining)
    return amount


def start_pledge(page, offering) -> None:
    """From the project page, follow the offering's Pledge button (rendered
    through the "project.offerings" fragment that finance registers)."""
    pledge_path = f"/en/offerings/{offering.pk}/pledge/"
    response = page.goto(offering.project.get_absolute_url())
    assert response.status == 200, page.url
    card = page.locator("main section.offerings li.card", has_text=offering.title)
    button = card.locator(f"a[href='{pledge_path}']")
    assert button.count() == 1, f"no Pledge button for offering {offering.pk} on {page.url}"
    assert button.inner_text().strip() == "Pledge"
    with page.expect_navigation(wait_until="load"):
        button.click()
    assert path_of(page) == pledge_path, page.url


def pledge_by_card(page, offering, amount: Decimal) -> int:
    """Enter the amount, choose card, check the fee, confirm; returns the pledge's pk."""
    from django.utils import translation

    from finance.money import Money
    from finance.services import pledge_fee
    from finance.templatetags.money import money

    page.fill("#id_amount", str(amount))
    page.check("input[name=method][value=card]")
    submit(page)
    fee = pledge_fee(offering, amount, "card")
    assert fee > 0
    with translation.override("en"):
        shown = {
            "Your pledge": money(Money(amount, offering.currency)),
            "Fee": money(Money(fee, offering.currency)),
            "You pay": money(Money(amount + fee, offering.currency)),
            "Paying by": "Card",
        }
    summary = page.locator("main section dl.summary")
    for term, value in shown.items():
        assert summary.locator(f"dt:text-is('{term}') + dd").inner_text().strip() == value, term
    with page.expect_navigation(wait_until="load"):
        page.locator("main button:has-text('Confirm pledge')").click()
    parts = path_of(page).strip("/").split("/")
    assert parts[:2] == ["en", "pledges"] and len(parts) == 3, page.url
    return int(parts[2])


def fill_card(page, number: str) -> None:
    element = page.locator("#card-element")
    element.locator("input[placeholder=number]").wait_for()
    for field, value in [
        ("number", number),
        ("exp_month", "12"),
        ("exp_year", "30"),
        ("cvc", "123"),
        ("postal_code", "75011"),
    ]:
        element.locator(f"input[placeholder={field}]").fill(value)


def wait_for(condition, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return result


# --- Tests -------------------------------------------------------------------------------


def test_investor_pledges_pays_by_card_and_sees_it_paid(new_page, stripe_site):
    from finance.ledger import Transaction, balance
    from finance.offerings import MatchAllocation, Payment, Pledge, ProviderEvent
    from finance.services import escrow_account, fees_account

    offering = open_donation_offering()
    amount = pledge_amount(offering)
    escrow_before = balance(escrow_account(offering)).amount
    fees_before = balance(fees_account(offering.currency)).amount

    page = investor_page(new_page, stripe_site)
    start_pledge(page, offering)
    pledge_pk = pledge_by_card(page, offering, amount)
    pledge = Pledge.objects.get(pk=pledge_pk)
    assert (pledge.investor.email, pledge.amount, pledge.method, pledge.status) == (
        INVESTOR,
        amount,
        "card",
        Pledge.Status.PENDING,
    )
    assert page.locator("#pledge-status").get_attribute("data-status") == "pending"
    assert_accessible(page, label="the pledge page with the card form")

    # Pay: the fake card element, then stripe.confirmCardPayment and the refresh form.
    fill_card(page, GOOD_CARD)
    with page.expect_navigation(url=f"**/en/pledges/{pledge_pk}/", wait_until="load"):
        page.locator("#card-pay").click()
    status = page.locator("#pledge-status").get_attribute("data-status")
    assert status == "paid", page.locator("main").inner_text()
    assert page.locator("#card-form").count() == 0

    page.goto("/en/dashboard/investor/")
    row = page.locator(f"#panel-pledges + ul li:has(a[href='/en/pledges/{pledge_pk}/'])")
    assert row.locator("[data-pledge-status]").get_attribute("data-pledge-status") == "paid"

    # The ledger: the pledge (and any matching) in escrow, the fee in the fees account.
    pledge.refresh_from_db()
    payment = Payment.objects.get(pledge=pledge)
    assert (pledge.status, payment.status) == (Pledge.Status.PAID, Payment.Status.SUCCEEDED)
    assert payment.captured_minor == payment.amount_minor
    matched = sum(
        (m.amount for m in MatchAllocation.objects.filter(pledge=pledge)), start=Decimal("0")
    )
    assert balance(escrow_account(offering)).amount - escrow_before == amount + matched
    assert balance(fees_account(offering.currency)).amount - fees_before == pledge.fee
    assert Transaction.objects.filter(idempotency_key=f"payment:{payment.pk}:captured").exists()

    # Stripe's own webhook arrives too (localstripe sends it after a second) and
    # changes nothing: one payment posting, still paid.
    event = wait_for(
        lambda: ProviderEvent.objects.filter(
            provider="stripe", type="payment_intent.succeeded", processed_at__isnull=False
        ).first(),
        "the payment_intent.succeeded webhook",
    )
    assert event.payload["data"]["object"]["id"] == payment.provider_reference
    postings = Transaction.objects.filter(idempotency_key__startswith=f"payment:{payment.pk}:")
    assert postings.count() == 1
    assert Pledge.objects.get(pk=pledge_pk).status == Pledge.Status.PAID


def test_declined_card_shows_the_error_and_leaves_the_pledge_pending(new_page, stripe_site):
    from finance.ledger import Transaction, balance
    from finance.offerings import Payment, Pledge
    from finance.services import escrow_account

    offering = open_donation_offering()
    escrow_before = balance(escrow_account(offering)).amount
    transactions_before = Transaction.objects.count()

    page = investor_page(new_page, stripe_site)
    start_pledge(page, offering)
    pledge_pk = pledge_by_card(page, offering, pledge_amount(offering))

    fill_card(page, DECLINED_CARD)
    page.locator("#card-pay").click()
    errors = page.locator("#card-errors")
    errors.filter(has_text=DECLINED_MESSAGE).wait_for()
    assert errors.get_attribute("role") == "alert"
    assert page.locator("#card-pay").is_enabled()  # the investor may try another card
    assert urlsplit(page.url).path == f"/en/pledges/{pledge_pk}/"

    # Stripe's payment_failed webhook records the failure; the pledge stays pending.
    payment = wait_for(
        lambda: Payment.objects.filter(pledge_id=pledge_pk, status=Payment.Status.FAILED).first(),
        "the payment_intent.payment_failed webhook",
    )
    assert payment.failure_message == DECLINED_MESSAGE
    assert payment.captured_minor == 0
    assert Pledge.objects.get(pk=pledge_pk).status == Pledge.Status.PENDING
    assert balance(escrow_account(offering)).amount == escrow_before
    assert Transaction.objects.count() == transactions_before

    page.reload()
    assert page.locator("#pledge-status").get_attribute("data-status") == "pending"
    alert = page.locator("#card-title ~ p[role=alert]")
    assert alert.inner_text().strip() == DECLINED_MESSAGE
    assert page.locator("#card-form").count() == 1
