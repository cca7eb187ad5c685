"""Headline figures from paid pledges and verified impact, and the knowledge test
on a site without CMS content (no seeded pages in this module)."""

import datetime
from decimal import Decimal

from django.utils import timezone

from cms.models import headline_figures
from finance.knowledge import questions


def test_knowledge_test_falls_back_to_seed_content_on_an_empty_site(db):
    asked = questions("en")
    assert len(asked) >= 3 and all("/" in q.key for q in asked)


def test_headline_figures_are_empty_without_pledges(db):
    figures = headline_figures()
    assert figures.empty and figures.money == []


def test_headline_figures_count_paid_pledges_and_verified_jobs(db, user, territory):
    from finance.offerings import Offering, Pledge
    from projects.models import ImpactReport, ImpactValue, Project

    project = Project.objects.create(
        owner=user, title="Mill", status="approved", territory=territory
    )
    now = timezone.now()
    offering = Offering.objects.create(
        project=project,
        title="Mill loan",
        instrument="donation_matching",
        currency="USD",
        target=Decimal("1000"),
        min_ticket=Decimal("1"),
        opens_at=now,
        closes_at=now + datetime.timedelta(days=9),
        status="open",
    )
    for key, status in (("a", "paid"), ("b", "paid"), ("c", "pending")):
        Pledge.objects.create(
            offering=offering,
            investor=user,
            amount=Decimal("100"),
            currency="USD",
            method="card",
            status=status,
            idempotency_key=key,
            expires_at=now + datetime.timedelta(days=1),
        )
    report = ImpactReport.objects.create(
        project=project,
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 3, 31),
        submitted_by=user,
        verified_at=now,
        verified_by=user,
    )
    ImpactValue.objects.create(report=report, indicator="jobs_created", value=Decimal("4"))
    figures = headline_figures()
    assert figures.money == ["$200.00"]
    assert (figures.projects_funded, figures.jobs_reported, figures.territories) == (1, 4, 1)
    # In each language as every other page writes money (Mexican Spanish,
    # European Portuguese), not as the bare language code's default country.
    from django.utils import translation

    from finance.money import Money

    for language, locale in (("es", "es_MX"), ("pt", "pt_PT"), ("fr", "fr_FR")):
        with translation.override(language):
            assert headline_figures().money == [Money("200", "USD").format(locale)], language
