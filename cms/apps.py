from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Content")

    def ready(self) -> None:
        from finance.knowledge import register_question_source

        from .knowledge_source import literacy_questions

        register_question_source(literacy_questions)
