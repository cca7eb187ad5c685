"""Wagtail page types, the glossary snippet, quiz progress and site settings.

Page tree (per language; other languages are translations of the English tree)::

    HomePage
    ├── LiteracyHubPage → CoursePage → LessonPage
    ├── StoryIndexPage → ReturneeStoryPage
    ├── TerritoryIndexPage → TerritoryPage
    └── StandardPage (about, risks, terms, privacy, FAQ) → StandardPage

cms is the top layer: it reads projects and finance (headline figures, territory
dashboards, featured offerings) and nothing below imports it.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import zip_longest

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DatabaseError, models, transaction
from django.db.models import Count, F, Q, Sum
from django.http import Http404
from django.shortcuts import redirect
from django.utils import translation
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Locale, Orderable, Page, TranslatableMixin
from wagtail.search import index

from .blocks import BodyStreamBlock, LinkBlock, correct_index

logger = logging.getLogger(__name__)

INTRO_FEATURES = ["bold", "italic", "link", "ol", "ul"]
BODY_FEATURES = ["h2", "h3", "bold", "italic", "link", "ol", "ul"]
HEADLINE_CACHE_SECONDS = 300

# Rendition specs, spelled as the templates spell them, so prefetches match.
CARD_SPEC = "fill-400x250|format-webp"
HERO_SPEC = "fill-720x405|format-webp"
BODY_IMAGE_SPEC = "width-720|format-webp"
PORTRAIT_SPEC = "fill-320x320|format-webp"


# --- Shared behaviour -------------------------------------------------------------------


def _language_name(code: str) -> str:
    try:
        return translation.get_language_info(code)["name_translated"]
    except KeyError:
        return code


@dataclass(frozen=True)
class TranslationNotice:
    requested: str  # language name, in the visitor's language
    shown: str
    shown_code: str


class ContentPageMixin:
    """What every Puente page adds to its context: a clear notice when the page
    is shown in another language than the visitor's (an untranslated page, kept
    as an alias of the English one or reached through the fallback in
    ``HomePage.route``)."""

    def shown_language(self) -> str:
        if self.alias_of_id:
            # An alias holds the source page's content: that is the language shown.
            source = (
                Page.objects.filter(pk=self.alias_of_id)
                .values_list("locale__language_code", flat=True)
                .first()
            )
            if source:
                return source
        return _locale_code(self.locale_id)

    def translation_notice(self) -> TranslationNotice | None:
        active = translation.get_language() or settings.LANGUAGE_CODE
        shown = self.shown_language()
        if shown.split("-")[0] == active.split("-")[0]:
            return None
        return TranslationNotice(
            requested=_language_name(active), shown=_language_name(shown), shown_code=shown
        )

    def get_context(self, request, *args, **kwargs):
        from .page_languages import language_links

        context = super().get_context(request, *args, **kwargs)
        context["translation_notice"] = self.translation_notice()
        context["crumbs"] = self.crumbs(request)
        # Translations have their own slugs: the switcher's and the alternates'
        # addresses come from the page's translations.
        links = language_links(self, request, translation.get_language())
        here = next((link["url"] for link in links if link["current"]), "")
        if here and request.path.startswith(here):
            # The page itself, or one of its own views ("glossary/", "search/").
            rest = request.path[len(here) :]
            context["language_links"] = tuple({**link, "url": link["url"] + rest} for link in links)
        return context

    #: The page type of this page's children, when it has only one: routing then
    #: loads the specific child in one query instead of two.
    child_page_model: type[Page] | None = None

    def route(self, request, path_components):
        # Remember the pages routed through: the breadcrumbs need no query of their own.
        request._cms_route_chain = [*getattr(request, "_cms_route_chain", []), self]
        if path_components:
            child = self.specific_child(path_components[0])
            if child is None:
                raise Http404
            return child.route(request, path_components[1:])
        return super().route(request, path_components)

    def specific_child(self, slug: str):
        """The child page with this slug, as its specific type, in one query when
        the type is known: from ``child_page_model``, or remembered from an
        earlier request (a wrong guess costs the usual two queries)."""
        from django.apps import apps

        model = self.child_page_model
        key = f"cms:child-model:{self.pk}:{slug}"
        if model is None:
            label = cache.get(key)
            model = apps.get_model(label) if label else None
        if model is not None:
            child = model.objects.child_of(self).filter(slug=slug).first()
            if child is not None or self.child_page_model is not None:
                return child
        child = self.get_children().filter(slug=slug).first()
        if child is None:
            return None
        child = child.specific
        cache.set(key, child._meta.label, 3600)
        return child

    def crumbs(self, request) -> list:
        """Ancestors below the root, from the home page down."""
        if self.depth <= 2:
            return []
        by_depth = {
            page.depth: page
            for page in getattr(request, "_cms_route_chain", ())
            if 1 < page.depth < self.depth and self.path.startswith(page.path)
        }
        if len(by_depth) == self.depth - 2:
            return [by_depth[depth] for depth in sorted(by_depth)]
        return list(self.get_ancestors().filter(depth__gt=1).only("title", "url_path"))


def _locale_code(locale_id: int) -> str:
    """A locale's language code, cached: pages know their locale's id, and a
    query per page view to spell it would be wasted (locales are never renamed)."""
    key = f"cms:locale-code:{locale_id}"
    code = cache.get(key)
    if code is None:
        code = (
            Locale.objects.filter(pk=locale_id).values_list("language_code", flat=True).first()
            or settings.LANGUAGE_CODE
        )
        cache.set(key, code, 3600)
    return code


def _attach_renditions(images, specs) -> None:
    """Load the renditions of several images in one query and hand each image
    its own (what ``Image.objects.prefetch_renditions()`` does for a queryset),
    so that a page with ten pictures does not cost ten queries."""
    from wagtail.images import get_image_model

    images = [image for image in images if image is not None]
    if not images:
        return
    found: dict[int, list] = {image.pk: [] for image in images}
    rendition_model = get_image_model().get_rendition_model()
    for rendition in rendition_model.objects.filter(
        image_id__in=list(found), filter_spec__in=list(specs)
    ):
        found[rendition.image_id].append(rendition)
    for image in images:
        image.prefetched_renditions = list(found[image.pk])
        for rendition in image.prefetched_renditions:
            rendition.image = image


def body_images(body) -> list:
    return [
        child.value["image"]
        for child in body
        if child.block_type == "image" and child.value.get("image") is not None
    ]


def _active_language() -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]


def localized_glossary(body) -> dict:
    """The glossary terms a body shows, in the visitor's language where a
    translation exists, keyed by translation key. A term left in another
    language carries ``shown_language`` (its language code), so the page can
    say so. No query when every term is already in the visitor's language (a
    translated page points at translated terms), one otherwise."""
    terms = [
        child.value["term"]
        for child in body
        if child.block_type == "glossary_term" and child.value.get("term") is not None
    ]
    active = _active_language()
    foreign = [term for term in terms if _locale_code(term.locale_id).split("-")[0] != active]
    localized = {term.translation_key: term for term in terms}
    if foreign:
        for term in GlossaryTerm.objects.filter(
            translation_key__in=[term.translation_key for term in foreign],
            locale__language_code=active,
        ):
            localized[term.translation_key] = term
    for term in localized.values():
        code = _locale_code(term.locale_id)
        term.shown_language = code if code.split("-")[0] != active else None
    return localized


def glossary_in_language(language: str) -> tuple[list, bool]:
    """Every glossary term, in this language where translated and otherwise in
    the default language (marked with ``shown_language``), sorted by term;
    and whether any term fell back. One query."""
    default = settings.LANGUAGE_CODE.split("-")[0]
    rows = list(
        GlossaryTerm.objects.filter(locale__language_code__in={language, default}).select_related(
            "locale"
        )
    )
    chosen: dict = {}
    for term in rows:
        code = term.locale.language_code.split("-")[0]
        term.shown_language = None if code == language else code
        current = chosen.get(term.translation_key)
        if current is None or (current.shown_language and not term.shown_language):
            chosen[term.translation_key] = term
    terms = sorted(chosen.values(), key=lambda term: alphabetical(term.term))
    return terms, any(term.shown_language for term in terms)


def alphabetical(text: str) -> tuple[str, str]:
    """A sort key that files a word as a dictionary does in the languages of the
    site: accents second ("Échéance" under E, after "Echo"), case ignored."""
    folded = text.casefold()
    bare = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    return bare, folded


def body_items(body, states: dict | None = None) -> list[tuple]:
    """(block, state) pairs for the template: the state of a quiz or calculator
    after a submission (answers and feedback, or the bound form and figures)."""
    states = states or {}
    return [(child, states.get(child.id)) for child in body]


# --- Home ----------------------------------------------------------------------------------


@dataclass
class HeadlineFigures:
    money: list[str] = field(default_factory=list)
    projects_funded: int = 0
    jobs_reported: int = 0
    territories: int = 0

    @property
    def empty(self) -> bool:
        return not (self.money or self.projects_funded or self.jobs_reported or self.territories)


def _compute_headline_figures() -> HeadlineFigures:
    """The figures, their money in the active language."""
    from finance.money import Money
    from finance.offerings import Pledge
    from projects.models import ImpactValue

    paid = Pledge.objects.filter(status=Pledge.Status.PAID)
    money = [
        Money(row["total"], row["currency"]).localized()
        for row in paid.values("currency").annotate(total=Sum("amount")).order_by("currency")
        if row["total"]
    ]
    reached = paid.filter(offering__project__isnull=False).aggregate(
        projects=Count("offering__project", distinct=True),
        territories=Count("offering__project__territory", distinct=True),
    )
    jobs = ImpactValue.objects.filter(
        indicator="jobs_created", report__verified_at__isnull=False
    ).aggregate(total=Sum("value"))["total"] or Decimal(0)
    return HeadlineFigures(
        money=money,
        projects_funded=reached["projects"],
        jobs_reported=int(jobs),
        territories=reached["territories"],
    )


def headline_figures() -> HeadlineFigures:
    """Money channelled (sum of paid pledges, per currency), projects funded, jobs
    reported in verified impact reports and territories reached, computed from
    the live tables and cached a few minutes. Empty figures (and no error) when
    the tables are empty or cannot be read, so the home page always renders."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    key = f"cms:headline-figures:{language}"
    figures = cache.get(key)
    if figures is None:
        try:
            with transaction.atomic():
                figures = _compute_headline_figures()
        except DatabaseError:
            logger.exception("headline figures unavailable")
            return HeadlineFigures()
        cache.set(key, figures, HEADLINE_CACHE_SECONDS)
    return figures


class OfferingPick(models.TextChoices):
    CLOSING_SOON = "closing_soon", _("Closing soonest")
    MOST_FUNDED = "most_funded", _("Most funded")
    BOTH = "both", _("Closing soonest and most funded, in turn")


def _offerings_with_funding():
    """Offerings open for pledges now, each annotated with ``raised`` (paid
    pledges plus matching committed to them, as the catalogue counts it),
    ``reachable`` (its target, which pledges fill, plus what its sponsors
    committed to match) and ``funded_ratio`` (raised / reachable), computed in
    the same query. Raised over the target alone passed 100% while pledges
    were still wanted, and disagreed with the project page."""
    from django.db.models import (
        DecimalField,
        ExpressionWrapper,
        FloatField,
        OuterRef,
        Subquery,
        Value,
    )
    from django.db.models.functions import Cast, Coalesce, NullIf
    from django.utils import timezone

    from finance.offerings import MatchAllocation, MatchingPool, Offering, Pledge

    amount = DecimalField(max_digits=20, decimal_places=4)
    paid = (
        Pledge.objects.filter(offering=OuterRef("pk"), status=Pledge.Status.PAID)
        .order_by()
        .values("offering")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    matched = (
        MatchAllocation.objects.filter(pledge__offering=OuterRef("pk"), released=False)
        .order_by()
        .values("pledge__offering")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    caps = (
        MatchingPool.objects.filter(offering=OuterRef("pk"))
        .order_by()
        .values("offering")
        .annotate(total=Sum("cap_per_offering"))
        .values("total")
    )
    now = timezone.now()
    return (
        Offering.objects.filter(status=Offering.Status.OPEN, opens_at__lte=now, closes_at__gt=now)
        .select_related("project__territory", "issuer")
        .annotate(
            raised=Coalesce(
                Subquery(paid, output_field=amount), Value(Decimal(0)), output_field=amount
            )
            + Coalesce(
                Subquery(matched, output_field=amount), Value(Decimal(0)), output_field=amount
            ),
            reachable=F("target")
            + Coalesce(Subquery(caps, output_field=amount), Value(Decimal(0)), output_field=amount),
        )
        .annotate(
            # Only for ordering, so in floating point: SQLite divides two decimals
            # that hold whole numbers as integers (900 / 1000 = 0). NULL for a zero
            # target rather than a division error.
            funded_ratio=ExpressionWrapper(
                Cast("raised", FloatField()) / NullIf(Cast("reachable", FloatField()), Value(0.0)),
                output_field=FloatField(),
            )
        )
    )


def _interleave(*lists) -> list:
    """The lists' items taken in turn (the longer one's tail last), each once."""
    merged: dict = {}
    for group in zip_longest(*lists):
        for offering in group:
            if offering is not None:
                merged.setdefault(offering.pk, offering)
    return list(merged.values())


def featured_offerings(home: HomePage, limit: int = 3) -> list:
    """The open offerings editors chose for the home page, in their order; if
    none (or none still open), picked from the live catalogue by the home
    page's rule: closing soonest, most funded, or both in turn. Each carries
    ``funded_percent`` (whole percent of what it can raise, pledges and
    matching, raised so far). At most
    three queries, whatever the number of offerings."""
    chosen_ids = [item.offering_id for item in home.featured_offerings.all()]
    offerings: list = []
    if chosen_ids:
        found = {o.pk: o for o in _offerings_with_funding().filter(pk__in=chosen_ids)}
        offerings = [found[pk] for pk in chosen_ids if pk in found][:limit]
    if not offerings:
        pick = home.offerings_picked_by
        open_now = _offerings_with_funding()
        closing = most_funded = []
        if pick in (OfferingPick.CLOSING_SOON, OfferingPick.BOTH):
            closing = list(open_now.order_by("closes_at", "pk")[:limit])
        if pick in (OfferingPick.MOST_FUNDED, OfferingPick.BOTH):
            most_funded = list(
                open_now.order_by(F("funded_ratio").desc(nulls_last=True), "closes_at", "pk")[
                    :limit
                ]
            )
        offerings = _interleave(closing, most_funded)[:limit]
    for offering in offerings:
        offering.funded_percent = (
            int(offering.raised * 100 / offering.reachable) if offering.reachable else 0
        )
    return offerings


class HomePage(RoutablePageMixin, ContentPageMixin, Page):
    """The root of each language's page tree."""

    headline = models.CharField(_("headline"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True)
    body = RichTextField(_("body"), blank=True, features=BODY_FEATURES)
    featured_story = models.ForeignKey(
        "cms.ReturneeStoryPage",
        verbose_name=_("featured story"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Empty: the most recent story."),
    )
    offerings_picked_by = models.CharField(
        _("offerings picked automatically"),
        max_length=20,
        choices=OfferingPick.choices,
        default=OfferingPick.BOTH,
        help_text=_("Used when no open offering is chosen above."),
    )

    content_panels = Page.content_panels + [
        FieldPanel("headline"),
        FieldPanel("intro"),
        FieldPanel("body"),
        MultiFieldPanel(
            [
                FieldPanel("featured_story"),
                InlinePanel("featured_pages", label=_("featured pages"), max_num=6),
                InlinePanel(
                    "featured_offerings",
                    label=_("featured offerings"),
                    max_num=3,
                    help_text=_("Empty: open offerings picked by the rule below."),
                ),
                FieldPanel("offerings_picked_by"),
            ],
            heading=_("Featured"),
        ),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("headline"),
        index.SearchField("intro"),
        index.SearchField("body"),
    ]
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "cms.LiteracyHubPage",
        "cms.StoryIndexPage",
        "cms.TerritoryIndexPage",
        "cms.StandardPage",
    ]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("home page")

    def route(self, request, path_components):
        """A page missing in this language falls back to the default language's
        page (shown with a notice), never a 404."""
        try:
            return super().route(request, path_components)
        except Http404:
            default = Locale.get_default()
            if not path_components or self.locale_id == default.pk:
                raise
            source = self.get_translation_or_none(default)
            if source is None or not source.live:
                raise
            return source.specific.route(request, path_components)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["figures"] = headline_figures()
        context["offerings"] = featured_offerings(self)
        features = list(
            self.featured_pages.select_related("target", "target__locale").filter(target__live=True)
        )
        context["featured_pages"] = features
        story = self.featured_story
        if story is None or not story.live:
            story = (
                ReturneeStoryPage.objects.live()
                .filter(locale_id=self.locale_id)
                .select_related("photo")
                .order_by("-first_published_at")
                .first()
            )
        if story is not None:
            _attach_renditions([story.photo], [PORTRAIT_SPEC])
        context["story"] = story
        context["hub"] = (
            LiteracyHubPage.objects.live().filter(locale_id=self.locale_id).only("url_path").first()
        )
        return context

    @path("search/", name="search")
    def search(self, request):
        query = request.GET.get("q", "").strip()[:200]
        results = []
        if query:
            results = list(
                Page.objects.live()
                .public()
                .filter(locale=Locale.get_active())
                .search(query, operator="and")[:30]
            )
        return self.render(
            request,
            template="cms/search.html",
            context_overrides={"query": query, "results": results},
        )


class HomeFeaturedPage(Orderable):
    page = ParentalKey(HomePage, on_delete=models.CASCADE, related_name="featured_pages")
    target = models.ForeignKey(
        "wagtailcore.Page", verbose_name=_("page"), on_delete=models.CASCADE, related_name="+"
    )
    label = models.CharField(
        _("label"), max_length=120, blank=True, help_text=_("Defaults to the page title.")
    )
    description = models.CharField(_("description"), max_length=250, blank=True)

    panels = [FieldPanel("target"), FieldPanel("label"), FieldPanel("description")]


class HomeFeaturedOffering(Orderable):
    page = ParentalKey(HomePage, on_delete=models.CASCADE, related_name="featured_offerings")
    offering = models.ForeignKey(
        "finance.Offering", verbose_name=_("offering"), on_delete=models.CASCADE, related_name="+"
    )

    panels = [FieldPanel("offering")]


# --- Standard pages ------------------------------------------------------------------------


class StandardPage(ContentPageMixin, Page):
    """About, risk disclosure, terms, privacy, FAQ and the like."""

    intro = models.TextField(_("introduction"), blank=True)
    body = StreamField(BodyStreamBlock(), verbose_name=_("body"), blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]
    search_fields = Page.search_fields + [
        index.SearchField("intro"),
        index.SearchField("body"),
    ]
    parent_page_types = ["cms.HomePage", "cms.StandardPage"]
    subpage_types = ["cms.StandardPage"]

    class Meta:
        verbose_name = _("standard page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        _attach_renditions(body_images(self.body), [BODY_IMAGE_SPEC])
        context["body_items"] = body_items(self.body)
        context["glossary_terms"] = localized_glossary(self.body)
        return context


# --- Financial literacy --------------------------------------------------------------------


class LiteracyHubPage(RoutablePageMixin, ContentPageMixin, Page):
    intro = RichTextField(_("introduction"), blank=True, features=INTRO_FEATURES)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    search_fields = Page.search_fields + [index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.CoursePage"]
    max_count_per_parent = 1

    @property
    def child_page_model(self):
        return CoursePage

    class Meta:
        verbose_name = _("financial-literacy hub")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["courses"] = list(CoursePage.objects.child_of(self).live())
        return context

    @path("glossary/", name="glossary")
    def glossary(self, request):
        """The glossary in the visitor's language; terms not yet translated are
        listed in the default language, marked as such, never left out."""
        language = _active_language()
        terms, fallback = glossary_in_language(language)
        return self.render(
            request,
            template="cms/glossary.html",
            context_overrides={
                "terms": terms,
                "glossary_fallback": fallback,
                "glossary_untranslated": bool(terms) and all(t.shown_language for t in terms),
                "glossary_shown_in": _language_name(settings.LANGUAGE_CODE),
                "glossary_language": _language_name(language),
            },
        )


class CoursePage(ContentPageMixin, Page):
    summary = models.TextField(_("summary"))
    intro = RichTextField(_("introduction"), blank=True, features=INTRO_FEATURES)
    in_knowledge_test = models.BooleanField(
        _("questions used in the investor knowledge test"),
        default=False,
        help_text=_(
            "The first question of each lesson's quiz is asked before a first loan, "
            "revenue-share or bond pledge."
        ),
    )

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("intro"),
        FieldPanel("in_knowledge_test"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("intro"),
    ]
    parent_page_types = ["cms.LiteracyHubPage"]
    subpage_types = ["cms.LessonPage"]

    @property
    def child_page_model(self):
        return LessonPage

    class Meta:
        verbose_name = _("course")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        lessons = list(LessonPage.objects.child_of(self).live())
        done = QuizAttempt.progress_for(request.user, lessons)
        for lesson in lessons:
            lesson.quiz_ids = lesson.quiz_block_ids()
            lesson.quizzes_done = len(
                done.get(lesson.translation_key, set()) & set(lesson.quiz_ids)
            )
            lesson.completed = bool(lesson.quiz_ids) and lesson.quizzes_done == len(lesson.quiz_ids)
        context["lessons"] = lessons
        context["show_progress"] = request.user.is_authenticated
        context["lessons_completed"] = sum(1 for lesson in lessons if lesson.completed)
        return context


class LessonPage(RoutablePageMixin, ContentPageMixin, Page):
    intro = models.TextField(_("introduction"))
    minutes = models.PositiveSmallIntegerField(_("minutes to read"), default=10)
    body = StreamField(BodyStreamBlock(), verbose_name=_("lesson"))

    content_panels = Page.content_panels + [
        FieldPanel("intro"),
        FieldPanel("minutes"),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("intro"),
        index.SearchField("body"),
    ]
    parent_page_types = ["cms.CoursePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("lesson")

    def clean(self):
        super().clean()
        # The admin form already refuses such a quiz block by block; this keeps a
        # lesson saved in code or by an import to the same rule.
        for child in self.body:
            if child.block_type != "quiz":
                continue
            for question in child.value["questions"]:
                if sum(1 for choice in question["choices"] if choice["correct"]) != 1:
                    raise ValidationError(
                        {
                            "body": _(
                                "Every quiz question needs exactly one correct answer "
                                "(“%(question)s”)."
                            )
                            % {"question": question["question"]}
                        }
                    )

    def quiz_block_ids(self) -> list[str]:
        return [child.id for child in self.body if child.block_type == "quiz"]

    def _block(self, block_id: str, block_type: str):
        for child in self.body:
            if child.id == block_id and child.block_type == block_type:
                return child
        raise Http404

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        states = kwargs.get("states") or {}
        _attach_renditions(body_images(self.body), [BODY_IMAGE_SPEC])
        context["body_items"] = body_items(self.body, states)
        context["glossary_terms"] = localized_glossary(self.body)
        crumbs = context.get("crumbs") or []
        context["course"] = crumbs[-1] if crumbs else None
        return context

    def serve_with_states(self, request, states):
        return self.render(
            request,
            context_overrides={
                "body_items": body_items(self.body, states),
            },
        )

    @path("quiz/<str:block_id>/", name="quiz")
    def quiz(self, request, block_id):
        block = self._block(block_id, "quiz")
        if request.method != "POST":
            return redirect(f"{self.url}#block-{block_id}")
        answers = {}
        for number, question in enumerate(block.value["questions"]):
            raw = request.POST.get(f"q{number}", "")
            if raw.isdigit() and int(raw) < len(question["choices"]):
                answers[number] = int(raw)
        correct = sum(
            1
            for number, question in enumerate(block.value["questions"])
            if answers.get(number) == correct_index(question)
        )
        total = len(block.value["questions"])
        state = {"answers": answers, "correct": correct, "total": total}
        if request.user.is_authenticated and len(answers) == total:
            QuizAttempt.record(
                user=request.user,
                lesson=self,
                quiz_block_id=block_id,
                answers=answers,
                correct=correct,
                total=total,
            )
            state["saved"] = True
        return self.serve_with_states(request, {block_id: state})

    @path("calculator/<str:block_id>/", name="calculator")
    def calculator(self, request, block_id):
        from .calculators import run_calculator

        block = self._block(block_id, "calculator")
        if request.method != "POST":
            return redirect(f"{self.url}#block-{block_id}")
        state = run_calculator(block.value["kind"], request.POST, block_id=block_id)
        return self.serve_with_states(request, {block_id: state})


class QuizAttempt(models.Model):
    """A signed-in learner's answers to one quiz of a lesson. One row per learner
    and quiz: submitting again (a double click, a second try) replaces the answers
    and still counts once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    lesson = models.ForeignKey(LessonPage, on_delete=models.CASCADE, related_name="quiz_attempts")
    quiz_block_id = models.CharField(max_length=64)
    answers = models.JSONField(default=dict)
    correct = models.PositiveSmallIntegerField(_("correct answers"))
    total = models.PositiveSmallIntegerField(_("questions"))
    submitted_at = models.DateTimeField(_("submitted"), auto_now=True)

    class Meta:
        verbose_name = _("quiz attempt")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "lesson", "quiz_block_id"], name="one_attempt_per_quiz"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.lesson_id} · {self.correct}/{self.total}"

    @classmethod
    def record(cls, *, user, lesson, quiz_block_id, answers, correct, total) -> QuizAttempt:
        # update_or_create runs in its own transaction and, on a concurrent double
        # submit, catches the unique constraint's IntegrityError and updates instead.
        attempt, _created = cls.objects.update_or_create(
            user=user,
            lesson=lesson,
            quiz_block_id=quiz_block_id,
            defaults={
                "answers": {str(k): v for k, v in answers.items()},
                "correct": correct,
                "total": total,
            },
        )
        return attempt

    @classmethod
    def progress_for(cls, user, lessons) -> dict:
        """Quiz block ids answered, keyed by the lesson's translation key: a quiz
        done in Spanish counts in English too (translations keep block ids)."""
        if not getattr(user, "is_authenticated", False) or not lessons:
            return {}
        done: dict = {}
        rows = cls.objects.filter(
            user=user, lesson__translation_key__in=[lesson.translation_key for lesson in lessons]
        ).values_list("lesson__translation_key", "quiz_block_id")
        for key, block_id in rows:
            done.setdefault(key, set()).add(block_id)
        return done


# --- Returnee stories ----------------------------------------------------------------------


class StoryIndexPage(ContentPageMixin, Page):
    intro = RichTextField(_("introduction"), blank=True, features=INTRO_FEATURES)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    search_fields = Page.search_fields + [index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.ReturneeStoryPage"]
    max_count_per_parent = 1

    @property
    def child_page_model(self):
        return ReturneeStoryPage

    class Meta:
        verbose_name = _("story index")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        stories = list(
            ReturneeStoryPage.objects.child_of(self)
            .live()
            .select_related("photo", "territory")
            .order_by("-first_published_at")
        )
        _attach_renditions([story.photo for story in stories], [PORTRAIT_SPEC])
        context["stories"] = stories
        return context


class ReturneeStoryPage(ContentPageMixin, Page):
    person_name = models.CharField(_("name of the person"), max_length=120)
    quote = models.TextField(_("quote"), blank=True)
    summary = models.TextField(_("summary"))
    photo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("portrait"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    photo_alt = models.CharField(_("portrait description"), max_length=200, blank=True)
    body = StreamField(BodyStreamBlock(), verbose_name=_("story"), blank=True)
    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    territory = models.ForeignKey(
        "portal.Territory",
        verbose_name=_("territory"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    consent_given = models.BooleanField(
        _("the person agreed to publish their image and story"), default=False
    )
    consent_recorded_on = models.DateField(_("consent recorded on"), null=True, blank=True)
    consent_reference = models.CharField(
        _("where the signed consent is kept"), max_length=200, blank=True
    )

    content_panels = Page.content_panels + [
        FieldPanel("person_name"),
        FieldPanel("summary"),
        FieldPanel("quote"),
        MultiFieldPanel([FieldPanel("photo"), FieldPanel("photo_alt")], heading=_("Portrait")),
        FieldPanel("body"),
        MultiFieldPanel([FieldPanel("project"), FieldPanel("territory")], heading=_("Related to")),
        MultiFieldPanel(
            [
                FieldPanel("consent_given"),
                FieldPanel("consent_recorded_on"),
                FieldPanel("consent_reference"),
            ],
            heading=_("Consent"),
        ),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("person_name"),
        index.SearchField("summary"),
        index.SearchField("quote"),
        index.SearchField("body"),
    ]
    parent_page_types = ["cms.StoryIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("returnee story")

    def clean(self):
        super().clean()
        errors = {}
        if not self.consent_given:
            errors["consent_given"] = _(
                "A story about a person is published only with their recorded consent."
            )
        if not self.consent_recorded_on:
            errors["consent_recorded_on"] = _("Enter the date the consent was recorded.")
        if errors:
            raise ValidationError(errors)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        _attach_renditions([self.photo, *body_images(self.body)], [HERO_SPEC, BODY_IMAGE_SPEC])
        context["body_items"] = body_items(self.body)
        context["glossary_terms"] = localized_glossary(self.body)
        return context


# --- Territories ---------------------------------------------------------------------------


class TerritoryIndexPage(ContentPageMixin, Page):
    intro = RichTextField(_("introduction"), blank=True, features=INTRO_FEATURES)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    search_fields = Page.search_fields + [index.SearchField("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.TerritoryPage"]
    max_count_per_parent = 1

    @property
    def child_page_model(self):
        return TerritoryPage

    class Meta:
        verbose_name = _("territory index")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["places"] = list(
            TerritoryPage.objects.child_of(self)
            .live()
            .select_related("territory", "government")
            .order_by("title")
        )
        return context


class TerritoryPage(ContentPageMixin, Page):
    """A local government's page: profile, open opportunities from the catalogue,
    matching programmes, bond series and a dashboard of diaspora money and
    reported impact in its territory."""

    territory = models.ForeignKey(
        "portal.Territory",
        verbose_name=_("territory"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    government = models.ForeignKey(
        "portal.Organization",
        verbose_name=_("local government"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"kind": "local_government"},
    )
    summary = models.TextField(_("summary"), blank=True)
    image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = StreamField(BodyStreamBlock(), verbose_name=_("profile"), blank=True)

    content_panels = Page.content_panels + [
        FieldPanel("territory"),
        FieldPanel("government"),
        FieldPanel("summary"),
        FieldPanel("image"),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("summary"),
        index.SearchField("body"),
        index.FilterField("territory_id"),
    ]
    parent_page_types = ["cms.TerritoryIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("territory page")

    def dashboard(self, user) -> dict:
        from finance.money import Money
        from finance.offerings import Instrument, MatchingPool, Offering, Pledge
        from projects import selectors
        from projects.models import Project

        subtree = selectors.territory_subtree(self.territory_id)
        in_territory = Q(offering__project__territory_id__in=subtree)
        if self.government_id:
            in_territory |= Q(offering__issuer_id=self.government_id)
        money = [
            Money(row["total"], row["currency"]).localized()
            for row in Pledge.objects.filter(in_territory, status=Pledge.Status.PAID)
            .values("currency")
            .annotate(total=Sum("amount"))
            .order_by("currency")
        ]
        opportunities = selectors.prepare_cards(
            selectors.project_cards(user=user)
            .filter(territory_id__in=subtree, status=Project.Status.APPROVED)
            .order_by("closes_at", "-published_at")[:6]
        )
        pools = list(
            MatchingPool.objects.filter(
                Q(offering__project__territory_id__in=subtree)
                | Q(sponsor_id=self.government_id or 0),
                offering__status=Offering.Status.OPEN,
            ).select_related("offering__project", "sponsor")[:10]
        )
        bonds = (
            list(
                Offering.objects.filter(issuer_id=self.government_id, instrument=Instrument.BOND)
                .exclude(status=Offering.Status.DRAFT)
                .order_by("-opens_at")[:10]
            )
            if self.government_id
            else []
        )
        for bond in bonds:
            bond.rate_percent = bond.annual_rate * 100 if bond.annual_rate is not None else None
        return {
            "money": money,
            "opportunities": opportunities,
            "pools": pools,
            "bonds": bonds,
            "impact": selectors.impact_totals(
                Project.objects.published().filter(territory_id__in=subtree)
            ),
        }

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        _attach_renditions([self.image, *body_images(self.body)], [HERO_SPEC, BODY_IMAGE_SPEC])
        context["body_items"] = body_items(self.body)
        context["glossary_terms"] = localized_glossary(self.body)
        try:
            context.update(self.dashboard(request.user))
        except DatabaseError:
            logger.exception("territory dashboard unavailable")
        return context


# --- Glossary ------------------------------------------------------------------------------


class GlossaryTerm(TranslatableMixin, index.Indexed, models.Model):
    term = models.CharField(_("term"), max_length=120)
    definition = models.TextField(_("definition"))

    panels = [FieldPanel("term"), FieldPanel("definition")]
    search_fields = [
        index.SearchField("term", boost=2),
        index.AutocompleteField("term"),
        index.SearchField("definition"),
        index.FilterField("locale"),
    ]

    class Meta(TranslatableMixin.Meta):
        verbose_name = _("glossary term")
        verbose_name_plural = _("glossary terms")
        ordering = ["term"]

    def __str__(self) -> str:
        return self.term


# --- Site settings -------------------------------------------------------------------------


@dataclass(frozen=True)
class SiteLink:
    label: str
    url: str


@register_setting(icon="cog")
class SiteSettings(BaseSiteSetting):
    contact_email = models.EmailField(_("contact email"), blank=True)
    risk_warning_url = models.CharField(
        _("risk warning page"),
        max_length=200,
        blank=True,
        help_text=_("Path of the page that explains the risks of investing."),
    )
    navigation_links = StreamField(
        [("link", LinkBlock())], verbose_name=_("navigation links"), blank=True
    )
    footer_links = StreamField([("link", LinkBlock())], verbose_name=_("footer links"), blank=True)

    panels = [
        FieldPanel("contact_email"),
        FieldPanel("risk_warning_url"),
        FieldPanel("navigation_links"),
        FieldPanel("footer_links"),
    ]

    class Meta:
        verbose_name = _("site settings")

    def _links(self, stream) -> list[SiteLink]:
        """Links in the visitor's language: a chosen page is replaced by its
        live translation when there is one (one query for all of them)."""
        values = [child.value for child in stream]
        pages = [value["page"] for value in values if value["page"] is not None]
        localized = {}
        if pages:
            locale = Locale.get_active()
            for page in Page.objects.live().filter(
                translation_key__in=[p.translation_key for p in pages], locale=locale
            ):
                localized[page.translation_key] = page
        links = []
        for value in values:
            page = value["page"]
            if page is not None:
                page = localized.get(page.translation_key, page)
                links.append(SiteLink(value["label"] or page.title, page.url or "#"))
            elif value["url"]:
                links.append(SiteLink(value["label"], value["url"]))
        return links

    @cached_property
    def navigation(self) -> list[SiteLink]:
        return self._links(self.navigation_links)

    @cached_property
    def footer(self) -> list[SiteLink]:
        return self._links(self.footer_links)
