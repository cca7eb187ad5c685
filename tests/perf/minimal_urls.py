"""The portal's URLs plus a minimal Django view, for the benchmark's baseline:
the same middleware and server, no database query and no template."""

from django.http import HttpResponse
from django.urls import path

from portal.urls import (  # noqa: F401  (error handlers must be in the root URLconf)
    handler400,
    handler403,
    handler404,
    handler500,
)
from portal.urls import urlpatterns as portal_urlpatterns


def minimal(request, size: int):
    return HttpResponse(b"x" * min(size, 2_000_000), content_type="text/html; charset=utf-8")


urlpatterns = [path("bench/bytes/<int:size>/", minimal, name="bench_bytes"), *portal_urlpatterns]
