"""Scheduled publishing: Wagtail keeps pages and revisions with a go-live or
expiry date, and ``publish_scheduled`` acts on the ones that are due. Beat runs
it every minute, so a lesson scheduled for 09:00 is live by 09:01.

``BEAT_SCHEDULE`` is merged into the Celery app's schedule by ``CmsConfig.ready``.
"""

from __future__ import annotations

from celery import shared_task
from celery.schedules import crontab
from django.core.management import call_command
from django.db import OperationalError


@shared_task(
    name="cms.tasks.publish_scheduled",
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=True,
)
def publish_scheduled() -> None:
    """Publish revisions whose go-live time has come and unpublish pages whose
    expiry time has passed. Idempotent: what is done is no longer due."""
    call_command("publish_scheduled", verbosity=0)


BEAT_SCHEDULE = {
    "cms-publish-scheduled": {
        "task": "cms.tasks.publish_scheduled",
        "schedule": crontab(minute="*"),
    },
}
