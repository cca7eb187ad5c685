"""Organizations and territories in the staff back office (Wagtail's admin)."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.ui.tables import BooleanColumn
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from . import wagtail_hooks_kyc  # noqa: F401  (registers the identity-verification queue)
from .models import Organization, Territory


class OrganizationViewSet(ModelViewSet):
    model = Organization
    icon = "group"
    menu_label = _("Organizations")
    list_display = ["name", "kind", "country", "territory", BooleanColumn("verified")]
    list_filter = ["kind", "verified"]
    search_fields = ["name"]
    form_fields = [
        "kind",
        "name",
        "slug",
        "country",
        "territory",
        "description",
        "website",
        "verified",
    ]


class TerritoryViewSet(ModelViewSet):
    model = Territory
    icon = "site"
    menu_label = _("Territories")
    list_display = ["name", "level", "country", "parent"]
    list_filter = ["level"]
    search_fields = ["name"]
    form_fields = ["name", "slug", "level", "country", "parent"]


class PeopleGroup(ViewSetGroup):
    menu_label = _("People and places")
    menu_icon = "group"
    menu_order = 200
    items = (OrganizationViewSet, TerritoryViewSet)


@hooks.register("register_admin_viewset")
def register_viewsets():
    return PeopleGroup()
