"""Error pages in the visitor's language, with the status the error calls for, and
how a refused request is logged."""

import logging

from django.core.exceptions import PermissionDenied
from django.shortcuts import render


class RefusalWithoutTraceback(logging.Filter):
    """For django.request's records: a permission refusal stays its one warning line
    ("Forbidden (Permission denied): <path>") without the traceback Django attaches,
    since refusing is the code working as meant. Other errors keep theirs.

    Logging is configured before the apps are loaded: this module imports no models
    at its top."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True


def _render(request, status: int, template: str, context: dict | None = None):
    return render(request, template, context, status=status)


def bad_request(request, exception=None):
    return _render(request, 400, "400.html")


def permission_denied(request, exception=None):
    from .permissions import NotAllowed

    # Only a refusal written for the user says why; any other keeps its reasons.
    reason = str(exception) if isinstance(exception, NotAllowed) else ""
    return _render(request, 403, "403.html", {"reason": reason})


def page_not_found(request, exception=None):
    return _render(request, 404, "404.html")


def server_error(request):
    # No request context: the failure may come from a context processor.
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("500.html").render())
