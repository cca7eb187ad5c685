"""The catalogue's full-text search reads a stored tsvector column on PostgreSQL.

Migration 0002 indexed the expression `search_vector()`; PostgreSQL used that
index for selective words only, and otherwise recomputed to_tsvector() over
title, summary and story for every candidate row, for matching and again for
ranking. A generated column computes the vector once, when a row is written;
the GIN index moves onto it. SQLite, the embedded setup, has neither and
searches with LIKE (projects.filters)."""

from django.db import migrations
from django.contrib.postgres.indexes import GinIndex

import projects.models

DOCUMENT = " || ".join(
    f"setweight(to_tsvector('{projects.models.SEARCH_CONFIG}', coalesce({column}, '')), '{weight}')"
    for column, weight in (("title", "A"), ("summary", "B"), ("story", "C"))
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS project_search")
    schema_editor.execute(
        f"ALTER TABLE projects_project ADD COLUMN {projects.models.SEARCH_COLUMN} tsvector "
        f"GENERATED ALWAYS AS ({DOCUMENT}) STORED"
    )
    schema_editor.execute(
        f"CREATE INDEX project_search ON projects_project "
        f"USING gin ({projects.models.SEARCH_COLUMN})"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS project_search")
    schema_editor.execute(
        f"ALTER TABLE projects_project DROP COLUMN IF EXISTS {projects.models.SEARCH_COLUMN}"
    )
    schema_editor.add_index(
        apps.get_model("projects", "Project"),
        GinIndex(projects.models.search_vector(), name="project_search"),
    )


class Migration(migrations.Migration):
    dependencies = [("projects", "0002_project_search_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveIndex(model_name="project", name="project_search")],
            database_operations=[migrations.RunPython(forwards, backwards)],
        )
    ]
