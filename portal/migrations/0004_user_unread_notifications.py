from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_unread(apps, schema_editor):
    """Start each person's count from the notifications they have not read."""
    User = apps.get_model("portal", "User")
    Notification = apps.get_model("portal", "Notification")
    unread = (
        Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
        .order_by()
        .values("recipient")
        .annotate(count=Count("pk"))
        .values("count")
    )
    User.objects.update(unread_notifications=Coalesce(Subquery(unread), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0003_identity_verification"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="unread_notifications",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(count_unread, migrations.RunPython.noop),
    ]
