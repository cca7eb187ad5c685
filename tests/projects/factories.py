"""Factories for the catalogue: a published project in Jerez (México › Zacatecas
› Jerez) by default, with what its page shows."""

import datetime
import itertools
from decimal import Decimal

import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from wagtail.images import get_image_model

from portal.models import Territory
from projects.models import (
    BudgetLine,
    Document,
    ImpactReport,
    ImpactValue,
    Milestone,
    Project,
    ProjectPhoto,
    ProjectUpdate,
    TeamMember,
)
from tests.factories import TerritoryFactory, UserFactory


class CountryFactory(TerritoryFactory):
    """México, shared with the `territory` fixture of tests/conftest.py (same slugs)."""

    class Meta:
        django_get_or_create = ("slug",)

    name = "México"
    slug = "mx"
    country = "MX"
    level = Territory.Level.COUNTRY


class RegionFactory(TerritoryFactory):
    class Meta:
        django_get_or_create = ("slug",)

    name = "Zacatecas"
    slug = "mx-zac"
    country = "MX"
    level = Territory.Level.REGION
    parent = factory.SubFactory(CountryFactory)


class MunicipalityFactory(TerritoryFactory):
    class Meta:
        django_get_or_create = ("slug",)

    name = "Jerez"
    slug = "mx-zac-jerez"
    country = "MX"
    level = Territory.Level.MUNICIPALITY
    parent = factory.SubFactory(RegionFactory)


def territory_chain(country: str, country_name: str, region: str, town: str) -> Territory:
    """A country > region > municipality chain; returns the municipality."""
    code = country.lower()
    nation = CountryFactory(name=country_name, slug=code, country=country)
    state = RegionFactory(
        name=region, slug=f"{code}-{region.lower()}", country=country, parent=nation
    )
    return MunicipalityFactory(
        name=town, slug=f"{state.slug}-{town.lower()}", country=country, parent=state
    )


class ImageFactory(factory.django.DjangoModelFactory):
    """A Wagtail image with a small generated picture."""

    class Meta:
        model = get_image_model()

    title = factory.Sequence(lambda n: f"Photo {n}")
    description = factory.Sequence(lambda n: f"Farmers at work in the field, picture {n}")
    file = factory.django.ImageField(width=120, height=80, color="green", format="PNG")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")
    status = Project.Status.APPROVED
    summary = "Turning local produce into goods sold in the region."
    story = "We started with three families and a borrowed press."
    sector = "agriculture"
    sdgs = factory.LazyFunction(lambda: [1, 8])
    territory = factory.SubFactory(MunicipalityFactory)
    currency = "USD"
    funding_sought = Decimal("12000")
    instrument = "loan"
    risk_rating = "B"
    risk_reason = "Two years of sales records; the main buyer has a signed contract."
    funded_percent = 45
    amount_raised = Decimal("5400")
    published_at = factory.Sequence(
        lambda n: timezone.now() - datetime.timedelta(days=1, minutes=n)
    )
    closes_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=30))


class TeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMember

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Team member {n}")
    role = "Production"
    experience = "Ten years in a bottling plant in California."


class BudgetLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetLine

    project = factory.SubFactory(ProjectFactory)
    label = factory.Sequence(lambda n: f"Budget item {n}")
    amount = Decimal("1000.00")
    position = factory.Sequence(lambda n: n)


class ProjectPhotoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProjectPhoto

    project = factory.SubFactory(ProjectFactory)
    image = factory.SubFactory(ImageFactory)
    caption = factory.Sequence(lambda n: f"Caption {n}")


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    project = factory.SubFactory(ProjectFactory)
    kind = Document.Kind.OTHER
    original_name = factory.Sequence(lambda n: f"document-{n}.pdf")
    content_type = "application/pdf"
    size = 1024
    is_public = True
    uploaded_by = factory.LazyAttribute(lambda o: o.project.owner)
    file = factory.LazyFunction(lambda: ContentFile(b"%PDF-1.4\n%%EOF\n", name="document.pdf"))


class ProjectUpdateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProjectUpdate

    project = factory.SubFactory(ProjectFactory)
    author = factory.LazyAttribute(lambda o: o.project.owner)
    title = factory.Sequence(lambda n: f"Update {n}")
    body = "The roof is on."
    published_at = factory.Sequence(lambda n: timezone.now() - datetime.timedelta(hours=n))


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    due_on = factory.LazyFunction(lambda: datetime.date.today() + datetime.timedelta(days=60))


_periods = itertools.count()


class ImpactReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImpactReport

    project = factory.SubFactory(ProjectFactory)
    period_start = factory.LazyFunction(
        lambda: datetime.date(2025, 1, 1) + datetime.timedelta(days=31 * next(_periods))
    )
    period_end = factory.LazyAttribute(lambda o: o.period_start + datetime.timedelta(days=30))
    submitted_by = factory.LazyAttribute(lambda o: o.project.owner)
    verified_at = factory.LazyFunction(timezone.now)


class ImpactValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImpactValue

    report = factory.SubFactory(ImpactReportFactory)
    indicator = "jobs_created"
    value = Decimal("3")


def bulk_projects(count: int, *, owner=None, territory=None, start: int = 0, **fields):
    """Many published projects in one INSERT, for query-count tests."""
    owner = owner or UserFactory()
    territory = territory or MunicipalityFactory()
    now = timezone.now()
    rows = []
    for i in range(start, start + count):
        values = {
            "title": f"Bulk project {i}",
            "slug": f"bulk-project-{i}",
            "status": Project.Status.APPROVED,
            "summary": "A bulk-created project.",
            "sector": "agriculture",
            "sdgs": [2],
            "funding_sought": Decimal("10000"),
            "instrument": "loan",
            "risk_rating": "C",
            "funded_percent": i % 101,
            "published_at": now - datetime.timedelta(minutes=i),
        }
        values.update(fields)
        rows.append(Project(owner=owner, territory=territory, **values))
    return Project.objects.bulk_create(rows, batch_size=500)
