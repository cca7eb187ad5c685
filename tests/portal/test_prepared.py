import datetime
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections, transaction
from django.db.models import Count
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from portal.models import AuditEntry, Territory
from portal.prepared import Prepared
from tests.conftest import requires_postgres
from tests.factories import TerritoryFactory

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


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_each_thread_runs_it_on_its_own_connection(places):
    PLACE_WITH_PARENT("mx")  # written on this thread
    seen = {}

    def other_thread():
        try:
            seen["names"] = [p.name for p in PLACE_WITH_PARENT("tala")]
        finally:
            connections.close_all()

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert seen["names"] == ["Tala"]


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
