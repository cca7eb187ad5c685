"""The embedded default: SQLite, eager Celery, console email, local files."""

from .base import *  # noqa: F403

DEBUG = True
