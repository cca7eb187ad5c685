"""Error pages in the visitor's language, with the status the error calls for."""

from django.shortcuts import render


def _render(request, status: int, template: str):
    return render(request, template, status=status)


def bad_request(request, exception=None):
    return _render(request, 400, "400.html")


def permission_denied(request, exception=None):
    return _render(request, 403, "403.html")


def page_not_found(request, exception=None):
    return _render(request, 404, "404.html")


def server_error(request):
    # No request context: the failure may come from a context processor.
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("500.html").render())
