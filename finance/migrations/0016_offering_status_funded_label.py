"""A successful offering is labelled "Closed: funded": a keep-what-you-raise offering
succeeds below its target too. Only the choice's label changes; no data moves."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0015_bank_line_notes_and_outcomes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="offering",
            name="status",
            field=models.CharField(
                choices=[
                    ("draft", "Draft"),
                    ("open", "Open for pledges"),
                    ("succeeded", "Closed: funded"),
                    ("failed", "Closed: target missed, refunded"),
                    ("disbursed", "Disbursed"),
                ],
                db_index=True,
                default="draft",
                max_length=12,
                verbose_name="status",
            ),
        ),
    ]
