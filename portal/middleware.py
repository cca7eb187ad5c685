from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .permissions import needs_two_factor

# Paths outside the language prefix that belong to the back office.
BACK_OFFICE_PREFIXES = ("/admin/", "/django-admin/")
# Wagtail's own login and logout pages only redirect to the portal's.
BACK_OFFICE_OPEN_PATHS = ("/admin/login/", "/admin/logout/", "/django-admin/login/")


def is_back_office(request, view_func) -> bool:
    path = request.path_info
    if path.startswith(BACK_OFFICE_PREFIXES) and not path.startswith(BACK_OFFICE_OPEN_PATHS):
        return True
    return bool(
        getattr(view_func, "back_office", False)
        or getattr(getattr(view_func, "view_class", None), "back_office", False)
    )


class RequireTwoFactorForBackOfficeMiddleware:
    """Staff and local-government members are sent to set up TOTP before any
    back-office page: the government and review dashboards, Wagtail's admin
    and Django's admin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not is_back_office(request, view_func) or not needs_two_factor(request.user):
            return None
        from allauth.mfa.models import Authenticator
        from allauth.mfa.utils import is_mfa_enabled

        if is_mfa_enabled(request.user, [Authenticator.Type.TOTP]):
            return None
        messages.warning(
            request,
            _(
                "Your role gives you access to the back office. Turn on two-factor "
                "authentication to continue."
            ),
        )
        response = redirect("mfa_activate_totp")
        response["Location"] += "?" + urlencode({"next": request.get_full_path()})
        return response


def back_office(view):
    """Mark a view as part of the back office (two-factor authentication required)."""
    view.back_office = True
    return view


__all__ = ["RequireTwoFactorForBackOfficeMiddleware", "back_office", "settings"]
