"""Telling people what happened: an in-portal notification and an email,
each written in the recipient's own language."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone, translation

from .models import Notification, User


def notify(
    recipients: Iterable[User],
    *,
    verb: str,
    message,
    params: dict | None = None,
    url: str = "",
    email: bool = True,
) -> list[Notification]:
    """Create one notification per distinct recipient.

    `message` is a lazy translatable string with %(name)s placeholders; it is
    rendered inside each recipient's preferred language. Emails are queued on
    commit, so a rolled-back workflow sends nothing."""
    from .tasks import send_notification_email

    seen: set[int] = set()
    rows = []
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        with translation.override(user.preferred_language or "en"):
            text = str(message) % (params or {})
        rows.append(Notification(recipient=user, verb=verb, message=text[:300], url=url))
    if len(rows) == 1:
        # One row: one INSERT, without the transaction bulk_create opens around its batches.
        rows[0].save(force_insert=True)
        created = rows
    else:
        created = Notification.objects.bulk_create(rows)
    if seen:
        # One notification each: the header's count goes up by one.
        User.objects.filter(pk__in=seen).update(unread_notifications=F("unread_notifications") + 1)
    if email:
        ids = [n.pk for n in created]
        transaction.on_commit(lambda: [send_notification_email.delay(pk) for pk in ids])
    return created


def unread_recount(user: User) -> int:
    """Set the user's count of unread notifications from the notifications
    themselves, in one UPDATE (a notification arriving meanwhile is counted or
    adds itself after), and return it."""
    unread = (
        Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
        .order_by()
        .values("recipient")
        .annotate(count=Count("pk"))
        .values("count")
    )
    User.objects.filter(pk=user.pk).update(unread_notifications=Coalesce(Subquery(unread), 0))
    user.refresh_from_db(fields=["unread_notifications"])
    return user.unread_notifications


def mark_read(user: User, notification: Notification | None = None) -> None:
    """Mark one of the user's notifications read, or all of them."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification is not None:
        unread = unread.filter(pk=notification.pk)
    if unread.update(read_at=timezone.now()):
        unread_recount(user)
