"""Provider webhooks: mounted at the site root, outside the language prefix,
because providers call a fixed URL."""

from django.urls import path

from .webhooks import stripe_webhook

urlpatterns = [path("webhooks/stripe/", stripe_webhook, name="stripe_webhook")]
