from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .permissions import needs_two_factor

# Paths outside the language prefix that belong to the back office.
BACK_OFFICE_PREFIXES = ("/admin/", "/django-admin/")
# Wagtail's and Django's own login and logout pages only redirect to the portal's
# (portal/urls.py), whose login asks for the second factor and counts failures.
BACK_OFFICE_OPEN_PATHS = ("/admin/login/", "/admin/logout/", "/django-admin/login/")


def is_back_office(request, view_func) -> bool:
    path = request.path_info
    if path.startswith(BACK_OFFICE_PREFIXES) and not path.startswith(BACK_OFFICE_OPEN_PATHS):
        return True
    return bool(
        getattr(view_func, "back_office", False)
        or getattr(getattr(view_func, "view_class", None), "back_office", False)
    )


def session_passed_two_factor(request) -> bool:
    """Whether this session's user proved the second factor: signed in with it,
    confirmed it since, or turned TOTP on in this session (which takes a code).
    A session opened with the password alone has not."""
    from allauth.account.authentication import get_authentication_records

    return any(
        record.get("method") == "mfa"
        for record in get_authentication_records(request, request.user)
    )


def two_factor_required(request):
    """The redirect a staff or local-government member gets instead of a
    back-office page until their session has passed two-factor authentication,
    or None when it has (or their account needs none): to set up TOTP if they
    have none, else to confirm a code."""
    if not needs_two_factor(request.user):
        return None
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import is_mfa_enabled

    if not is_mfa_enabled(request.user, [Authenticator.Type.TOTP]):
        messages.warning(
            request,
            _(
                "Your role gives you access to the back office. Turn on two-factor "
                "authentication to continue."
            ),
        )
        to = "mfa_activate_totp"
    elif session_passed_two_factor(request):
        return None
    else:
        messages.info(
            request,
            _("Enter a code from your authenticator app to open the back office."),
        )
        to = "mfa_reauthenticate"
    response = redirect(to)
    response["Location"] += "?" + urlencode({"next": request.get_full_path()})
    return response


class TwoFactorRequired(Exception):
    """Raised by a view that learns only on reading the object that its viewer
    reaches it through a back-office role; the middleware answers with
    `response`, the two-factor redirect."""

    def __init__(self, response):
        super().__init__("two-factor authentication required")
        self.response = response


def require_two_factor(request) -> None:
    """For pages that are back office for some viewers only (an unpublished
    project seen by its reviewer, not by its owner): raise `TwoFactorRequired`
    unless this session may open back-office pages."""
    response = two_factor_required(request)
    if response is not None:
        raise TwoFactorRequired(response)


class RequireTwoFactorForBackOfficeMiddleware:
    """Staff and local-government members reach a back-office page (the
    government and review dashboards, Wagtail's admin, Django's admin and every
    view marked `back_office`) only from a session that passed two-factor
    authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not is_back_office(request, view_func):
            return None
        return two_factor_required(request)

    def process_exception(self, request, exception):
        if isinstance(exception, TwoFactorRequired):
            return exception.response
        return None


def back_office(view):
    """Mark a view as part of the back office (two-factor authentication required)."""
    view.back_office = True
    return view


__all__ = [
    "RequireTwoFactorForBackOfficeMiddleware",
    "TwoFactorRequired",
    "back_office",
    "require_two_factor",
    "session_passed_two_factor",
    "settings",
    "two_factor_required",
]
