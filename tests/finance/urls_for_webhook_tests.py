"""The site's URLs plus the provider webhooks, mounted at the root the way
the lead wires them in portal/urls.py."""

from django.urls import include, path

from portal import urls as portal_urls

handler400 = portal_urls.handler400
handler403 = portal_urls.handler403
handler404 = portal_urls.handler404
handler500 = portal_urls.handler500

urlpatterns = [path("", include("finance.urls_webhooks")), *portal_urls.urlpatterns]
