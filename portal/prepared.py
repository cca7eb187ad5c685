"""Querysets a page runs on every view, written as SQL once per process.

The project page, for one, runs a dozen short queries that differ from one
view to the next only by a slug or an id. For each, the ORM spends longer
building the queryset and writing its SQL (0.2 to 0.6 ms) than the database
spends answering it. A Prepared builds the queryset once per process and
database, from placeholder values, and writes its SQL; each call then puts
the real values where the placeholders were.

Running that SQL through the queryset would still cost close to 0.1 ms a
call: on each iteration the queryset works out again the database's
converters for every column, its select_related() populators, and which
columns make the model. A Prepared works these out once too, and each call
only runs the SQL on this thread's connection, through Django's cursor
wrapper (so execute wrappers and query logging see it as any other; see
`statement_cursor` for the one it keeps), and
builds the rows as the queryset would: model instances with their
select_related() objects and annotations, values() dicts, values_list()
tuples or flat values, with the database's converters applied (dates,
decimals, time zones). A queryset built any other way (prefetch_related()
lookups, a related manager's known objects, named values_list() rows,
composite primary keys) runs through its own machinery, its SQL still
written once.

What the build depends on must be its arguments: anything else it reads
(the time, the language, settings) is frozen at the first call. A build whose
SQL does not carry each argument as a parameter is refused.

A select_for_update() queryset keeps its FOR UPDATE clause (OF, NO KEY,
NOWAIT as written), runs on the database for writes, and, as the queryset
would, refuses to run outside a transaction.
"""

from __future__ import annotations

import copy
import datetime
import json
import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, models, router, transaction
from django.db.models import QuerySet, signals
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesIterable,
    ValuesListIterable,
    get_related_populators,
)
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.subqueries import InsertQuery
from django.db.transaction import TransactionManagementError
from django.utils import timezone

# Placeholders stand for the arguments while the SQL is written; no real
# primary key or slug looks like them.
_INT_PLACEHOLDER = -7_340_033
_STR_PLACEHOLDER = "\x00placeholder-{}\x00"


_KEPT_CURSOR = "_puente_kept_cursor"


def statement_cursor(connection):
    """Django's cursor for one statement on `connection`, as a context
    manager: `with statement_cursor(connection) as cursor:`.

    Opening and closing a cursor costs more than running a short statement
    through it (37 of 78 µs of CPU for a `SELECT` of one row on PostgreSQL),
    so each connection keeps one for the statements written here, and it is
    opened again when Django has opened a new database connection. The
    statements still run through Django's cursor wrapper: execute wrappers,
    the broken-transaction check and the translation of database errors
    apply to each, and the health check and reconnection that opening a
    cursor does are done first, as `connection.cursor()` would. While
    queries are logged (DEBUG, assertNumQueries, CaptureQueriesContext) each
    statement gets a cursor of its own, the logging one, and so does each
    statement on a connection shared between threads (the live server of
    tests on SQLite), where two threads would use the kept cursor at once."""
    if connection.queries_logged or connection.allow_thread_sharing:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    kept = connection.__dict__.get(_KEPT_CURSOR)
    if kept is None or kept.cursor.connection is not connection.connection:
        kept = connection.__dict__[_KEPT_CURSOR] = connection.cursor()
    return nullcontext(kept)


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet
    compiler: SQLCompiler  # wrote the SQL; its connection is dropped, each call gives its own
    sql: str
    params: tuple
    slots: tuple[tuple[int, int], ...]  # (position in params, argument index)
    rows: _Rows | None  # None: the queryset's own machinery builds the rows


class _Rows:
    """Builds the rows of one compiled query as its queryset's iterable
    (ModelIterable, ValuesIterable, ValuesListIterable or
    FlatValuesListIterable) would, from what that iterable works out again on
    every iteration though it does not depend on the values."""

    _ITERABLES = (ModelIterable, ValuesIterable, ValuesListIterable, FlatValuesListIterable)

    @classmethod
    def of(cls, queryset: QuerySet, compiler: SQLCompiler, using: str) -> _Rows | None:
        """The builder, or None for a queryset whose rows it would not build
        exactly: other iterables (named values_list() rows among them, a
        subclass), prefetch_related() lookups, the known related objects a
        related manager sets, composite primary keys (their columns come
        back as tuples)."""
        expressions = [expression for expression, _sql, _alias in compiler.select]
        if (
            queryset._iterable_class not in cls._ITERABLES
            or queryset._prefetch_related_lookups
            or queryset._known_related_objects
            or compiler.has_composite_fields(expressions)
        ):
            return None
        return cls(queryset, compiler, using)

    def __init__(self, queryset: QuerySet, compiler: SQLCompiler, using: str):
        self._compiler = compiler
        self._db = using
        # The row's own columns, as results_iter() converts them; columns the
        # compiler adds after them (ORDER BY terms of a DISTINCT) are cut off.
        self._expressions = [
            expression for expression, _sql, _alias in compiler.select[: compiler.col_count]
        ]
        self._width = compiler.col_count if compiler.has_extra_select else None
        self._threads = threading.local()
        iterable = queryset._iterable_class
        if iterable is ModelIterable:
            klass_info, select = compiler.klass_info, compiler.select
            self._model = klass_info["model"]
            select_fields = klass_info["select_fields"]
            self._start, self._end = select_fields[0], select_fields[-1] + 1
            self._init_list = [
                column.target.attname for column, *_ in select[self._start : self._end]
            ]
            # They keep the alias, never a connection: they may serve every thread.
            self._populators = get_related_populators(klass_info, select, using)
            # The annotations' columns, and extra(select=...)'s.
            self._annotations = tuple(compiler.annotation_col_map.items())
            self._shape = self._instances
        elif iterable is ValuesIterable:
            query = queryset.query
            self._names = (
                list(query.selected)
                if query.selected
                else [*query.extra_select, *query.values_select, *query.annotation_select]
            )
            self._shape = self._dicts
        elif iterable is ValuesListIterable:
            self._shape = self._tuples
        else:
            self._shape = self._firsts

    def __call__(self, connection, sql: str, params: tuple) -> list:
        with statement_cursor(connection) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if self._width is not None:
            rows = [row[: self._width] for row in rows]
        converters = self._converters(connection)
        if converters:
            rows = [list(row) for row in rows]
            for row in rows:
                for position, functions, expression in converters:
                    value = row[position]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[position] = value
        return self._shape(rows)

    def _converters(self, connection) -> tuple:
        """(position, converters, expression) for the columns that have
        converters, as SQLCompiler.get_converters() gives them for this
        connection. Worked out once per thread: the backend's converters are
        methods of one connection's DatabaseOperations, and may read that
        connection (SQLite's datetime converter reads its time zone), while
        Django gives each thread a connection of its own. A thread whose
        connection was replaced works them out again."""
        worked_out = getattr(self._threads, "converters", None)
        if worked_out is None or worked_out[0] is not connection:
            compiler = copy.copy(self._compiler)
            compiler.connection = connection
            converters = tuple(
                (position, tuple(functions), expression)
                for position, (functions, expression) in compiler.get_converters(
                    self._expressions
                ).items()
            )
            worked_out = self._threads.converters = (connection, converters)
        return worked_out[1]

    def _instances(self, rows: list) -> list:
        objects = []
        for row in rows:
            obj = self._model.from_db(self._db, self._init_list, row[self._start : self._end])
            for populator in self._populators:
                populator.populate(row, obj)
            for name, position in self._annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects

    def _dicts(self, rows: list) -> list[dict]:
        return [dict(zip(self._names, row, strict=False)) for row in rows]

    def _tuples(self, rows: list) -> list[tuple]:
        return [tuple(row) for row in rows]

    def _firsts(self, rows: list) -> list:
        return [row[0] for row in rows]


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
        self._for_write = False

    def _compiled_for(self, using: str) -> _Compiled:
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using)
        return compiled

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
        rows = _Rows.of(queryset, compiler, using)
        # Each call gives a copy of the compiler its own thread's connection;
        # keeping this thread's would keep it open after the thread ends.
        compiler.connection = None
        return _Compiled(queryset, compiler, sql, tuple(params), slots, rows)

    def __call__(self, *values) -> list:
        if len(values) != len(self._placeholders):
            raise TypeError(f"expected {len(self._placeholders)} values, got {len(values)}")
        using = self._using()
        compiled = self._compiled_for(using)
        connection = connections[using]
        if (
            compiled.queryset.query.select_for_update
            and connection.features.has_select_for_update
            and connection.get_autocommit()
        ):
            # The check the compiler makes each time it writes the SQL: a
            # lock outside a transaction would be released at once.
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = list(compiled.params)
        for position, argument in compiled.slots:
            params[position] = values[argument]
        if compiled.rows is not None:
            return compiled.rows(connection, compiled.sql, tuple(params))
        # A copy of the compiler that wrote the SQL, on this thread's
        # connection, answering with that SQL and these values; the queryset
        # iterates it as it would a compiler of its own.
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connection
        compiler.as_sql = lambda *args, **kwargs: (compiled.sql, tuple(params))
        queryset = compiled.queryset.all()
        queryset.query.get_compiler = lambda *args, **kwargs: compiler
        return list(queryset)

    def get(self, *values):
        """The one row, as QuerySet.get() gives it: the model's DoesNotExist
        when there is none, MultipleObjectsReturned when there are more."""
        rows = self(*values)
        if len(rows) == 1:
            return rows[0]
        model = self._model
        if not rows:
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        raise model.MultipleObjectsReturned(
            f"get() returned more than one {model._meta.object_name} -- it returned {len(rows)}!"
        )

    def _using(self) -> str:
        if self._model is None:
            queryset = self._build(*self._placeholders)
            # select_for_update() marks the queryset for the database for writes.
            self._for_write = queryset._for_write
            self._model = queryset.model
        if self._for_write:
            return router.db_for_write(self._model)
        return router.db_for_read(self._model)


class Returning:
    """Model instances from a statement that writes rows and returns them
    (`UPDATE ... RETURNING`), built as a Prepared builds a model's rows:
    converters and the model's column order worked out once, not on every
    call as a raw() queryset does.

    `Returning(Offering)` then `returning(sql, params)`, where `sql` ends
    with `RETURNING {columns}`: the model's concrete columns go there, in
    the order the rows are built from. Runs on the database for writes."""

    COLUMNS = "{columns}"

    def __init__(self, model: type[models.Model]):
        self._model = model
        self._rows = Prepared(lambda pk: model._base_manager.filter(pk=pk).order_by(), int)
        self._columns: dict[str, str] = {}

    def __call__(self, sql: str, params) -> list:
        if not sql.rstrip().endswith(self.COLUMNS):
            raise ImproperlyConfigured(f"Returning SQL must end with RETURNING {self.COLUMNS}.")
        using = router.db_for_write(self._model)
        compiled = self._rows._compiled_for(using)
        columns = self._columns.get(using)
        if columns is None:
            quote = connections[using].ops.quote_name
            columns = self._columns[using] = ", ".join(
                quote(expression.target.column)
                for expression, _sql, _alias in compiled.compiler.select
            )
        return compiled.rows(connections[using], sql.replace(self.COLUMNS, columns), params)


class PreparedLists:
    """Several short lists of model rows that share their arguments, read in
    one statement: `PreparedLists(int, photos=build, team=build, ...)`, each
    build returning a queryset of one model; calling it returns a dict of
    lists of model instances, in each queryset's order.

    Each list travels as one JSON array (PostgreSQL's json_agg, SQLite's
    json_group_array), so six lists cost one round trip, and the database
    plans one statement instead of six. Each row carries every concrete
    field of its model, so nothing is deferred, plus the queryset's
    annotations, and each value goes through its field's to_python() (dates,
    decimals, booleans). Models with JSON fields are refused: their values
    would arrive already decoded. A values() queryset gives its dicts as
    JSON decodes them: strings, ints, Decimals for numbers with a fraction,
    booleans and None."""

    def __init__(self, *kinds: type, **builds: Callable[..., QuerySet]):
        self._builds = builds
        self._lists = {
            name: Prepared(lambda *values, build=build: _all_columns(build(*values)), *kinds)
            for name, build in builds.items()
        }
        self._first = next(iter(self._lists.values()))
        self._compiled: dict[str, tuple[str, tuple, tuple, dict]] = {}

    def _compile(self, using: str):
        vendor = connections[using].vendor
        selects, params, slots, shapes = [], [], [], {}
        for name, prepared in self._lists.items():
            compiled = prepared._compile(using)
            query = compiled.queryset.query
            columns = [*query.values_select, *query.annotation_select]
            selects.append(_json_array(vendor, compiled.sql, columns))
            slots += [(len(params) + position, argument) for position, argument in compiled.slots]
            params += compiled.params
            # Model rows, or (no model) the values() dicts as they are.
            values = self._builds[name](*prepared._placeholders)._fields is not None
            shapes[name] = (None if values else query.model, columns)
        sql = "SELECT " + ", ".join(selects)
        return sql, tuple(params), tuple(slots), shapes

    def __call__(self, *values) -> dict[str, list]:
        using = self._first._using()
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using)
        sql, params, slots, shapes = compiled
        params = list(params)
        for position, argument in slots:
            params[position] = values[argument]
        with statement_cursor(connections[using]) as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return {
            name: _instances(using, *shapes[name], text)
            for name, text in zip(shapes, row, strict=True)
        }


def _all_columns(queryset: QuerySet) -> QuerySet:
    if queryset._fields is not None:
        return queryset  # a values() list: its rows come back as dicts
    fields = queryset.model._meta.concrete_fields
    if any(field.get_internal_type() == "JSONField" for field in fields):
        raise ImproperlyConfigured(f"{queryset.model.__name__} has a JSON field.")
    return queryset.values(*(field.attname for field in fields), *queryset.query.annotations)


def _json_array(vendor: str, sql: str, columns: list[str]) -> str:
    """The rows of `sql` as one JSON array of objects, in their order. The
    column names come from model metadata and the code's annotations, never
    from input."""
    if vendor == "postgresql":
        return f"(SELECT COALESCE(json_agg(t), '[]')::text FROM ({sql}) t)"  # noqa: S608
    if vendor == "sqlite":
        pairs = ", ".join(f"'{column}', t.\"{column}\"" for column in columns)
        return f"(SELECT COALESCE(json_group_array(json_object({pairs})), '[]') FROM ({sql}) t)"  # noqa: S608
    raise ImproperlyConfigured(f"PreparedLists does not know {vendor}.")


def _instances(using: str, model, columns: list[str], text) -> list:
    items = json.loads(text, parse_float=Decimal) if isinstance(text, str) else text
    if model is None:
        return items
    fields = {field.attname: field for field in model._meta.concrete_fields}
    names = [name for name in columns if name in fields]
    extra = [name for name in columns if name not in fields]
    objects = []
    for item in items:
        values = []
        for name in names:
            field, value = fields[name], item[name]
            if value is not None:
                value = field.to_python(value)
                if (
                    isinstance(field, models.DateTimeField)
                    and settings.USE_TZ
                    and timezone.is_naive(value)
                ):
                    value = timezone.make_aware(value, datetime.UTC)
            values.append(value)
        obj = model.from_db(using, names, values)
        for name in extra:
            setattr(obj, name, item[name])
        objects.append(obj)
    return objects


class Insert:
    """`Insert(Pledge)`, then `insert(pledge)`: writes a new object's row as
    `pledge.save(force_insert=True)` would, with the INSERT's SQL written once
    per database rather than by the ORM's compiler on every call: an audit
    entry costs about 140 µs of CPU this way against 190 µs through
    `objects.create()`, on PostgreSQL.

    What save() does around the statement is done here too: the related
    objects' checks, pre_save and post_save (created), each field's
    pre_save() (auto_now_add) and get_db_prep_save(), the database-made
    primary key read back, and the object marked as saved on that database.
    A value that is an expression (F(), a function, a subquery) goes through
    the ORM's own INSERT, as do models it would not write exactly: a parent
    model, a field with a database default or generated by the database, a
    field with a placeholder of its own, a primary key the database does not
    make, or a database that cannot return it from the INSERT."""

    def __init__(self, model: type[models.Model]):
        self._model = model
        meta = model._meta
        self._fields = [
            field for field in meta.local_concrete_fields if field is not meta.auto_field
        ]
        self._plain = (
            not meta.parents
            and meta.auto_field is not None
            and meta.db_returning_fields == [meta.auto_field]
            and not any(
                field.db_default is not models.NOT_PROVIDED
                or getattr(field, "generated", False)
                or hasattr(field, "get_placeholder")
                for field in self._fields
            )
        )
        self._sql: dict[str, str] = {}

    def __call__(self, obj: models.Model, *, using: str | None = None) -> models.Model:
        model = self._model
        if type(obj) is not model:
            raise TypeError(f"Insert({model.__name__}) was given a {type(obj).__name__}.")
        using = using or router.db_for_write(model, instance=obj)
        connection = connections[using]
        if (
            not self._plain
            or obj.pk is not None
            or not connection.features.can_return_columns_from_insert
        ):
            obj.save(force_insert=True, using=using)
            return obj
        obj._prepare_related_fields_for_save(operation_name="save")
        signals.pre_save.send(
            sender=model, instance=obj, raw=False, using=using, update_fields=None
        )
        with transaction.mark_for_rollback_on_error(using):
            values = [field.pre_save(obj, True) for field in self._fields]
            if _has_expression(values):
                rows = model._base_manager._insert(
                    [obj],
                    fields=self._fields,
                    returning_fields=[model._meta.auto_field],
                    using=using,
                )
                pk = rows[0][0]
            else:
                params = _db_values(self._fields, values, connection)
                with statement_cursor(connection) as cursor:
                    cursor.execute(self._sql_for(using, obj), params)
                    pk = cursor.fetchone()[0]
        setattr(obj, model._meta.auto_field.attname, pk)
        return _saved(obj, using, created=True, update_fields=None)

    def _sql_for(self, using: str, obj: models.Model) -> str:
        """The INSERT as the ORM's compiler writes it for `obj`, once per
        database: with no expression among the values, it is the same for
        every object."""
        sql = self._sql.get(using)
        if sql is None:
            query = InsertQuery(self._model)
            # A copy: writing the SQL runs the fields' pre_save() (auto_now) again.
            query.insert_values(self._fields, [copy.copy(obj)])
            compiler = query.get_compiler(using=using)
            compiler.returning_fields = [self._model._meta.auto_field]
            [(sql, params)] = compiler.as_sql()
            if len(params) != len(self._fields):
                raise ImproperlyConfigured(f"Insert({self._model.__name__}): unexpected SQL {sql}")
            self._sql[using] = sql
        return sql


class Update:
    """`Update(Pledge, "status", "paid_at")`, then `update(pledge)`: writes
    those fields as `pledge.save(update_fields=[...])` would, with the
    UPDATE's SQL written once per database.

    As save() does: the related objects' checks, pre_save and post_save with
    the update fields, each field's pre_save() (auto_now) and
    get_db_prep_save(), and DatabaseError when no row was updated. A value
    that is an expression goes through the ORM's own UPDATE, as do models
    with a parent, fields with a placeholder of their own, and models that
    select before saving (Meta.select_on_save)."""

    def __init__(self, model: type[models.Model], *names: str):
        meta = model._meta
        if not names or set(names) - meta._non_pk_concrete_field_names:
            raise ImproperlyConfigured(f"Update({model.__name__}) needs concrete non-key fields.")
        self._model = model
        self._names = frozenset(names)
        self._fields = [meta.get_field(name) for name in names]
        self._plain = (
            not meta.parents
            and not meta.select_on_save
            and not any(hasattr(field, "get_placeholder") for field in self._fields)
        )
        self._sql: dict[str, str] = {}

    def __call__(self, obj: models.Model, *, using: str | None = None) -> models.Model:
        model = self._model
        if type(obj) is not model:
            raise TypeError(f"Update({model.__name__}) was given a {type(obj).__name__}.")
        if obj.pk is None:
            raise ValueError("Cannot force an update in save() with no primary key.")
        using = using or router.db_for_write(model, instance=obj)
        if not self._plain:
            obj.save(update_fields=self._names, using=using)
            return obj
        obj._prepare_related_fields_for_save(operation_name="save")
        signals.pre_save.send(
            sender=model, instance=obj, raw=False, using=using, update_fields=self._names
        )
        connection = connections[using]
        with transaction.mark_for_rollback_on_error(using):
            values = [field.pre_save(obj, False) for field in self._fields]
            if _has_expression(values):
                updated = (
                    model._base_manager.using(using)
                    .filter(pk=obj.pk)
                    ._update(
                        [
                            (field, None, value)
                            for field, value in zip(self._fields, values, strict=True)
                        ]
                    )
                )
            else:
                params = _db_values(self._fields, values, connection)
                params.append(model._meta.pk.get_db_prep_value(obj.pk, connection))
                with statement_cursor(connection) as cursor:
                    cursor.execute(self._sql_for(using), params)
                    updated = cursor.rowcount
        if not updated:
            raise DatabaseError("Save with update_fields did not affect any rows.")
        return _saved(obj, using, created=False, update_fields=self._names)

    def _sql_for(self, using: str) -> str:
        sql = self._sql.get(using)
        if sql is None:
            connection = connections[using]
            quote = connection.ops.quote_name
            meta = self._model._meta
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in self._fields)
            sql = self._sql[using] = (
                f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 - names from model metadata
                f"WHERE {quote(meta.db_table)}.{quote(meta.pk.column)} = %s"
            )
        return sql


def _has_expression(values: list) -> bool:
    return any(hasattr(value, "resolve_expression") for value in values)


def _db_values(fields: list, values: list, connection) -> list:
    return [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values, strict=True)
    ]


def _saved(obj: models.Model, using: str, *, created: bool, update_fields) -> models.Model:
    """What save() does once the row is written: the object belongs to that
    database, and post_save is sent."""
    obj._state.db = using
    obj._state.adding = False
    signals.post_save.send(
        sender=type(obj),
        instance=obj,
        created=created,
        update_fields=update_fields,
        raw=False,
        using=using,
    )
    return obj
