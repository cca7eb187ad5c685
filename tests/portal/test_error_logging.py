"""What the console shows for a refused or failed request: a 403 is one warning line
with no traceback (a refusal is no fault of the code), a 500 is one error with its
traceback; in development (DEBUG) as in production."""

import contextlib
import io
import logging

import pytest
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns

pytestmark = pytest.mark.django_db


def _fail(request):
    raise RuntimeError("the ledger is unreachable")


handler403 = "portal.errors.permission_denied"
handler500 = "portal.errors.server_error"
urlpatterns = [path("failing/", _fail), *portal_urlpatterns]


@contextlib.contextmanager
def console():
    """What the configured logging handlers write for a record of django.request
    (its own handlers and those it passes records up to), collected in one buffer."""
    written = io.StringIO()
    swapped = {}
    logger = logging.getLogger("django.request")
    while logger is not None:
        for handler in logger.handlers:
            # pytest's capture handlers are not part of the configuration.
            if isinstance(handler, logging.StreamHandler) and not type(
                handler
            ).__module__.startswith("_pytest"):
                swapped[handler] = handler.setStream(written)
        logger = logger.parent if logger.propagate else None
    assert swapped, "no console handler receives django.request's records"
    try:
        yield written
    finally:
        for handler, stream in swapped.items():
            handler.setStream(stream)


@pytest.mark.parametrize("debug", [False, True])
def test_a_refusal_is_one_warning_without_a_traceback(client, user, settings, caplog, debug):
    settings.DEBUG = debug
    client.force_login(user)  # an investor, not a reviewer

    with console() as written, caplog.at_level(logging.INFO, logger="django"):
        response = client.get("/en/dashboard/review/")

    assert response.status_code == 403
    output = written.getvalue()
    assert output.count("Forbidden (Permission denied): /en/dashboard/review/") == 1, output
    assert "Traceback" not in output, output
    [refusal] = [r for r in caplog.records if r.name == "django.request"]
    assert refusal.levelno == logging.WARNING
    assert refusal.exc_info is None


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("debug", [False, True])
def test_a_failure_is_one_error_with_its_traceback(client, settings, caplog, debug):
    settings.DEBUG = debug
    client.raise_request_exception = False

    with console() as written, caplog.at_level(logging.INFO, logger="django"):
        response = client.get("/failing/")

    assert response.status_code == 500
    output = written.getvalue()
    assert output.count("Internal Server Error: /failing/") == 1, output
    assert output.count("Traceback (most recent call last)") == 1, output
    assert "RuntimeError: the ledger is unreachable" in output
    [failure] = [r for r in caplog.records if r.name == "django.request"]
    assert failure.levelno == logging.ERROR
    assert failure.exc_info is not None
