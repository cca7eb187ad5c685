"""Demo projects for the embedded setup: a dozen published projects in Mexico,
Senegal, Nigeria and the Philippines, and two of Lucía's projects still in
draft and in review, so the review queue has work.

Runs after `seed_demo` has made the territories, organizations and users, and
changes nothing on a second run (each project is keyed by its slug). Cover
pictures are drawn here with Pillow; nothing is downloaded.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.db import transaction
from django.utils import timezone
from PIL import Image as PillowImage
from PIL import ImageDraw, ImageFont
from wagtail.images import get_image_model

from portal.models import AuditEntry, Membership, Organization, Territory, User

from .models import (
    BudgetLine,
    Document,
    Follow,
    ImpactReport,
    ImpactValue,
    Milestone,
    Project,
    ProjectPhoto,
    ProjectUpdate,
    ProjectVersion,
    Review,
    TeamMember,
)

ENTREPRENEUR = "entrepreneur@puente.example"
GOVERNMENT = "government@puente.example"
REVIEWER = "reviewer@puente.example"
INVESTOR = "investor@puente.example"

# Owners of the projects outside Jerez. They exist to own content: they have no
# usable password (the people to log in as are the ones seed_demo prints).
OWNERS = {
    "awa.ndiaye@puente.example": ("Awa Ndiaye", "SN", "gie-teranga-agro"),
    "mamadou.balde@puente.example": ("Mamadou Baldé", "SN", None),
    "chinedu.eze@puente.example": ("Chinedu Eze", "NG", None),
    "ngozi.okeke@puente.example": ("Ngozi Okeke", "NG", None),
    "maricel.agbayani@puente.example": ("Maricel Agbayani", "PH", None),
    "rosa.tapia@puente.example": ("Rosa Tapia", "MX", None),
}

JEREZ = "mx-zacatecas-jerez-de-garcia-salinas"
CHERAN = "mx-michoacan-cheran"
LOUGA = "sn-louga-louga"
VELINGARA = "sn-kolda-velingara"
NSUKKA = "ng-enugu-nsukka"
LAOAG = "ph-ilocos-norte-laoag-city"


@dataclass
class DemoProject:
    slug: str
    title: str
    territory: str
    owner: str
    summary: str
    story: str
    sector: str
    sdgs: list[int]
    instrument: str
    currency: str
    funding_sought: int
    funded_percent: int
    risk_rating: str
    risk_reason: str
    colours: tuple[str, str, str]
    organization: str | None = None
    origin: str = Project.Origin.ENTREPRENEUR
    status: str = Project.Status.APPROVED
    led_by_returnee: bool = False
    led_by_woman: bool = False
    endorsement: str = Project.Endorsement.NONE
    endorsement_note: str = ""
    jobs_planned: int = 4
    beneficiaries_planned: int = 60
    community_benefit: str = ""
    do_no_harm: str = ""
    risks: str = ""
    published_days_ago: int = 10
    closes_in_days: int | None = 45
    team: list[tuple[str, str, bool, bool, str]] = field(default_factory=list)
    budget: list[tuple[str, int]] = field(default_factory=list)
    updates: list[tuple[int, str, str]] = field(default_factory=list)
    milestones: list[tuple[int, str, bool]] = field(default_factory=list)


PROJECTS = [
    DemoProject(
        slug="mezcal-ageing-cellar-jerez",
        title="An ageing cellar for the Jerez mezcal cooperative",
        territory=JEREZ,
        owner=ENTREPRENEUR,
        organization="cooperativa-mezcalera-de-jerez",
        summary="Twelve agave growers, four of them back from California, want to age and "
        "bottle their own mezcal instead of selling the raw spirit by the barrel.",
        story="The cooperative has distilled together since 2021. Today it sells young mezcal "
        "in bulk to bottlers in Guadalajara at a third of the shelf price.\n\nAn ageing "
        "cellar with 60 oak barrels, a small bottling line and the health registration "
        "would let the cooperative sell aged mezcal under its own label to shops in "
        "Zacatecas and to the Zacatecan clubs in Los Angeles and Chicago.",
        sector="agriculture",
        sdgs=[8, 12],
        instrument="loan",
        currency="USD",
        funding_sought=24000,
        funded_percent=62,
        risk_rating="B",
        risk_reason="Three years of bulk sales with invoices; the bottling line is backed by two "
        "quotes; the health registration is applied for, not yet granted.",
        colours=("#f6c28b", "#d9825b", "#5b7f3a"),
        led_by_returnee=True,
        led_by_woman=True,
        endorsement=Project.Endorsement.ENDORSED,
        endorsement_note="Fits the municipal plan for agave producers; the municipality lends "
        "the warehouse next to the market for ten years.",
        jobs_planned=6,
        beneficiaries_planned=48,
        community_benefit="Growers who never migrated own eight of the twelve shares; the "
        "cellar buys agave from neighbouring ejidos at the cooperative's price.",
        do_no_harm="Shares are open to any grower of the municipality on the same terms.",
        risks="Agave prices swing from year to year; the cooperative keeps a year of stock.",
        published_days_ago=20,
        closes_in_days=25,
        team=[
            (
                "Lucía Hernández",
                "Coordinator",
                True,
                True,
                "Eleven years in a winery in Sonoma, California; back in Jerez since 2020.",
            ),
            (
                "Ramón Ávila",
                "Master distiller",
                False,
                False,
                "Third generation of distillers in La Ermita.",
            ),
            (
                "Diana Rivas",
                "Accounts and sales",
                False,
                True,
                "Book-keeper for the ejido's credit union.",
            ),
        ],
        budget=[
            ("60 used oak barrels", 9000),
            ("Small bottling line", 8500),
            ("Health registration and label design", 2500),
            ("Working capital", 4000),
        ],
        updates=[
            (
                12,
                "The warehouse is ours",
                "The municipality signed the ten-year loan of the "
                "warehouse. Next week we clean it and measure the humidity.",
            ),
            (
                4,
                "First barrels delivered",
                "Twenty barrels arrived from a winery in Baja "
                "California. They were inspected and filled with last winter's distillation.",
            ),
        ],
        milestones=[
            (-10, "Warehouse agreement signed", True),
            (30, "Bottling line installed", False),
            (90, "First aged bottles on sale", False),
        ],
    ),
    DemoProject(
        slug="solar-pumps-jerez-orchards",
        title="Solar pumps for the family orchards of Jerez",
        territory=JEREZ,
        owner=GOVERNMENT,
        organization="municipio-de-jerez",
        origin=Project.Origin.MUNICIPAL,
        summary="The municipality replaces 30 diesel pumps with solar pumps in the peach and "
        "guava orchards; every diaspora dollar is matched by the municipality and the state.",
        story="Orchard families spend up to a third of their income on diesel for irrigation. "
        "Solar pumps cost nothing to run once installed.\n\nThis is a 3x1 project: for each "
        "dollar from the diaspora, the municipality and the state of Zacatecas each add one, "
        "paid in through the municipality, until the 45,000 dollars are reached.",
        sector="renewable_energy",
        sdgs=[7, 13, 2],
        instrument="donation_matching",
        currency="USD",
        funding_sought=45000,
        funded_percent=38,
        risk_rating="A",
        risk_reason="Municipal project with matching funds already budgeted; pumps from a "
        "supplier with local service.",
        colours=("#9ad0f5", "#f9e79f", "#6a994e"),
        endorsement=Project.Endorsement.ENDORSED,
        jobs_planned=2,
        beneficiaries_planned=180,
        published_days_ago=8,
        closes_in_days=60,
        team=[
            (
                "José Ramírez",
                "Director of rural development",
                False,
                False,
                "Runs the municipality's rural programmes.",
            )
        ],
        budget=[
            ("30 solar pumps with panels", 36000),
            ("Installation", 6000),
            ("Training for the families", 3000),
        ],
    ),
    DemoProject(
        slug="cheran-forest-nursery",
        title="Community forest nursery in Cherán",
        territory=CHERAN,
        owner="rosa.tapia@puente.example",
        summary="A nursery growing 80,000 native pine and oak seedlings a year to reforest "
        "the communal forest.",
        story="The community of Cherán has protected its forest since 2011. The nursery grows "
        "seedlings for the reforestation brigades and sells the surplus to neighbouring "
        "communities.",
        sector="community_infrastructure",
        sdgs=[13, 15],
        instrument="donation_matching",
        currency="USD",
        funding_sought=18000,
        funded_percent=100,
        status=Project.Status.FUNDED,
        risk_rating="B",
        risk_reason="Run by the communal council with ten years of nursery records.",
        colours=("#cde5c7", "#8fbf7f", "#2d5a27"),
        led_by_woman=True,
        jobs_planned=8,
        beneficiaries_planned=1200,
        published_days_ago=70,
        closes_in_days=-5,
        team=[
            (
                "Rosa Tapia",
                "Nursery coordinator",
                False,
                True,
                "Forest engineer, fifteen years with the communal brigades.",
            )
        ],
        budget=[
            ("Shade house and irrigation", 11000),
            ("Seed and substrate", 4000),
            ("Tools", 3000),
        ],
    ),
    DemoProject(
        slug="louga-millet-processing",
        title="Millet and cowpea processing unit in Louga",
        territory=LOUGA,
        owner="awa.ndiaye@puente.example",
        organization="gie-teranga-agro",
        summary="A women's economic interest group cleans, husks and packs millet and cowpea "
        "for shops in Louga and Dakar.",
        story="The group buys grain from 90 farms around Louga. Husking by hand takes most of "
        "the members' day; a husker and a packing machine would triple what they sell.",
        sector="agriculture",
        sdgs=[2, 5, 8],
        instrument="revenue_share",
        currency="XOF",
        funding_sought=15000000,
        funded_percent=27,
        risk_rating="C",
        risk_reason="Two years of sales, but a single wholesale buyer in Dakar takes half.",
        colours=("#fde2a7", "#e9b872", "#a1683a"),
        led_by_returnee=True,
        led_by_woman=True,
        endorsement=Project.Endorsement.ENDORSED,
        endorsement_note="The Commune de Louga supports the group's stand at the central market.",
        published_days_ago=15,
        closes_in_days=40,
        team=[
            (
                "Awa Ndiaye",
                "President",
                True,
                True,
                "Worked eight years in food processing near Turin, Italy.",
            )
        ],
        budget=[("Husker", 6500000), ("Packing machine", 5000000), ("Working capital", 3500000)],
    ),
    DemoProject(
        slug="louga-cold-room",
        title="A solar cold room for fish and vegetables in Louga",
        territory=LOUGA,
        owner="awa.ndiaye@puente.example",
        summary="Market traders lose a fifth of their vegetables and fish to heat; a shared "
        "solar cold room lets them keep produce for days.",
        story="Traders rent shelves by the week. The room runs on solar panels with a battery "
        "for the night.",
        sector="retail_trade",
        sdgs=[2, 7, 12],
        instrument="revenue_share",
        currency="XOF",
        funding_sought=9000000,
        funded_percent=12,
        risk_rating="D",
        risk_reason="No sales yet; depends on the market authority renewing the site lease.",
        colours=("#bde0fe", "#a2d2ff", "#3d5a80"),
        published_days_ago=3,
        closes_in_days=75,
        team=[("Awa Ndiaye", "Manager", True, True, "Runs the group's millet unit.")],
        budget=[("Cold room and panels", 7000000), ("Installation", 2000000)],
    ),
    DemoProject(
        slug="velingara-shea-butter",
        title="Shea butter workshop in Vélingara",
        territory=VELINGARA,
        owner="mamadou.balde@puente.example",
        summary="Forty women press shea butter by hand; a workshop with a press and a roaster "
        "would let them sell certified butter to cosmetic makers.",
        story="The workshop buys kernels from women's groups in twelve villages around Vélingara.",
        sector="crafts_manufacturing",
        sdgs=[5, 8, 1],
        instrument="loan",
        currency="EUR",
        funding_sought=21000,
        funded_percent=54,
        risk_rating="C",
        risk_reason="A buyer has signed a letter of intent, not a contract; kernels are seasonal.",
        colours=("#fff3b0", "#e09f3e", "#9e2a2b"),
        led_by_woman=True,
        published_days_ago=30,
        closes_in_days=10,
        team=[
            (
                "Mamadou Baldé",
                "Treasurer",
                True,
                False,
                "Back from Lyon, where he managed a warehouse.",
            ),
            (
                "Fatoumata Diallo",
                "Workshop leader",
                False,
                True,
                "Leads the largest shea women's group in the area.",
            ),
        ],
        budget=[("Press and roaster", 12000), ("Building works", 6000), ("Certification", 3000)],
    ),
    DemoProject(
        slug="nsukka-market-minigrid",
        title="Solar mini-grid for Ogige market, Nsukka",
        territory=NSUKKA,
        owner="chinedu.eze@puente.example",
        summary="A 60 kW solar mini-grid to replace the generators of 400 market stalls.",
        story="Stall owners pay for petrol generators every evening. The mini-grid sells "
        "electricity by prepaid meter at a price below what they pay for petrol.",
        sector="renewable_energy",
        sdgs=[7, 13, 9],
        instrument="revenue_share",
        currency="USD",
        funding_sought=80000,
        funded_percent=71,
        risk_rating="B",
        risk_reason="Signed agreement with the market union; operator with two running "
        "mini-grids in Enugu State.",
        colours=("#ffd6a5", "#fdffb6", "#386641"),
        led_by_returnee=True,
        endorsement=Project.Endorsement.ENDORSED,
        endorsement_note="Nsukka Local Government grants the roof rights on the market halls.",
        jobs_planned=9,
        beneficiaries_planned=2400,
        published_days_ago=25,
        closes_in_days=20,
        team=[
            (
                "Chinedu Eze",
                "Project lead",
                True,
                False,
                "Electrical engineer, nine years with a utility in Manchester.",
            )
        ],
        budget=[
            ("Panels and inverters", 52000),
            ("Batteries", 18000),
            ("Meters and wiring", 10000),
        ],
        updates=[
            (6, "Roof survey done", "The engineers confirmed the halls can carry the panels.")
        ],
        milestones=[(-3, "Roof survey", True), (45, "First hall connected", False)],
    ),
    DemoProject(
        slug="nsukka-digital-skills-hub",
        title="Digital skills hub for young people in Nsukka",
        territory=NSUKKA,
        owner="ngozi.okeke@puente.example",
        summary="Evening courses in coding, design and bookkeeping software, paid for by "
        "freelance work the hub finds for its graduates.",
        story="The hub rents a floor near the university and trains 120 young people a year.",
        sector="education",
        sdgs=[4, 8],
        instrument="loan",
        currency="GBP",
        funding_sought=30000,
        funded_percent=18,
        risk_rating="C",
        risk_reason="Early stage: a pilot course filled, but income from freelance work is unproven.",
        colours=("#caf0f8", "#90e0ef", "#0077b6"),
        led_by_returnee=True,
        led_by_woman=True,
        published_days_ago=6,
        closes_in_days=55,
        team=[("Ngozi Okeke", "Founder", True, True, "Software tester in London for seven years.")],
        budget=[("Laptops", 14000), ("Rent and internet, first year", 9000), ("Trainers", 7000)],
    ),
    DemoProject(
        slug="nsukka-borehole-water-kiosk",
        title="Borehole and water kiosk in Nsukka",
        territory=NSUKKA,
        owner="chinedu.eze@puente.example",
        summary="Clean water for 3,000 people in three wards, sold at a fixed price set with "
        "the ward committees.",
        story="Women walk up to an hour to fetch water in the dry season. The kiosk sells "
        "water at cost and a ward committee oversees it.",
        sector="water_sanitation",
        sdgs=[6, 3],
        instrument="donation_matching",
        currency="USD",
        funding_sought=15000,
        funded_percent=83,
        risk_rating="B",
        risk_reason="Drilling survey done; committees signed the price agreement.",
        colours=("#e0fbfc", "#98c1d9", "#3d5a80"),
        endorsement=Project.Endorsement.ENDORSED,
        published_days_ago=40,
        closes_in_days=5,
        team=[("Chinedu Eze", "Engineer", True, False, "Designs the pumping system.")],
        budget=[("Drilling", 9000), ("Kiosk and tank", 4500), ("Solar pump", 1500)],
    ),
    DemoProject(
        slug="laoag-garlic-drying",
        title="Garlic drying and packing in Laoag",
        territory=LAOAG,
        owner="maricel.agbayani@puente.example",
        summary="A solar dryer and a packing room so Ilocos garlic farmers sell dried, graded "
        "garlic instead of fresh bulbs at harvest prices.",
        story="Prices fall by half at harvest time. Dried garlic keeps for months and sells to "
        "supermarkets in Manila.",
        sector="agriculture",
        sdgs=[1, 2, 8],
        instrument="loan",
        currency="USD",
        funding_sought=26000,
        funded_percent=47,
        risk_rating="B",
        risk_reason="Farmers' association with five years of records; supermarket trial order "
        "delivered.",
        colours=("#f1faee", "#a8dadc", "#457b9d"),
        led_by_returnee=True,
        led_by_woman=True,
        published_days_ago=12,
        closes_in_days=35,
        team=[
            (
                "Maricel Agbayani",
                "Manager",
                True,
                True,
                "Twelve years as a domestic worker and then supervisor in Hong Kong.",
            )
        ],
        budget=[("Solar dryer", 15000), ("Packing room", 8000), ("Grading table and scales", 3000)],
    ),
    DemoProject(
        slug="laoag-heritage-homestays",
        title="Heritage homestays network in Laoag",
        territory=LAOAG,
        owner="maricel.agbayani@puente.example",
        summary="Ten families restore rooms in old Ilocano houses and rent them to visitors "
        "through a shared booking desk.",
        story="Visitors to Laoag and Paoay stay in hotels owned outside the province. The "
        "network keeps the income in town.",
        sector="tourism",
        sdgs=[8, 11],
        instrument="revenue_share",
        currency="USD",
        funding_sought=35000,
        funded_percent=9,
        risk_rating="D",
        risk_reason="No bookings yet; tourism is seasonal; building permits pending for two houses.",
        colours=("#ffe5d9", "#ffcad4", "#9d8189"),
        led_by_returnee=True,
        endorsement=Project.Endorsement.ENDORSED,
        endorsement_note="The City Government lists the homestays in its tourism office.",
        published_days_ago=2,
        closes_in_days=90,
        team=[("Maricel Agbayani", "Coordinator", True, True, "Runs the garlic association too.")],
        budget=[
            ("Room restoration", 25000),
            ("Booking desk and website", 6000),
            ("Training", 4000),
        ],
    ),
    DemoProject(
        slug="laoag-e-tricycles",
        title="Electric tricycles for Laoag drivers",
        territory=LAOAG,
        owner="maricel.agbayani@puente.example",
        summary="Drivers lease electric tricycles and pay them off from the fuel they save.",
        story="The funding window closed with 74% raised; the association went ahead with the "
        "first twelve tricycles.",
        sector="transport",
        sdgs=[7, 11, 13],
        instrument="loan",
        currency="USD",
        funding_sought=40000,
        funded_percent=74,
        status=Project.Status.CLOSED,
        risk_rating="C",
        risk_reason="Drivers' repayment record is short; a battery supplier guarantee covers "
        "two years.",
        colours=("#d8f3dc", "#95d5b2", "#1b4332"),
        published_days_ago=120,
        closes_in_days=-30,
        team=[
            (
                "Jun Ramos",
                "Drivers' association treasurer",
                False,
                False,
                "Drove a tricycle for twenty years.",
            )
        ],
        budget=[("Twelve electric tricycles", 36000), ("Charging station", 4000)],
    ),
]

DRAFTS = [
    DemoProject(
        slug="jerez-agave-nursery",
        title="Agave seedling nursery for Jerez growers",
        territory=JEREZ,
        owner=ENTREPRENEUR,
        organization="cooperativa-mezcalera-de-jerez",
        status=Project.Status.SUBMITTED,
        summary="Certified agave seedlings so growers stop buying from uncertified plots.",
        story="The cooperative wants to grow 50,000 seedlings a year from its own selected "
        "plants and sell them to growers of the municipality at cost.",
        sector="agriculture",
        sdgs=[2, 15],
        instrument="loan",
        currency="USD",
        funding_sought=14000,
        funded_percent=0,
        risk_rating="",
        risk_reason="",
        colours=("#e9f5db", "#b5c99a", "#718355"),
        led_by_returnee=True,
        led_by_woman=True,
        jobs_planned=3,
        beneficiaries_planned=90,
        community_benefit="Growers who stayed get certified seedlings at cost.",
        do_no_harm="Seedlings are sold at the same price to members and non-members.",
        risks="A frost could kill a season's seedlings; the shade house has covers.",
        closes_in_days=None,
        team=[
            ("Lucía Hernández", "Coordinator", True, True, "Runs the mezcal cooperative."),
            ("Ramón Ávila", "Agronomist", False, False, "Selects the mother plants."),
        ],
        budget=[("Shade house", 8000), ("Irrigation", 3500), ("Certification", 2500)],
    ),
    DemoProject(
        slug="jerez-mezcal-tasting-room",
        title="A mezcal tasting room on the Jerez main square",
        territory=JEREZ,
        owner=ENTREPRENEUR,
        organization="cooperativa-mezcalera-de-jerez",
        status=Project.Status.DRAFT,
        summary="A small shop and tasting room for visitors of the Pueblo Mágico.",
        story="",
        sector="tourism",
        sdgs=[8],
        instrument="",
        currency="USD",
        funding_sought=0,
        funded_percent=0,
        risk_rating="",
        risk_reason="",
        colours=("#fcd5ce", "#f8edeb", "#6d6875"),
        closes_in_days=None,
    ),
]


def seed_projects(stdout=None) -> list[Project]:
    """Create the demo projects that do not exist yet; returns those created."""
    created: list[Project] = []
    with transaction.atomic():
        reviewer = User.objects.filter(email=REVIEWER).first()
        for spec in PROJECTS + DRAFTS:
            if Project.objects.filter(slug=spec.slug).exists():
                continue
            project = _create(spec, reviewer=reviewer)
            if project is not None:
                created.append(project)
        _follows()
    if stdout is not None:
        stdout.write(
            f"Demo projects: {len(created)} created, "
            f"{Project.objects.published().count()} published in the catalogue."
        )
    return created


def _owner(email: str) -> User | None:
    user = User.objects.filter(email=email).first()
    if user is None and email in OWNERS:
        name, country, organization = OWNERS[email]
        user = User(
            email=email,
            full_name=name,
            country_of_residence=country,
            country_of_origin=country,
            is_returnee=True,
        )
        user.set_unusable_password()
        user.save()
        org = Organization.objects.filter(slug=organization).first() if organization else None
        if org is not None:
            Membership.objects.get_or_create(
                user=user, organization=org, defaults={"role": Membership.Role.ADMIN}
            )
    return user


def _create(spec: DemoProject, *, reviewer) -> Project | None:
    owner = _owner(spec.owner)
    territory = Territory.objects.filter(slug=spec.territory).first()
    if owner is None or territory is None:
        return None  # seed_demo has not run: nothing to attach the project to
    now = timezone.now()
    published = spec.status in Project.PUBLIC_STATUSES
    funding = Decimal(spec.funding_sought) if spec.funding_sought else None
    project = Project.objects.create(
        slug=spec.slug,
        title=spec.title,
        origin=spec.origin,
        owner=owner,
        organization=Organization.objects.filter(slug=spec.organization).first()
        if spec.organization
        else None,
        status=spec.status,
        summary=spec.summary,
        story=spec.story,
        sector=spec.sector,
        sdgs=spec.sdgs,
        territory=territory,
        led_by_returnee=spec.led_by_returnee,
        led_by_woman=spec.led_by_woman,
        currency=spec.currency,
        funding_sought=funding,
        instrument=spec.instrument,
        jobs_planned=spec.jobs_planned,
        beneficiaries_planned=spec.beneficiaries_planned,
        community_benefit=spec.community_benefit,
        do_no_harm=spec.do_no_harm,
        risks=spec.risks,
        risk_rating=spec.risk_rating,
        risk_reason=spec.risk_reason,
        endorsement=spec.endorsement,
        endorsement_note=spec.endorsement_note,
        # Raised by the paid pledges finance.demo makes (spec.funded_percent of
        # the amount sought), and counted from them.
        funded_percent=0,
        amount_raised=Decimal("0"),
        closes_at=now + datetime.timedelta(days=spec.closes_in_days)
        if spec.closes_in_days is not None
        else None,
        published_at=now - datetime.timedelta(days=spec.published_days_ago) if published else None,
        cover_image=_cover(spec),
    )
    TeamMember.objects.bulk_create(
        TeamMember(
            project=project,
            name=name,
            role=role,
            is_returnee=returnee,
            is_woman=woman,
            experience=experience,
            position=position,
        )
        for position, (name, role, returnee, woman, experience) in enumerate(spec.team)
    )
    BudgetLine.objects.bulk_create(
        BudgetLine(project=project, label=label, amount=Decimal(amount), position=position)
        for position, (label, amount) in enumerate(spec.budget)
    )
    for days_ago, title, body in spec.updates:
        ProjectUpdate.objects.create(
            project=project,
            author=owner,
            title=title,
            body=body,
            published_at=now - datetime.timedelta(days=days_ago),
        )
    for days, title, done in spec.milestones:
        due = (now + datetime.timedelta(days=days)).date()
        Milestone.objects.create(
            project=project,
            title=title,
            due_on=due,
            status=Milestone.Status.DONE if done else Milestone.Status.PLANNED,
            reached_on=due if done else None,
        )
    AuditEntry.record(actor=None, action="project.demo_seed", obj=project, to_state=project.status)
    if spec.slug == "mezcal-ageing-cellar-jerez":
        _showcase(project, owner=owner, reviewer=reviewer)
    if spec.status == Project.Status.SUBMITTED:
        _submitted(project, owner=owner)
    return project


def _showcase(project: Project, *, owner, reviewer) -> None:
    """The first project shows every section of the project page."""
    for position, (colours, caption) in enumerate(
        [
            (("#fbe7c6", "#c08552", "#4f6d30"), "Agave hearts ready for the oven"),
            (("#e8d5b7", "#8c5e3c", "#3b2f2f"), "The warehouse lent by the municipality"),
        ]
    ):
        image = _picture(f"{project.slug}-photo-{position}", caption, colours, caption[:2])
        ProjectPhoto.objects.create(
            project=project, image=image, caption=caption, position=position
        )
    pdf = _pdf("Cooperativa Mezcalera de Jerez - business plan summary")
    Document.objects.create(
        project=project,
        kind=Document.Kind.BUSINESS_PLAN,
        is_public=True,
        file=ContentFile(pdf, name="summary.pdf"),
        original_name="business-plan-summary.pdf",
        content_type="application/pdf",
        size=len(pdf),
        uploaded_by=owner,
    )
    today = timezone.now().date()
    report = ImpactReport.objects.create(
        project=project,
        period_start=today - datetime.timedelta(days=120),
        period_end=today - datetime.timedelta(days=30),
        submitted_by=owner,
        verified_by=reviewer,
        verified_at=timezone.now() - datetime.timedelta(days=20) if reviewer else None,
        note="First quarter with the shared still.",
    )
    ImpactValue.objects.bulk_create(
        ImpactValue(report=report, indicator=key, value=Decimal(value))
        for key, value in [
            ("jobs_created", 6),
            ("jobs_returnees", 2),
            ("jobs_women", 3),
            ("jobs_non_migrants", 4),
            ("beneficiaries", 48),
            ("revenue", 18500),
            ("local_suppliers", 12),
        ]
    )


def _submitted(project: Project, *, owner) -> None:
    """In the review queue, as project_submit would leave it, without mailing the reviewers."""
    pdf = _pdf("Agave seedling nursery - business plan")
    Document.objects.create(
        project=project,
        kind=Document.Kind.BUSINESS_PLAN,
        is_public=False,
        file=ContentFile(pdf, name="plan.pdf"),
        original_name="business-plan.pdf",
        content_type="application/pdf",
        size=len(pdf),
        uploaded_by=owner,
    )
    # Frozen from what is stored, as project_submit freezes it: the funding
    # sought read back with its two decimals, not the figure the spec gave.
    project.refresh_from_db()
    ProjectVersion.objects.create(
        project=project, number=1, data=project.snapshot(), created_by=owner
    )
    Review.objects.get_or_create(project=project)
    project.submitted_at = timezone.now() - datetime.timedelta(days=2)
    project.save(update_fields=["submitted_at"])


def _follows() -> None:
    investor = User.objects.filter(email=INVESTOR).first()
    if investor is None:
        return
    first = Project.objects.filter(slug="louga-millet-processing").first()
    if first is not None:
        Follow.objects.get_or_create(user=investor, project=first)
    louga = Territory.objects.filter(slug=LOUGA).first()
    if louga is not None:
        Follow.objects.get_or_create(user=investor, territory=louga)


def _cover(spec: DemoProject):
    initials = "".join(word[0] for word in spec.title.split() if word[0].isupper())[:2]
    return _picture(
        f"{spec.slug}-cover",
        f"Drawing of hills under a wide sky, marked with the letters {initials}",
        spec.colours,
        initials,
        title=f"{spec.title} (cover)",
    )


def _picture(name: str, description: str, colours, initials: str, title: str = ""):
    """A landscape drawn with Pillow: a sky gradient, a sun, three hills and
    the project's initials, saved as a Wagtail image."""
    width, height = 1200, 750
    sky_top, sky_bottom, land = (_rgb(c) for c in colours)
    picture = PillowImage.new("RGB", (width, height))
    draw = ImageDraw.Draw(picture)
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(round(a + (b - a) * t) for a, b in zip(sky_top, sky_bottom, strict=True)),
        )
    draw.ellipse(
        (width * 0.68, height * 0.12, width * 0.68 + 150, height * 0.12 + 150), fill=(255, 246, 214)
    )
    for layer in range(3):
        shade = tuple(round(c * (0.75 + 0.12 * layer)) for c in land)
        base = height * (0.55 + 0.13 * layer)
        points = [(0, height)]
        for x in range(0, width + 20, 20):
            points.append((x, base - 60 * math.sin(x / (170 + 60 * layer) + layer * 1.7)))
        points.append((width, height))
        draw.polygon(points, fill=shade)
    font = ImageFont.load_default(size=220)
    draw.text(
        (70, 60),
        initials,
        fill=(255, 255, 255),
        font=font,
        stroke_width=6,
        stroke_fill=tuple(round(c * 0.5) for c in land),
    )
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=82)
    data = buffer.getvalue()
    image = get_image_model()(
        title=title or description,
        description=description,
        file=ImageFile(io.BytesIO(data), name=f"{name}.jpg"),
        file_size=len(data),
        file_hash=hashlib.sha1(data, usedforsecurity=False).hexdigest(),
    )
    image.save()
    return image


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))


def _pdf(text: str) -> bytes:
    """A one-page PDF saying `text`, written by hand (offsets computed)."""
    safe = text.encode("latin-1", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 18 Tf 72 720 Td (" + safe + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()
