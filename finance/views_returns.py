"""Returns as people meet them: the investor's portfolio, transactions export and wallet;
the entrepreneur's loan page and card repayments, and revenue-share reports; the issuer's
bond page; staff approving withdrawals."""

from __future__ import annotations

import datetime
from decimal import Decimal

from babel.numbers import get_decimal_symbol
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import OperationalError
from django.db.models import Count, F, Min, Q, prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal.amounts import display_locale
from portal.middleware import back_office, require_two_factor
from portal.models import AuditEntry
from portal.permissions import Role, has_role, membership_in
from portal.uploads import download_response

from . import returns_services as rs
from . import services
from .exceptions import MoneyError
from .forms import RevenueReportForm, parse_amount
from .money import Money, too_many_decimals
from .offerings import Instrument, Offering, Pledge
from .payments import PaymentError
from .portfolio import portfolio_charts, portfolio_for, transactions_csv
from .returns import (
    BankAccountRegistration,
    BondIssue,
    CouponRun,
    LoanCardPayment,
    LoanSchedule,
    PayoutRequest,
    Repayment,
    RevenueReport,
)
from .schedules import LOAN_FREQUENCIES, add_months
from .views import busy_response, pledgeable_offering_or_404


def _is_staff(user) -> bool:
    """The operator's staff: the reviewer role (portal/permissions.py), as in the admin."""
    return has_role(user, Role.REVIEWER)


def _amount(text: str | None, currency: str, refused: type[rs.ReturnsError]) -> Decimal | None:
    """The amount typed in a form, read as the pledge form reads it (`parse_amount`: the
    page's language's separators, "1311,89" in Spanish as in French is 1,311.89), or None
    when nothing was typed. Raises `refused` with what to show for what cannot be read
    surely (never guessed: money read a hundred times too large is not a typo to correct
    later) or has more decimals than `currency` has."""
    if not (text or "").strip():
        return None
    try:
        amount = parse_amount(text)
    except forms.ValidationError as unreadable:
        raise refused(unreadable.messages[0]) from None
    try:
        minor_unit = services.quantum(currency)
    except MoneyError:
        return amount  # not a currency: the service refuses it, saying so
    if amount != amount.quantize(minor_unit):
        raise refused(too_many_decimals(currency))
    return amount


# --- Investor -----------------------------------------------------------------------------------


@login_required
def portfolio(request):
    data = portfolio_for(request.user)
    return render(
        request,
        "finance/returns/portfolio.html",
        {"portfolio": data, "charts": portfolio_charts(data)},
    )


@login_required
def transactions_export(request):
    response = HttpResponse(transactions_csv(request.user), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="puente-transactions-{stamp}.csv"'
    return response


@login_required
def wallet(request):
    balances = rs.wallet_balances(request.user)
    currencies = [b.currency for b in balances]
    now = timezone.now()
    open_offerings = [
        o
        for o in Offering.objects.filter(
            status=Offering.Status.OPEN,
            currency__in=currencies,
            opens_at__lte=now,
            closes_at__gt=now,
        ).select_related("project")[:50]
        if o.project is None or o.project.is_public
    ]
    return render(
        request,
        "finance/returns/wallet.html",
        {
            "balances": balances,
            "open_offerings": open_offerings,
            "bank_accounts": BankAccountRegistration.objects.filter(
                user=request.user, is_active=True
            ),
            "payouts": PayoutRequest.objects.filter(investor=request.user)[:20],
            # How much can go back to the cards the investor paid with, per currency.
            "card_rooms": [
                room
                for room in (rs.card_payout_room(request.user, c) for c in currencies)
                if room.amount
            ],
            "key": services.new_pledge_key(),
        },
    )


@login_required
@require_POST
def wallet_reinvest(request):
    # As the pledge page finds it: a draft offering, or one whose project is not public, is
    # not there (404), whatever id is posted.
    try:
        offering_pk = int(request.POST.get("offering") or "")
    except ValueError:
        offering_pk = 0
    offering = pledgeable_offering_or_404(offering_pk)
    try:
        pledge = rs.wallet_reinvest(
            investor=request.user,
            offering=offering,
            amount=_amount(request.POST.get("amount"), offering.currency, rs.WalletRefused),
            idempotency_key=(request.POST.get("key") or "")[:64] or services.new_pledge_key(),
        )
    except services.OfferingBusy:
        return busy_response(request)
    except services.KnowledgeTestRequired:
        return redirect("finance:knowledge_test")
    except (rs.ReturnsError, services.PledgeRefused) as error:
        messages.error(request, str(error))
        return redirect("returns:wallet")
    messages.success(
        request,
        _("You reinvested %(amount)s in %(offering)s.")
        % {"amount": pledge.money.localized(), "offering": offering.title},
    )
    return redirect("finance:pledge", pledge.pk)


@login_required
@require_POST
def wallet_withdraw(request):
    currency = request.POST.get("currency", "")
    bank_account = None
    if request.POST.get("bank_account"):
        bank_account = BankAccountRegistration.objects.filter(
            user=request.user, pk=request.POST["bank_account"]
        ).first()
    try:
        amount = _amount(request.POST.get("amount"), currency, rs.WalletRefused)
        if amount is None:
            raise rs.WalletRefused(_("Enter an amount greater than zero."))
        rs.payout_request(
            investor=request.user,
            amount=Money(amount, currency),
            destination=request.POST.get("destination", ""),
            bank_account=bank_account,
            idempotency_key=(request.POST.get("key") or "")[:64] or services.new_pledge_key(),
        )
    except (rs.ReturnsError, services.FinanceError) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Your withdrawal request was sent; staff approve it."))
    return redirect("returns:wallet")


@login_required
@require_POST
def bank_account_add(request):
    try:
        rs.bank_account_register(
            user=request.user,
            holder_name=request.POST.get("holder_name", ""),
            iban=request.POST.get("iban", ""),
            bic=request.POST.get("bic", ""),
            currency=request.POST.get("currency", "USD"),
        )
    except (rs.ReturnsError, services.FinanceError) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Bank account registered."))
    return redirect("returns:wallet")


# --- Entrepreneur: the loan page ---------------------------------------------------------------


def _offering_viewer(request, pk: int, instrument: str, *related: str) -> Offering:
    """The offering named in the URL, of this instrument, for its entrepreneur, its
    investors and staff; anyone else does not learn it exists (404). Staff who are
    neither reach it as a back-office page (two-factor authentication)."""
    offering = get_object_or_404(
        Offering.objects.select_related("project", *related), pk=pk, instrument=instrument
    )
    user = request.user
    if (offering.project_id and offering.project.owner_id == user.pk) or Pledge.objects.filter(
        offering=offering, investor=user, status=Pledge.Status.PAID
    ).exists():
        return offering
    if not _is_staff(user):
        raise Http404
    require_two_factor(request)
    return offering


def _loan_viewer(request, pk: int) -> Offering:
    return _offering_viewer(request, pk, Instrument.LOAN)


def _installment_rows(schedule: LoanSchedule, today) -> list[dict]:
    # What a superseded version left unpaid moved to the next version: it is not late.
    replaced = schedule.status == LoanSchedule.Status.SUPERSEDED
    return [
        {
            "installment": installment,
            "status": "superseded"
            if replaced and not installment.is_paid
            else installment.status(today),
            "days_late": installment.days_late(today),
        }
        for installment in schedule.installments.all()
    ]


def _write_off_entry(schedule: LoanSchedule | None) -> AuditEntry | None:
    """Who wrote the loan off, when and why: the reason lives in the audit trail."""
    if schedule is None or schedule.status != LoanSchedule.Status.WRITTEN_OFF:
        return None
    return (
        AuditEntry.objects.filter(
            action="loan.written_off",
            object_type=LoanSchedule._meta.label_lower,
            object_id=str(schedule.pk),
        )
        .order_by("-at", "-pk")
        .first()
    )


@login_required
def loan_detail(request, pk: int):
    offering = _loan_viewer(request, pk)
    today = timezone.localdate()
    schedules = list(
        LoanSchedule.objects.filter(offering=offering).prefetch_related("installments")
    )
    by_version = {s.version: s for s in schedules}
    current = next((s for s in schedules if s.is_current), None)
    # Each superseded version with the restructure that replaced it: its date and reason
    # are those of the next version.
    older = [
        {
            "schedule": s,
            "replaced_by": by_version.get(s.version + 1),
            "rows": _installment_rows(s, today),
        }
        for s in schedules
        if not s.is_current
    ]
    repayments = list(
        Repayment.objects.filter(offering=offering).prefetch_related("allocations__installment")
    )
    is_staff = _is_staff(request.user)
    # The bank details to repay with, for the entrepreneur (and staff helping them); a
    # lender has nothing to pay.
    repay = None
    owns = offering.project_id and offering.project.owner_id == request.user.pk
    if (
        (owns or _is_staff(request.user))
        and current
        and current.status == LoanSchedule.Status.ACTIVE
    ):
        repay = {
            "reference": rs.loan_repayment_reference(offering),
            "amount": rs.loan_amount_due_next(current, today),
            "bank": settings.PUENTE_BANK_ACCOUNT,
            # The card is the entrepreneur's own: staff helping them only see the link's page
            # refused.
            "by_card": bool(owns),
        }
    return render(
        request,
        "finance/returns/loan.html",
        {
            "offering": offering,
            "current": current,
            "rows": _installment_rows(current, today) if current else [],
            "older": older,
            "write_off": _write_off_entry(current),
            "repayments": repayments,
            "arrears": rs.loan_arrears(current, today) if current else Decimal("0"),
            # Held now: what was paid beyond what was due (or after a write-off), less what
            # staff have sent back.
            "excess": rs.excess_held(offering).amount,
            "can_record": is_staff
            and current is not None
            and current.status != LoanSchedule.Status.WRITTEN_OFF,
            "can_service": is_staff
            and current is not None
            and current.status == LoanSchedule.Status.ACTIVE,
            "today": today,
            "key": services.new_pledge_key(),
            "repay": repay,
        },
    )


@login_required
@back_office
@require_POST
def loan_repayment_record(request, pk: int):
    offering = _loan_viewer(request, pk)
    if not _is_staff(request.user):
        raise PermissionDenied
    currency = request.POST.get("currency") or offering.currency
    try:
        received_on = datetime.date.fromisoformat(request.POST.get("received_on", ""))
    except ValueError:
        received_on = None
    # The form's key makes a repeated submission record once; without it, nothing would.
    key = (request.POST.get("key") or "").strip()[:64]
    try:
        if not key:
            raise rs.RepaymentRefused(_("This form has expired: reload the page and try again."))
        amount = _amount(request.POST.get("amount"), currency, rs.RepaymentRefused)
        if amount is None or received_on is None:
            raise rs.RepaymentRefused(_("Enter the amount and the date it was received."))
        repayment = rs.repayment_record(
            offering=offering,
            amount=Money(amount, currency),
            received_on=received_on,
            reference=request.POST.get("reference", ""),
            idempotency_key=f"manual:{offering.pk}:{key}",
            by=request.user,
        )
    except (rs.ReturnsError, services.FinanceError) as error:
        messages.error(request, str(error))
    else:
        text = _("Repayment recorded: %(interest)s interest, %(principal)s principal.") % {
            "interest": Money(repayment.interest_part, repayment.currency).localized(),
            "principal": Money(repayment.principal_part, repayment.currency).localized(),
        }
        if repayment.excess:
            text += " " + _("%(excess)s more than was due is held for review.") % {
                "excess": Money(repayment.excess, repayment.currency).localized()
            }
        if repayment.arrears_after:
            text += " " + _("%(arrears)s is still overdue.") % {
                "arrears": Money(repayment.arrears_after, repayment.currency).localized()
            }
        messages.success(request, text)
    return redirect("returns:loan", offering.pk)


# --- Entrepreneur: repaying by card -------------------------------------------------------------


def _loan_owner(request, pk: int) -> Offering:
    """The loan named in the URL, for its entrepreneur only: others who may see the loan
    (lenders, staff) are refused (403), others still do not learn it exists (404)."""
    offering = _loan_viewer(request, pk)
    if not (offering.project_id and offering.project.owner_id == request.user.pk):
        raise PermissionDenied
    return offering


@login_required
def loan_card_repay(request, pk: int):
    """Choose how much to repay by card (what is due by default); the next page takes the
    card. A loan that takes no repayment says why and shows no form."""
    offering = _loan_owner(request, pk)
    today = timezone.localdate()
    try:
        schedule = rs.loan_card_schedule(offering)
    except rs.RepaymentRefused as refused:
        schedule, refusal = None, str(refused)
    else:
        refusal = ""
        prefetch_related_objects([schedule], "installments")
    error = ""
    amount_text = request.POST.get("amount", "")
    if request.method == "POST" and schedule is not None:
        currency = request.POST.get("currency") or offering.currency
        try:
            amount = _amount(amount_text, currency, rs.RepaymentRefused)
            if amount is None:
                raise rs.RepaymentRefused(_("Enter the amount you want to pay."))
            try:
                money = Money(amount, currency)
            except MoneyError as unknown_currency:
                raise rs.RepaymentRefused(
                    _("This loan is repaid in %(loan)s.") % {"loan": offering.currency}
                ) from unknown_currency
            card_payment = rs.loan_card_payment_start(
                offering=offering,
                payer=request.user,
                amount=money,
                idempotency_key=(request.POST.get("key") or "")[:64] or services.new_pledge_key(),
            )
        except rs.ReturnsError as refused:
            error = str(refused)
        except PaymentError as failure:
            error = failure.user_message or _(
                "The payment service is not answering. Please try again in a few minutes."
            )
        else:
            return redirect("returns:loan_card_payment", offering.pk, card_payment.pk)
    due = rs.loan_amount_due_next(schedule, today) if schedule else Decimal("0")
    if request.method != "POST" and due:
        # Written with the language's decimal mark, as `_amount` reads it back: "1.500"
        # (KWD) is refused in French, where it could be 1500 or 1,5.
        amount_text = format(Money(due, offering.currency).quantize().amount, "f").replace(
            ".", get_decimal_symbol(display_locale())
        )
    return render(
        request,
        "finance/returns/loan_card.html",
        {
            "offering": offering,
            "schedule": schedule,
            "refusal": refusal,
            "error": error,
            "due": due,
            "arrears": rs.loan_arrears(schedule, today) if schedule else Decimal("0"),
            "owed": rs.loan_outstanding(schedule) if schedule else Decimal("0"),
            "amount": amount_text,
            "key": services.new_pledge_key(),
            # An attempt whose intent Stripe never created took no money: not worth listing.
            "attempts": LoanCardPayment.objects.filter(offering=offering)
            .exclude(provider_reference="")
            .select_related("repayment")[:10],
        },
        status=400 if error else 200,
    )


def _loan_card_payment(request, pk: int, payment_pk: int) -> LoanCardPayment:
    offering = _loan_owner(request, pk)
    card_payment = get_object_or_404(
        LoanCardPayment.objects.select_related("repayment"), pk=payment_pk, offering=offering
    )
    card_payment.offering = offering
    return card_payment


@login_required
def loan_card_payment(request, pk: int, payment_pk: int):
    """Pay one card repayment: Stripe.js Elements confirm its intent in the page (3-D Secure
    included), as on the pledge page; then the state as Stripe last told it."""
    card_payment = _loan_card_payment(request, pk, payment_pk)
    page = reverse("returns:loan_card_payment", args=[pk, card_payment.pk])
    return render(
        request,
        "finance/returns/loan_card_payment.html",
        {
            "offering": card_payment.offering,
            "card_payment": card_payment,
            "stripe_js": settings.STRIPE_JS_URL,
            "stripe_key": settings.STRIPE_PUBLISHABLE_KEY,
            "return_url": request.build_absolute_uri(page),
        },
    )


@login_required
@require_POST
def loan_card_payment_refresh(request, pk: int, payment_pk: int):
    """After the card form: re-read the intent (the webhook may not have arrived yet)."""
    card_payment = _loan_card_payment(request, pk, payment_pk)
    try:
        rs.loan_card_payment_sync(card_payment=card_payment)
    except (PaymentError, OperationalError):
        messages.warning(
            request,
            _(
                "We could not confirm the payment yet; this page will show it as soon as "
                "the bank confirms."
            ),
        )
    return redirect("returns:loan_card_payment", pk, card_payment.pk)


# --- Staff: servicing loans (restructure, write off) ------------------------------------------

FREQUENCY_LABELS = {
    1: gettext_lazy("Once a year"),
    2: gettext_lazy("Twice a year"),
    3: gettext_lazy("Every four months"),
    4: gettext_lazy("Every quarter"),
    6: gettext_lazy("Every two months"),
    12: gettext_lazy("Every month"),
}


class RestructureForm(forms.Form):
    annual_rate = forms.DecimalField(
        label=gettext_lazy("Annual interest rate (%)"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=6,
        decimal_places=3,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    periods = forms.IntegerField(
        label=gettext_lazy("Number of installments"), min_value=1, max_value=600
    )
    periods_per_year = forms.TypedChoiceField(
        label=gettext_lazy("Installments"),
        choices=[(n, FREQUENCY_LABELS[n]) for n in sorted(LOAN_FREQUENCIES, reverse=True)],
        coerce=int,
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Schedule type"), choices=Offering.ScheduleType.choices
    )
    first_due_date = forms.DateField(
        label=gettext_lazy("First installment due on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason (lenders and the entrepreneur see it)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_first_due_date(self) -> datetime.date:
        first_due = self.cleaned_data["first_due_date"]
        if first_due <= timezone.localdate():
            raise forms.ValidationError(_("The first installment must fall due after today."))
        return first_due

    def clean(self):
        data = super().clean()
        first_due, per_year = data.get("first_due_date"), data.get("periods_per_year")
        if first_due and per_year:
            # The schedule counts whole periods from the day the new terms start, one period
            # before the first due date; a day that does not exist every month (the 31st)
            # would not come back as itself.
            months = 12 // per_year
            data["start_date"] = add_months(first_due, -months)
            if add_months(data["start_date"], months) != first_due:
                self.add_error(
                    "first_due_date",
                    _("Choose a day of the month that every month has (up to the 28th)."),
                )
        return data


class WriteOffForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (lenders and the entrepreneur see it)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _staff_loan(request, pk: int) -> tuple[Offering, LoanSchedule | None]:
    """The loan named in the URL, for staff only: others who may see the loan are refused
    (403), others still do not learn it exists (404)."""
    offering = _loan_viewer(request, pk)
    if not _is_staff(request.user):
        raise PermissionDenied
    return offering, rs.current_schedule(offering)


def _owed(schedule: LoanSchedule, today) -> dict:
    installments = list(schedule.installments.all())
    return {
        "principal": sum((i.principal - i.principal_paid for i in installments), Decimal("0")),
        "arrears": rs.loan_arrears(schedule, today),
        "unpaid": sum(1 for i in installments if not i.is_paid),
    }


@back_office
@login_required
def loans_servicing(request):
    """Staff: every loan being repaid (or closed), the late ones first."""
    if not _is_staff(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    late = Q(installments__due_date__lt=today) & (
        Q(installments__interest_paid__lt=F("installments__interest"))
        | Q(installments__principal_paid__lt=F("installments__principal"))
    )
    schedules = (
        LoanSchedule.objects.exclude(status=LoanSchedule.Status.SUPERSEDED)
        .select_related("offering", "offering__project")
        .annotate(
            late_count=Count("installments", filter=late),
            late_since=Min("installments__due_date", filter=late),
        )
        .order_by("status", "-late_count", "late_since", "offering__title", "pk")
    )
    status = request.GET.get("status", "")
    if status in LoanSchedule.Status.values:
        schedules = schedules.filter(status=status)
    page = Paginator(schedules, 50).get_page(request.GET.get("page"))
    for schedule in page:
        schedule.days_late = (today - schedule.late_since).days if schedule.late_since else 0
    return render(
        request,
        "finance/returns/loans_servicing.html",
        {"page": page, "status": status, "statuses": LoanSchedule.Status.choices},
    )


@back_office
@login_required
def loan_restructure(request, pk: int):
    offering, current = _staff_loan(request, pk)
    today = timezone.localdate()
    if current is None or current.status != LoanSchedule.Status.ACTIVE:
        messages.error(request, _("Only a loan being repaid can be restructured."))
        return redirect("returns:loan", offering.pk)
    if request.method == "POST":
        form = RestructureForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                schedule = rs.loan_restructure(
                    offering=offering,
                    by=request.user,
                    reason=data["reason"],
                    annual_rate=data["annual_rate"] / 100,
                    periods=data["periods"],
                    periods_per_year=data["periods_per_year"],
                    kind=data["kind"],
                    start_date=data["start_date"],
                )
            except rs.ReturnsError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("The loan was restructured: version %(version)s is now being repaid.")
                    % {"version": schedule.version},
                )
                return redirect("returns:loan", offering.pk)
    else:
        unpaid = current.installments.filter(paid_on__isnull=True).order_by("number")
        next_due = next((i.due_date for i in unpaid if i.due_date > today), None)
        form = RestructureForm(
            initial={
                "annual_rate": format((current.annual_rate * 100).normalize(), "f")
                if current.annual_rate >= 0
                else None,
                "periods": max(len(unpaid), 1),
                "periods_per_year": current.periods_per_year,
                "kind": current.kind,
                "first_due_date": next_due or add_months(today, 12 // current.periods_per_year),
            }
        )
    return render(
        request,
        "finance/returns/loan_restructure.html",
        {"offering": offering, "current": current, "owed": _owed(current, today), "form": form},
        status=400 if form.errors else 200,
    )


@back_office
@login_required
def loan_write_off(request, pk: int):
    """Two steps: the reason, then a page that says what writing off means and asks to
    confirm. Nothing changes before the confirmation."""
    offering, current = _staff_loan(request, pk)
    today = timezone.localdate()
    if current is None or current.status != LoanSchedule.Status.ACTIVE:
        messages.error(request, _("Only a loan being repaid can be written off."))
        return redirect("returns:loan", offering.pk)
    confirming = False
    if request.method == "POST":
        form = WriteOffForm(request.POST)
        if form.is_valid() and request.POST.get("confirm") == "1":
            try:
                rs.loan_write_off(
                    offering=offering, by=request.user, reason=form.cleaned_data["reason"]
                )
            except rs.ReturnsError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, _("The loan was written off; lenders now see it as defaulted.")
                )
                return redirect("returns:loan", offering.pk)
        else:
            # "Change" on the confirmation page comes back to the form, reason kept.
            confirming = form.is_valid() and not request.POST.get("change")
    else:
        form = WriteOffForm()
    return render(
        request,
        "finance/returns/loan_write_off.html",
        {
            "offering": offering,
            "current": current,
            "owed": _owed(current, today),
            "form": form,
            "confirming": confirming,
        },
        status=400 if form.errors else 200,
    )


# --- Entrepreneur: the revenue-share page ------------------------------------------------------

#: Content types of revenue documents by the extension they are stored under
#: (RevenueReportForm names every upload after what it is).
_DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
}


def _revenue_viewer(request, pk: int) -> Offering:
    return _offering_viewer(request, pk, Instrument.REVENUE_SHARE, "disbursement")


def _owns(offering: Offering, user) -> bool:
    return bool(offering.project_id and offering.project.owner_id == user.pk)


@login_required
def revenue_share(request, pk: int):
    """The entrepreneur reports each period's revenue (with a document) and sees the share
    due, what was paid against the cap and how to pay; investors and staff see the reports
    and the figures. Only the entrepreneur may report (403 for the others who may look)."""
    offering = _revenue_viewer(request, pk)
    owns = _owns(offering, request.user)
    if request.method == "POST" and not owns:
        raise PermissionDenied
    today = timezone.localdate()
    reports = list(RevenueReport.objects.filter(offering=offering).order_by("-period_start"))
    standing = rs.revenue_share_standing(offering, reports, today=today)
    can_report = owns and standing.disbursed_on is not None and not standing.cap_reached
    form = None
    if request.method == "POST":
        form = RevenueReportForm(request.POST, request.FILES, offering=offering)
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = rs.revenue_report_submit(
                    offering=offering,
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    revenue=data["revenue"],
                    currency=data["currency"],
                    document=data["document"],
                    by=request.user,
                    today=today,
                )
            except rs.RevenueReportRefused as refused:
                field = refused.field if refused.field in form.fields else None
                form.add_error(field, str(refused))
            else:
                if report.share_due:
                    messages.success(
                        request,
                        _(
                            "Revenue reported. The investors' share is %(share)s: pay it by "
                            "bank transfer quoting %(reference)s."
                        )
                        % {
                            "share": Money(report.share_due, report.currency).localized(),
                            "reference": rs.revenue_share_reference(report),
                        },
                    )
                else:
                    messages.success(request, _("Revenue reported. Nothing is due on it."))
                return redirect("returns:revenue", offering.pk)
    elif can_report:
        latest = max((r.period_end for r in reports), default=None)
        start = latest + datetime.timedelta(days=1) if latest else standing.disbursed_on
        form = RevenueReportForm(offering=offering, initial={"period_start": start})
    unpaid = [r for r in reports if r.status == RevenueReport.Status.DUE]
    return render(
        request,
        "finance/returns/revenue.html",
        {
            "offering": offering,
            "owns": owns,
            "is_staff": _is_staff(request.user),
            "reports": reports,
            "standing": standing,
            "payments": rs.revenue_share_payments(reports),
            "form": form,
            "to_pay": [
                {
                    "report": r,
                    "left": Money(r.share_due - r.share_paid, r.currency),
                    "reference": rs.revenue_share_reference(r),
                }
                for r in reversed(unpaid)
            ]
            if owns or _is_staff(request.user)
            else [],
            "bank": settings.PUENTE_BANK_ACCOUNT,
            "share_percent": (offering.revenue_share or Decimal("0")) * 100,
        },
        status=400 if form is not None and form.errors else 200,
    )


@login_required
@back_office
def revenue_document(request, pk: int, report_pk: int):
    """A report's supporting document, for the entrepreneur and staff: investors see the
    figures, not the business's papers. A back-office page: staff (and local-government
    members) reach it with two-factor authentication on, as identity documents."""
    offering = _revenue_viewer(request, pk)
    if not (_owns(offering, request.user) or _is_staff(request.user)):
        raise PermissionDenied
    report = get_object_or_404(RevenueReport, pk=report_pk, offering=offering)
    extension = report.document.name.rsplit(".", 1)[-1].lower()
    try:
        return download_response(
            report.document,
            filename=f"revenue-{offering.pk}-{report.period_start}-{report.period_end}.{extension}",
            content_type=_DOCUMENT_TYPES.get(extension, "application/octet-stream"),
        )
    except FileNotFoundError as missing:
        raise Http404 from missing


# --- Issuer: the bond page ---------------------------------------------------------------------


@back_office
@login_required
def bond_detail(request, pk: int):
    offering = get_object_or_404(
        Offering.objects.select_related("issuer"), pk=pk, instrument=Instrument.BOND
    )
    if not (_is_staff(request.user) or membership_in(request.user, offering.issuer)):
        raise Http404
    issue = BondIssue.objects.filter(offering=offering).first()
    return render(
        request,
        "finance/returns/bond.html",
        {
            "offering": offering,
            "issue": issue,
            "payments": rs.bond_payments_due(issue) if issue else [],
            "runs": CouponRun.objects.filter(offering=offering),
            "today": timezone.localdate(),
        },
    )


# --- Staff: withdrawals ------------------------------------------------------------------------


@back_office
@login_required
def payouts_review(request):
    if not _is_staff(request.user):
        raise PermissionDenied
    waiting = list(
        PayoutRequest.objects.filter(status=PayoutRequest.Status.REQUESTED).select_related(
            "investor", "bank_account"
        )
    )
    failures = rs.payout_failures(waiting)
    rows = [{"payout": p, "failure": failures.get(p.pk)} for p in waiting]
    return render(request, "finance/returns/payouts_review.html", {"rows": rows})


@back_office
@login_required
@require_POST
def payout_decide(request, pk: int):
    if not _is_staff(request.user):
        raise PermissionDenied
    payout = get_object_or_404(PayoutRequest, pk=pk)
    try:
        if request.POST.get("decision") == "approve":
            payout = rs.payout_approve(payout=payout, by=request.user)
            if payout.destination == PayoutRequest.Destination.CARD:
                messages.success(request, _("Withdrawal approved and sent back to the card."))
            else:
                messages.success(
                    request, _("Withdrawal approved; send the bank transfer to the account shown.")
                )
        else:
            payout = rs.payout_reject(
                payout=payout, by=request.user, reason=request.POST.get("reason", "")
            )
            if payout.status == PayoutRequest.Status.PARTIAL:
                messages.success(
                    request,
                    _(
                        "Withdrawal rejected. What already went back to the card stays paid "
                        "out; the rest is back in the wallet."
                    ),
                )
            else:
                messages.success(
                    request, _("Withdrawal rejected; the money is back in the wallet.")
                )
    except rs.PayoutFailed as error:
        # Staff see the provider's own words: they decide what to do next.
        messages.error(request, f"{error} ({error.detail})" if error.detail else str(error))
    except (rs.ReturnsError, services.FinanceError) as error:
        messages.error(request, str(error))
    return redirect("returns:payouts_review")
