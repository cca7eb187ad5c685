from celery import shared_task
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
    with translation.override(recipient.preferred_language or "en"):
        send_mail(
            subject=notification.message[:120],
            message=notification.message + ("\n\n" + notification.url if notification.url else ""),
            from_email=None,
            recipient_list=[recipient.email],
        )
