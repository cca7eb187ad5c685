from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("projects", "0003_project_search_document")]

    operations = [
        migrations.AddIndex(
            model_name="project",
            index=models.Index(fields=["sector", "status"], name="projects_pr_sector_348ea4_idx"),
        ),
    ]
