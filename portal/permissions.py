"""Every permission decision of the portal, in one place.

Roles follow from memberships, computed once per request:

- investor: every signed-in person (diaspora members and returnees alike);
- entrepreneur: a member of a cooperative or company, or the owner of a
  project (an app grants this through `register_role_grant`: portal knows
  nothing of projects);
- local government: a member of a local-government organization; only its
  administrators commit its money (matching pools, bond series), the other
  members see what it committed;
- reviewer: a reviewer, finance officer or administrator of the platform
  operator (or a superuser). This is what "staff" means for every back-office
  decision, in the portal and in Wagtail's admin: Django's `is_staff` flag only
  opens the Django admin and grants nothing here.

Views ask through `require_role` / `RoleRequiredMixin` or the `can_*`
functions below; templates read `request.roles`. Anything a user can name in
a URL is checked with a `can_*` function, and a refusal is a 404 when the
object's existence itself is not the user's business.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from .models import Membership, Organization, User


class Role(enum.StrEnum):
    # Templates compare against Role.X; without this they would call the class.
    do_not_call_in_templates = enum.nonmember(True)

    INVESTOR = "investor"
    ENTREPRENEUR = "entrepreneur"
    LOCAL_GOVERNMENT = "local_government"
    REVIEWER = "reviewer"


class NotAllowed(PermissionDenied):
    """A refusal whose message is written for the person refused, in their
    language: the 403 page shows it (other refusals show a generic line)."""


#: The operator's memberships that carry the reviewer role (`roles_of`, `reviewers`).
OPERATOR_STAFF_ROLES = (Membership.Role.REVIEWER, Membership.Role.FINANCE, Membership.Role.ADMIN)

BACK_OFFICE_ROLES = frozenset({Role.LOCAL_GOVERNMENT, Role.REVIEWER})

_CACHE_ATTR = "_puente_memberships"
_GRANTED_ATTR = "_puente_granted_roles"


def memberships(user) -> list[Membership]:
    """The user's memberships with their organizations, loaded once per user object."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        # Every signed-in page needs the roles; keep them in the shared cache
        # until a membership or organization of this person changes.
        key = memberships_cache_key(user.pk)
        cached = cache.get(key)
        if cached is None:
            cached = list(
                Membership.objects.filter(user=user)
                .select_related("organization", "organization__territory")
                .order_by("organization__name")
            )
            cache.set(key, cached, timeout=600)
        setattr(user, _CACHE_ATTR, cached)
    return cached


def memberships_cache_key(user_id: int) -> str:
    return f"portal:memberships:{user_id}"


def forget_memberships(user) -> None:
    """Forget what the user's roles were worked out from: their memberships and
    the roles other apps grant them."""
    for attr in (_CACHE_ATTR, _GRANTED_ATTR):
        if hasattr(user, attr):
            delattr(user, attr)
    cache.delete_many([memberships_cache_key(user.pk), granted_roles_cache_key(user.pk)])


# --- Roles other apps grant ------------------------------------------------------------------
# Owning a project makes a person an entrepreneur, whether or not they belong to a
# cooperative or company; portal cannot ask projects, so the projects app registers
# the test from its AppConfig.ready() (the way panels are registered).

_role_grants: dict[str, tuple[Role, Callable]] = {}


def register_role_grant(key: str, role: Role, holds: Callable) -> None:
    """`holds(user)` says whether the user has `role` through what the app
    registering it keeps. The app calls `forget_granted_roles` when that changes."""
    _role_grants[key] = (role, holds)


def granted_roles_cache_key(user_id: int) -> str:
    return f"portal:granted-roles:{user_id}"


def forget_granted_roles(user_id: int) -> None:
    cache.delete(granted_roles_cache_key(user_id))


def granted_roles(user, *, held: frozenset[Role] = frozenset()) -> frozenset[Role]:
    """The roles the registered grants give the user. A grant of a role they already
    hold (a member of a cooperative is an entrepreneur) is not asked; each answer is
    kept on the user object and in the shared cache, as the memberships are."""
    answers = getattr(user, _GRANTED_ATTR, None)
    if answers is None:
        answers = cache.get(granted_roles_cache_key(user.pk)) or {}
    unasked = [
        key
        for key, (role, _holds) in _role_grants.items()
        if role not in held and key not in answers
    ]
    if unasked:
        answers = {**answers, **{key: bool(_role_grants[key][1](user)) for key in unasked}}
        cache.set(granted_roles_cache_key(user.pk), answers, timeout=600)
    setattr(user, _GRANTED_ATTR, answers)
    return frozenset(
        _role_grants[key][0] for key, holds in answers.items() if holds and key in _role_grants
    )


def roles_of(user) -> frozenset[Role]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    roles = {Role.INVESTOR}
    for membership in memberships(user):
        kind = membership.organization.kind
        if kind == Organization.Kind.ENTERPRISE:
            roles.add(Role.ENTREPRENEUR)
        elif kind == Organization.Kind.LOCAL_GOVERNMENT:
            roles.add(Role.LOCAL_GOVERNMENT)
        elif kind == Organization.Kind.OPERATOR and membership.role in OPERATOR_STAFF_ROLES:
            roles.add(Role.REVIEWER)
    if user.is_superuser:
        roles.add(Role.REVIEWER)
    roles |= granted_roles(user, held=frozenset(roles))
    return frozenset(roles)


def has_role(user, role: Role) -> bool:
    return role in roles_of(user)


def reviewers():
    """Everyone with the reviewer role (`roles_of`), active: those told of what
    staff must look at."""
    return User.objects.filter(
        Q(is_superuser=True)
        | Q(
            memberships__organization__kind=Organization.Kind.OPERATOR,
            memberships__role__in=OPERATOR_STAFF_ROLES,
        ),
        is_active=True,
    ).distinct()


def needs_two_factor(user) -> bool:
    """Staff and local-government members may not reach a back-office page
    without two-factor authentication turned on."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or user.is_superuser or roles_of(user) & BACK_OFFICE_ROLES)


def governments_of(user) -> list[Organization]:
    return [
        m.organization
        for m in memberships(user)
        if m.organization.kind == Organization.Kind.LOCAL_GOVERNMENT
    ]


def governments_administered_by(user) -> list[Organization]:
    """The local governments whose money the user may commit: those where
    they hold the administrator role (`can_manage_organization`)."""
    return [
        m.organization
        for m in memberships(user)
        if m.organization.kind == Organization.Kind.LOCAL_GOVERNMENT
        and m.role == Membership.Role.ADMIN
    ]


def enterprises_of(user) -> list[Organization]:
    return [
        m.organization
        for m in memberships(user)
        if m.organization.kind == Organization.Kind.ENTERPRISE
    ]


def membership_in(user, organization: Organization) -> Membership | None:
    for membership in memberships(user):
        if membership.organization_id == organization.pk:
            return membership
    return None


def can_view_organization(user, organization: Organization) -> bool:
    """Members see their organization's private page; reviewers see all."""
    return membership_in(user, organization) is not None or has_role(user, Role.REVIEWER)


def can_manage_organization(user, organization: Organization) -> bool:
    membership = membership_in(user, organization)
    return bool(membership and membership.role == Membership.Role.ADMIN) or user.is_superuser


def governs_territory(user, territory) -> bool:
    """Whether the user is a member of a local government whose territory is,
    or contains, the given territory."""
    if territory is None:
        return False
    chain = {t.pk for t in territory.ancestors_and_self()}
    return any(gov.territory_id in chain for gov in governments_of(user))


def require_role(role: Role) -> Callable:
    """Decorator for function views: anonymous users go to the login page,
    signed-in users without the role get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, role):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class RoleRequiredMixin(AccessMixin):
    required_role: Role = Role.INVESTOR

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not has_role(request.user, self.required_role):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)
