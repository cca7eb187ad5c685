from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation

from .models import Notification, User


@shared_task(name="portal.tasks.ping")
def ping(value: str) -> str:
    """Round trip through the broker; used by health checks and tests."""
    return f"pong:{value}"


@shared_task(
    name="portal.tasks.send_notification_email",
    bind=True,
    max_retries=5,
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
)
def send_notification_email(self, notification_id: int) -> None:
    """Mail one in-portal notification to its recipient, in their language.
    Safe to run twice: a notification is mailed once (emailed_at is set)."""
    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    recipient: User = notification.recipient
    link = notification.url
    if link.startswith("/"):
        # In-portal links are paths; an email needs the whole address.
        link = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + link
    with translation.override(recipient.preferred_language or "en"):
        send_mail(
            subject=notification.message[:120],
            message=notification.message + ("\n\n" + link if link else ""),
            from_email=None,
            recipient_list=[recipient.email],
        )
