"""Settings for the test suite; DATABASE_URL and REDIS_URL still apply, so CI
runs the same tests against PostgreSQL and Redis."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import CACHES, REDIS_URL

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Each test run gets its own cache keys; the rate-limit tests need a real cache.
CACHES["default"]["KEY_PREFIX"] = f"puente-test-{os.getpid()}"
# Tasks run in the test process unless a test starts a worker itself.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
_TEST_FILES = tempfile.mkdtemp(prefix="puente-test-files-")
MEDIA_ROOT = Path(_TEST_FILES) / "media"
PRIVATE_MEDIA_ROOT = Path(_TEST_FILES) / "private"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    },
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": "/no-public-url/"},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
# Query-count and page tests measure rendering; tests of the anonymous page
# cache switch it on themselves.
PUENTE_ANONYMOUS_PAGE_SECONDS = 0
