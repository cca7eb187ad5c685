from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "finance"
    verbose_name = _("Finance")

    def ready(self) -> None:
        # Admin views, dashboard panels and page fragments register themselves.
        from portal.celery import app

        from . import admin_offerings, dashboards, returns_dashboards  # noqa: F401
        from .tasks import BEAT_SCHEDULE

        app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), **BEAT_SCHEDULE}
