"""Demo offerings for the embedded setup: one open offering per published
demo project, matching pools from the local governments, a diaspora bond of
the Municipio de Jerez, and paid pledges that move real ledger entries so the
catalogue's funding figures come from the ledger. Idempotent."""

import datetime
from decimal import Decimal

from django.utils import timezone

from portal.models import Organization, User
from projects.models import Project

from . import services
from .offerings import KnowledgeTestPass, MatchingPool, Offering, Payment, Pledge

MIN_TICKET = {"XOF": Decimal("5000"), "NGN": Decimal("5000"), "JPY": Decimal("1000")}
# Share of each project's target paid in by demo investors, by catalogue order.
DEMO_FUNDING = (Decimal("0.6"), Decimal("0.25"), Decimal("0.85"), Decimal("0.1"), Decimal("0.4"))


def seed_offerings(stdout=None) -> list[Offering]:
    now = timezone.now()
    crowd = _crowd()
    created = []
    projects = (
        Project.objects.filter(status=Project.Status.APPROVED)
        .exclude(funding_sought__isnull=True)
        .order_by("slug")
    )
    for index, project in enumerate(projects):
        if project.offerings.exists():
            continue
        offering = Offering(
            project=project,
            title=project.title[:160],
            instrument=project.instrument or "donation_matching",
            currency=project.currency,
            target=project.funding_sought,
            hard_cap=project.funding_sought,
            min_ticket=MIN_TICKET.get(project.currency, Decimal("10")),
            opens_at=now - datetime.timedelta(days=7),
            closes_at=now + datetime.timedelta(days=60),
            funding_rule=Offering.FundingRule.ALL_OR_NOTHING,
            status=Offering.Status.OPEN,
        )
        if offering.instrument == "loan":
            offering.annual_rate, offering.tenor_months = Decimal("0.06"), 24
            offering.periods_per_year, offering.schedule_type = 12, "annuity"
        elif offering.instrument == "revenue_share":
            offering.revenue_share, offering.cap_multiple = Decimal("0.05"), Decimal("1.5")
        offering.full_clean()
        offering.save()
        created.append(offering)
        if offering.instrument == "donation_matching":
            government = Organization.objects.filter(
                kind=Organization.Kind.LOCAL_GOVERNMENT,
                territory__in=project.territory.ancestors_and_self(),
            ).first()
            if government:
                MatchingPool.objects.create(
                    offering=offering,
                    sponsor=government,
                    ratio=Decimal("1"),
                    cap_per_offering=(offering.target / 5).quantize(Decimal("1")),
                )
        _fund(offering, crowd, DEMO_FUNDING[index % len(DEMO_FUNDING)])
    # Funding figures on every demo project come from paid pledges only.
    for project_id in Project.objects.values_list("pk", flat=True):
        services.project_refresh_funding(project_id)
    _bond(now)
    _monthly_plan(created)
    if stdout:
        stdout.write(f"Demo offerings: {len(created)} created.")
    return created


def _monthly_plan(offerings: list[Offering]) -> None:
    """The demo investor sends part of each month's remittance to a matched
    donation: a pledge through a remittance partner, repeated on the 5th."""
    from .plans import plan_start

    investor = User.objects.filter(email="investor@puente.example").first()
    offering = next((o for o in offerings if o.instrument == "donation_matching"), None)
    if investor is None or offering is None:
        return
    pledge = services.pledge_create(
        offering=offering,
        investor=investor,
        amount=max(offering.min_ticket, Decimal("50")),
        method=Pledge.Method.REMITTANCE,
        idempotency_key=f"demo-plan-{offering.pk}",
    )
    plan_start(pledge=pledge, day=5)


def _crowd() -> list[User]:
    people = []
    for number in range(1, 6):
        user, _created = User.objects.get_or_create(
            email=f"crowd{number}@puente.example",
            defaults={"full_name": f"Demo investor {number}", "verification_tier": "enhanced"},
        )
        if _created:
            user.set_unusable_password()
            user.save()
        # Demo investors have taken the knowledge test, as a real one must.
        KnowledgeTestPass.objects.get_or_create(
            investor=user, defaults={"score": 100, "risk_acknowledged_at": timezone.now()}
        )
        people.append(user)
    return people


def _fund(offering: Offering, crowd: list[User], share: Decimal) -> None:
    """Paid bank-transfer pledges from demo investors, through the real
    workflow, up to `share` of the target (at most half for matched offerings,
    so the matching pool is not exceeded)."""
    goal = (offering.target * share).quantize(Decimal("1"))
    if offering.instrument == "donation_matching":
        goal = min(goal, offering.target / 2)
    each = (goal / len(crowd)).quantize(Decimal("1"))
    if each < offering.min_ticket:
        return
    for investor in crowd:
        pledge = services.pledge_create(
            offering=offering,
            investor=investor,
            amount=each,
            method=Pledge.Method.BANK_TRANSFER,
            idempotency_key=f"demo-{offering.pk}-{investor.pk}",
        )
        payment, _created = Payment.objects.get_or_create(
            pledge=pledge,
            provider="bank_transfer",
            defaults={
                "amount_minor": pledge.total_due.minor_units,
                "currency": pledge.currency,
                "provider_reference": pledge.bank_reference,
                "status": Payment.Status.SUCCEEDED,
                "captured_minor": pledge.total_due.minor_units,
            },
        )
        services.pledge_mark_paid(payment=payment)


def _bond(now) -> None:
    issuer = Organization.objects.filter(slug="municipio-de-jerez").first()
    if issuer is None or Offering.objects.filter(issuer=issuer, instrument="bond").exists():
        return
    bond = Offering(
        issuer=issuer,
        title="Bono Diáspora Jerez 2029",
        instrument="bond",
        currency="USD",
        target=Decimal("250000"),
        hard_cap=Decimal("300000"),
        min_ticket=Decimal("100"),
        face_value=Decimal("100"),
        annual_rate=Decimal("0.055"),
        tenor_months=36,
        periods_per_year=2,
        day_count="30/360 US",
        opens_at=now - datetime.timedelta(days=3),
        closes_at=now + datetime.timedelta(days=90),
        status=Offering.Status.OPEN,
        funding_rule=Offering.FundingRule.KEEP_WHAT_YOU_RAISE,
    )
    bond.full_clean()
    bond.save()
