"""The Celery application. Queues are separate so that a slow statement batch
never delays a payment: payments, statements, mail and default."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")

app = Celery("puente")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("payments", "statements", "mail", "default")]
app.autodiscover_tasks()
