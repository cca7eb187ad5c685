"""Telling people what happened: an in-portal notification and an email,
each written in the recipient's own language."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connections, router, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone, translation

from .models import Notification, User
from .prepared import Insert, statement_cursor

_insert = Insert(Notification)


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
        created = [_insert(rows[0])]
    else:
        created = Notification.objects.bulk_create(rows)
    if seen:
        _count_up(sorted(seen))
    if email:
        ids = [n.pk for n in created]
        transaction.on_commit(lambda: [send_notification_email.delay(pk) for pk in ids])
    return created


def _count_up(user_ids: list[int]) -> None:
    """One notification each: the header's count goes up by one, in one
    UPDATE written once, where the ORM would write it again on every call
    (the larger part of a notification's CPU)."""
    using = router.db_for_write(User)
    connection = connections[using]
    quote = connection.ops.quote_name
    meta = User._meta
    column = quote(meta.get_field("unread_notifications").column)
    marks = ", ".join(["%s"] * len(user_ids))
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {column} = {column} + 1 "  # noqa: S608 - names from model metadata
        f"WHERE {quote(meta.pk.column)} IN ({marks})"
    )
    with transaction.mark_for_rollback_on_error(using), statement_cursor(connection) as cursor:
        cursor.execute(sql, user_ids)


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
