"""Queries the project page runs on every view, compiled to SQL once.

The page shows a handful of short lists that belong to one project (photos,
budget lines, team, milestones, documents, updates). For each, the ORM spends
about 0.3 ms building the queryset and writing its SQL, twice what running
it costs, and the SQL differs from one project to the next only by the
project's id. A ProjectRows writes it once per process and database, from an
ordinary queryset, and then runs it through Model.objects.raw(), which still
turns each row into a model instance with the database's converters applied
(dates, decimals, time zones), exactly as the queryset would.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import router
from django.db.models import Model, QuerySet

# Stands for the project's id while the SQL is written; never a primary key.
_PROJECT_ID = -7_340_033


class ProjectRows:
    """The rows of `model` that belong to one project: `build(queryset,
    project_id)` narrows the model's queryset to them (and orders, annotates
    or slices it); calling the ProjectRows with a project's id returns them."""

    def __init__(self, model: type[Model], build: Callable[[QuerySet, int], QuerySet]):
        self.model = model
        self._build = build
        self._compiled: dict[str, tuple[str, tuple, int]] = {}

    def _compile(self, using: str) -> tuple[str, tuple, int]:
        queryset = self._build(self.model._default_manager.all(), _PROJECT_ID)
        sql, params = queryset.query.get_compiler(using=using).as_sql()
        positions = [i for i, value in enumerate(params) if value == _PROJECT_ID]
        if len(positions) != 1:
            raise ImproperlyConfigured(
                f"{self.model.__name__} rows: the project's id must be the query's "
                f"parameter exactly once, not {len(positions)} times."
            )
        return sql, tuple(params), positions[0]

    def __call__(self, project_id: int) -> list:
        using = router.db_for_read(self.model)
        compiled = self._compiled.get(using)
        if compiled is None:
            compiled = self._compiled[using] = self._compile(using)
        sql, params, position = compiled
        values = list(params)
        values[position] = project_id
        return list(self.model._default_manager.db_manager(using).raw(sql, values))
