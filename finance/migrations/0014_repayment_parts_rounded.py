"""A repayment's parts are checked against its amount at the columns' 3 decimals, so that
SQLite, which stores decimals as binary floats, accepts 136.33 + 1175.56 = 1311.89."""

import django.db.models.expressions
import django.db.models.functions.math
import django.db.models.lookups
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0013_pledge_plans"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="repayment",
            name="repayment_fully_applied",
        ),
        migrations.AddConstraint(
            model_name="repayment",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.Exact(
                    django.db.models.functions.math.Round("amount", 3),
                    django.db.models.functions.math.Round(
                        django.db.models.expressions.CombinedExpression(
                            django.db.models.expressions.CombinedExpression(
                                models.F("interest_part"), "+", models.F("principal_part")
                            ),
                            "+",
                            models.F("excess"),
                        ),
                        3,
                    ),
                ),
                name="repayment_fully_applied",
            ),
        ),
    ]
