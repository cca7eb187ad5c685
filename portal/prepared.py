"""Querysets a page runs on every view, written as SQL once per process.

The project page, for one, runs a dozen short queries that differ from one
view to the next only by a slug or an id. For each, the ORM spends longer
building the queryset and writing its SQL (0.2 to 0.6 ms) than the database
spends answering it. A Prepared builds the queryset once per process and
database, from placeholder values, and writes its SQL; each call then puts
the real values where the placeholders were and runs that SQL through the
queryset's own machinery, so the rows come back exactly as the queryset
would give them: model instances with their select_related() objects and
annotations, or values() dicts, with the database's converters applied
(dates, decimals, time zones), and prefetch_related() lookups done as usual.

What the build depends on must be its arguments: anything else it reads
(the time, the language, settings) is frozen at the first call. A build whose
SQL does not carry each argument as a parameter is refused.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import QuerySet

# Placeholders stand for the arguments while the SQL is written; no real
# primary key or slug looks like them.
_INT_PLACEHOLDER = -7_340_033
_STR_PLACEHOLDER = "\x00placeholder-{}\x00"


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet
    compiler: object  # the SQLCompiler that wrote the SQL, with its select list
    sql: str
    params: tuple
    slots: tuple[tuple[int, int], ...]  # (position in params, argument index)


class Prepared:
    """`Prepared(build, int, str)`: `build(some_int, some_str)` returns a
    queryset; calling the Prepared with real values returns its rows as a list."""

    def __init__(self, build: Callable[..., QuerySet], *kinds: type):
        if not kinds or any(kind not in (int, str) for kind in kinds):
            raise ImproperlyConfigured("Prepared arguments are ints or strs.")
        self._build = build
        self._placeholders = tuple(
            _INT_PLACEHOLDER - index if kind is int else _STR_PLACEHOLDER.format(index)
            for index, kind in enumerate(kinds)
        )
        self._compiled: dict[str, _Compiled] = {}
        self._model = None

    def _compile(self, using: str) -> _Compiled:
        queryset = self._build(*self._placeholders).using(using)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = tuple(
            (position, self._placeholders.index(value))
            for position, value in enumerate(params)
            if isinstance(value, int | str) and value in self._placeholders
        )
        missing = set(range(len(self._placeholders))) - {argument for _p, argument in slots}
        if missing:
            raise ImproperlyConfigured(
                f"Prepared query on {queryset.model.__name__}: arguments {sorted(missing)} "
                "are not parameters of its SQL."
            )
        return _Compiled(queryset, compiler, sql, tuple(params), slots)

    def __call__(self, *values) -> list:
        if len(values) != len(self._placeholders):
            raise TypeError(f"expected {len(self._placeholders)} values, got {len(values)}")
        if self._model is None:
            self._model = self._build(*self._placeholders).model
        using = router.db_for_read(self._model)
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using)
        params = list(compiled.params)
        for position, argument in compiled.slots:
            params[position] = values[argument]
        # A copy of the compiler that wrote the SQL, on this thread's
        # connection, answering with that SQL and these values; the queryset
        # iterates it as it would a compiler of its own.
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connections[using]
        compiler.as_sql = lambda *args, **kwargs: (compiled.sql, tuple(params))
        queryset = compiled.queryset.all()
        queryset.query.get_compiler = lambda *args, **kwargs: compiler
        return list(queryset)
