"""Money workflows: pledging, paying, matching, cancelling, refunding,
closing offerings and disbursing. Every movement of money is a ledger
transaction with an idempotency key built from stable ids, so retrying any
of these functions never moves money twice."""

from __future__ import annotations

import datetime
import secrets
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.iso11649 import format as rf_format

from portal.models import AuditEntry

from .exceptions import FinanceError
from .ledger import Account, post_transaction
from .money import Money, minor_unit_exponent
from .offerings import (
    KnowledgeTestPass,
    MatchAllocation,
    MatchingPool,
    Offering,
    Payment,
    Pledge,
)


class PledgeRefused(FinanceError):
    """The pledge cannot be made; the message is safe to show."""


class OfferingBusy(FinanceError):
    """The offering's row lock could not be taken in time: ask the user to retry."""


class KnowledgeTestRequired(PledgeRefused):
    pass


# --- Accounts -------------------------------------------------------------------------------


def escrow_account(offering: Offering) -> Account:
    return Account.get_or_create_for(
        kind=Account.Kind.OFFERING_ESCROW, key=f"offering:{offering.pk}", currency=offering.currency
    )


def payable_account(offering: Offering) -> Account:
    return Account.get_or_create_for(
        kind=Account.Kind.PROJECT_PAYABLE, key=f"offering:{offering.pk}", currency=offering.currency
    )


def wallet_account(user, currency: str) -> Account:
    return Account.get_or_create_for(
        kind=Account.Kind.INVESTOR_WALLET, key=f"user:{user.pk}", currency=currency, user=user
    )


def fees_account(currency: str) -> Account:
    return Account.get_or_create_for(
        kind=Account.Kind.PLATFORM_FEES, key="platform", currency=currency
    )


def external_account(currency: str) -> Account:
    return Account.get_or_create_for(kind=Account.Kind.EXTERNAL, key="world", currency=currency)


def clearing_account(provider: str, currency: str) -> Account:
    return Account.get_or_create_for(
        kind=Account.Kind.PROVIDER_CLEARING, key=f"provider:{provider}", currency=currency
    )


def matching_account(pool: MatchingPool, currency: str) -> Account:
    # Matching pools run negative by nature: a negative balance is what the
    # sponsor has promised and not yet paid in.
    return Account.get_or_create_for(
        kind=Account.Kind.MATCHING_POOL,
        key=f"pool:{pool.pk}",
        currency=currency,
        allow_negative=True,
    )


# --- Pledging ---------------------------------------------------------------------------------


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit_exponent(currency))


def pledge_fee(offering: Offering, amount: Decimal, method: str) -> Decimal:
    """The fee an investor pays on top of the pledge, shown before confirming."""
    rate = settings.PUENTE_FEE_RATES.get(method, Decimal("0"))
    return (amount * rate).quantize(quantum(offering.currency), rounding=ROUND_DOWN)


def new_pledge_key() -> str:
    return secrets.token_urlsafe(24)


def _twelve_month_total_usd(investor) -> Decimal:
    since = timezone.now() - datetime.timedelta(days=365)
    rows = (
        Pledge.objects.filter(
            investor=investor,
            created_at__gte=since,
            status__in=[Pledge.Status.PENDING, Pledge.Status.PAID],
        )
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    rates = settings.PUENTE_REFERENCE_RATES_TO_USD
    return sum((row["total"] * rates[row["currency"]] for row in rows), Decimal("0"))


def investment_limit_left_usd(investor) -> Decimal | None:
    limit = settings.PUENTE_INVESTMENT_LIMITS_USD.get(investor.verification_tier)
    if limit is None:
        return None
    return max(limit - _twelve_month_total_usd(investor), Decimal("0"))


def _lock_offering(offering_id: int) -> Offering:
    """Take the offering's row lock, waiting at most PUENTE_LOCK_TIMEOUT_MS.

    Capacity is scarce: the lock makes check-and-reserve one step, so
    concurrent pledges can never take an offering past its cap."""
    queryset = Offering.objects.all()
    if settings.PUENTE_PLEDGE_LOCKING:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET LOCAL lock_timeout = %s", [f"{int(settings.PUENTE_LOCK_TIMEOUT_MS)}ms"]
                )
        queryset = queryset.select_for_update()
    try:
        return queryset.get(pk=offering_id)
    except OperationalError as error:
        if getattr(getattr(error, "__cause__", None), "sqlstate", None) == "55P03" or (
            "lock" in str(error).lower()
        ):
            raise OfferingBusy(
                _("Many people are pledging right now. Please try again in a moment.")
            ) from error
        raise


def pledge_create(
    *, offering: Offering, investor, amount: Decimal, method: str, idempotency_key: str
) -> Pledge:
    """Create a pledge and reserve its capacity, or return the pledge this
    key already made. Raises PledgeRefused (with a message for the user) or
    OfferingBusy (answer 503 with Retry-After)."""
    existing = Pledge.objects.filter(investor=investor, idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise PledgeRefused(_("Enter an amount greater than zero."))
    if amount != amount.quantize(quantum(offering.currency)):
        raise PledgeRefused(
            _("Use at most %(places)d decimals for %(currency)s.")
            % {"places": minor_unit_exponent(offering.currency), "currency": offering.currency}
        )
    if method not in Pledge.Method.values:
        raise PledgeRefused(_("Choose a payment method."))
    if (
        offering.needs_knowledge_test
        and not KnowledgeTestPass.objects.filter(investor=investor).exists()
    ):
        raise KnowledgeTestRequired(
            _("Before your first loan, revenue share or bond, take the short knowledge test.")
        )
    limit_left = investment_limit_left_usd(investor)
    if limit_left is not None:
        in_usd = amount * settings.PUENTE_REFERENCE_RATES_TO_USD[offering.currency]
        if in_usd > limit_left:
            raise PledgeRefused(
                _(
                    "This pledge would take you past the investment limit of "
                    "your verification level for the last 12 months. Verify your "
                    "identity to raise it."
                )
            )
    try:
        with transaction.atomic():
            locked = _lock_offering(offering.pk)
            if not locked.is_open():
                raise PledgeRefused(_("This offering is not open for pledges."))
            if amount < locked.min_ticket:
                raise PledgeRefused(
                    _("The minimum pledge is %(amount)s.")
                    % {"amount": Money(locked.min_ticket, locked.currency).format("en")}
                )
            if locked.max_ticket is not None and amount > locked.max_ticket:
                raise PledgeRefused(
                    _("The maximum pledge is %(amount)s.")
                    % {"amount": Money(locked.max_ticket, locked.currency).format("en")}
                )
            if locked.face_value and amount % locked.face_value:
                raise PledgeRefused(
                    _("Bonds are sold in whole units of %(face)s.")
                    % {"face": Money(locked.face_value, locked.currency).format("en")}
                )
            if amount > locked.remaining:
                raise PledgeRefused(
                    _("Only %(left)s is left in this offering.")
                    % {"left": Money(locked.remaining, locked.currency).format("en")}
                )
            now = timezone.now()
            pledge = Pledge.objects.create(
                offering=locked,
                investor=investor,
                amount=amount,
                currency=locked.currency,
                fee=pledge_fee(locked, amount, method),
                method=method,
                idempotency_key=idempotency_key,
                created_at=now,
                expires_at=now + datetime.timedelta(minutes=settings.PUENTE_PLEDGE_EXPIRY_MINUTES),
            )
            if method in (Pledge.Method.BANK_TRANSFER, Pledge.Method.REMITTANCE):
                pledge.bank_reference = bank_reference_for(pledge)
                pledge.save(update_fields=["bank_reference"])
            locked.reserved += amount
            locked.save(update_fields=["reserved"])
    except DatabaseError as error:
        # A double click that raced its twin: the unique key kept one pledge.
        existing = Pledge.objects.filter(investor=investor, idempotency_key=idempotency_key).first()
        if existing is not None:
            return existing
        raise error
    return pledge


def bank_reference_for(pledge: Pledge) -> str:
    """A unique ISO 11649 structured creditor reference (RF + check digits)."""
    body = f"PU{pledge.pk:012d}"
    digits = "".join(str(int(c, 36)) for c in body + "RF00")
    check = 98 - int(digits) % 97
    return rf_format(f"RF{check:02d}{body}").replace(" ", "")


def _release(
    pledge: Pledge, status: str, *, actor=None, reason: str = "", only_from: tuple = Pledge.ACTIVE
) -> Pledge:
    """Move an active pledge to a final status and give back its capacity.
    Runs inside the caller's transaction, under the offering's lock; the
    status is re-read under the pledge's lock, so a pledge paid meanwhile is
    not expired (`only_from=(PENDING,)`)."""
    offering = _lock_offering(pledge.offering_id)
    pledge = Pledge.objects.select_for_update().get(pk=pledge.pk)
    if pledge.status not in only_from:
        return pledge
    before = pledge.status
    pledge.status = status
    pledge.cancelled_at = timezone.now()
    pledge.save(update_fields=["status", "cancelled_at"])
    offering.reserved -= pledge.amount
    offering.save(update_fields=["reserved"])
    AuditEntry.record(
        actor=actor,
        action=f"pledge.{status}",
        obj=pledge,
        from_state=before,
        to_state=status,
        reason=reason,
    )
    return pledge


def pledges_expire_due(*, now: datetime.datetime | None = None) -> int:
    """Expire unpaid pledges past their time and release their capacity."""
    now = now or timezone.now()
    count = 0
    for pledge_id in Pledge.objects.filter(
        status=Pledge.Status.PENDING, expires_at__lte=now
    ).values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            pledge = Pledge.objects.get(pk=pledge_id)
            # A payment that already succeeded wins over the clock.
            if pledge.payments.filter(status=Payment.Status.SUCCEEDED).exists():
                continue
            released = _release(pledge, Pledge.Status.EXPIRED, only_from=(Pledge.Status.PENDING,))
            if released.status == Pledge.Status.EXPIRED:
                count += 1
    return count


# --- Paying and matching -------------------------------------------------------------------------


def pledge_mark_paid(*, payment: Payment) -> Pledge:
    """Record a succeeded payment: post it to the ledger, mark the pledge paid
    and allocate matching funds. Safe to call any number of times."""
    with transaction.atomic():
        # Locks in the order pledge, then payment: cancellation takes the same
        # order, so the two never deadlock.
        pledge = (
            Pledge.objects.select_for_update().select_related("offering").get(pk=payment.pledge_id)
        )
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        offering = pledge.offering
        currency = pledge.currency
        gross = Money.from_minor(payment.amount_minor, currency)
        fee = Money(pledge.fee, currency).quantize()
        post_transaction(
            idempotency_key=f"payment:{payment.pk}:captured",
            kind="pledge.payment",
            legs=[
                (external_account(currency), -gross),
                (escrow_account(offering), gross - fee),
                *([(fees_account(currency), fee)] if fee.amount else []),
            ],
            memo=f"pledge {pledge.pk} paid by {payment.provider}",
        )
        if pledge.status == Pledge.Status.PAID:
            return pledge
        if pledge.status != Pledge.Status.PENDING:
            # Paid after it expired or was cancelled: the money is in escrow
            # and must go back; staff see it in reconciliation.
            AuditEntry.record(
                actor=None,
                action="pledge.late_payment",
                obj=pledge,
                from_state=pledge.status,
                to_state=pledge.status,
            )
            return pledge
        pledge.status = Pledge.Status.PAID
        pledge.paid_at = timezone.now()
        pledge.save(update_fields=["status", "paid_at"])
        AuditEntry.record(
            actor=None, action="pledge.paid", obj=pledge, from_state="pending", to_state="paid"
        )
        matched = Decimal("0")
        if offering.instrument == "donation_matching":
            matched = _allocate_matching(pledge)
        project_add_funding(offering.project_id, pledge.amount + matched)
    return pledge


def match_amounts(
    *, contribution: Decimal, pools: list[MatchingPool], already_by_pool: dict, currency: str
) -> dict[int, Decimal]:
    """How much each sponsor adds to one contribution.

    Each match is contribution x ratio, truncated to the minor unit, limited
    by the sponsor's cap per contributor (less what this contributor already
    received) and by what is left of its cap for the offering."""
    q = quantum(currency)
    result = {}
    for pool in pools:
        match = (contribution * pool.ratio).quantize(q, rounding=ROUND_DOWN)
        if pool.cap_per_contributor is not None:
            match = min(
                match, max(pool.cap_per_contributor - already_by_pool.get(pool.pk, 0), Decimal("0"))
            )
        match = min(match, max(pool.cap_per_offering - pool.committed, Decimal("0")))
        if match > 0:
            result[pool.pk] = match
    return result


def _allocate_matching(pledge: Pledge) -> Decimal:
    """Allocate sponsors' matches to a paid pledge; returns the total matched."""
    pools = list(
        MatchingPool.objects.select_for_update().filter(offering=pledge.offering_id).order_by("pk")
    )
    if not pools:
        return Decimal("0")
    already = dict(
        MatchAllocation.objects.filter(
            pledge__investor=pledge.investor_id, pool__in=pools, released=False
        )
        .values("pool")
        .annotate(total=Sum("amount"))
        .values_list("pool", "total")
    )
    amounts = match_amounts(
        contribution=pledge.amount, pools=pools, already_by_pool=already, currency=pledge.currency
    )
    escrow = escrow_account(pledge.offering)
    for pool in pools:
        amount = amounts.get(pool.pk)
        if not amount:
            continue
        MatchAllocation.objects.create(pool=pool, pledge=pledge, amount=amount)
        pool.committed += amount
        pool.save(update_fields=["committed"])
        money = Money(amount, pledge.currency)
        post_transaction(
            idempotency_key=f"match:{pool.pk}:{pledge.pk}",
            kind="matching",
            legs=[(matching_account(pool, pledge.currency), -money), (escrow, money)],
            memo=f"{pool.sponsor} matches pledge {pledge.pk}",
        )
    return sum(amounts.values(), Decimal("0"))


def project_add_funding(project_id: int | None, amount: Decimal) -> None:
    """Add newly paid money to the catalogue's funding figures in one UPDATE
    (atomic in the database, so concurrent payments never lose one)."""
    from django.db.models import Case, DecimalField, F, IntegerField, When
    from django.db.models.functions import Cast, Floor

    from projects.models import Project

    if project_id is None or not amount:
        return
    raised = F("amount_raised") + amount
    percent = Cast(
        Floor(
            Cast(raised * 100, DecimalField(max_digits=20, decimal_places=4)) / F("funding_sought")
        ),
        IntegerField(),
    )
    Project.objects.filter(pk=project_id).update(
        amount_raised=raised,
        funded_percent=Case(When(funding_sought__gt=0, then=percent), default=0),
    )


@transaction.atomic
def project_refresh_funding(project_id: int | None) -> None:
    """Keep the catalogue's denormalised funding figures in step with paid
    pledges (in the offerings' currency; matching included)."""
    from projects.models import Project

    if project_id is None:
        return
    # Lock the project row first, so two payments landing at once cannot each
    # write a total that misses the other's pledge.
    project = (
        Project.objects.select_for_update().filter(pk=project_id).only("funding_sought").first()
    )
    if project is None:
        return
    offerings = Offering.objects.filter(project_id=project_id)
    paid = Pledge.objects.filter(offering__in=offerings, status=Pledge.Status.PAID).aggregate(
        total=Sum("amount")
    )["total"] or Decimal("0")
    matched = MatchAllocation.objects.filter(
        pledge__offering__in=offerings, released=False
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    raised = paid + matched
    sought = project.funding_sought or Decimal("0")
    percent = int(raised * 100 / sought) if sought else 0
    Project.objects.filter(pk=project_id).update(amount_raised=raised, funded_percent=percent)


# --- Cancelling and refunding ------------------------------------------------------------------


def pledge_cancel(*, pledge: Pledge, by, to_wallet: bool = False) -> Pledge:
    """The investor cancels: pending pledges any time; paid ones without a
    reason during the reflection period, with a full refund (fee included)."""
    if pledge.investor_id != by.pk:
        raise PledgeRefused(_("This is not your pledge."))
    if pledge.status == Pledge.Status.PAID and not pledge.in_reflection_period():
        raise PledgeRefused(_("The reflection period of this pledge is over."))
    if pledge.offering.status != Offering.Status.OPEN and pledge.status == Pledge.Status.PAID:
        raise PledgeRefused(_("This offering has closed; pledges can no longer be cancelled."))
    with transaction.atomic():
        was_paid = Pledge.objects.get(pk=pledge.pk).status == Pledge.Status.PAID
        pledge = _release(
            pledge,
            Pledge.Status.REFUNDED if was_paid else Pledge.Status.CANCELLED,
            actor=by,
            reason="investor cancelled",
        )
        if was_paid:
            refund_pledge(pledge=pledge, to_wallet=to_wallet, reason="reflection period")
    return pledge


@transaction.atomic
def refund_pledge(*, pledge: Pledge, to_wallet: bool = False, reason: str = "") -> None:
    """Give back everything a paid pledge brought in: the investor's money
    (fee included) through the provider or to the wallet, and any matching
    to its pools. Idempotent per pledge."""
    from .offerings import Refund
    from .payments import provider_for

    currency = pledge.currency
    escrow = escrow_account(pledge.offering)
    for allocation in MatchAllocation.objects.select_for_update().filter(
        pledge=pledge, released=False
    ):
        money = Money(allocation.amount, currency)
        post_transaction(
            idempotency_key=f"match:{allocation.pool_id}:{pledge.pk}:returned",
            kind="matching.returned",
            legs=[(escrow, -money), (matching_account(allocation.pool, currency), money)],
        )
        MatchingPool.objects.filter(pk=allocation.pool_id).update(
            committed=F("committed") - allocation.amount
        )
        allocation.released = True
        allocation.save(update_fields=["released"])
    for payment in pledge.payments.select_for_update().filter(status=Payment.Status.SUCCEEDED):
        left = payment.captured_minor - payment.refunded_minor
        if left <= 0:
            continue
        gross = Money.from_minor(left, currency)
        fee = min(Money(pledge.fee, currency).quantize(), gross)
        destination = Refund.Destination.WALLET if to_wallet else Refund.Destination.PROVIDER
        target = (
            wallet_account(pledge.investor, currency) if to_wallet else external_account(currency)
        )
        refund, created = Refund.objects.get_or_create(
            idempotency_key=f"refund:payment:{payment.pk}:{left}",
            defaults={
                "payment": payment,
                "amount_minor": left,
                "destination": destination,
                "reason": reason[:200],
            },
        )
        # A retry after a failed provider call asks again; the stable
        # idempotency key stops the provider from refunding twice.
        if not to_wallet and not refund.provider_reference:
            refund.provider_reference = provider_for(payment.provider).refund(
                payment=payment, amount_minor=left, idempotency_key=refund.idempotency_key
            )
            refund.save(update_fields=["provider_reference"])
        post_transaction(
            idempotency_key=refund.idempotency_key,
            kind="refund",
            legs=[
                (escrow, -(gross - fee)),
                *([(fees_account(currency), -fee)] if fee.amount else []),
                (target, gross),
            ],
            memo=f"refund of pledge {pledge.pk} ({destination})",
        )
        payment.refunded_minor += left
        payment.save(update_fields=["refunded_minor"])
    project_refresh_funding(pledge.offering.project_id)


# --- Closing and disbursing ------------------------------------------------------------------------


def offering_open(*, offering: Offering, by) -> Offering:
    offering.full_clean()
    with transaction.atomic():
        locked = Offering.objects.select_for_update().get(pk=offering.pk)
        if locked.status != Offering.Status.DRAFT:
            raise FinanceError(_("Only a draft offering can be opened."))
        locked.status = Offering.Status.OPEN
        locked.save(update_fields=["status"])
        AuditEntry.record(
            actor=by, action="offering.open", obj=locked, from_state="draft", to_state="open"
        )
    return locked


def offering_close(*, offering: Offering, now: datetime.datetime | None = None) -> Offering:
    """Close an offering at its closing date (or when a hard cap is reached).

    All-or-nothing below target: every paid pledge is refunded automatically.
    Otherwise escrow moves to the project payable, awaiting disbursement."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_offering(offering.pk)
        if locked.status != Offering.Status.OPEN:
            return locked
        full = locked.hard_cap is not None and locked.reserved >= locked.hard_cap
        if now < locked.closes_at and not full:
            return locked
        for pledge in Pledge.objects.filter(offering=locked, status=Pledge.Status.PENDING):
            _release(
                pledge,
                Pledge.Status.EXPIRED,
                reason="offering closed",
                only_from=(Pledge.Status.PENDING,),
            )
        locked.refresh_from_db()
        paid = locked.pledges.filter(status=Pledge.Status.PAID).aggregate(s=Sum("amount"))["s"]
        paid = paid or Decimal("0")
        succeeded = (
            paid >= locked.target or locked.funding_rule == Offering.FundingRule.KEEP_WHAT_YOU_RAISE
        )
        if succeeded and paid > 0:
            from .ledger import balance

            escrow = escrow_account(locked)
            held = balance(escrow)
            if held.amount:
                post_transaction(
                    idempotency_key=f"offering:{locked.pk}:close",
                    kind="offering.close",
                    legs=[(escrow, -held), (payable_account(locked), held)],
                )
            locked.status = Offering.Status.SUCCEEDED
        else:
            for pledge in Pledge.objects.filter(offering=locked, status=Pledge.Status.PAID):
                released = _release(
                    pledge,
                    Pledge.Status.REFUNDED,
                    reason="target missed",
                    only_from=(Pledge.Status.PAID,),
                )
                refund_pledge(pledge=released, reason="all-or-nothing target missed")
            locked.status = Offering.Status.FAILED
        locked.save(update_fields=["status"])
        AuditEntry.record(
            actor=None,
            action="offering.close",
            obj=locked,
            from_state="open",
            to_state=locked.status,
        )
    return locked


def disbursement_approve(*, offering: Offering, by):
    """Four eyes: the first staff approval records, the second (a different
    person) posts the payable out to the project."""
    from .ledger import balance
    from .offerings import Disbursement

    with transaction.atomic():
        locked = Offering.objects.select_for_update().get(pk=offering.pk)
        if locked.status != Offering.Status.SUCCEEDED:
            raise FinanceError(_("Only a successful offering can be disbursed."))
        payable = payable_account(locked)
        held = balance(payable)
        disbursement, _created = Disbursement.objects.select_for_update().get_or_create(
            offering=locked, defaults={"amount": held.amount, "requested_by": by}
        )
        if disbursement.first_approver_id is None:
            disbursement.first_approver = by
            disbursement.save(update_fields=["first_approver"])
            AuditEntry.record(actor=by, action="disbursement.first_approval", obj=disbursement)
            return disbursement
        if disbursement.first_approver_id == by.pk:
            raise FinanceError(_("A second, different staff member must approve."))
        if disbursement.status == Disbursement.Status.APPROVED:
            return disbursement
        post_transaction(
            idempotency_key=f"offering:{locked.pk}:disbursement",
            kind="disbursement",
            legs=[(payable, -held), (external_account(locked.currency), held)],
        )
        disbursement.second_approver = by
        disbursement.status = Disbursement.Status.APPROVED
        disbursement.approved_at = timezone.now()
        disbursement.save(update_fields=["second_approver", "status", "approved_at"])
        locked.status = Offering.Status.DISBURSED
        locked.save(update_fields=["status"])
        AuditEntry.record(actor=by, action="disbursement.approved", obj=disbursement)
        # The loan schedule or bond issue is fixed now (the daily task catches up if not).
        from .returns_services import returns_fix_at_disbursement

        transaction.on_commit(lambda: returns_fix_at_disbursement(offering=locked, by=by))
    return disbursement
