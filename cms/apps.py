from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Content")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from finance.knowledge import register_question_source
        from portal.celery import app
        from portal.registry import register_fragment, register_path_translator

        from .knowledge_source import literacy_questions
        from .models import SiteSettings
        from .page_languages import path_in_language
        from .site_links import footer_links, forget_site_links, navigation_links
        from .tasks import BEAT_SCHEDULE

        app.conf.beat_schedule = {**(app.conf.beat_schedule or {}), **BEAT_SCHEDULE}

        register_question_source(literacy_questions)
        register_fragment("site.navigation", "cms", navigation_links)
        register_fragment("site.footer", "cms", footer_links)
        register_path_translator(path_in_language)
        post_save.connect(forget_site_links, sender=SiteSettings, weak=False)
