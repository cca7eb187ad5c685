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
            cursor.execute(
                "SELECT set_config('lock_timeout', %s, true)",
                [f"{int(settings.PUENTE_LOCK_TIMEOUT_MS)}ms"],
            )
