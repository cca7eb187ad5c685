from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField
from wagtail.models import Page
from wagtail.search import index


class HomePage(Page):
    """The root of each language's page tree."""

    headline = models.CharField(_("headline"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True)
    body = RichTextField(
        _("body"), blank=True, features=["h2", "h3", "bold", "italic", "link", "ol", "ul"]
    )

    content_panels = Page.content_panels + [
        FieldPanel("headline"),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]
    search_fields = Page.search_fields + [
        index.SearchField("headline"),
        index.SearchField("intro"),
        index.SearchField("body"),
    ]
    parent_page_types = ["wagtailcore.Page"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("home page")


@register_setting(icon="cog")
class SiteSettings(BaseSiteSetting):
    contact_email = models.EmailField(_("contact email"), blank=True)
    risk_warning_url = models.CharField(
        _("risk warning page"),
        max_length=200,
        blank=True,
        help_text=_("Path of the page that explains the risks of investing."),
    )

    panels = [FieldPanel("contact_email"), FieldPanel("risk_warning_url")]

    class Meta:
        verbose_name = _("site settings")
