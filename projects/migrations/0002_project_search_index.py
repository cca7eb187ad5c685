from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

import projects.models


def _index():
    return GinIndex(projects.models.search_vector(), name="project_search")


def add_on_postgresql(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("projects", "Project"), _index())


def remove_on_postgresql(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("projects", "Project"), _index())


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="project", index=_index())],
            database_operations=[migrations.RunPython(add_on_postgresql, remove_on_postgresql)],
        )
    ]
