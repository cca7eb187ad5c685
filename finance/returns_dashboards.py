"""Returns' sections of the dashboards and menu; imported from FinanceConfig.ready()."""

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from portal.permissions import Role, governments_of, has_role
from portal.registry import (
    DashboardPanel,
    MenuEntry,
    register_fragment,
    register_menu_entry,
    register_panel,
)

from .offerings import Instrument
from .returns import BondIssue, LoanSchedule, PayoutRequest, RevenueReport

#: Rows a dashboard panel lists at most.
PANEL_ROWS = 10


def investor_returns(request):
    from .portfolio import portfolio_for
    from .returns_services import wallet_balances

    portfolio = portfolio_for(request.user)
    balances = wallet_balances(request.user)
    if not portfolio.holdings and not balances:
        return None
    return {"balances": balances, "totals": portfolio.totals}


def entrepreneur_loans(request):
    today = timezone.localdate()
    schedules = (
        LoanSchedule.objects.filter(
            offering__project__owner=request.user, offering__instrument=Instrument.LOAN
        )
        .exclude(status=LoanSchedule.Status.SUPERSEDED)
        .select_related("offering")
        .prefetch_related("installments")
    )
    loans = []
    for schedule in schedules:
        unpaid = [i for i in schedule.installments.all() if not i.is_paid]
        loans.append(
            {
                "offering": schedule.offering,
                "next": unpaid[0] if unpaid else None,
                "arrears": sum(i.outstanding for i in unpaid if i.due_date < today),
            }
        )
    return {"loans": loans} if loans else None


def entrepreneur_revenue_shares(request):
    from .offerings import Offering

    offerings = Offering.objects.filter(
        project__owner=request.user,
        instrument=Instrument.REVENUE_SHARE,
        status=Offering.Status.DISBURSED,
    ).order_by("pk")
    return {"offerings": list(offerings)} if offerings else None


#: Where the owner of a disbursed offering pays or reports, by instrument: URL name, link text.
OWNER_PAGES = {
    Instrument.LOAN: ("returns:loan", _("Loan repayments")),
    Instrument.REVENUE_SHARE: ("returns:revenue", _("Revenue share reports")),
}
_OWNED_OFFERINGS_ATTR = "_puente_owned_disbursed_offerings"


def owner_obligation_links(request, project) -> str:
    """On the owner's list of projects, a link to the page of each of the project's
    disbursed loans and revenue shares: where its owner repays or reports revenue.
    The owner's offerings are read once per request, however many rows the list has."""
    from .offerings import Offering

    if not request.user.is_authenticated:
        return ""
    by_project = getattr(request, _OWNED_OFFERINGS_ATTR, None)
    if by_project is None:
        by_project = {}
        owned = Offering.objects.filter(
            project__owner=request.user,
            instrument__in=list(OWNER_PAGES),
            status=Offering.Status.DISBURSED,
        ).order_by("pk")
        for offering in owned.only("pk", "project_id", "instrument"):
            by_project.setdefault(offering.project_id, []).append(offering)
        setattr(request, _OWNED_OFFERINGS_ATTR, by_project)
    return format_html_join(
        " · ",
        '<a href="{}">{}</a>',
        (
            (reverse(OWNER_PAGES[o.instrument][0], args=[o.pk]), OWNER_PAGES[o.instrument][1])
            for o in by_project.get(project.pk, [])
        ),
    )


def government_bonds(request):
    from .returns_services import bond_payments_due

    governments = governments_of(request.user)
    issues = BondIssue.objects.filter(
        offering__issuer__in=governments, redeemed_on__isnull=True
    ).select_related("offering")
    bonds = []
    for issue in issues:
        upcoming = [p for p in bond_payments_due(issue) if not p.paid]
        bonds.append({"issue": issue, "next": upcoming[0] if upcoming else None})
    return {"bonds": bonds} if bonds else None


def reviewer_payouts(request):
    if not has_role(request.user, Role.REVIEWER):
        return None
    count = PayoutRequest.objects.filter(status=PayoutRequest.Status.REQUESTED).count()
    return {"count": count} if count else None


def reviewer_revenue_checks(request):
    """The revenue shares with reports staff have not checked yet or have queried, the
    oldest first: each links to its admin page, where the reports are checked."""
    Check = RevenueReport.Check
    offerings = list(
        RevenueReport.objects.filter(check_state__in=[Check.PENDING, Check.QUERIED])
        .values("offering_id", "offering__title")
        .annotate(
            pending=Count("pk", filter=Q(check_state=Check.PENDING)),
            queried=Count("pk", filter=Q(check_state=Check.QUERIED)),
            since=Min("submitted_at"),
        )
        .order_by("since", "offering_id")[:PANEL_ROWS]
    )
    return {"offerings": offerings} if offerings else None


register_panel(
    DashboardPanel(
        "finance.returns",
        Role.INVESTOR,
        "finance/returns/panels/returns.html",
        investor_returns,
        order=5,
    )
)
register_panel(
    DashboardPanel(
        "finance.loans",
        Role.ENTREPRENEUR,
        "finance/returns/panels/loans.html",
        entrepreneur_loans,
        order=20,
    )
)
register_panel(
    DashboardPanel(
        "finance.revenue_shares",
        Role.ENTREPRENEUR,
        "finance/returns/panels/revenue.html",
        entrepreneur_revenue_shares,
        order=21,
    )
)
register_panel(
    DashboardPanel(
        "finance.bonds",
        Role.LOCAL_GOVERNMENT,
        "finance/returns/panels/bonds.html",
        government_bonds,
        order=20,
    )
)
register_panel(
    DashboardPanel(
        "finance.payouts",
        Role.REVIEWER,
        "finance/returns/panels/payouts.html",
        reviewer_payouts,
        order=25,
    )
)
register_panel(
    DashboardPanel(
        "finance.revenue_checks",
        Role.REVIEWER,
        "finance/returns/panels/revenue_checks.html",
        reviewer_revenue_checks,
        order=26,
    )
)
register_fragment("projects.my_projects.row", "finance.returns", owner_obligation_links)
register_menu_entry(
    MenuEntry(
        "finance.portfolio",
        _("My portfolio"),
        "returns:portfolio",
        anonymous=False,
        order=31,
        roles=frozenset({Role.INVESTOR}),
    )
)
