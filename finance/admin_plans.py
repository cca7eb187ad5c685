"""Monthly plans in the staff back office: every investor's plan, what it has
pledged and paid, and why the ended ones ended. Read-only: only the investor
starts or stops a plan (finance.plans), and each month's pledge is handled as
any other (bank statements, expiry).

URL (under /admin/): finance/plans/, reviewers only (`Role.REVIEWER`)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import (
    DecimalField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from wagtail import hooks
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .admin_offerings import MONEY_MENU_HOOK
from .money import Money
from .offerings import AMOUNT, Pledge
from .plans import PledgePlan, key_prefix_of
from .wagtail_hooks import ReviewerMenuItem, ReviewerRequiredMixin

PLANS_URL_NAME = "finance_plans"


def _plan_pledges(**where) -> Pledge:
    """The pledges of the plan in the outer query: its first and those its
    months made (keys "plan-<pk>-<month>", as `PledgePlan.pledges`)."""
    return Pledge.objects.filter(
        Q(pk=OuterRef("first_pledge_id"))
        | Q(
            investor_id=OuterRef("investor_id"),
            idempotency_key__startswith=key_prefix_of(OuterRef("pk")),
        ),
        **where,
    ).order_by()


def _aggregate(pledges, function: str, column: str, output_field):
    """COUNT or SUM over `pledges` as a subquery: one row whatever they are."""
    total = Func(F(column), function=function, output_field=output_field)
    return Coalesce(
        Subquery(pledges.annotate(total=total).values("total")[:1]),
        Value(0),
        output_field=output_field,
    )


def plans_listing(status: str = "", search: str = ""):
    """Plans newest first, with how many pledges each made (`made`), how many
    were paid (`paid`) and their amount (`paid_amount`); one query."""
    plans = PledgePlan.objects.select_related("investor", "offering").annotate(
        made=_aggregate(_plan_pledges(), "COUNT", "pk", IntegerField()),
        paid=_aggregate(_plan_pledges(status=Pledge.Status.PAID), "COUNT", "pk", IntegerField()),
        paid_amount=_aggregate(
            _plan_pledges(status=Pledge.Status.PAID), "SUM", "amount", DecimalField(**AMOUNT)
        ),
    )
    if status in PledgePlan.Status.values:
        plans = plans.filter(status=status)
    if search:
        plans = plans.filter(
            Q(investor__email__icontains=search) | Q(offering__title__icontains=search)
        )
    return plans.order_by("-created_at", "-pk")


class PlansView(ReviewerRequiredMixin, WagtailAdminTemplateMixin, View):
    template_name = "finance/admin/plans.html"
    page_title = _("Monthly plans")
    header_icon = "calendar-check"
    paginate_by = 50

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get(self, request):
        return self.render_to_response(self.get_context_data())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        status = self.request.GET.get("status", "")
        status = status if status in PledgePlan.Status.values else ""
        search = self.request.GET.get("q", "").strip()[:100]
        page = Paginator(plans_listing(status, search), self.paginate_by).get_page(
            self.request.GET.get("p")
        )
        for plan in page.object_list:
            plan.paid_money = Money(plan.paid_amount, plan.currency)
        context.update(
            page_obj=page,
            plans=page.object_list,
            status=status,
            search=search,
            status_filters=PledgePlan.Status.choices,
            plans_url=reverse(PLANS_URL_NAME),
        )
        return context


@hooks.register("register_admin_urls")
def register_plans_url():
    return [path("finance/plans/", PlansView.as_view(), name=PLANS_URL_NAME)]


@hooks.register(MONEY_MENU_HOOK)
def register_plans_menu_item():
    return ReviewerMenuItem(
        _("Monthly plans"),
        reverse(PLANS_URL_NAME),
        name="monthly-plans",
        icon_name="calendar-check",
        order=165,
    )
