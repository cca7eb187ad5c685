"""Error pages in the visitor's language, with the status the error calls for."""

from django.shortcuts import render

from .permissions import NotAllowed


def _render(request, status: int, template: str, context: dict | None = None):
    return render(request, template, context, status=status)


def bad_request(request, exception=None):
    return _render(request, 400, "400.html")


def permission_denied(request, exception=None):
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
