"""Finance's sections of the dashboards and of the project page."""

from decimal import Decimal

from django.db.models import F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import jinja
from portal.amounts import percent_text
from portal.permissions import Role, governments_of
from portal.prepared import PreparedLists
from portal.registry import (
    DashboardPanel,
    MenuEntry,
    register_fragment,
    register_menu_entry,
    register_panel,
)

from .money import Money
from .offerings import Disbursement, MatchingPool, Offering, Pledge


def investor_pledges(request):
    pledges = list(
        Pledge.objects.filter(investor=request.user)
        .select_related("offering")
        .order_by("-created_at")[:10]
    )
    return {"pledges": pledges}


def reviewer_disbursements(request):
    waiting = list(
        Disbursement.objects.filter(status=Disbursement.Status.REQUESTED).select_related(
            "offering", "first_approver"
        )[:20]
    )
    succeeded = list(
        Offering.objects.filter(status=Offering.Status.SUCCEEDED, disbursement__isnull=True)[:20]
    )
    return {"waiting": waiting, "succeeded": succeeded}


def government_matching(request):
    """The matching pools this person's local governments fund."""
    pools = list(
        MatchingPool.objects.filter(sponsor__in=governments_of(request.user))
        .select_related("offering", "sponsor")
        .order_by("-offering__closes_at", "pk")[:20]
    )
    return {"pools": pools}


# The project page reads these on every view, in one statement (see
# portal/prepared.py).
_PROJECT_OFFERINGS = PreparedLists(
    int,
    offerings=lambda project_id: (
        Offering.objects.filter(project_id=project_id)
        .exclude(status=Offering.Status.DRAFT)
        .annotate(
            pending=Coalesce(
                Subquery(
                    Pledge.objects.filter(offering=OuterRef("pk"), status=Pledge.Status.PENDING)
                    .values("offering")
                    .annotate(total=Sum("amount"))
                    .values("total"),
                    output_field=Offering._meta.get_field("reserved"),
                ),
                Value(Decimal("0")),
                output_field=Offering._meta.get_field("reserved"),
            )
        )
        .order_by("closes_at", "pk")
    ),
    pools=lambda project_id: (
        MatchingPool.objects.filter(offering__project_id=project_id)
        .exclude(offering__status=Offering.Status.DRAFT)
        .annotate(sponsor_name=F("sponsor__name"))
        .order_by("pk")
    ),
)


def project_offerings(request, project) -> str:
    found = _PROJECT_OFFERINGS(project.pk)
    offerings = found["offerings"]
    if not offerings:
        return ""
    pools_of: dict[int, list[MatchingPool]] = {offering.pk: [] for offering in offerings}
    for pool in found["pools"]:
        pools_of[pool.offering_id].append(pool)
    now = timezone.now()
    # The page lists each offering under what it is now, so that a heading
    # never calls an offering open that takes no pledge.
    groups: dict[str, list[Offering]] = {"open": [], "upcoming": [], "closed": []}
    for offering in offerings:
        offering.pools = pools_of[offering.pk]
        for pool in offering.pools:
            pool.cap_text = Money(pool.cap_per_offering, offering.currency).localized()
            pool.given_text = Money(pool.committed, offering.currency).localized()
        offering.target_text = Money(offering.target, offering.currency).localized()
        offering.remaining_text = Money(offering.remaining, offering.currency).localized()
        # `reserved` holds paid pledges and those awaiting payment; the
        # project's "raised" counts the paid ones and their matches.
        offering.paid_text = Money(
            offering.reserved - offering.pending, offering.currency
        ).localized()
        offering.pending_text = (
            Money(offering.pending, offering.currency).localized() if offering.pending else ""
        )
        offering.closed = offering.closes_at <= now
        if offering.is_open(now):
            groups["open"].append(offering)
        elif offering.status == Offering.Status.OPEN and not offering.closed:
            offering.opens_on = timezone.localtime(offering.opens_at)
            groups["upcoming"].append(offering)
        else:
            # Closed, or past its closing date and waiting for its last
            # pledges to settle before its result is known.
            offering.result_pending = offering.status == Offering.Status.OPEN
            groups["closed"].append(offering)
        # Keep what you raise: it succeeds below its target too.
        offering.below_target = (
            offering.status == Offering.Status.SUCCEEDED
            and offering.reserved - offering.pending < offering.target
        )
        offering.closes_on = timezone.localtime(offering.closes_at)
        if offering.annual_rate is not None:
            offering.rate_text = percent_text(offering.annual_rate)
    groups["closed"].reverse()  # the latest to close first
    return jinja.render(
        "finance/fragments/project_offerings.html", {"groups": groups, "project": project}
    )


register_panel(
    DashboardPanel(
        "finance.pledges", Role.INVESTOR, "finance/panels/pledges.html", investor_pledges, order=10
    )
)
register_panel(
    DashboardPanel(
        "finance.disbursements",
        Role.REVIEWER,
        "finance/panels/disbursements.html",
        reviewer_disbursements,
        order=20,
    )
)
register_panel(
    DashboardPanel(
        "finance.matching",
        Role.LOCAL_GOVERNMENT,
        "finance/matching/panel.html",
        government_matching,
        order=25,
    )
)
register_fragment("project.offerings", "finance", project_offerings)
register_menu_entry(
    MenuEntry(
        "finance.pledges",
        _("My pledges"),
        "finance:my_pledges",
        anonymous=False,
        order=30,
        roles=frozenset({Role.INVESTOR}),
    )
)
