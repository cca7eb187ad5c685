"""Read queries that the catalogue, the project page, the territory page and the
list of followed projects share.

A page's query count is part of its contract (tests/projects/test_catalogue.py
pins it): everything a page shows is loaded here with select_related and
prefetches, Wagtail renditions included, so that a page of 24 projects or a
project with 40 photos costs what a page of 2 does.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum, Window
from django.http import Http404, QueryDict
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from wagtail.images import get_image_model
from wagtail.images.models import Filter, SourceImageIOError

from portal.models import Territory
from portal.prepared import Prepared, PreparedLists

from .cards import CardLabels, card_html
from .filters import ORDERINGS, SORT_NEWEST, CatalogueFilter
from .models import (
    BudgetLine,
    Document,
    Follow,
    ImpactValue,
    Instrument,
    Milestone,
    Project,
    ProjectPhoto,
    ProjectUpdate,
    TeamMember,
)
from .permissions import can_view_unpublished  # noqa: F401  (patched in tests)
from .vetting import RISK_RATINGS, SDGS, SECTORS, STANDARD_IMPACT_INDICATORS
from .words import country_name, once_per_language

# Rendition specs, spelled exactly as the templates' {% image %} tags spell them
# ("fill-400x250 format-webp" becomes "fill-400x250|format-webp"): a prefetch
# only helps if the spec matches.
CARD_IMAGE_SPEC = "fill-400x250|format-webp"
COVER_IMAGE_SPEC = "fill-1200x500|format-webp"
PHOTO_IMAGE_SPEC = "fill-600x400|format-webp"
# One Filter per spec for the whole process: a Filter parses its spec into
# operations on first use (with inspect.getcallargs, about 25 µs a card) and
# keeps them.
CARD_FILTER = Filter(spec=CARD_IMAGE_SPEC)
COVER_FILTER = Filter(spec=COVER_IMAGE_SPEC)
PHOTO_FILTER = Filter(spec=PHOTO_IMAGE_SPEC)

LATEST_UPDATES = 10

# What a card shows (projects/cards.py), and nothing else: a project has
# long texts and a dozen dates a card never needs, each one read and parsed
# 24 times a page.
CARD_FIELDS = (
    "slug",
    "title",
    "summary",
    "sector",
    "instrument",
    "risk_rating",
    "endorsement",
    "funded_percent",
    "funding_sought",
    "currency",
    "led_by_returnee",
    "led_by_woman",
    "territory",
    "cover_image",
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
    """Published projects with what a card shows: place and, for a signed-in
    person, whether they follow it. prepare_cards() adds the covers, with
    their renditions, in one query for the whole list."""
    queryset = (
        Project.objects.published()
        .only(*CARD_FIELDS)
        # The place's name and country code rather than the place itself:
        # building a Territory for every card cost more than the rest of its row.
        .annotate(
            territory_name=F("territory__name"),
            territory_country=F("territory__country"),
            territory_level=F("territory__level"),
        )
    )
    if getattr(user, "is_authenticated", False):
        queryset = queryset.annotate(
            is_followed=Exists(Follow.objects.filter(user=user, project=OuterRef("pk")))
        )
    return queryset


def _rendition(image, image_filter: Filter):
    """The image's rendition for `image_filter`, taken from the prefetched
    ones when they are there. Unlike get_rendition() (what the {% image %} tag
    calls), get_renditions() does not write a prefetched rendition back to
    the cache: with Redis that would be one network round trip per picture."""
    if image is None:
        return None
    try:
        return image.get_renditions(image_filter)[image_filter.spec]
    except SourceImageIOError:
        return None  # the file is missing: the page shows the placeholder


# A page's covers with their card renditions, in a statement written once
# per process (portal/prepared.py) rather than for every page: the cover ids
# fill a fixed number of parameters (a list of any length would make new SQL
# for each count of covers), those a page leaves empty hold 0, which no
# image has.
COVER_SLOTS = 24
_CARD_RENDITIONS = Prepared(
    lambda *image_ids: (
        _rendition_model()
        .objects.filter(image_id__in=image_ids, filter_spec=CARD_IMAGE_SPEC)
        .select_related("image")
    ),
    *[int] * COVER_SLOTS,
)


def _card_covers(image_ids: set[int]) -> dict:
    """The images, by id, each with its card rendition (several projects may
    share a cover)."""
    ids = sorted(image_ids)
    renditions = []
    for start in range(0, len(ids), COVER_SLOTS):
        some = ids[start : start + COVER_SLOTS]
        renditions += _CARD_RENDITIONS(*some, *[0] * (COVER_SLOTS - len(some)))
    return _images_of(renditions, image_ids)


def _images_of(renditions, image_ids: set[int]) -> dict:
    """The images of `renditions` (each loaded with its image), by id, with
    their renditions attached. An image without any rendition yet, on its
    first showing, is loaded on its own."""
    renditions = list(renditions)
    images = {rendition.image_id: rendition.image for rendition in renditions}
    missing = image_ids - images.keys()
    if missing:
        images.update(
            (image.pk, image) for image in get_image_model().objects.filter(pk__in=missing)
        )
    return _with_renditions(images, renditions)


def _with_renditions(images: dict, renditions) -> dict:
    """`images` (by id), each with its own renditions attached."""
    for image in images.values():
        image.prefetched_renditions = []
    for rendition in renditions:
        image = images[rendition.image_id]
        rendition.image = image
        image.prefetched_renditions.append(rendition)
    return images


@dataclass(frozen=True)
class CardWords:
    """What the cards say in the active language, besides each project's own
    values (see projects/words.py)."""

    labels: CardLabels
    sectors: dict[str, str]
    instruments: dict[str, str]
    risks: dict[str, str]
    funding_line: str


@once_per_language
def card_words() -> CardWords:
    return CardWords(
        labels=CardLabels.translated(),
        sectors={key: str(label) for key, label in SECTORS},
        instruments={key: str(label) for key, label in Instrument.choices},
        risks={letter: f"{letter} — {label}" for letter, label, _text in RISK_RATINGS},
        funding_line=gettext("%(percent)s%% of %(amount)s %(currency)s"),
    )


def prepare_cards(projects) -> list[Project]:
    """Give each project of project_cards() its card (`card_html`, what
    projects/_project_cards.html shows), worked out once per page in plain
    Python: a template spends several times as long on the same lookups,
    filters and translations, 24 times over. (A model's get_FOO_display()
    also evaluates the lazy choices on each call, about 0.75 ms for the risk
    rating.) The covers' renditions come in one query."""
    projects = list(projects)
    words = card_words()
    covers = _card_covers({project.cover_image_id for project in projects} - {None})
    sectors, instruments, risks = words.sectors, words.instruments, words.risks
    # Every project page's address differs only by its slug.
    marker = "__slug__"
    link = reverse("projects:detail", args=[marker])
    for project in projects:
        project.url = link.replace(marker, project.slug)
        project.initial = project.title[:1].upper()
        if project.territory_id is None:
            project.place = ""
        elif project.territory_level == Territory.Level.COUNTRY:
            project.place = country_name(project.territory_country)
        else:
            project.place = f"{project.territory_name} › {country_name(project.territory_country)}"
        project.sector_label = sectors.get(project.sector, project.sector)
        project.instrument_label = instruments.get(project.instrument, project.instrument)
        project.risk_label = risks.get(project.risk_rating, project.risk_rating)
        project.card_image = _rendition(covers.get(project.cover_image_id), CARD_FILTER)
        project.is_endorsed = project.endorsement == Project.Endorsement.ENDORSED
        project.bar_percent = min(project.funded_percent, 100)
        project.funding_text = (
            words.funding_line
            % {
                "percent": project.funded_percent,
                "amount": floatformat(project.funding_sought, "-2g"),
                "currency": project.currency,
            }
            if project.funding_sought
            else ""
        )
        # Annotated for signed-in visitors only.
        project.is_followed = getattr(project, "is_followed", False)
        project.card_html = card_html(project, words.labels)
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


def impact_totals(projects: QuerySet) -> list[ImpactTotal]:
    """Sum of each indicator over the verified reports of these projects:
    standard indicators first, in their usual order, then custom ones. (The
    project page reads its own with its lists.)"""
    return _impact_from_rows(_impact_sums(Q(report__project__in=projects.values("pk"))))


def _impact_from_rows(rows) -> list[ImpactTotal]:
    """ImpactTotals from rows of indicator, label and total."""
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
        value = Decimal(row["total"]) + (previous.value if previous else 0)
        totals[key] = ImpactTotal(key=key, label=label, unit=unit, value=value)
    return sorted(
        totals.values(),
        key=lambda t: (standard[t.key][0] if t.key in standard else len(standard), t.label),
    )


def _impact_sums(of_projects: Q) -> QuerySet:
    return (
        ImpactValue.objects.filter(of_projects, report__verified_at__isnull=False)
        .values("indicator", "label")
        .annotate(total=Sum("value"))
        .order_by()
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
    # The project's places, country first, with the address of each one's page.
    breadcrumbs: list[tuple[str, str]] = field(default_factory=list)
    # The project's choices as the page writes them, looked up once (a model's
    # get_FOO_display() rebuilds the field's whole list of choices each time).
    status_label: str = ""
    sector_label: str = ""
    instrument_label: str = ""
    endorsement_label: str = ""
    is_followed: bool = False
    territory_followed: bool = False
    # The end of the project's funding window, in local time, and whether it has passed.
    closes_on: datetime.datetime | None = None
    window_ended: bool = False
    extra: dict = field(default_factory=dict)


def _page_images(project_id: int, field: str) -> Q:
    """`field` names one of the project's images: its cover or a photo's."""
    return Q(
        **{f"{field}__in": ProjectPhoto.objects.filter(project_id=project_id).values("image_id")}
    ) | Q(**{f"{field}__in": Project.objects.filter(pk=project_id).values("cover_image_id")})


# The lists the project page shows, each in its model's order, in one statement.
_PAGE_LISTS = PreparedLists(
    int,
    photos=lambda project_id: ProjectPhoto.objects.filter(project_id=project_id),
    documents=lambda project_id: Document.objects.filter(project_id=project_id, is_public=True),
    budget_lines=lambda project_id: BudgetLine.objects.filter(project_id=project_id),
    team=lambda project_id: TeamMember.objects.filter(project_id=project_id),
    milestones=lambda project_id: Milestone.objects.filter(project_id=project_id),
    updates=lambda project_id: ProjectUpdate.objects.filter(project_id=project_id).annotate(
        author_name=F("author__full_name")
    )[:LATEST_UPDATES],
    # The cover and the photos, and their renditions for the page.
    images=lambda project_id: get_image_model().objects.filter(_page_images(project_id, "pk")),
    renditions=lambda project_id: _rendition_model().objects.filter(
        _page_images(project_id, "image_id"),
        filter_spec__in=[COVER_IMAGE_SPEC, PHOTO_IMAGE_SPEC],
    ),
    impact=lambda project_id: _impact_sums(Q(report__project_id=project_id)),
)
# The organization is only needed to decide who may see an unpublished
# project; can_view_unpublished() loads it then.
_PROJECT = Prepared(
    lambda slug: Project.objects.select_related("territory__parent__parent").filter(slug=slug),
    str,
)
_PROJECT_FOR_USER = Prepared(
    lambda slug, user_id: (
        Project.objects.select_related("territory__parent__parent")
        .filter(slug=slug)
        .annotate(
            is_followed=Exists(Follow.objects.filter(user_id=user_id, project=OuterRef("pk"))),
            territory_followed=Exists(
                Follow.objects.filter(user_id=user_id, territory=OuterRef("territory_id"))
            ),
        )
    ),
    str,
    int,
)


def _breadcrumbs(territory) -> list[tuple[str, str]]:
    if territory is None:
        return []
    # Territory pages' addresses differ only by their slug.
    marker = "__slug__"
    link = reverse("projects:territory", args=[marker])
    return [
        (place.name, link.replace(marker, place.slug)) for place in territory.ancestors_and_self()
    ]


def _label(choices, value) -> str:
    """What get_FOO_display() would say for `value`."""
    return str(dict(choices).get(value, value))


def project_for_page(slug: str, *, user) -> ProjectPage:
    """Everything the project page shows, or Http404 when the person may not
    see the project (an unpublished project's existence is not revealed)."""
    if getattr(user, "is_authenticated", False):
        found = _PROJECT_FOR_USER(slug, user.pk)
    else:
        found = _PROJECT(slug)
    if not found:
        raise Http404
    project = found[0]  # slugs are unique
    if not (project.is_public or can_view_unpublished(user, project)):
        raise Http404

    lists = _PAGE_LISTS(project.pk)
    photos = lists["photos"]
    images = _with_renditions({image.pk: image for image in lists["images"]}, lists["renditions"])
    for photo in photos:
        photo.rendition = _rendition(images.get(photo.image_id), PHOTO_FILTER)
    # An identity document is never public (a database constraint says so);
    # checked again here all the same.
    shown = [d for d in lists["documents"] if d.kind != Document.Kind.IDENTITY]
    kinds = dict(Document.Kind.choices)
    for document in shown:
        document.kind_label = str(kinds.get(document.kind, document.kind))
    milestones = lists["milestones"]
    steps = dict(Milestone.Status.choices)
    for milestone in milestones:
        milestone.status_label = str(steps.get(milestone.status, milestone.status))
    budget_lines = lists["budget_lines"]
    risks = {letter: (label, text) for letter, label, text in RISK_RATINGS}
    risk_label, risk_description = risks.get(project.risk_rating, ("", ""))
    sdg_names = dict(SDGS)
    return ProjectPage(
        project=project,
        cover=_rendition(images.get(project.cover_image_id), COVER_FILTER),
        photos=photos,
        videos=[d for d in shown if d.kind == Document.Kind.VIDEO],
        documents=[d for d in shown if d.kind != Document.Kind.VIDEO],
        team=lists["team"],
        budget_lines=budget_lines,
        budget_total=sum((line.amount for line in budget_lines), Decimal("0")),
        updates=lists["updates"],
        milestones=milestones,
        impact=_impact_from_rows(lists["impact"]),
        sdgs=[(n, str(sdg_names[n])) for n in project.sdgs or [] if n in sdg_names],
        breadcrumbs=_breadcrumbs(project.territory),
        risk_label=str(risk_label),
        risk_description=str(risk_description),
        status_label=_label(Project.Status.choices, project.status),
        sector_label=_label(SECTORS, project.sector),
        instrument_label=_label(Instrument.choices, project.instrument),
        endorsement_label=_label(Project.Endorsement.choices, project.endorsement),
        is_followed=getattr(project, "is_followed", False),
        territory_followed=getattr(project, "territory_followed", False),
        closes_on=timezone.localtime(project.closes_at) if project.closes_at else None,
        window_ended=project.closes_at is not None and project.closes_at <= timezone.now(),
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
