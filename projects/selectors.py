"""Read queries that the catalogue, the project page, the territory page and the
list of followed projects share.

A page's query count is part of its contract (tests/projects/test_catalogue.py
pins it): everything a page shows is loaded here with select_related and
prefetches, Wagtail renditions included, so that a page of 24 projects or a
project with 40 photos costs what a page of 2 does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum, Window
from django.http import Http404, QueryDict
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.translation import gettext
from wagtail.images import get_image_model
from wagtail.images.models import SourceImageIOError

from portal.models import Territory

from .filters import ORDERINGS, SORT_NEWEST, CatalogueFilter
from .models import Document, Follow, ImpactValue, Instrument, Project, ProjectPhoto
from .permissions import can_view_unpublished  # noqa: F401  (patched in tests)
from .vetting import RISK_RATINGS, SDGS, SECTORS, STANDARD_IMPACT_INDICATORS

# Rendition specs, spelled exactly as the templates' {% image %} tags spell them
# ("fill-400x250 format-webp" becomes "fill-400x250|format-webp"): a prefetch
# only helps if the spec matches.
CARD_IMAGE_SPEC = "fill-400x250|format-webp"
COVER_IMAGE_SPEC = "fill-1200x500|format-webp"
PHOTO_IMAGE_SPEC = "fill-600x400|format-webp"

LATEST_UPDATES = 10

# Long texts a card never shows.
CARD_DEFERRED_FIELDS = (
    "story",
    "community_benefit",
    "do_no_harm",
    "risks",
    "risk_reason",
    "rejection_reason",
    "endorsement_note",
)


def _rendition_model():
    return get_image_model().get_rendition_model()


def territory_subtree(territory_id: int) -> QuerySet:
    """Ids of a territory and every territory inside it, as a subquery.

    Territories are three levels deep at most (country, region, municipality),
    so two parent hops reach every descendant in one SQL statement."""
    return Territory.objects.filter(
        Q(pk=territory_id) | Q(parent_id=territory_id) | Q(parent__parent_id=territory_id)
    ).values("pk")


def project_cards(*, user=None) -> QuerySet:
    """Published projects with what a card shows: place, cover rendition and,
    for a signed-in person, whether they follow it."""
    queryset = (
        Project.objects.published()
        .select_related("territory", "cover_image")
        .defer(*CARD_DEFERRED_FIELDS)
        .prefetch_related(
            Prefetch(
                "cover_image__renditions",
                queryset=_rendition_model().objects.filter(filter_spec=CARD_IMAGE_SPEC),
            )
        )
    )
    if getattr(user, "is_authenticated", False):
        queryset = queryset.annotate(
            is_followed=Exists(Follow.objects.filter(user=user, project=OuterRef("pk")))
        )
    return queryset


def _rendition(image, spec: str):
    """The image's rendition for `spec`, taken from the prefetched ones when
    they are there. Unlike get_rendition() (what the {% image %} tag calls),
    get_renditions() does not write a prefetched rendition back to the cache:
    with Redis that would be one network round trip per picture."""
    if image is None:
        return None
    try:
        return image.get_renditions(spec)[spec]
    except SourceImageIOError:
        return None  # the file is missing: the page shows the placeholder


def prepare_cards(projects) -> list[Project]:
    """Give each card what projects/_project_cards.html shows, worked out once
    per page in plain Python: a template spends several times as long on the
    same lookups, filters and translations, 24 times over. (A model's
    get_FOO_display() also evaluates the lazy choices on each call, about
    0.75 ms for the risk rating.)"""
    projects = list(projects)
    sectors = {key: str(label) for key, label in SECTORS}
    instruments = {key: str(label) for key, label in Instrument.choices}
    risks = {letter: f"{letter} — {label}" for letter, label, _text in RISK_RATINGS}
    funding_line = gettext("%(percent)s%% of %(amount)s %(currency)s")
    # Every project page's address differs only by its slug.
    marker = "__slug__"
    link = reverse("projects:detail", args=[marker])
    for project in projects:
        project.url = link.replace(marker, project.slug)
        project.initial = project.title[:1].upper()
        territory = project.territory
        project.place = f"{territory.name} › {territory.country.name}" if territory else ""
        project.sector_label = sectors.get(project.sector, project.sector)
        project.instrument_label = instruments.get(project.instrument, project.instrument)
        project.risk_label = risks.get(project.risk_rating, project.risk_rating)
        project.card_image = _rendition(project.cover_image, CARD_IMAGE_SPEC)
        project.is_endorsed = project.endorsement == Project.Endorsement.ENDORSED
        project.bar_percent = min(project.funded_percent, 100)
        project.funding_text = (
            funding_line
            % {
                "percent": project.funded_percent,
                "amount": floatformat(project.funding_sought, "-2g"),
                "currency": project.currency,
            }
            if project.funding_sought
            else ""
        )
        # Annotated for signed-in visitors only; a missing attribute would cost
        # the template a failed lookup (and a dir()) on every card.
        project.is_followed = getattr(project, "is_followed", False)
    return projects


def page_of(queryset: QuerySet, number, per_page: int) -> Page:
    """One page of `queryset`, counted in the query that fetches it
    (COUNT(*) OVER ()) rather than in a second query with the same filters
    and search. A page past the end falls back to Paginator.get_page, which
    counts and shows the last page, as it always did."""
    paginator = Paginator(queryset, per_page)
    try:
        number = int(number or 1)
    except (TypeError, ValueError):
        number = 1
    if number < 1:
        number = 1
    bottom = (number - 1) * per_page
    rows = list(queryset.annotate(matching_total=Window(Count("pk")))[bottom : bottom + per_page])
    if not rows and number > 1:
        return paginator.get_page(number)
    paginator.count = rows[0].matching_total if rows else 0
    return Page(rows, number, paginator)


def catalogue_filterset(params: QueryDict | dict | None, *, user) -> CatalogueFilter:
    # Always bound, even without parameters, so the default order applies.
    return CatalogueFilter(params if params is not None else {}, queryset=project_cards(user=user))


def catalogue_queryset(params: QueryDict | dict | None, *, user) -> QuerySet:
    """The catalogue's projects for these URL parameters, filtered and sorted."""
    return catalogue_filterset(params, user=user).qs


@dataclass(frozen=True)
class ImpactTotal:
    key: str
    label: str
    unit: str
    value: Decimal


def impact_totals(projects: QuerySet | Project) -> list[ImpactTotal]:
    """Sum of each indicator over the verified reports of these projects (or
    of one project): standard indicators first, in their usual order, then
    custom ones."""
    if isinstance(projects, Project):
        of_projects = Q(report__project=projects)
    else:
        of_projects = Q(report__project__in=projects.values("pk"))
    rows = (
        ImpactValue.objects.filter(of_projects, report__verified_at__isnull=False)
        .values("indicator", "label")
        .annotate(total=Sum("value"))
        .order_by()
    )
    standard = {
        key: (position, label, unit)
        for position, (key, label, unit) in enumerate(STANDARD_IMPACT_INDICATORS)
    }
    totals: dict[str, ImpactTotal] = {}
    for row in rows:
        key = row["indicator"]
        if key in standard:
            _position, label, unit = standard[key]
            label, unit = str(label), str(unit)
        else:
            label, unit = row["label"] or key.removeprefix("custom:"), ""
        previous = totals.get(key)
        value = row["total"] + (previous.value if previous else 0)
        totals[key] = ImpactTotal(key=key, label=label, unit=unit, value=value)
    return sorted(
        totals.values(),
        key=lambda t: (standard[t.key][0] if t.key in standard else len(standard), t.label),
    )


@dataclass
class ProjectPage:
    project: Project
    cover: object  # a Wagtail rendition, or None
    photos: list[ProjectPhoto]
    videos: list[Document]
    documents: list[Document]
    team: list
    budget_lines: list
    budget_total: Decimal
    updates: list
    milestones: list
    impact: list[ImpactTotal]
    sdgs: list[tuple[int, str]]
    risk_label: str = ""
    risk_description: str = ""
    is_followed: bool = False
    territory_followed: bool = False
    extra: dict = field(default_factory=dict)


def _attach_renditions(images, specs) -> None:
    """Load the renditions of several images in one query and hand each image
    its own, the way Image.objects.prefetch_renditions() would."""
    images = [image for image in images if image is not None]
    if not images:
        return
    found = defaultdict(list)
    for rendition in _rendition_model().objects.filter(
        image_id__in={image.pk for image in images}, filter_spec__in=specs
    ):
        found[rendition.image_id].append(rendition)
    for image in images:
        image.prefetched_renditions = list(found[image.pk])
        for rendition in image.prefetched_renditions:
            rendition.image = image


def project_for_page(slug: str, *, user) -> ProjectPage:
    """Everything the project page shows, or Http404 when the person may not
    see the project (an unpublished project's existence is not revealed)."""
    queryset = Project.objects.select_related(
        "territory__parent__parent", "organization", "cover_image"
    )
    if getattr(user, "is_authenticated", False):
        queryset = queryset.annotate(
            is_followed=Exists(Follow.objects.filter(user=user, project=OuterRef("pk"))),
            territory_followed=Exists(
                Follow.objects.filter(user=user, territory=OuterRef("territory_id"))
            ),
        )
    try:
        project = queryset.get(slug=slug)  # unique: no ORDER BY, unlike first()
    except Project.DoesNotExist:
        raise Http404 from None
    if not (project.is_public or can_view_unpublished(user, project)):
        raise Http404

    photos = list(project.photos.select_related("image"))
    _attach_renditions(
        [project.cover_image] + [photo.image for photo in photos],
        [COVER_IMAGE_SPEC, PHOTO_IMAGE_SPEC],
    )
    for photo in photos:
        photo.rendition = _rendition(photo.image, PHOTO_IMAGE_SPEC)
    shown = list(project.documents.filter(is_public=True).exclude(kind=Document.Kind.IDENTITY))
    budget_lines = list(project.budget_lines.all())
    risks = {letter: (label, text) for letter, label, text in RISK_RATINGS}
    risk_label, risk_description = risks.get(project.risk_rating, ("", ""))
    sdg_names = dict(SDGS)
    return ProjectPage(
        project=project,
        cover=_rendition(project.cover_image, COVER_IMAGE_SPEC),
        photos=photos,
        videos=[d for d in shown if d.kind == Document.Kind.VIDEO],
        documents=[d for d in shown if d.kind != Document.Kind.VIDEO],
        team=list(project.team_members.all()),
        budget_lines=budget_lines,
        budget_total=sum((line.amount for line in budget_lines), Decimal("0")),
        updates=list(project.updates.select_related("author")[:LATEST_UPDATES]),
        milestones=list(project.milestones.all()),
        impact=impact_totals(project),
        sdgs=[(n, str(sdg_names[n])) for n in project.sdgs or [] if n in sdg_names],
        risk_label=str(risk_label),
        risk_description=str(risk_description),
        is_followed=getattr(project, "is_followed", False),
        territory_followed=getattr(project, "territory_followed", False),
    )


@dataclass
class TerritoryPage:
    territory: Territory
    chain: list[Territory]
    children: list[Territory]
    projects: QuerySet
    impact: list[ImpactTotal]
    is_followed: bool = False


def territory_for_page(slug: str, *, user) -> TerritoryPage:
    queryset = Territory.objects.select_related("parent__parent")
    if getattr(user, "is_authenticated", False):
        queryset = queryset.annotate(
            is_followed=Exists(Follow.objects.filter(user=user, territory=OuterRef("pk")))
        )
    territory = queryset.filter(slug=slug).first()
    if territory is None:
        raise Http404
    subtree = territory_subtree(territory.pk)
    return TerritoryPage(
        territory=territory,
        chain=territory.ancestors_and_self(),
        children=list(territory.children.order_by("name")),
        projects=project_cards(user=user)
        .filter(territory_id__in=subtree)
        .order_by(*ORDERINGS[SORT_NEWEST]),
        impact=impact_totals(Project.objects.published().filter(territory_id__in=subtree)),
        is_followed=getattr(territory, "is_followed", False),
    )


def follows_of(user) -> tuple[list[Project], list[Territory]]:
    """The published projects and the territories a person follows, newest first."""
    follows = list(
        Follow.objects.filter(user=user)
        .filter(Q(project__isnull=True) | Q(project__status__in=Project.PUBLIC_STATUSES))
        .select_related("project__territory", "territory__parent__parent")
        .order_by("-created_at", "-pk")
    )
    projects = [f.project for f in follows if f.project_id]
    territories = [f.territory for f in follows if f.territory_id]
    return projects, territories
