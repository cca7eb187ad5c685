"""Production settings for tests/perf/bench_catalogue.py: the portal as it is
deployed, plus a minimal view to compare its pages with.

Static files use the plain storage: the manifest storage would need a
collectstatic run first and only changes the URLs written into the pages."""

from portal.settings.production import *  # noqa: F403
from portal.settings.production import STORAGES

ROOT_URLCONF = "tests.perf.minimal_urls"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
