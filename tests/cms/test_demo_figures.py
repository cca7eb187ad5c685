"""The demo's money adds up: what a project raised, what its offering still
takes and what its sponsors match, against what it seeks, its status and its
window. One test: seeding the whole demo takes a while."""

import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import date_format

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _amount(pattern: str, text: str) -> Decimal:
    found = re.search(pattern, text)
    assert found, pattern
    return Decimal(found.group(1).replace(",", ""))


def test_demo_figures_agree_with_statuses_windows_and_each_other(client):
    from finance.offerings import MatchAllocation, Offering, Pledge
    from projects.demo import PROJECTS
    from projects.models import Project

    call_command("seed_demo", verbosity=0)

    for spec in PROJECTS:
        project = Project.objects.get(slug=spec.slug)
        offering = Offering.objects.get(project=project)
        paid = Pledge.objects.filter(offering=offering, status=Pledge.Status.PAID).aggregate(
            s=Sum("amount")
        )["s"]
        matched = MatchAllocation.objects.filter(
            pledge__offering=offering, released=False
        ).aggregate(s=Sum("amount"))["s"] or Decimal(0)
        assert project.amount_raised == paid + matched, spec.slug
        assert project.funded_percent == spec.funded_percent, spec.slug
        # Pledges up to the offering's cap, with their matches, reach what the project seeks.
        caps = sum((pool.cap_per_offering for pool in offering.matching_pools.all()), Decimal(0))
        assert offering.hard_cap + caps == project.funding_sought, spec.slug
        # The offering takes pledges over the project's own window.
        assert offering.closes_at == project.closes_at, spec.slug
        assert offering.opens_at < project.published_at, spec.slug
        expected = (
            Offering.Status.OPEN
            if project.status == Project.Status.APPROVED
            else Offering.Status.SUCCEEDED
        )
        assert offering.status == expected, spec.slug
    assert Project.objects.get(slug="cheran-forest-nursery").funded_percent == 100
    tricycles = Project.objects.get(slug="laoag-e-tricycles")
    assert tricycles.funded_percent == 74 and "74% raised" in tricycles.story

    bond = Offering.objects.get(instrument="bond")
    assert bond.remaining == bond.target == Decimal("250000")
    assert bond.title.endswith(str(bond.closes_at.year + bond.tenor_months // 12))

    # On the page: raised (matches included), awaiting payment and still open
    # to pledges make the project's amount (its sponsor has given all it committed).
    slug = "nsukka-borehole-water-kiosk"
    offering = Offering.objects.get(project__slug=slug)
    pool = offering.matching_pools.get()
    assert pool.committed == pool.cap_per_offering
    text = _text(client.get(f"/en/projects/{slug}/").content.decode())
    sought = _amount(r"% of \$([\d,]+(?:\.\d+)?)", text)
    raised = _amount(r"\$([\d,]+(?:\.\d+)?) raised so far, matching funds included", text)
    pending = _amount(r"Pledges awaiting payment: \$([\d,]+(?:\.\d+)?)", text)
    left = _amount(r"Still open to pledges: \$([\d,]+(?:\.\d+)?)", text)
    assert raised + pending + left == sought
    closes = date_format(timezone.localtime(offering.closes_at), "DATE_FORMAT")
    assert f"until {closes}" in text and "Funding window" not in text

    text = _text(client.get("/en/projects/cheran-forest-nursery/").content.decode())
    assert "100% of $18,000.00" in text and "$18,000.00 raised so far" in text
    assert "closed to pledges on" in text and "Still open to pledges" not in text
