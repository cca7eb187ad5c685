from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from .forms import ProfileForm
from .middleware import back_office
from .models import Organization
from .permissions import Role, can_view_organization, memberships, require_role, roles_of
from .registry import panels_for, path_in_language

DASHBOARD_ORDER = [Role.INVESTOR, Role.ENTREPRENEUR, Role.LOCAL_GOVERNMENT, Role.REVIEWER]
DASHBOARD_URL_NAMES = {
    Role.INVESTOR: "portal:dashboard_investor",
    Role.ENTREPRENEUR: "portal:dashboard_entrepreneur",
    Role.LOCAL_GOVERNMENT: "portal:dashboard_government",
    Role.REVIEWER: "portal:dashboard_reviewer",
}


@login_required
def dashboard(request):
    """Send people to the dashboard of their most specific role."""
    roles = roles_of(request.user)
    for role in reversed(DASHBOARD_ORDER):
        if role in roles:
            return redirect(DASHBOARD_URL_NAMES[role])
    raise Http404


def _render_dashboard(request, role: Role):
    panels = []
    for panel in panels_for(role):
        context = panel.context(request)
        if context is not None:
            panels.append({"panel": panel, "context": context})
    roles = roles_of(request.user)
    tabs = [
        {"role": r, "url_name": DASHBOARD_URL_NAMES[r], "current": r == role}
        for r in DASHBOARD_ORDER
        if r in roles
    ]
    return render(
        request,
        "portal/dashboard.html",
        {"role": role, "panels": panels, "tabs": tabs if len(tabs) > 1 else []},
    )


@require_role(Role.INVESTOR)
def dashboard_investor(request):
    return _render_dashboard(request, Role.INVESTOR)


@require_role(Role.ENTREPRENEUR)
def dashboard_entrepreneur(request):
    return _render_dashboard(request, Role.ENTREPRENEUR)


@back_office
@require_role(Role.LOCAL_GOVERNMENT)
def dashboard_government(request):
    return _render_dashboard(request, Role.LOCAL_GOVERNMENT)


@back_office
@require_role(Role.REVIEWER)
def dashboard_reviewer(request):
    return _render_dashboard(request, Role.REVIEWER)


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("Your profile is saved."))
            return redirect("portal:profile")
        messages.error(request, _("Please correct the errors below; nothing was saved yet."))
    consents = request.user.consents.all()[:20]
    return render(request, "portal/profile.html", {"form": form, "consents": consents})


@login_required
def organization_detail(request, slug: str):
    organization = get_object_or_404(Organization.objects.select_related("territory"), slug=slug)
    # Whether an organization has a private page for someone is not public.
    if not can_view_organization(request.user, organization):
        raise Http404
    members = organization.memberships.select_related("user").order_by("user__full_name")
    return render(
        request,
        "portal/organization_detail.html",
        {"organization": organization, "members": members},
    )


@login_required
def my_organizations(request):
    return render(request, "portal/organizations.html", {"memberships": memberships(request.user)})


@require_POST
def set_language(request):
    """Django's set_language (cookie, and the same page in the new language),
    remembering the choice on the profile of a signed-in person.

    This address has no language prefix, so the request arrives in the
    cookie's or the browser's language; the page it came from is read in its
    own (its prefix), else Django could not find it and would send the person
    back to it unchanged."""
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES) and request.user.is_authenticated:
        if request.user.preferred_language != language:
            request.user.preferred_language = language
            request.user.save(update_fields=["preferred_language"])
    came_from = urlsplit(request.POST.get("next") or request.GET.get("next") or "")
    shown_in = translation.get_language_from_path(came_from.path) or translation.get_language()
    with translation.override(shown_in):
        response = django_set_language(request)
    if response.status_code == 302 and language in dict(settings.LANGUAGES):
        # A content page's translation has its own slugs, which the URLconf cannot know.
        translated = path_in_language(came_from.path, language)
        if translated and url_has_allowed_host_and_scheme(translated, allowed_hosts=None):
            response["Location"] = translated + (f"?{came_from.query}" if came_from.query else "")
    return response


def wagtail_admin_login(request):
    """Wagtail's admin login page, for GET and POST alike: it checks no
    password and sends people to the portal's login, which asks for the
    second factor and counts failed attempts, then back where they were going
    (on this site only)."""
    going_to = request.GET.get("next", "")
    if going_to.startswith(request.path) or not url_has_allowed_host_and_scheme(
        going_to, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        going_to = "/admin/"
    if request.user.is_authenticated:
        return redirect(going_to)
    return redirect(f"{reverse('account_login')}?{urlencode({'next': going_to})}")
