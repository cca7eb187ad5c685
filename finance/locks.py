"""How long a transaction waits for a row another one holds."""

from django.conf import settings
from django.db import connection


def set_lock_timeout() -> None:
    """Wait at most PUENTE_LOCK_TIMEOUT_MS for a row lock in this transaction
    (PostgreSQL; SQLite serialises writers by itself). A request that would
    wait longer fails with "lock not available" and answers "busy, try again"
    (503) rather than piling up requests that each hold a connection.

    set_config() rather than SET LOCAL: SET takes no bound parameters, and
    the connection binds them on the server (portal/settings/base.py)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [lock_timeout()])


def lock_timeout() -> str:
    """PUENTE_LOCK_TIMEOUT_MS as PostgreSQL's lock_timeout setting takes it."""
    return f"{int(settings.PUENTE_LOCK_TIMEOUT_MS)}ms"


# A statement that must not wait longer than that for the row it locks, and
# runs first in its transaction's work on that row, can set the timeout
# itself, one round trip fewer: `WITH {LOCK_TIMEOUT_CTE} UPDATE ... WHERE ...
# AND EXISTS (SELECT FROM lock_timeout)`, with lock_timeout() as the first
# parameter. PostgreSQL evaluates that EXISTS once, as the plan's one-time
# filter, before it scans for (and waits on) any row; the setting then holds
# until the transaction ends, as set_lock_timeout()'s does.
LOCK_TIMEOUT_CTE = "lock_timeout AS MATERIALIZED (SELECT set_config('lock_timeout', %s, true))"
