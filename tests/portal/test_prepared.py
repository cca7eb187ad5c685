import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections, models, transaction
from django.db.models import Count, ExpressionWrapper, F, QuerySet, Sum
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from finance.offerings import Offering, Pledge
from portal.models import AuditEntry, Territory
from portal.prepared import Prepared, Returning
from projects.models import Follow, Project
from projects.selectors import _PROJECT_FOR_USER
from tests.conftest import requires_postgres
from tests.factories import TerritoryFactory, UserFactory
from tests.finance.builders import make_offering

pytestmark = pytest.mark.django_db

PLACE_WITH_PARENT = Prepared(
    lambda slug: (
        Territory.objects.select_related("parent")
        .filter(slug=slug)
        .annotate(children_count=Count("children"))
    ),
    str,
)
ENTRIES = Prepared(
    lambda object_type, object_id: AuditEntry.objects.filter(
        object_type=object_type, object_id=object_id
    ).values("action", "at"),
    str,
    str,
)


@pytest.fixture
def places():
    country = TerritoryFactory(name="Mexico", slug="mx")
    state = TerritoryFactory(name="Jalisco", slug="jalisco", parent=country, level="region")
    TerritoryFactory(name="Tala", slug="tala", parent=state, level="municipality")
    return country, state


def test_rows_are_what_the_queryset_gives_with_each_call_s_values(places):
    country, state = places
    found = PLACE_WITH_PARENT("jalisco")
    assert [(p.pk, p.name, p.children_count) for p in found] == [(state.pk, "Jalisco", 1)]
    assert found[0].parent == country  # select_related: no query
    assert [p.name for p in PLACE_WITH_PARENT("mx")] == ["Mexico"]
    assert PLACE_WITH_PARENT("nowhere") == []


def test_the_sql_is_written_once(places, django_assert_num_queries, monkeypatch):
    PLACE_WITH_PARENT("mx")
    written = []
    as_sql = SQLCompiler.as_sql
    monkeypatch.setattr(
        SQLCompiler, "as_sql", lambda self, *a, **k: written.append(1) or as_sql(self, *a, **k)
    )
    with django_assert_num_queries(1):
        (found,) = PLACE_WITH_PARENT("jalisco")
        assert found.parent.name == "Mexico"
    assert written == []


def test_values_come_through_the_database_s_converters():
    AuditEntry.objects.create(action="a.one", object_type="thing", object_id="7")
    AuditEntry.objects.create(action="a.two", object_type="thing", object_id="8")
    (row,) = ENTRIES("thing", "7")
    assert row["action"] == "a.one"
    assert isinstance(row["at"], datetime.datetime)
    assert row["at"].tzinfo is not None


def test_a_build_that_ignores_an_argument_is_refused():
    ignores = Prepared(lambda slug: Territory.objects.filter(level="country"), str)
    with pytest.raises(ImproperlyConfigured, match="not parameters"):
        ignores("mx")
    with pytest.raises(ImproperlyConfigured):
        Prepared(lambda when: Territory.objects.all(), float)
    with pytest.raises(TypeError):
        PLACE_WITH_PARENT("mx", "extra")


def in_another_thread(work):
    """What `work()` returns when run on a thread of its own (and its own connection)."""
    seen = {}

    def run():
        try:
            seen["result"] = work()
        finally:
            connections.close_all()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    return seen["result"]


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_each_thread_runs_it_on_its_own_connection(places):
    PLACE_WITH_PARENT("mx")  # written on this thread
    assert in_another_thread(lambda: [p.name for p in PLACE_WITH_PARENT("tala")]) == ["Tala"]


PLACE_LOCKED = Prepared(
    lambda pk: (
        Territory.objects.select_for_update(of=("self",)).select_related("parent").filter(pk=pk)
    ),
    int,
)


def test_get_gives_the_one_row_or_the_model_s_does_not_exist(places):
    country, state = places
    assert PLACE_WITH_PARENT.get("jalisco").parent == country
    with pytest.raises(Territory.DoesNotExist):
        PLACE_WITH_PARENT.get("nowhere")


@requires_postgres
def test_a_lock_keeps_its_for_update_of_clause_on_every_call(places):
    country, state = places
    with transaction.atomic():
        PLACE_LOCKED(country.pk)
        with CaptureQueriesContext(connection) as captured:
            locked = PLACE_LOCKED.get(state.pk)
    assert locked.parent == country  # select_related, yet only the place's row is locked
    (query,) = captured.captured_queries
    assert query["sql"].endswith('FOR UPDATE OF "portal_territory"')


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_lock_outside_a_transaction_is_refused_on_every_call(places):
    country, _state = places
    with transaction.atomic():
        PLACE_LOCKED(country.pk)  # the SQL is written here, inside a transaction
    with pytest.raises(TransactionManagementError):
        PLACE_LOCKED(country.pk)


def _data(row):
    """A row as plain data that tells apart what equality would not
    (Decimal("25") and Decimal("25.00"), two time zones): a model instance
    with its fields and annotations, where it was loaded from, and the
    related objects select_related() cached on it (None for a NULL key)."""
    if isinstance(row, models.Model):
        return (
            type(row),
            {name: _data(value) for name, value in vars(row).items() if name != "_state"},
            row._state.db,
            row._state.adding,
            {name: _data(value) for name, value in row._state.fields_cache.items()},
        )
    if isinstance(row, dict):
        return {name: _data(value) for name, value in row.items()}
    if isinstance(row, tuple):
        return tuple(_data(value) for value in row)
    return type(row), repr(row)


def _assert_built_as_the_queryset(monkeypatch, prepared, *values):
    """The Prepared gives the rows its build's queryset gives, without
    iterating a queryset."""
    expected = [_data(row) for row in prepared._build(*values)]
    with monkeypatch.context() as patched:
        patched.setattr(QuerySet, "_fetch_all", lambda self: pytest.fail("iterated a queryset"))
        rows = prepared(*values)
    assert [_data(row) for row in rows] == expected
    return rows


def test_select_related_objects_and_annotations_are_the_queryset_s(places, monkeypatch):
    country, state = places
    (mexico,) = _assert_built_as_the_queryset(monkeypatch, PLACE_WITH_PARENT, "mx")
    (jalisco,) = _assert_built_as_the_queryset(monkeypatch, PLACE_WITH_PARENT, "jalisco")
    _assert_built_as_the_queryset(monkeypatch, PLACE_WITH_PARENT, "nowhere")
    with CaptureQueriesContext(connection) as captured:
        assert mexico.parent is None  # a NULL key: cached as None, no query
        assert jalisco.parent == country
    assert captured.captured_queries == []
    assert (mexico.children_count, jalisco.children_count) == (1, 1)


def test_related_objects_two_levels_down_and_exists_annotations_are_the_queryset_s(
    places, monkeypatch
):
    _country, state = places
    tala = Territory.objects.get(slug="tala")
    follower = UserFactory()
    somewhere = Project.objects.create(owner=UserFactory(), title="Still", territory=tala)
    nowhere = Project.objects.create(owner=UserFactory(), title="Loom")  # no territory
    Follow.objects.create(user=follower, territory=state)
    Follow.objects.create(user=follower, project=somewhere)
    (found,) = _assert_built_as_the_queryset(
        monkeypatch, _PROJECT_FOR_USER, somewhere.slug, follower.pk
    )
    assert found.territory.parent.parent.name == "Mexico"
    assert found.is_followed is True
    (found,) = _assert_built_as_the_queryset(
        monkeypatch, _PROJECT_FOR_USER, nowhere.slug, follower.pk
    )
    assert found.territory is None
    assert found.is_followed is False


OFFERING_PLEDGED = Prepared(
    lambda pk: Offering.objects.filter(pk=pk).annotate(pledged=Sum("pledges__amount")).order_by(),
    int,
)
OFFERING_VALUES = Prepared(
    lambda pk: (
        Offering.objects.filter(pk=pk)
        .annotate(pledged=Sum("pledges__amount"))
        .values("target", "hard_cap", "opens_at", "pledged")
    ),
    int,
)
OFFERING_TUPLES = Prepared(
    lambda pk: Offering.objects.filter(pk=pk).values_list("closes_at", "min_ticket"), int
)
PLEDGE_AMOUNTS = Prepared(
    lambda offering_id: Pledge.objects.filter(offering_id=offering_id).values_list(
        "amount", flat=True
    ),
    int,
)


def test_dates_and_decimals_come_through_the_converters_as_the_queryset_s(monkeypatch):
    offering = make_offering(target=Decimal("5000.50"))
    Pledge.objects.create(
        offering=offering,
        investor=UserFactory(),
        amount=Decimal("25.10"),
        currency="USD",
        idempotency_key="prepared-test",
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    (found,) = _assert_built_as_the_queryset(monkeypatch, OFFERING_PLEDGED, offering.pk)
    assert (found.target, found.hard_cap, found.pledged) == (
        Decimal("5000.50"),
        None,
        Decimal("25.10"),
    )
    assert isinstance(found.pledged, Decimal)
    assert found.opens_at.tzinfo is not None
    (values,) = _assert_built_as_the_queryset(monkeypatch, OFFERING_VALUES, offering.pk)
    assert values["pledged"] == Decimal("25.10")
    assert values["opens_at"] == found.opens_at
    (row,) = _assert_built_as_the_queryset(monkeypatch, OFFERING_TUPLES, offering.pk)
    assert row == (found.closes_at, found.min_ticket)
    assert _assert_built_as_the_queryset(monkeypatch, PLEDGE_AMOUNTS, offering.pk) == [
        Decimal("25.10")
    ]
    assert _assert_built_as_the_queryset(monkeypatch, PLEDGE_AMOUNTS, offering.pk + 1) == []


ENTRIES_WITH_DATA = Prepared(
    lambda object_type: AuditEntry.objects.filter(object_type=object_type).values(
        "action", "data", "at"
    ),
    str,
)
CHILDREN_NAMES = Prepared(
    lambda slug: Territory.objects.filter(parent__slug=slug).values_list("name", flat=True),
    str,
)


def test_values_dicts_and_flat_values_are_the_queryset_s(places, monkeypatch):
    AuditEntry.objects.create(action="a.one", object_type="thing", object_id="7", data={"n": 1})
    AuditEntry.objects.create(action="a.two", object_type="thing", object_id="8")
    rows = _assert_built_as_the_queryset(monkeypatch, ENTRIES_WITH_DATA, "thing")
    assert [(row["action"], row["data"]) for row in rows] == [("a.two", {}), ("a.one", {"n": 1})]
    assert _assert_built_as_the_queryset(monkeypatch, CHILDREN_NAMES, "mx") == ["Jalisco"]


# DISTINCT with an ORDER BY on a column it does not select: the compiler
# selects that column too, after the row's own.
NAMES_IN_PARENT_ORDER = Prepared(
    lambda level: (
        Territory.objects.filter(level=level)
        .values_list("slug", "name")
        .distinct()
        .order_by("parent__name")
    ),
    str,
)


def test_columns_selected_only_for_the_order_are_not_part_of_the_rows(places, monkeypatch):
    rows = _assert_built_as_the_queryset(monkeypatch, NAMES_IN_PARENT_ORDER, "region")
    assert rows == [("jalisco", "Jalisco")]


PLACE_AND_CHILDREN = Prepared(
    lambda slug: Territory.objects.filter(slug=slug).prefetch_related("children"), str
)


def test_a_queryset_with_prefetch_related_lookups_runs_through_its_own_machinery(
    places, django_assert_num_queries
):
    PLACE_AND_CHILDREN("tala")
    with django_assert_num_queries(2):  # the place, then its children
        (found,) = PLACE_AND_CHILDREN("jalisco")
        assert [child.name for child in found.children.all()] == ["Tala"]
    assert [_data(row) for row in PLACE_AND_CHILDREN("mx")] == [
        _data(row) for row in PLACE_AND_CHILDREN._build("mx")
    ]


def test_the_query_goes_through_the_connection_s_execute_wrappers(places):
    PLACE_WITH_PARENT("mx")
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(params)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        PLACE_WITH_PARENT("jalisco")
    assert seen == [("jalisco",)]


class _SeenField(models.CharField):
    """A field whose converter notes the connection it is given."""

    seen: list = []

    def from_db_value(self, value, expression, connection):
        self.seen.append(connection)
        return value


NAME_SEEN = Prepared(
    lambda slug: Territory.objects.filter(slug=slug).values_list(
        ExpressionWrapper(F("name"), output_field=_SeenField()), flat=True
    ),
    str,
)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_converters_get_the_calling_thread_s_connection(places, monkeypatch):
    monkeypatch.setattr(_SeenField, "seen", [])
    assert NAME_SEEN("mx") == ["Mexico"]
    assert _SeenField.seen == [connections["default"]]
    names, connection_there = in_another_thread(lambda: (NAME_SEEN("tala"), connections["default"]))
    assert names == ["Tala"]
    assert _SeenField.seen[1] is connection_there
    assert connection_there is not connections["default"]


OFFERING_RETURNED = Returning(Offering)


def _reserve(offering_id: int, amount: Decimal) -> list:
    return OFFERING_RETURNED(
        'UPDATE "finance_offering" SET "reserved" = "reserved" + %s WHERE "id" = %s '
        f"RETURNING {Returning.COLUMNS}",
        [amount, offering_id],
    )


def test_returning_builds_the_written_rows_as_the_queryset_reads_them():
    offering = make_offering(target=Decimal("1000"), hard_cap=Decimal("1500"))
    with transaction.atomic():
        (returned,) = _reserve(offering.pk, Decimal("12.50"))
    read = Offering.objects.get(pk=offering.pk)
    fields = [field.attname for field in Offering._meta.concrete_fields]
    # The same values of the same types (Decimal('12.50'), aware datetimes).
    assert [repr(getattr(returned, name)) for name in fields] == [
        repr(getattr(read, name)) for name in fields
    ]
    assert returned.reserved == Decimal("12.50")
    assert returned._state.adding is False
    assert returned._state.db == "default"
    assert _reserve(0, Decimal("1")) == []


def test_returning_refuses_sql_without_the_columns_at_its_end():
    with pytest.raises(ImproperlyConfigured):
        OFFERING_RETURNED('UPDATE "finance_offering" SET "reserved" = 0 RETURNING *', [])
