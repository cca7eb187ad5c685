"""The portal's own dashboard panels: profile, security, organizations,
territory and the review queue of organizations awaiting verification."""

from django.utils.translation import gettext_lazy as _

from .kyc import TIER_RANK, VerificationRequest
from .models import Organization
from .permissions import Role, enterprises_of, governments_of
from .registry import DashboardPanel, MenuEntry, register_menu_entry, register_panel

PROFILE_FIELDS = [
    "full_name",
    "country_of_residence",
    "country_of_origin",
    "preferred_language",
    "preferred_currency",
]


def profile_context(request):
    user = request.user
    filled = sum(1 for name in PROFILE_FIELDS if getattr(user, name))
    return {
        "percent": round(100 * filled / len(PROFILE_FIELDS)),
        "missing": [
            user._meta.get_field(n).verbose_name for n in PROFILE_FIELDS if not getattr(user, n)
        ],
    }


def security_context(request):
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator

    user = request.user
    types = set(Authenticator.objects.filter(user=user).values_list("type", flat=True))
    return {
        "totp": Authenticator.Type.TOTP in types,
        "recovery_codes": Authenticator.Type.RECOVERY_CODES in types,
        "email_verified": EmailAddress.objects.filter(user=user, verified=True).exists(),
    }


def enterprises_context(request):
    # Owning a project in one's own name also makes an entrepreneur: someone with no
    # cooperative or company has no use for this panel.
    organizations = enterprises_of(request.user)
    return {"organizations": organizations} if organizations else None


def governments_context(request):
    governments = governments_of(request.user)
    return {
        "governments": [
            {
                "organization": gov,
                "chain": gov.territory.ancestors_and_self() if gov.territory else [],
            }
            for gov in governments
        ]
    }


def identity_verification_context(request):
    user = request.user
    return {
        "tier_label": user.get_verification_tier_display(),
        "latest": VerificationRequest.objects.filter(user=user).first(),
        "can_rise": TIER_RANK.get(user.verification_tier, 0) < max(TIER_RANK.values()),
    }


def verification_queue_context(request):
    pending = list(
        Organization.objects.filter(verified=False)
        .select_related("territory")
        .order_by("created_at")[:20]
    )
    return {"organizations": pending}


register_panel(
    DashboardPanel(
        "portal.profile", Role.INVESTOR, "portal/panels/profile.html", profile_context, order=90
    )
)
register_panel(
    DashboardPanel(
        "portal.security", Role.INVESTOR, "portal/panels/security.html", security_context, order=95
    )
)
register_panel(
    DashboardPanel(
        "portal.identity_verification",
        Role.INVESTOR,
        "portal/kyc/panel.html",
        identity_verification_context,
        order=85,
    )
)
register_panel(
    DashboardPanel(
        "portal.enterprises",
        Role.ENTREPRENEUR,
        "portal/panels/enterprises.html",
        enterprises_context,
        order=10,
    )
)
register_panel(
    DashboardPanel(
        "portal.governments",
        Role.LOCAL_GOVERNMENT,
        "portal/panels/governments.html",
        governments_context,
        order=10,
    )
)
register_panel(
    DashboardPanel(
        "portal.verification",
        Role.REVIEWER,
        "portal/panels/verification_queue.html",
        verification_queue_context,
        order=50,
    )
)

register_menu_entry(
    MenuEntry(
        "portal.organizations",
        _("My organizations"),
        "portal:organizations",
        anonymous=False,
        order=80,
        roles=frozenset({Role.ENTREPRENEUR, Role.LOCAL_GOVERNMENT, Role.REVIEWER}),
    )
)
