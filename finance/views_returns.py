"""Returns as people meet them: the investor's portfolio, transactions export and wallet;
the entrepreneur's loan page; the issuer's bond page; staff approving withdrawals."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.permissions import Role, has_role, membership_in

from . import returns_services as rs
from . import services
from .money import Money
from .offerings import Instrument, Offering, Pledge
from .portfolio import portfolio_charts, portfolio_for, transactions_csv
from .returns import (
    BankAccountRegistration,
    BondIssue,
    CouponRun,
    LoanSchedule,
    PayoutRequest,
    Repayment,
)


def _is_staff(user) -> bool:
    return bool(user.is_staff or has_role(user, Role.REVIEWER))


def _decimal(value: str | None) -> Decimal | None:
    try:
        amount = Decimal((value or "").strip().replace(",", ""))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


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
            "card_currencies": [c for c in currencies if rs.card_payout_possible(request.user, c)],
            "key": services.new_pledge_key(),
        },
    )


@login_required
@require_POST
def wallet_reinvest(request):
    offering = get_object_or_404(Offering, pk=request.POST.get("offering") or 0)
    amount = _decimal(request.POST.get("amount"))
    try:
        pledge = rs.wallet_reinvest(
            investor=request.user,
            offering=offering,
            amount=amount,
            idempotency_key=(request.POST.get("key") or "")[:64] or services.new_pledge_key(),
        )
    except services.OfferingBusy:
        from .views import busy_response

        return busy_response(request)
    except services.KnowledgeTestRequired:
        return redirect("finance:knowledge_test")
    except (rs.ReturnsError, services.PledgeRefused) as error:
        messages.error(request, str(error))
        return redirect("returns:wallet")
    messages.success(
        request,
        _("You reinvested %(amount)s in %(offering)s.")
        % {"amount": pledge.money.format("en"), "offering": offering.title},
    )
    return redirect("finance:pledge", pledge.pk)


@login_required
@require_POST
def wallet_withdraw(request):
    amount = _decimal(request.POST.get("amount"))
    currency = request.POST.get("currency", "")
    bank_account = None
    if request.POST.get("bank_account"):
        bank_account = BankAccountRegistration.objects.filter(
            user=request.user, pk=request.POST["bank_account"]
        ).first()
    try:
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


def _loan_viewer(request, pk: int) -> Offering:
    offering = get_object_or_404(
        Offering.objects.select_related("project"), pk=pk, instrument=Instrument.LOAN
    )
    user = request.user
    allowed = (
        _is_staff(user)
        or (offering.project_id and offering.project.owner_id == user.pk)
        or Pledge.objects.filter(
            offering=offering, investor=user, status=Pledge.Status.PAID
        ).exists()
    )
    if not allowed:
        raise Http404
    return offering


@login_required
def loan_detail(request, pk: int):
    offering = _loan_viewer(request, pk)
    today = timezone.localdate()
    schedules = list(
        LoanSchedule.objects.filter(offering=offering).prefetch_related("installments")
    )
    current = next((s for s in schedules if s.is_current), None)
    rows = []
    if current:
        for installment in current.installments.all():
            rows.append(
                {
                    "installment": installment,
                    "status": installment.status(today),
                    "days_late": installment.days_late(today),
                }
            )
    repayments = list(
        Repayment.objects.filter(offering=offering).prefetch_related("allocations__installment")
    )
    return render(
        request,
        "finance/returns/loan.html",
        {
            "offering": offering,
            "current": current,
            "rows": rows,
            "older": [s for s in schedules if not s.is_current],
            "repayments": repayments,
            "arrears": rs.loan_arrears(current, today) if current else Decimal("0"),
            "excess": sum((r.excess for r in repayments), Decimal("0")),
            "can_record": _is_staff(request.user),
            "today": today,
            "key": services.new_pledge_key(),
        },
    )


@login_required
@require_POST
def loan_repayment_record(request, pk: int):
    offering = _loan_viewer(request, pk)
    if not _is_staff(request.user):
        raise PermissionDenied
    amount = _decimal(request.POST.get("amount"))
    try:
        received_on = datetime.date.fromisoformat(request.POST.get("received_on", ""))
    except ValueError:
        received_on = None
    try:
        if amount is None or received_on is None:
            raise rs.RepaymentRefused(_("Enter the amount and the date it was received."))
        repayment = rs.repayment_record(
            offering=offering,
            amount=Money(amount, request.POST.get("currency") or offering.currency),
            received_on=received_on,
            reference=request.POST.get("reference", ""),
            idempotency_key=f"manual:{(request.POST.get('key') or '')[:64]}",
            by=request.user,
        )
    except (rs.ReturnsError, services.FinanceError) as error:
        messages.error(request, str(error))
    else:
        text = _("Repayment recorded: %(interest)s interest, %(principal)s principal.") % {
            "interest": Money(repayment.interest_part, repayment.currency).format("en"),
            "principal": Money(repayment.principal_part, repayment.currency).format("en"),
        }
        if repayment.excess:
            text += " " + _("%(excess)s more than was due is held for review.") % {
                "excess": Money(repayment.excess, repayment.currency).format("en")
            }
        if repayment.arrears_after:
            text += " " + _("%(arrears)s is still overdue.") % {
                "arrears": Money(repayment.arrears_after, repayment.currency).format("en")
            }
        messages.success(request, text)
    return redirect("returns:loan", offering.pk)


# --- Issuer: the bond page ---------------------------------------------------------------------


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


@login_required
def payouts_review(request):
    if not request.user.is_staff:
        raise PermissionDenied
    waiting = PayoutRequest.objects.filter(status=PayoutRequest.Status.REQUESTED).select_related(
        "investor", "bank_account"
    )
    return render(request, "finance/returns/payouts_review.html", {"waiting": waiting})


@login_required
@require_POST
def payout_decide(request, pk: int):
    if not request.user.is_staff:
        raise PermissionDenied
    payout = get_object_or_404(PayoutRequest, pk=pk)
    try:
        if request.POST.get("decision") == "approve":
            rs.payout_approve(payout=payout, by=request.user)
            messages.success(request, _("Withdrawal approved."))
        else:
            rs.payout_reject(payout=payout, by=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, _("Withdrawal rejected; the money is back in the wallet."))
    except (rs.ReturnsError, services.FinanceError) as error:
        messages.error(request, str(error))
    return redirect("returns:payouts_review")
