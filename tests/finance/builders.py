"""Builders for finance tests: offerings on published projects, paid pledges."""

import datetime
import itertools
from decimal import Decimal

from django.utils import timezone

from finance.offerings import Offering, Payment, Pledge
from finance.payments import PaymentProvider, register_provider
from projects.models import Project
from tests.factories import UserFactory

_keys = itertools.count()


def make_offering(**fields) -> Offering:
    now = timezone.now()
    project = fields.pop("project", None) or Project.objects.create(
        owner=UserFactory(), title="Cooperative still", status=Project.Status.APPROVED
    )
    values = {
        "title": "Still for the cooperative",
        "instrument": "donation_matching",
        "currency": "USD",
        "target": Decimal("5000"),
        "min_ticket": Decimal("10"),
        "opens_at": now - datetime.timedelta(days=1),
        "closes_at": now + datetime.timedelta(days=30),
        "status": Offering.Status.OPEN,
    }
    values.update(fields)
    return Offering.objects.create(project=project, **values)


def next_key() -> str:
    return f"test-key-{next(_keys)}"


def make_pledge(offering: Offering, amount, *, investor=None, method: str = "bank_transfer"):
    """A pending pledge made through pledge_create, by an investor without a yearly limit."""
    from finance.services import pledge_create

    return pledge_create(
        offering=offering,
        investor=investor or UserFactory(verification_tier="enhanced"),
        amount=Decimal(amount),
        method=method,
        idempotency_key=next_key(),
    )


class RecordingProvider(PaymentProvider):
    """A provider that takes and refunds without any network."""

    name = "recording"

    def __init__(self):
        self.refunds: list[tuple[int, int, str]] = []

    def start(self, *, pledge):
        payment, _created = Payment.objects.get_or_create(
            pledge=pledge,
            provider=self.name,
            defaults={
                "amount_minor": pledge.total_due.minor_units,
                "currency": pledge.currency,
                "provider_reference": f"rec-{pledge.pk}",
            },
        )
        return payment

    def sync(self, *, payment):
        return payment

    def refund(self, *, payment, amount_minor, idempotency_key):
        self.refunds.append((payment.pk, amount_minor, idempotency_key))
        return f"rec-refund-{len(self.refunds)}"


recording = register_provider(RecordingProvider())


def pay(pledge: Pledge) -> Payment:
    """Take the full amount due for a pledge, as a provider would on success."""
    from finance.services import pledge_mark_paid

    payment = recording.start(pledge=pledge)
    Payment.objects.filter(pk=payment.pk).update(
        status=Payment.Status.SUCCEEDED, captured_minor=payment.amount_minor
    )
    payment.refresh_from_db()
    pledge_mark_paid(payment=payment)
    return payment
