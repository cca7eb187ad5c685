"""Demo offerings for the embedded setup: one offering per published demo
project, on the project's funding window, matching pools from the local
governments, a diaspora bond of the Municipio de Jerez, and paid pledges that
move real ledger entries so the catalogue's funding figures come from the
ledger. Idempotent."""

import datetime
from decimal import ROUND_DOWN, Decimal

from django.utils import timezone

from portal.models import Organization, User
from projects.models import Project

from . import notices, services
from .offerings import KnowledgeTestPass, MatchingPool, Offering, Payment, Pledge

MIN_TICKET = {"XOF": Decimal("5000"), "NGN": Decimal("5000"), "JPY": Decimal("1000")}
# Share of each project's target paid in by demo investors, by catalogue order,
# for a project that projects.demo does not describe.
DEMO_FUNDING = (Decimal("0.6"), Decimal("0.25"), Decimal("0.85"), Decimal("0.1"), Decimal("0.4"))
# What a local government adds for each unit a donor gives: a 3x1 project is
# matched twice over (the municipality's share and the state's, paid through it).
MATCHING_RATIO = {"solar-pumps-jerez-orchards": Decimal("2")}
# Without such a ratio the sponsor matches one for one up to this share of the project.
MATCHED_SHARE = Decimal("0.2")
PUBLISHED = (Project.Status.APPROVED, Project.Status.FUNDED, Project.Status.CLOSED)


def seed_offerings(stdout=None) -> list[Offering]:
    """`_seed_offerings`, telling nobody of the demo's pledges: no notice, no email."""
    with notices.quiet():
        return _seed_offerings(stdout)


def _seed_offerings(stdout=None) -> list[Offering]:
    """One offering per published demo project, over the project's own funding
    window, funded to the share projects.demo says the project has raised.

    A project's funding figures count pledges and matching funds together
    (`services.project_refresh_funding`), while an offering's target and hard
    cap count pledges alone (what `offering_close` compares with the target,
    and what is left to pledge). So a matched offering asks the diaspora for
    the project's amount less the sponsors' cap: pledges and matches then add
    up to what the project seeks, never more. A funded or closed project's
    offering takes its pledges, then closes as the scheduled closing would."""
    from projects.demo import PROJECTS

    now = timezone.now()
    crowd = _crowd()
    aimed = {spec.slug: Decimal(spec.funded_percent) / 100 for spec in PROJECTS}
    created = []
    projects = (
        Project.objects.filter(status__in=PUBLISHED)
        .exclude(funding_sought__isnull=True)
        .exclude(closes_at__isnull=True)
        .order_by("slug")
    )
    for index, project in enumerate(projects):
        if project.offerings.exists():
            continue
        offering = _offering(project, now)
        created.append(offering)
        government = None
        if offering.instrument == "donation_matching":
            government = Organization.objects.filter(
                kind=Organization.Kind.LOCAL_GOVERNMENT,
                territory__in=project.territory.ancestors_and_self(),
            ).first()
        pool = None
        if government:
            ratio = MATCHING_RATIO.get(project.slug, Decimal("1"))
            if ratio == 1:
                cap = (project.funding_sought * MATCHED_SHARE).quantize(Decimal("1"))
            else:
                cap = (project.funding_sought * ratio / (1 + ratio)).quantize(Decimal("1"))
            offering.target = offering.hard_cap = project.funding_sought - cap
            offering.full_clean()
            offering.save(update_fields=["target", "hard_cap"])
            pool = MatchingPool.objects.create(
                offering=offering, sponsor=government, ratio=ratio, cap_per_offering=cap
            )
        share = aimed.get(project.slug, DEMO_FUNDING[index % len(DEMO_FUNDING)])
        _fund(offering, crowd, _pledged_for(project.funding_sought * share, pool))
        if project.closes_at <= now:
            _close(offering, project.closes_at)
    # Funding figures on every demo project come from paid pledges only.
    for project_id in Project.objects.values_list("pk", flat=True):
        services.project_refresh_funding(project_id)
    _bond(now)
    _monthly_plan(created)
    if stdout:
        stdout.write(f"Demo offerings: {len(created)} created.")
    return created


def _offering(project: Project, now) -> Offering:
    """An open offering on the project's funding window; one whose window has
    ended is opened until a moment from now, to take its pledges first."""
    offering = Offering(
        project=project,
        title=project.title[:160],
        instrument=project.instrument or "donation_matching",
        currency=project.currency,
        target=project.funding_sought,
        hard_cap=project.funding_sought,
        min_ticket=MIN_TICKET.get(project.currency, Decimal("10")),
        opens_at=min(project.published_at or now, now) - datetime.timedelta(days=1),
        closes_at=max(project.closes_at, now + datetime.timedelta(hours=1)),
        funding_rule=Offering.FundingRule.ALL_OR_NOTHING,
        status=Offering.Status.OPEN,
    )
    if project.status == Project.Status.CLOSED:
        # It ended below its target and went ahead with what it raised.
        offering.funding_rule = Offering.FundingRule.KEEP_WHAT_YOU_RAISE
    if offering.instrument == "loan":
        offering.annual_rate, offering.tenor_months = Decimal("0.06"), 24
        offering.periods_per_year, offering.schedule_type = 12, "annuity"
    elif offering.instrument == "revenue_share":
        offering.revenue_share, offering.cap_multiple = Decimal("0.05"), Decimal("1.5")
    offering.full_clean()
    offering.save()
    return offering


def _pledged_for(raised: Decimal, pool: MatchingPool | None) -> Decimal:
    """What donors must pay for the project to have raised `raised`, their
    matches counted."""
    if pool is None:
        return raised
    if raised <= pool.cap_per_offering * (1 + pool.ratio) / pool.ratio:
        return raised / (1 + pool.ratio)
    return raised - pool.cap_per_offering


def _close(offering: Offering, closes_at: datetime.datetime) -> None:
    """Close an offering whose window has ended, as the scheduled closing does:
    its pledges are dated inside the window, a week before it ended, so their
    reflection periods are over."""
    pledged_at = max(closes_at - datetime.timedelta(days=7), offering.opens_at)
    offering.pledges.update(created_at=pledged_at, paid_at=pledged_at, expires_at=closes_at)
    Offering.objects.filter(pk=offering.pk).update(closes_at=closes_at)
    offering.refresh_from_db()
    services.offering_close(offering=offering)


def _monthly_plan(offerings: list[Offering]) -> None:
    """The demo investor sends part of each month's remittance to a matched
    donation: a pledge through a remittance partner, repeated on the 5th."""
    from .plans import plan_start

    investor = User.objects.filter(email="investor@puente.example").first()
    offering = next(
        (o for o in offerings if o.instrument == "donation_matching" and o.is_open()), None
    )
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


def _fund(offering: Offering, crowd: list[User], amount: Decimal) -> None:
    """Paid bank-transfer pledges from demo investors, through the real
    workflow, adding up to `amount` (in whole units), shared among them."""
    goal = amount.quantize(Decimal("1"))
    each = (goal / len(crowd)).quantize(Decimal("1"), rounding=ROUND_DOWN)
    if each < offering.min_ticket:
        return
    amounts = [each] * (len(crowd) - 1) + [goal - each * (len(crowd) - 1)]
    for investor, each in zip(crowd, amounts, strict=True):
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
    """The Municipio de Jerez sells 2,500 bonds of 100 dollars, all it means
    to issue (so what is left to buy is what is left of the issue), and names
    the series by the year it matures: the bonds are issued when the sale
    closes, and repaid 36 months later."""
    issuer = Organization.objects.filter(slug="municipio-de-jerez").first()
    if issuer is None or Offering.objects.filter(issuer=issuer, instrument="bond").exists():
        return
    tenor_months = 36
    closes_at = now + datetime.timedelta(days=90)
    bond = Offering(
        issuer=issuer,
        title=f"Bono Diáspora Jerez {closes_at.year + tenor_months // 12}",
        instrument="bond",
        currency="USD",
        target=Decimal("250000"),
        hard_cap=Decimal("250000"),
        min_ticket=Decimal("100"),
        face_value=Decimal("100"),
        annual_rate=Decimal("0.055"),
        tenor_months=tenor_months,
        periods_per_year=2,
        day_count="30/360 US",
        opens_at=now - datetime.timedelta(days=3),
        closes_at=closes_at,
        status=Offering.Status.OPEN,
        funding_rule=Offering.FundingRule.KEEP_WHAT_YOU_RAISE,
    )
    bond.full_clean()
    bond.save()
