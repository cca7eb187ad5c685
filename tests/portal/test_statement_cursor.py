"""The cursor the prepared statements keep per connection (portal/prepared.py,
`statement_cursor`): one cursor for many statements, a new one on a new
database connection, the logging cursor while queries are logged, and
Django's error translation and connection health check as with any cursor."""

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from portal.models import User
from portal.prepared import Insert, Prepared, statement_cursor
from tests.conftest import requires_postgres
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

_USER_EMAIL = Prepared(lambda pk: User.objects.filter(pk=pk).values_list("email", flat=True), int)


@pytest.fixture
def cursors_opened(monkeypatch):
    """How many cursors the default connection opens."""
    opened = []
    backend = type(connections["default"])
    create_cursor = backend.create_cursor

    def counted(self, *args, **kwargs):
        opened.append(1)
        return create_cursor(self, *args, **kwargs)

    monkeypatch.setattr(backend, "create_cursor", counted)
    return opened


def test_statements_share_one_cursor_per_connection(cursors_opened):
    user = UserFactory(email="kept@example.org")
    assert _USER_EMAIL(user.pk) == ["kept@example.org"]
    opened = len(cursors_opened)
    for _ in range(3):
        assert _USER_EMAIL(user.pk) == ["kept@example.org"]
    assert len(cursors_opened) == opened
    with statement_cursor(connection) as first, statement_cursor(connection) as second:
        assert first is second


def test_logged_queries_each_get_the_logging_cursor():
    user = UserFactory()
    with CaptureQueriesContext(connection) as queries:
        _USER_EMAIL(user.pk)
        with statement_cursor(connection) as cursor:
            assert cursor is not connection.__dict__.get("_puente_kept_cursor")
        _USER_EMAIL(user.pk)
    assert len(queries) == 2


def test_a_connection_shared_between_threads_keeps_no_cursor():
    """The live server of tests on SQLite shares the test's connection with its
    thread: one kept cursor would be used by both at once, and one thread could
    fetch the rows of the other's statement."""
    user = UserFactory(email="shared@example.org")
    with statement_cursor(connection) as kept:
        pass
    connection.inc_thread_sharing()
    try:
        with statement_cursor(connection) as first, statement_cursor(connection) as second:
            assert first is not kept and second is not kept and first is not second
        assert _USER_EMAIL(user.pk) == ["shared@example.org"]
    finally:
        connection.dec_thread_sharing()
    with statement_cursor(connection) as again:
        assert again is kept


# On PostgreSQL: closing SQLite's in-memory test database would do nothing.
@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_new_database_connection_gets_a_new_cursor():
    user = UserFactory(email="again@example.org")
    with statement_cursor(connection) as before:
        database_connection = connection.connection
    connection.close()
    assert _USER_EMAIL(user.pk) == ["again@example.org"]
    assert connection.connection is not database_connection
    with statement_cursor(connection) as after:
        assert after is not before
        assert after.cursor.connection is connection.connection


def test_database_errors_through_the_kept_cursor_are_djangos():
    UserFactory(email="taken@example.org")
    insert = Insert(User)
    with pytest.raises(IntegrityError), transaction.atomic():
        insert(User(email="taken@example.org"))
    # The failed statement left the cursor usable.
    assert User.objects.filter(email="taken@example.org").count() == 1


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_between_requests_is_replaced_before_the_next_statement():
    """As a cursor opened by Django would: with CONN_HEALTH_CHECKS, the first
    statement of a request checks the connection and reconnects if the
    server has dropped it, instead of failing on the kept cursor."""
    user = UserFactory(email="health@example.org")
    assert _USER_EMAIL(user.pk) == ["health@example.org"]
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid]
            )
    finally:
        other.close()
    # What Django does when a request starts (close_old_connections).
    connection.health_check_enabled = True
    connection.health_check_done = False
    assert _USER_EMAIL(user.pk) == ["health@example.org"]
