from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "finance"
    verbose_name = _("Finance")

    def ready(self) -> None:
        # Admin views, dashboard panels and page fragments register themselves.
        from portal.celery import app

        from . import admin_offerings, admin_plans, dashboards, returns_dashboards  # noqa: F401
        from .tasks import BEAT_SCHEDULE

        app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), **BEAT_SCHEDULE}

        # Offerings and matching pools show on public project pages; services
        # also call pages_changed() after the UPDATEs that send no signal.
        from django.db.models.signals import post_delete, post_save

        from projects.caching import pages_changed

        for name in ("Offering", "MatchingPool"):
            model = self.get_model(name)
            post_save.connect(pages_changed, sender=model, dispatch_uid=f"pages:{name}:save")
            post_delete.connect(pages_changed, sender=model, dispatch_uid=f"pages:{name}:delete")
