"""Telling people what happened: an in-portal notification and an email,
each written in the recipient's own language."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import translation

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
    created = Notification.objects.bulk_create(rows)
    if email:
        ids = [n.pk for n in created]
        transaction.on_commit(lambda: [send_notification_email.delay(pk) for pk in ids])
    return created
