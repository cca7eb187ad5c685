"""What the catalogue can be narrowed and sorted by.

Every filter lives in the URL (a GET form), so a filtered list can be shared and
the back button works. A value that does not validate (`?risk=Z`, `?sdg=99`) is
reported on the form and left out of the query; it never breaks the page.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import django_filters
from django import forms
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import NotSupportedError, connections
from django.db.models import Case, F, IntegerField, Lookup, Q, Value, When
from django.db.models.expressions import RawSQL
from django.http import QueryDict
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.forms import FieldsCopiedPerForm
from portal.models import Territory

from .models import SEARCH_COLUMN, SEARCH_CONFIG, Instrument, Project
from .vetting import RISK_RATINGS, SDGS, SECTORS
from .widgets import CheckboxInput, NumberInput, SearchInput
from .words import country_name

MAX_SEARCH_WORDS = 8
# The fields whose choices are the territories in the database.
PLACE_FIELDS = ("country", "territory")

FUNDING_OPEN, FUNDING_FUNDED, FUNDING_CLOSED = "open", "funded", "closed"
FUNDING_STATUSES = (
    (FUNDING_OPEN, _("Open for funding")),
    (FUNDING_FUNDED, _("Fully funded")),
    (FUNDING_CLOSED, _("Closed")),
)

SORT_NEWEST, SORT_CLOSING, SORT_MOST_FUNDED, SORT_LEAST_FUNDED, SORT_RELEVANCE = (
    "newest",
    "closing",
    "most_funded",
    "least_funded",
    "relevance",
)
SORTS = (
    (SORT_RELEVANCE, _("Best match for the search words")),
    (SORT_NEWEST, _("Newest")),
    (SORT_CLOSING, _("Closing soon")),
    (SORT_MOST_FUNDED, _("Most funded")),
    (SORT_LEAST_FUNDED, _("Least funded")),
)
# A tie-breaker on the primary key keeps pages stable: the same project never
# shows on two pages, whatever the sort.
ORDERINGS = {
    SORT_NEWEST: (F("published_at").desc(nulls_last=True), "-pk"),
    SORT_CLOSING: (F("closes_at").asc(nulls_last=True), "pk"),
    SORT_MOST_FUNDED: ("-funded_percent", F("published_at").desc(nulls_last=True), "-pk"),
    SORT_LEAST_FUNDED: ("funded_percent", F("published_at").desc(nulls_last=True), "-pk"),
    SORT_RELEVANCE: ("-search_rank", F("published_at").desc(nulls_last=True), "-pk"),
}


class JSONArrayHas(Lookup):
    """Whether a JSON array holds a value as one of its elements.

    PostgreSQL answers this with `sdgs__contains=[n]` (and an index can serve
    it); SQLite has no JSON containment, and matching the text would find 1 in
    [11]. SQLite's json_each() table function compares whole elements."""

    lookup_name = "array_has"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        raise NotSupportedError(f"JSON array membership is not implemented on {connection.vendor}.")

    def as_sqlite(self, compiler, connection):
        lhs, lhs_params = compiler.compile(self.lhs)
        rhs, rhs_params = compiler.compile(self.rhs)
        # lhs and rhs are compiled SQL (a column and a placeholder); values go in params.
        sql = f"EXISTS (SELECT 1 FROM json_each({lhs}) AS element WHERE element.value = {rhs})"  # noqa: S608
        return sql, (*lhs_params, *rhs_params)


def with_sdg(queryset, number: int):
    if connections[queryset.db].features.supports_json_field_contains:
        return queryset.filter(sdgs__contains=[number])
    return queryset.filter(JSONArrayHas(F("sdgs"), Value(number, output_field=IntegerField())))


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", NumberInput)
        super().__init__(*args, **kwargs)


class CheckedFilter(django_filters.Filter):
    """A checkbox: ticked narrows the list, unticked means "any" (never "not")."""

    field_class = forms.BooleanField

    def __init__(self, *args, value=True, **kwargs):
        kwargs.setdefault("widget", CheckboxInput)
        self.when_checked = value
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(**{self.field_name: self.when_checked})


class CatalogueForm(forms.Form):
    sort = forms.ChoiceField(label=_("Sort by"), choices=SORTS, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        low, high = data.get("min_funded"), data.get("max_funded")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError(
                _("The lowest funded percentage is above the highest; nothing would match.")
            )
        return data


class CatalogueFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search words"),
        method="filter_search",
        max_length=200,
        strip=True,
        widget=SearchInput,
    )
    country = django_filters.ChoiceFilter(
        label=_("Country"), method="filter_country", empty_label=_("Any country")
    )
    territory = django_filters.ChoiceFilter(
        label=_("Place"), method="filter_territory", empty_label=_("Any place")
    )
    sector = django_filters.ChoiceFilter(
        label=_("Sector"), choices=SECTORS, empty_label=_("Any sector")
    )
    sdg = django_filters.TypedChoiceFilter(
        label=_("Sustainable Development Goal"),
        # format_lazy: each label is put together in the language of the page,
        # not once in English when the module is imported.
        choices=[("", _("Any goal"))] + [(n, format_lazy("{}. {}", n, label)) for n, label in SDGS],
        coerce=int,
        method="filter_sdg",
    )
    instrument = django_filters.ChoiceFilter(
        label=_("How investors are paid back"),
        choices=Instrument.choices,
        empty_label=_("Any kind of investment"),
    )
    risk = django_filters.MultipleChoiceFilter(
        label=_("Risk rating"),
        field_name="risk_rating",
        choices=[
            (letter, format_lazy("{} — {}", letter, label)) for letter, label, _text in RISK_RATINGS
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    status = django_filters.ChoiceFilter(
        label=_("Funding status"),
        choices=FUNDING_STATUSES,
        method="filter_funding_status",
        empty_label=_("Any status"),
    )
    min_funded = IntegerFilter(
        label=_("Funded at least (%)"),
        field_name="funded_percent",
        lookup_expr="gte",
        min_value=0,
        max_value=1000,
    )
    max_funded = IntegerFilter(
        label=_("Funded at most (%)"),
        field_name="funded_percent",
        lookup_expr="lte",
        min_value=0,
        max_value=1000,
    )
    returnee = CheckedFilter(label=_("Led by a returnee"), field_name="led_by_returnee")
    women = CheckedFilter(label=_("Led by a woman"), field_name="led_by_woman")
    endorsed = CheckedFilter(
        label=_("Endorsed by the local government"),
        field_name="endorsement",
        value=Project.Endorsement.ENDORSED,
    )

    class Meta:
        model = Project
        fields: list[str] = []
        form = CatalogueForm

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        # BaseFilterSet.__init__, but with each filter copied shallowly: it
        # deep-copies them, choices and widgets included, for every request,
        # when all a filter holds of its own is the FilterSet its `method` is
        # looked up on.
        self.is_bound = data is not None
        self.data = data or QueryDict()
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {name: self._own_copy(f) for name, f in self.base_filters.items()}
        # One query for both place lists; choices given as callables would be
        # re-read at each use (validation, then rendering). Rows, not model
        # instances: a country's code is all the lists need of it.
        territories = [Place(*row) for row in Territory.objects.values_list(*Place._fields)]
        self._territory_pks = {t.slug: t.pk for t in territories}
        self._places_by_country: dict[str, list[int]] = {}
        for territory in territories:
            self._places_by_country.setdefault(territory.country, []).append(territory.pk)
        self._place_choices = {
            "country": _country_choices(territories),
            "territory": _territory_choices(territories),
        }

    def _own_copy(self, base_filter):
        own = copy.copy(base_filter)
        own.model = self.queryset.model
        own.parent = self
        if own.method is not None:
            own.method = base_filter.method  # a FilterMethod of its own, reading `parent`
        return own

    # django-filter builds a new form class, with a new field for every
    # filter, for each request; the fields of this one only differ by the
    # place lists, which go on each form's own copies of the place fields.
    _form_class = None

    def get_form_class(self):
        form_class = CatalogueFilter._form_class
        if form_class is None:
            form_class = super().get_form_class()
            form_class.base_fields = FieldsCopiedPerForm(form_class.base_fields, PLACE_FIELDS)
            CatalogueFilter._form_class = form_class
        return form_class

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            for name, choices in self._place_choices.items():
                form.fields[name].choices = choices
        return self._form

    def filter_search(self, queryset, name, value):
        words = value.split()[:MAX_SEARCH_WORDS]
        if not words:
            return queryset
        if connections[queryset.db].vendor == "postgresql":
            query = SearchQuery(" ".join(words), search_type="websearch", config=SEARCH_CONFIG)
            # alias(), not annotate(): the stored vector is for matching and
            # ranking, never worth sending back with every row.
            # Built from constants only: no user input reaches this SQL.
            document = RawSQL(  # noqa: S611
                f'"{Project._meta.db_table}"."{SEARCH_COLUMN}"',
                [],
                output_field=SearchVectorField(),
            )
            return (
                queryset.alias(search=document)
                .filter(search=query)
                .annotate(search_rank=SearchRank(F("search"), query))
            )
        # The embedded SQLite setup: every word must appear somewhere; a word in
        # the title counts for more than one in the story, as the weights do above.
        rank = Value(0)
        for word in words:
            queryset = queryset.filter(
                Q(title__icontains=word) | Q(summary__icontains=word) | Q(story__icontains=word)
            )
            rank = (
                rank
                + Case(When(title__icontains=word, then=4), default=0)
                + Case(When(summary__icontains=word, then=2), default=0)
                + Case(When(story__icontains=word, then=1), default=0)
            )
        return queryset.annotate(search_rank=rank)

    def filter_country(self, queryset, name, value):
        # The country's places as a list of ids rather than a join on the
        # territory: PostgreSQL can then combine the territory index with the
        # other filters' before it reads any row's search document.
        return queryset.filter(territory_id__in=self._places_by_country.get(value, []))

    def filter_territory(self, queryset, name, value):
        from .selectors import territory_subtree

        pk = self._territory_pks.get(value)
        return queryset if pk is None else queryset.filter(territory_id__in=territory_subtree(pk))

    def filter_sdg(self, queryset, name, value):
        return with_sdg(queryset, value)

    def filter_funding_status(self, queryset, name, value):
        now = timezone.now()
        still_open = Q(closes_at__isnull=True) | Q(closes_at__gt=now)
        if value == FUNDING_OPEN:
            return queryset.filter(still_open, status=Project.Status.APPROVED)
        if value == FUNDING_FUNDED:
            return queryset.filter(status=Project.Status.FUNDED)
        # Closed: closed by the team, or its funding window is over.
        return queryset.filter(
            Q(status=Project.Status.CLOSED) | (Q(status=Project.Status.APPROVED) & ~still_open)
        )

    @property
    def effective_sort(self) -> str:
        """The order the list is in: the one asked for, else the best match for
        search words, else the newest first."""
        self.form.is_valid()  # fields that validate are in cleaned_data even if others fail
        data = getattr(self.form, "cleaned_data", {})
        searching = bool(data.get("q", "").split())
        chosen = data.get("sort") or SORT_RELEVANCE
        if chosen == SORT_RELEVANCE and not searching:
            return SORT_NEWEST
        return chosen

    def filter_queryset(self, queryset):
        # Like django-filter's own, but `sort` is a form field, not a filter:
        # ordering comes last so that it can use the search rank.
        for name, value in self.form.cleaned_data.items():
            if name in self.filters:
                queryset = self.filters[name].filter(queryset, value)
        return queryset.order_by(*ORDERINGS[self.effective_sort])


class Place(NamedTuple):
    """A territory, as the place lists need it: a row, not a model instance."""

    pk: int
    slug: str
    name: str
    level: str
    country: str  # its code
    parent_id: int | None


def _country_choices(territories) -> list[tuple[str, str]]:
    names = {t.country: country_name(t.country) for t in territories if t.level == "country"}
    return sorted(names.items(), key=lambda item: item[1])


def _territory_choices(territories) -> list:
    """Places grouped by country, each named by its path below the country:
    "Zacatecas › Jerez". A country stands for all of its places."""
    by_pk = {t.pk: t for t in territories}

    def shown(territory) -> str:
        # A country as the page's language names it ("Mexico", "Mexique"), as the
        # country list and the project cards do; other places by their own name.
        return country_name(territory.country) if territory.level == "country" else territory.name

    def path(territory) -> list[Place]:
        chain = []
        while territory is not None:
            chain.append(territory)
            territory = by_pk.get(territory.parent_id)
        return chain[::-1]

    all_of = gettext("All of %(place)s")
    groups: dict[int, list[tuple[str, str]]] = {}
    for territory in territories:
        chain = path(territory)
        top = chain[0]
        if territory.pk == top.pk:
            label = all_of % {"place": shown(territory)}
            key = ""
        else:
            label = " › ".join(t.name for t in chain[1:])
            key = label
        groups.setdefault(top.pk, []).append((key, territory.slug, str(label)))
    choices = []
    for top_pk, options in sorted(groups.items(), key=lambda item: shown(by_pk[item[0]])):
        options.sort(key=lambda option: option[0])
        choices.append((shown(by_pk[top_pk]), [(slug, label) for _key, slug, label in options]))
    return choices
