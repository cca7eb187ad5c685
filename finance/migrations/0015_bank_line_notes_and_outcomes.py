"""Bank lines: notes stored as codes with parameters (worded in the reader's language), and
two outcomes of their own for lines recorded as a loan repayment or a revenue share, which
were "resolved" like the lines staff resolve.

Lines the import closed itself (resolved, by nobody) become "repayment" when a repayment was
recorded from them, otherwise "revenue": the import closes a line for nothing else. Notes
written before stay as they were, in ``note``."""

from django.db import migrations, models


def split_resolved(apps, schema_editor):
    BankStatementLine = apps.get_model("finance", "BankStatementLine")
    Repayment = apps.get_model("finance", "Repayment")
    closed_by_import = BankStatementLine.objects.filter(status="resolved", resolved_by__isnull=True)
    for line in closed_by_import.iterator():
        repaid = Repayment.objects.filter(idempotency_key=f"bankline:{line.pk}:repayment")
        line.status = "repayment" if repaid.exists() else "revenue"
        line.save(update_fields=["status"])


def join_resolved(apps, schema_editor):
    BankStatementLine = apps.get_model("finance", "BankStatementLine")
    BankStatementLine.objects.filter(status__in=["repayment", "revenue"]).update(status="resolved")


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0014_repayment_parts_rounded"),
    ]

    operations = [
        migrations.AddField(
            model_name="bankstatementline",
            name="notes",
            field=models.JSONField(blank=True, default=list, verbose_name="notes"),
        ),
        migrations.AlterField(
            model_name="bankstatementline",
            name="status",
            field=models.CharField(
                choices=[
                    ("new", "Not matched yet"),
                    ("matched", "Matched to a pledge"),
                    ("partial", "Less than due: review"),
                    ("overpaid", "More than due or paid twice: review"),
                    ("late", "Pledge expired or cancelled: review"),
                    ("unmatched", "No known reference: review"),
                    ("ignored", "Debit: ignored"),
                    ("resolved", "Resolved by staff"),
                    ("repayment", "Loan repayment recorded"),
                    ("revenue", "Revenue share recorded"),
                ],
                db_index=True,
                default="new",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.RunPython(split_resolved, join_resolved),
    ]
