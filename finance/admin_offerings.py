"""Offerings, matching pools and disbursements in the staff back office; a bond's coupon
runs and a revenue share's reports and payments."""

import copy
import datetime

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.ui.tables import TitleColumn
from wagtail.admin.views.generic import CreateView, EditView
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import log
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from portal.permissions import Role, has_role, reviewers

from . import returns_services as rs
from . import services
from .exceptions import FinanceError
from .forms import HeldMoneyReturnForm, RevenueSharePaymentForm
from .money import Money
from .offerings import Instrument, MatchingPool, Offering, Pledge, reserved_above_capacity
from .returns import BondIssue, CouponRun, LoanCardPayment, Repayment, RevenueReport


def _form_errors(form) -> str:
    """A form's errors in one message line: each field's label with what is wrong."""
    return "; ".join(
        f"{form.fields[name].label}: {' '.join(errors)}" for name, errors in form.errors.items()
    )


def _staff_only(request) -> None:
    if not has_role(request.user, Role.REVIEWER):
        raise PermissionDenied


class ReviewerPermissionPolicy(ModelPermissionPolicy):
    """The reviewer role grants `role_actions` on the model, as it grants every
    other back-office page (`portal.permissions`); other actions are left to
    Django's model permissions, that is to the superuser."""

    def __init__(self, model, *, role_actions: frozenset[str]):
        super().__init__(model)
        self.role_actions = role_actions

    def user_has_permission(self, user, action):
        if action in self.role_actions:
            return has_role(user, Role.REVIEWER)
        return super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        users = super().users_with_any_permission(actions)
        if self.role_actions.intersection(actions):
            users = users | reviewers()
        return users


# Staff set offerings up, open and close them (offering_action): they list, add
# and change them. Deleting one stays the superuser's. Matching pools are
# committed by their sponsors (services.matching_pool_create): staff see them.
register_permission_policy(
    Offering,
    ReviewerPermissionPolicy(Offering, role_actions=frozenset({"add", "change", "view"})),
    exact_class=True,
)
register_permission_policy(
    MatchingPool,
    ReviewerPermissionPolicy(MatchingPool, role_actions=frozenset({"view"})),
    exact_class=True,
)


#: What investors pledge on: fixed once the offering is open (or has a pledge).
TERMS = frozenset(
    {
        "project",
        "issuer",
        "instrument",
        "currency",
        "target",
        "min_ticket",
        "max_ticket",
        "opens_at",
        "funding_rule",
        "annual_rate",
        "tenor_months",
        "schedule_type",
        "periods_per_year",
        "day_count",
        "face_value",
        "revenue_share",
        "cap_multiple",
    }
)
#: Fixed too once the offering has closed: what it raised and when are history.
RAISING = frozenset({"hard_cap", "closes_at"})

TERM_FIXED = _("Investors have pledged on this term: it can no longer change.")
CHANGED_MEANWHILE = _(
    "The offering changed while this form was open (it opened or closed): reload the page "
    "to see its terms as they are now."
)


def fixed_fields(offering: Offering) -> frozenset[str]:
    """What staff may no longer change in an offering. A draft is theirs to
    shape; once open, investors pledge on its terms, and the only changes left
    are ones that break no pledge (`edit_refusals`): a lower hard cap, another
    closing date. Once closed, neither."""
    if offering.pk is None:
        return frozenset()
    if offering.status not in (Offering.Status.DRAFT, Offering.Status.OPEN):
        return TERMS | RAISING
    if offering.status == Offering.Status.OPEN or offering.pledges.exists():
        return TERMS
    return frozenset()


def edit_refusals(offering: Offering, data: dict, *, now: datetime.datetime) -> dict[str, str]:
    """Why the changes `data` (field name: new value, editable fields only) may
    not be made to `offering` as it is now: checked when the form is validated
    and again under the offering's row lock, since pledges keep coming in."""
    errors = {}
    if offering.pk is None:
        return errors
    hard_cap = data.get("hard_cap", offering.hard_cap)
    # What pledges may reach (Offering.capacity) with these changes; None while
    # the form lacks a target, which it reports itself.
    capacity = hard_cap if hard_cap is not None else data.get("target", offering.target)
    field = "hard_cap" if hard_cap is not None or "target" not in data else "target"
    if field in data and capacity is not None:
        if offering.status == Offering.Status.OPEN and capacity > offering.capacity:
            # Investors pledged on a round of at most that size: more would
            # change what each one's share of it is.
            errors[field] = _(
                "Once an offering is open its hard cap may be lowered, not raised: investors "
                "pledged on at most %(capacity)s being raised."
            ) % {"capacity": offering.money(offering.capacity).localized()}
        elif capacity < offering.reserved:
            errors[field] = reserved_above_capacity(offering)
    closes_at = data.get("closes_at")
    if closes_at is not None and closes_at != offering.closes_at:
        pending_until = None
        if offering.status == Offering.Status.OPEN:
            pending_until = offering.pledges.filter(status=Pledge.Status.PENDING).aggregate(
                until=Max("expires_at")
            )["until"]
        if closes_at <= now:
            errors["closes_at"] = _("Choose a closing date in the future.")
        elif pending_until is not None and closes_at < pending_until:
            # Closing expires unpaid pledges: an investor told they had until
            # then to pay would lose theirs.
            errors["closes_at"] = _(
                "A pledge awaiting payment may be paid until %(date)s: the offering cannot "
                "close before then."
            ) % {"date": date_format(timezone.localtime(pending_until), "DATETIME_FORMAT")}
    return errors


OFFERING_FORM_FIELDS = [
    "project",
    "issuer",
    "title",
    "instrument",
    "currency",
    "target",
    "hard_cap",
    "min_ticket",
    "max_ticket",
    "opens_at",
    "closes_at",
    "funding_rule",
    "annual_rate",
    "tenor_months",
    "schedule_type",
    "periods_per_year",
    "day_count",
    "face_value",
    "revenue_share",
    "cap_multiple",
]


class OfferingForm(forms.ModelForm):
    """An offering's form in the admin: what `fixed_fields` names is shown but
    disabled, and refused if posted anyway with another value."""

    class Meta:
        model = Offering
        fields = OFFERING_FORM_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed = fixed_fields(self.instance)
        closed = bool(self.fixed & RAISING)
        for name in self.fixed:
            field = self.fields[name]
            field.disabled = True
            field.help_text = (
                _("Fixed: the offering has closed.")
                if closed
                else _("Fixed since the offering opened: investors pledge on these terms.")
            )

    @property
    def editable(self) -> list[str]:
        return [name for name, field in self.fields.items() if not field.disabled]

    def _posted_otherwise(self, name: str) -> bool:
        """Whether the post gives disabled field `name` a value other than its
        own. A browser sends none: such a value comes from a form drawn before
        the offering opened, or was made up. Django would drop it silently."""
        field, bound = self.fields[name], self[name]
        if field.widget.value_omitted_from_data(self.data, self.files, bound.html_name):
            return False
        editable = copy.copy(field)
        editable.disabled = False
        return editable.has_changed(bound.initial, bound.data)

    def clean(self):
        cleaned = super().clean()
        for name in sorted(self.fixed):
            if self._posted_otherwise(name):
                self.add_error(name, TERM_FIXED)
        changes = {name: cleaned[name] for name in self.editable if name in cleaned}
        for name, message in edit_refusals(self.instance, changes, now=timezone.now()).items():
            if name in self.fields and name not in self.errors:
                self.add_error(name, message)
        if self.instance.pk is None and cleaned.get("closes_at"):
            if cleaned["closes_at"] <= timezone.now():
                self.add_error("closes_at", _("Choose a closing date in the future."))
        return cleaned


class RefusalOnTheForm:
    """A ValidationError raised while saving (a model's clean() run again
    under its row lock, a service's refusal) shown on the form, not a 500."""

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except ValidationError as error:
            form.add_error(None, error)
            self.produced_error_message = self.get_error_message()
            return self.form_invalid(form)


class OfferingEditView(RefusalOnTheForm, EditView):
    """Saves only what the form may change, under the offering's row lock: the
    rules are checked again against the row as it is then, and `reserved` and
    `status`, which pledges and closing change meanwhile, are never written
    back from the form's older copy."""

    def save_instance(self):
        form = self.form
        editable = form.editable
        with transaction.atomic():
            current = Offering.objects.select_for_update().get(pk=self.object.pk)
            if fixed_fields(current) != form.fixed:
                raise ValidationError(CHANGED_MEANWHILE)
            changes = {name: form.cleaned_data[name] for name in editable}
            errors = edit_refusals(current, changes, now=timezone.now())
            if errors:
                raise ValidationError(errors)
            offering = form.save(commit=False)
            offering.save(update_fields=editable)
            log(
                instance=offering,
                action="wagtail.edit",
                user=self.request.user,
                content_changed=form.has_changed(),
            )
        return offering


class OfferingViewSet(ModelViewSet):
    model = Offering
    icon = "tasks"
    menu_label = _("Offerings")
    edit_view_class = OfferingEditView
    list_display = [
        "title",
        "project",
        "issuer",
        "instrument",
        "currency",
        "target",
        "reserved",
        # Where staff open, close and approve the disbursement of each one.
        TitleColumn(
            "status",
            label=_("Status"),
            accessor=lambda offering: offering.get_status_display(),
            get_url=lambda offering: reverse("finance_offering_actions", args=[offering.pk]),
            sort_key="status",
        ),
        "closes_at",
    ]
    list_filter = ["status", "instrument", "currency"]
    search_fields = ["title"]
    form_fields = OFFERING_FORM_FIELDS

    def get_form_class(self, for_update=False):
        return OfferingForm


class MatchingPoolCreateView(RefusalOnTheForm, CreateView):
    """Staff record a sponsor's commitment through the same service as the
    local governments' own page (services.matching_pool_create)."""

    def save_instance(self):
        data = self.form.cleaned_data
        return services.matching_pool_create(
            offering=data["offering"],
            sponsor=data["sponsor"],
            ratio=data["ratio"],
            cap_per_offering=data["cap_per_offering"],
            cap_per_contributor=data.get("cap_per_contributor"),
            by=self.request.user,
        )


class MatchingPoolViewSet(ModelViewSet):
    model = MatchingPool
    add_view_class = MatchingPoolCreateView
    icon = "link"
    menu_label = _("Matching pools")
    list_display = [
        "offering",
        "sponsor",
        "ratio",
        "cap_per_offering",
        "cap_per_contributor",
        "committed",
    ]
    form_fields = ["offering", "sponsor", "ratio", "cap_per_offering", "cap_per_contributor"]


#: The hook that adds a page to the Money menu (bank statements, plans, ...).
MONEY_MENU_HOOK = "register_money_menu_item"


class MoneyGroup(ViewSetGroup):
    menu_label = _("Money")
    menu_icon = "pick"
    menu_order = 210
    items = (OfferingViewSet, MatchingPoolViewSet)
    submenu_hook = MONEY_MENU_HOOK


@hooks.register("register_admin_viewset")
def register_money_viewsets():
    return MoneyGroup()


def _close_pending_message(offering: Offering) -> str:
    """Why an offering asked to close is still open, and until when."""
    if not services.closing_due(offering, timezone.now()):
        return _(
            "Not closed: it closes on %(date)s, or as soon as paid pledges fill its hard cap."
        ) % {"date": date_format(timezone.localtime(offering.closes_at), "DATETIME_FORMAT")}
    if offering.pledges.filter(status=Pledge.Status.PENDING).exists():
        return _(
            "Not closed yet: the card payment of a pending pledge could not be stopped (the "
            "payment service did not answer, or is processing it). Closing is tried again "
            "automatically every 15 minutes."
        )
    return _(
        "Not closed yet: investors may cancel paid pledges until %(date)s (their reflection "
        "period). It closes automatically then."
    ) % {
        "date": date_format(
            timezone.localtime(services.reflection_ends_at(offering)), "DATETIME_FORMAT"
        )
    }


def raised_against_target(offering: Offering) -> str:
    """What a closed offering raised, against its target: a keep-what-you-raise
    offering is funded below its target too."""
    # Rounded down: an offering short of its target never shows 100%.
    share = int(offering.reserved * 100 / offering.target) if offering.target else 0
    return _("Raised %(raised)s of its %(target)s target (%(share)s%%)") % {
        "raised": offering.money(offering.reserved).localized(),
        "target": offering.money(offering.target).localized(),
        "share": number_format(share),
    }


def _closed_message(offering: Offering) -> str:
    if offering.status == Offering.Status.FAILED:
        return offering.get_status_display()
    return _("%(status)s. %(raised)s.") % {
        "status": offering.get_status_display(),
        "raised": raised_against_target(offering),
    }


@require_POST
def offering_action(request, pk: int, action: str):
    """Open, close, or approve the disbursement of an offering (four eyes)."""
    _staff_only(request)
    offering = get_object_or_404(Offering, pk=pk)
    try:
        if action == "open":
            services.offering_open(offering=offering, by=request.user)
            messages.success(request, _("The offering is open for pledges."))
        elif action == "close":
            closed = services.offering_close(offering=offering)
            if closed.status == Offering.Status.OPEN:
                messages.warning(request, _close_pending_message(closed))
            else:
                messages.success(request, _closed_message(closed))
        elif action == "disburse":
            disbursement = services.disbursement_approve(offering=offering, by=request.user)
            if disbursement.status == disbursement.Status.APPROVED:
                messages.success(
                    request, _("Second approval recorded: the money was released to the project.")
                )
            else:
                messages.success(
                    request, _("First approval recorded; a second staff member must approve.")
                )
        else:
            raise PermissionDenied
    except FinanceError as error:
        messages.error(request, str(error))
    except ValidationError as error:  # the terms do not hold when opening
        messages.error(request, "; ".join(error.messages))
    return redirect("finance_offering_actions", pk=offering.pk)


#: What each kind of movement of held money is, in words (the memo stays in the title).
HELD_MOVEMENTS = {
    "returns.excess_held": _("Paid beyond what was due"),
    "returns.card_repayment_held": _("Card payment that could no longer be applied"),
    "returns.excess_returned": _("Sent back to the payer"),
    "returns.excess_refunded_to_card": _("Sent back to the card"),
}


def _labelled(leg, labels: dict):
    leg.label = labels.get(leg.transaction.kind, leg.transaction.kind)
    return leg


def offering_actions(request, pk: int):
    _staff_only(request)
    offering = get_object_or_404(Offering.objects.select_related("project", "issuer"), pk=pk)
    disbursement = getattr(offering, "disbursement", None)
    # What is held is the sum of its movements: one query for both.
    history = [_labelled(leg, HELD_MOVEMENTS) for leg in rs.excess_held_history(offering)]
    held = Money.from_minor(sum(leg.amount_minor for leg in history), offering.currency)
    return TemplateResponse(
        request,
        "finance/admin/offering_actions.html",
        {
            "offering": offering,
            "raised": raised_against_target(offering)
            if offering.status in (Offering.Status.SUCCEEDED, Offering.Status.DISBURSED)
            else "",
            "disbursement": disbursement,
            # Four eyes: whoever gave the first approval cannot give the second.
            "approved_first": disbursement is not None
            and disbursement.status == disbursement.Status.REQUESTED
            and disbursement.first_approver_id == request.user.pk,
            "pledges": offering.pledges.select_related("investor").order_by("-created_at")[:50],
            "held": held,
            "held_history": history,
            "held_form": HeldMoneyReturnForm(
                initial={"amount": held.amount, "sent_on": timezone.localdate()}
            )
            if held.amount
            else None,
            "held_cards": rs.card_payments_holding(offering) if held.amount else [],
        },
    )


@require_POST
def held_money_card_refund(request, pk: int, card_pk: int):
    """Send what is held of a card payment back to the card, through Stripe."""
    _staff_only(request)
    offering = get_object_or_404(Offering, pk=pk)
    card_payment = get_object_or_404(LoanCardPayment, pk=card_pk, offering=offering)
    try:
        refunded = rs.excess_refund_to_card(card_payment=card_payment, by=request.user)
    except (rs.ReturnsError, FinanceError) as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(amount)s went back to the card; %(held)s is still held.")
            % {"amount": refunded.localized(), "held": rs.excess_held(offering).localized()},
        )
    return redirect("finance_offering_actions", pk=pk)


@require_POST
def held_money_return(request, pk: int):
    """Record money held for an offering that staff sent back to whoever paid it."""
    _staff_only(request)
    offering = get_object_or_404(Offering, pk=pk)
    form = HeldMoneyReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("finance_offering_actions", pk=pk)
    data = form.cleaned_data
    amount = Money(data["amount"], offering.currency)
    try:
        returned = rs.excess_return(
            offering=offering,
            amount=amount,
            sent_on=data["sent_on"],
            reference=data["reference"],
            by=request.user,
        )
    except (rs.ReturnsError, FinanceError) as error:
        messages.error(request, str(error))
    else:
        if returned.recorded:
            messages.success(
                request,
                _("Recorded: %(amount)s sent back; %(held)s is still held.")
                % {
                    "amount": amount.localized(),
                    "held": rs.excess_held(offering).localized(),
                },
            )
        else:
            messages.warning(
                request,
                _("The reference %(reference)s was already recorded: nothing was recorded again.")
                % {"reference": data["reference"]},
            )
    return redirect("finance_offering_actions", pk=pk)


@hooks.register("register_admin_urls")
def register_offering_urls():
    return [
        path(
            "money/offerings/<int:pk>/actions/", offering_actions, name="finance_offering_actions"
        ),
        path(
            "money/offerings/<int:pk>/actions/<slug:action>/",
            offering_action,
            name="finance_offering_action",
        ),
        path(
            "money/offerings/<int:pk>/held/return/",
            held_money_return,
            name="finance_held_money_return",
        ),
        path(
            "money/offerings/<int:pk>/held/card/<int:card_pk>/refund/",
            held_money_card_refund,
            name="finance_held_money_card_refund",
        ),
    ]


# --- Returns: coupon runs and revenue-share payments ------------------------------------------


def coupon_runs(request, pk: int):
    """A bond's coupon dates, which were paid and when, and a button to run each one due."""
    _staff_only(request)
    offering = get_object_or_404(
        Offering.objects.select_related("issuer"), pk=pk, instrument=Instrument.BOND
    )
    issue = BondIssue.objects.filter(offering=offering).first()
    if issue is not None:
        issue.offering = offering  # its coupon dates come from the terms: no second read
    today = timezone.localdate()
    runs = {
        run.payment_date: run
        for run in CouponRun.objects.filter(offering=offering).select_related("started_by")
    }
    rows = [
        {
            "payment": payment,
            "run": runs.get(payment.payment_date),
            "due": payment.payment_date <= today,
        }
        for payment in (rs.bond_payments_due(issue) if issue else [])
        if payment.kind == "coupon"
    ]
    return TemplateResponse(
        request,
        "finance/returns/admin/coupon_runs.html",
        {"offering": offering, "issue": issue, "rows": rows, "today": today},
    )


@require_POST
def coupon_run_action(request, pk: int):
    """Run the coupon of the date posted. A date already paid is not paid again: the staff
    member is told when it was, by whom and how much."""
    _staff_only(request)
    offering = get_object_or_404(Offering, pk=pk, instrument=Instrument.BOND)
    try:
        payment_date = datetime.date.fromisoformat(request.POST.get("payment_date", ""))
    except ValueError:
        messages.error(request, _("Choose the coupon date to pay."))
        return redirect("finance_coupon_runs", pk=offering.pk)
    try:
        run = rs.coupon_run_start(offering=offering, payment_date=payment_date, by=request.user)
    except rs.CouponRunAlreadyDone as done:
        messages.warning(request, str(done))
    except FinanceError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Coupon of %(date)s paid: %(total)s to %(holders)s holders.")
            % {
                "date": date_format(payment_date, "DATE_FORMAT"),
                "total": offering.money(run.total).localized(),
                "holders": run.holders,
            },
        )
    return redirect("finance_coupon_runs", pk=offering.pk)


def revenue_reports(request, pk: int):
    """A revenue share's reports with their documents, what was paid on each, and a form to
    record money received for a report's share."""
    _staff_only(request)
    offering = get_object_or_404(
        Offering.objects.select_related("project", "disbursement"),
        pk=pk,
        instrument=Instrument.REVENUE_SHARE,
    )
    reports = list(
        RevenueReport.objects.filter(offering=offering)
        .select_related("checked_by")
        .order_by("-period_start")
    )
    return TemplateResponse(
        request,
        "finance/returns/admin/revenue_reports.html",
        {
            "offering": offering,
            "standing": rs.revenue_share_standing(offering, reports),
            "rows": [
                {
                    "report": report,
                    "reference": rs.revenue_share_reference(report),
                    "left": offering.money(report.share_due - report.share_paid),
                }
                for report in reports
            ],
            "payments": rs.revenue_share_payments(reports),
            # One form per report in the table: no ids, each label wraps its field.
            "form": RevenueSharePaymentForm(
                auto_id=False,
                initial={"currency": offering.currency, "received_on": timezone.localdate()},
            ),
        },
    )


@require_POST
def revenue_payment_record(request, pk: int, report_pk: int):
    """Record money received for one report's share; the same reference twice records once."""
    _staff_only(request)
    report = get_object_or_404(
        RevenueReport.objects.select_related("offering"), pk=report_pk, offering_id=pk
    )
    form = RevenueSharePaymentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("finance_revenue_reports", pk=pk)
    data = form.cleaned_data
    try:
        paid = rs.revenue_share_pay(
            report=report,
            amount=Money(data["amount"], data["currency"]),
            received_on=data["received_on"],
            source_id=f"manual:{data['reference']}",
            method=Repayment.Method.OTHER,
            reference=data["reference"],
            by=request.user,
        )
    except (rs.ReturnsError, FinanceError) as error:
        messages.error(request, str(error))
        return redirect("finance_revenue_reports", pk=pk)
    if not paid.recorded:
        messages.warning(
            request,
            _(
                "A payment with the reference %(reference)s was already recorded for this "
                "report: nothing was recorded again."
            )
            % {"reference": data["reference"]},
        )
    else:
        text = _("Recorded: %(shared)s shared among the investors.") % {
            "shared": paid.shared.localized()
        }
        if paid.excess.amount:
            text += " " + _("%(excess)s beyond the share due is held for review.") % {
                "excess": paid.excess.localized()
            }
        messages.success(request, text)
    return redirect("finance_revenue_reports", pk=pk)


@require_POST
def revenue_report_check(request, pk: int, report_pk: int):
    """Record staff's check of one report: verified, or queried with a note."""
    _staff_only(request)
    report = get_object_or_404(RevenueReport, pk=report_pk, offering_id=pk)
    verdict = request.POST.get("verdict", "")
    try:
        report = rs.revenue_report_check(
            report=report, verdict=verdict, note=request.POST.get("note", ""), by=request.user
        )
    except rs.RevenueReportRefused as refused:
        messages.error(request, str(refused))
    else:
        period = {
            "start": date_format(report.period_start, "SHORT_DATE_FORMAT"),
            "end": date_format(report.period_end, "SHORT_DATE_FORMAT"),
        }
        if report.check_state == RevenueReport.Check.QUERIED:
            text = _("Report %(start)s – %(end)s queried: the entrepreneur has been told.")
        else:
            text = _("Report %(start)s – %(end)s marked as checked against its document.")
        messages.success(request, text % period)
    return redirect("finance_revenue_reports", pk=pk)


@hooks.register("register_admin_urls")
def register_returns_admin_urls():
    return [
        path("money/offerings/<int:pk>/coupons/", coupon_runs, name="finance_coupon_runs"),
        path(
            "money/offerings/<int:pk>/coupons/run/",
            coupon_run_action,
            name="finance_coupon_run",
        ),
        path("money/offerings/<int:pk>/revenue/", revenue_reports, name="finance_revenue_reports"),
        path(
            "money/offerings/<int:pk>/revenue/<int:report_pk>/payments/",
            revenue_payment_record,
            name="finance_revenue_payment",
        ),
        path(
            "money/offerings/<int:pk>/revenue/<int:report_pk>/check/",
            revenue_report_check,
            name="finance_revenue_check",
        ),
    ]
