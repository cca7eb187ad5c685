"""The public side of the catalogue: browsing and filtering projects, the
project page, territory pages, and following projects and hometowns."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from portal import jinja
from portal.middleware import require_two_factor
from portal.models import Territory

from . import selectors, services
from .caching import anonymous_page_cache, do_not_cache, prerendered_fields
from .filters import PLACE_FIELDS, SORTS
from .models import Follow, Project
from .permissions import can_edit_project
from .words import once_per_language

PAGE_SIZE = 24
CHOICE_FIELDS = ("country", "territory", "sector", "sdg", "instrument", "status", "risk")
FREE_FIELDS = ("q", "min_funded", "max_funded", "returnee", "women", "endorsed")


@once_per_language
def _sorts() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in SORTS]


@require_safe
@anonymous_page_cache
def catalogue(request):
    filterset = selectors.catalogue_filterset(request.GET, user=request.user)
    page = selectors.page_of(filterset.qs, request.GET.get("page"), PAGE_SIZE)
    form = filterset.form
    return render(
        request,
        "projects/catalogue.html",
        {
            "filterset": filterset,
            "form": form,
            # The labels and choice lists, rendered once per process, language and value.
            "fields": prerendered_fields(
                form, CHOICE_FIELDS, labels_only=FREE_FIELDS, choices_from_data=PLACE_FIELDS
            ),
            "page_obj": page,
            "projects": selectors.prepare_cards(page.object_list),
            "sorts": _sorts(),
            "current_sort": filterset.effective_sort,
            "has_filters": any(
                value not in ("", None, [], False)
                for name, value in getattr(form, "cleaned_data", {}).items()
                if name != "sort"
            ),
        },
    )


@require_safe
@anonymous_page_cache
def detail(request, slug: str):
    page = selectors.project_for_page(slug, user=request.user)
    if not page.project.is_public and not can_edit_project(request.user, page.project):
        require_two_factor(request)  # seen under review, by a reviewer or the local government
    context = {"page": page, "project": page.project}
    # The content in Jinja2 (see portal/jinja.py), the frame in base.html.
    body = jinja.render("projects/project_page.html", context, request)
    response = render(request, "projects/project_detail.html", {**context, "body": body})
    if not page.project.is_public:
        do_not_cache(response)  # whoever may see it, its page is never kept
    return response


@require_safe
def territory(request, slug: str):
    page = selectors.territory_for_page(slug, user=request.user)
    projects = Paginator(page.projects, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/territory_detail.html",
        {
            "page": page,
            "territory": page.territory,
            "page_obj": projects,
            "projects": selectors.prepare_cards(projects.object_list),
        },
    )


@login_required
@require_safe
def following(request):
    projects, territories = selectors.follows_of(request.user)
    return render(
        request,
        "projects/following.html",
        {"followed_projects": projects, "followed_territories": territories},
    )


def _next_url(request, default: str) -> str:
    """Back to where the button was pressed, if that is a page of this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _wants(request, following_now: bool) -> bool:
    """Whether to follow after this request: the button says so ("follow" or
    "unfollow", so that a double submit does not undo itself); without a word,
    it toggles."""
    action = request.POST.get("action", "")
    if action in ("follow", "unfollow"):
        return action == "follow"
    return not following_now


@require_POST
def follow_project(request, slug: str):
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("projects:detail", args=[slug]))
    # Only published projects can be followed; for anything else the answer
    # is the same as for a project that does not exist.
    project = get_object_or_404(Project.objects.published(), slug=slug)
    following_now = Follow.objects.filter(user=request.user, project=project).exists()
    if _wants(request, following_now):
        services.follow(user=request.user, project=project)
        if not following_now:
            messages.success(
                request,
                _("You follow %(title)s: its news will reach you.") % {"title": project.title},
            )
    else:
        services.unfollow(user=request.user, project=project)
        if following_now:
            messages.success(
                request, _("You no longer follow %(title)s.") % {"title": project.title}
            )
    return redirect(_next_url(request, project.get_absolute_url()))


@require_POST
def follow_territory(request, slug: str):
    page_url = reverse("projects:territory", args=[slug])
    if not request.user.is_authenticated:
        return redirect_to_login(page_url)
    place = get_object_or_404(Territory, slug=slug)
    following_now = Follow.objects.filter(user=request.user, territory=place).exists()
    if _wants(request, following_now):
        services.follow(user=request.user, territory=place)
        if not following_now:
            messages.success(
                request,
                _("You follow %(place)s: you will hear about new projects there.")
                % {"place": place.name},
            )
    else:
        services.unfollow(user=request.user, territory=place)
        if following_now:
            messages.success(request, _("You no longer follow %(place)s.") % {"place": place.name})
    return redirect(_next_url(request, page_url))
