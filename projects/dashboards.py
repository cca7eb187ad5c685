"""The catalogue's sections of each role's dashboard."""

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from portal.permissions import Role, governments_of
from portal.registry import DashboardPanel, MenuEntry, register_menu_entry, register_panel

from .models import Follow, Project


def entrepreneur_projects(request):
    projects = list(
        Project.objects.filter(owner=request.user)
        .select_related("territory")
        .order_by("-updated_at")[:10]
    )
    return {"projects": projects}


def government_projects(request):
    territory_ids: set[int] = set()
    for government in governments_of(request.user):
        territory_ids |= government.territory.descendant_ids()
    in_territory = Project.objects.filter(territory_id__in=territory_ids)
    awaiting = list(
        in_territory.filter(
            endorsement=Project.Endorsement.NONE,
            status__in=[Project.Status.SUBMITTED, Project.Status.APPROVED],
            origin=Project.Origin.ENTREPRENEUR,
        ).select_related("territory")[:20]
    )
    counts = in_territory.aggregate(
        published=Count("pk", filter=Q(status__in=Project.PUBLIC_STATUSES)),
        in_review=Count("pk", filter=Q(status=Project.Status.SUBMITTED)),
    )
    return {"awaiting": awaiting, **counts}


def investor_following(request):
    follows = list(
        Follow.objects.filter(user=request.user)
        .select_related("project", "territory")
        .order_by("-created_at")[:10]
    )
    return {"follows": follows}


def reviewer_queue(request):
    counts = Project.objects.aggregate(
        submitted=Count("pk", filter=Q(status=Project.Status.SUBMITTED)),
        changes=Count("pk", filter=Q(status=Project.Status.CHANGES_REQUESTED)),
    )
    return counts


register_panel(
    DashboardPanel(
        "projects.mine",
        Role.ENTREPRENEUR,
        "projects/panels/entrepreneur.html",
        entrepreneur_projects,
        order=20,
    )
)
register_panel(
    DashboardPanel(
        "projects.territory",
        Role.LOCAL_GOVERNMENT,
        "projects/panels/government.html",
        government_projects,
        order=20,
    )
)
register_panel(
    DashboardPanel(
        "projects.following",
        Role.INVESTOR,
        "projects/panels/following.html",
        investor_following,
        order=30,
    )
)
register_panel(
    DashboardPanel(
        "projects.queue", Role.REVIEWER, "projects/panels/reviewer.html", reviewer_queue, order=10
    )
)
register_menu_entry(MenuEntry("projects.catalogue", _("Projects"), "projects:catalogue", order=10))
register_menu_entry(
    MenuEntry(
        "projects.mine",
        _("My projects"),
        "projects:my_projects",
        roles=frozenset({Role.ENTREPRENEUR, Role.LOCAL_GOVERNMENT}),
        anonymous=False,
        order=20,
    )
)
