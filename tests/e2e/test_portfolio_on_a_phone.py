"""The portfolio page of an investor who has just paid two pledges, on a 375 px phone: the
page does not scroll sideways (wide tables scroll in their own box, charts shrink), every
label of a chart is drawn inside it, and the charts with no history yet say so."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.e2e.test_accounts_flow import log_in
from tests.e2e.test_card_payment_flow import DEMO_PASSWORD, INVESTOR
from tests.e2e.test_layout_and_busy_forms import PHONE, overflows

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Each <text> of each chart, as the browser lays it out, against its own chart's box.
TEXT_OUTSIDE_ITS_CHART = """() => [...document.querySelectorAll('.charts svg')].flatMap(svg => {
  const box = svg.viewBox.baseVal;
  return [...svg.querySelectorAll('text')]
    .filter(text => {
      const b = text.getBBox();
      return b.x < box.x - 0.5 || b.x + b.width > box.x + box.width + 0.5;
    })
    .map(text => text.textContent);
})"""


def pay_two_pledges(email: str) -> None:
    """A loan and an agricultural revenue share of the demo, paid by bank transfer today."""
    from django.utils import timezone

    from finance import services
    from finance.offerings import KnowledgeTestPass, Offering, Payment, Pledge
    from portal.models import User

    investor = User.objects.get(email=email)
    KnowledgeTestPass.objects.get_or_create(
        investor=investor, defaults={"score": 100, "risk_acknowledged_at": timezone.now()}
    )
    open_offerings = Offering.objects.filter(status=Offering.Status.OPEN).order_by("pk")
    chosen = [
        open_offerings.filter(instrument="loan").first(),
        open_offerings.filter(instrument="revenue_share", project__sector="agriculture").first(),
    ]
    for offering in chosen:
        pledge = services.pledge_create(
            offering=offering,
            investor=investor,
            amount=max(offering.min_ticket, Decimal("100")),
            method=Pledge.Method.BANK_TRANSFER,
            idempotency_key=f"portfolio-e2e-{offering.pk}",
        )
        payment = Payment.objects.create(
            pledge=pledge,
            provider="bank_transfer",
            amount_minor=pledge.total_due.minor_units,
            currency=pledge.currency,
            provider_reference=pledge.bank_reference,
            status=Payment.Status.SUCCEEDED,
            captured_minor=pledge.total_due.minor_units,
        )
        services.pledge_mark_paid(payment=payment)


def test_a_new_portfolio_fits_a_phone_in_english_and_arabic(new_page, live_site):
    pay_two_pledges(INVESTOR)
    page = new_page(**PHONE)
    log_in(page, INVESTOR, DEMO_PASSWORD)
    for language in ("en", "ar"):
        page.goto(f"/{language}/portfolio/")
        assert page.locator("table.holdings tbody tr").count() == 2
        assert not overflows(page), f"/{language}/portfolio/ scrolls sideways"
        holdings = page.locator(".table-scroll:has(table.holdings)")
        assert holdings.evaluate("box => box.scrollWidth > box.clientWidth"), (
            "the holdings table scrolls inside its own box"
        )
        width = page.evaluate("() => document.documentElement.clientWidth")
        for box in (svg.bounding_box() for svg in page.locator(".charts svg").all()):
            assert box["x"] >= 0 and box["x"] + box["width"] <= width
        assert page.evaluate(TEXT_OUTSIDE_ITS_CHART) == []
        assert page.locator("[data-chart-empty]").count() == 2
        assert "—" in page.locator("td[data-xirr]").first.inner_text()
