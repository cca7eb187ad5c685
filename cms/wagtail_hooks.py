"""Admin viewsets of the content layer."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import GlossaryTerm


class GlossaryTermViewSet(SnippetViewSet):
    model = GlossaryTerm
    icon = "openquote"
    menu_label = _("Glossary")
    menu_order = 300
    add_to_admin_menu = True
    list_display = ["term", "locale"]
    list_filter = ["locale"]
    search_fields = ["term", "definition"]
    ordering = ["term"]


register_snippet(GlossaryTermViewSet)
