"""Returns workflows: fixing loan schedules at disbursement, recording repayments, paying
bond coupons and redemptions, revenue-share reports, and what investors do with their wallet
(reinvest, withdraw).

Every workflow runs in one database transaction: either every ledger posting and every row
it implies is written, or none is. Money shared among investors goes through
:func:`finance.distribution.pro_rata` (largest remainder, parts add up exactly) and is posted
with :func:`finance.ledger.post_many`, so the number of queries grows with the number of
batches, not of investors. Idempotency keys are built from stable ids; running any of these
twice never moves money twice.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import or_

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import AuditEntry
from portal.permissions import Role, has_role, reviewers

from . import references, services
from .distribution import pro_rata
from .exceptions import FinanceError, ScheduleError
from .ledger import (
    DEFAULT_BATCH_SIZE,
    Account,
    Posting,
    Transaction,
    balance,
    post_many,
    post_transaction,
)
from .money import Money
from .offerings import Instrument, Offering, Payment, Pledge
from .returns import (
    BankAccountRegistration,
    BondIssue,
    CouponRun,
    Distribution,
    DistributionLine,
    Installment,
    LoanCardPayment,
    LoanSchedule,
    PayoutRequest,
    Repayment,
    RepaymentAllocation,
    RevenueReport,
)
from .schedules import LoanKind, bond_redemption, loan_schedule

# --- Errors (messages are safe to show) -------------------------------------------------------


class ReturnsError(FinanceError):
    """A returns workflow refused; ``str(error)`` is a message for the person who asked."""


class ScheduleRefused(ReturnsError):
    """The terms do not make a schedule (zero tenor, maturity before issue...)."""


class RepaymentRefused(ReturnsError):
    pass


class CouponRunRefused(ReturnsError):
    pass


class CouponRunAlreadyDone(CouponRunRefused):
    """A coupon run was asked for a date whose coupon was already paid; nothing was posted.
    ``run`` is the run that paid it."""

    def __init__(self, message, *, run: CouponRun) -> None:
        super().__init__(message)
        self.run = run


class RevenueReportRefused(ReturnsError):
    """A revenue report or a revenue-share payment was refused. ``field`` names the form
    field the message belongs to (empty when it concerns the whole report)."""

    def __init__(self, message, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class WalletRefused(ReturnsError):
    pass


# --- Accounts and holders -----------------------------------------------------------------------


def _excess(offering: Offering) -> dict:
    return {
        "kind": Account.Kind.SUSPENSE,
        "key": f"excess:offering:{offering.pk}",
        "currency": offering.currency,
    }


def excess_account(offering: Offering) -> Account:
    """Money received for an offering beyond what was due, held for staff to decide on."""
    return Account.get_or_create_for(**_excess(offering))


def _lock_excess_account(offering: Offering) -> Account:
    """The offering's excess account, locked as the ledger locks an account it spends
    from, so that whatever sends held money back decides under that lock, before posting:
    a second request for the same money waits here, then sees the first one's."""
    held_on = excess_account(offering)
    Account.objects.select_for_update(no_key=True).filter(pk=held_on.pk).exists()
    return held_on


def _excess_legs(offering: Offering):
    from .ledger import Leg

    return Leg.objects.filter(
        **{f"account__{field}": value for field, value in _excess(offering).items()}
    )


def excess_held(offering: Offering) -> Money:
    """What the offering's excess account holds now, summed from its legs in one query:
    zero if nothing was ever held (the account need not exist)."""
    total = _excess_legs(offering).aggregate(total=Sum("amount_minor"))["total"]
    return Money.from_minor(total or 0, offering.currency)


def excess_held_history(offering: Offering) -> list:
    """The movements of the offering's excess account, oldest first: legs with their
    transaction (its kind, memo and date); an empty list if nothing was ever held."""
    return list(
        _excess_legs(offering)
        .select_related("transaction")
        .order_by("transaction__created_at", "pk")
    )


class HeldMoneyRefused(ReturnsError):
    pass


@dataclass(frozen=True)
class HeldMoneyReturned:
    """The ledger transaction that sent held money back, and whether this call recorded it
    (False: the same reference had been recorded before, and nothing moved again)."""

    transaction: Transaction
    recorded: bool


def excess_return(
    *, offering: Offering, amount: Money, sent_on: datetime.date, reference: str, by
) -> HeldMoneyReturned:
    """Staff record that they sent money held for an offering (paid beyond what was due, or
    paid after the loan could no longer take it) back to whoever paid it, by bank transfer
    quoting ``reference``: it leaves the excess account for the outside world. The same
    reference twice records the money once (the first transaction is returned); the same
    reference for another amount is refused, as is more than is held (the ledger's
    overdraft check, under the account's lock), another currency, or someone without the
    reviewer role."""
    from .ledger import IdempotencyConflict, InsufficientFunds

    if not has_role(by, Role.REVIEWER):
        raise HeldMoneyRefused(_("Only staff send held money back."))
    if amount.currency != offering.currency:
        raise HeldMoneyRefused(
            _("The money is held in %(currency)s: send it back in %(currency)s.")
            % {"currency": offering.currency}
        )
    if amount.amount <= 0 or amount.quantize() != amount:
        raise HeldMoneyRefused(_("Enter an amount greater than zero, in whole minor units."))
    reference = " ".join((reference or "").split())
    if not reference:
        raise HeldMoneyRefused(_("Enter the reference of the transfer that sent it back."))
    key = f"excess:{offering.pk}:returned:{reference}"[:200]
    try:
        with transaction.atomic():
            held_on = _lock_excess_account(offering)
            recorded_before = Transaction.objects.filter(idempotency_key=key).exists()
            posted = post_transaction(
                idempotency_key=key,
                kind="returns.excess_returned",
                legs=[
                    (held_on, -amount),
                    (services.external_account(amount.currency), amount),
                ],
                memo=f"held money sent back on {sent_on.isoformat()}, reference {reference}",
                created_by=by,
            )
            if not recorded_before:
                AuditEntry.record(
                    actor=by,
                    action="returns.excess_returned",
                    obj=offering,
                    reason=reference,
                    data={"amount": str(amount.amount), "sent_on": sent_on.isoformat()},
                )
    except InsufficientFunds as error:
        raise HeldMoneyRefused(
            _("Only %(held)s is held for this offering.")
            % {"held": Money(error.balance.amount, amount.currency).localized()}
        ) from error
    except IdempotencyConflict as error:
        raise HeldMoneyRefused(
            _("The reference %(reference)s was already recorded for another amount.")
            % {"reference": reference}
        ) from error
    return HeldMoneyReturned(transaction=posted, recorded=not recorded_before)


def _card_held_minor(card_payment: LoanCardPayment) -> int:
    """What of a succeeded card payment was held for review, in minor units: all of it
    when the loan could no longer take it, else what it paid beyond what was due."""
    if card_payment.held_reason:
        return card_payment.amount_minor
    if card_payment.repayment_id and card_payment.repayment.excess:
        return Money(card_payment.repayment.excess, card_payment.currency).minor_units
    return 0


def card_payments_holding(offering: Offering) -> list[LoanCardPayment]:
    """The offering's card payments with held money that can still go back to the card,
    oldest first, each with ``refundable`` (a Money): what was held of it and not yet
    refunded. One query."""
    found = (
        LoanCardPayment.objects.filter(offering=offering, status=LoanCardPayment.Status.SUCCEEDED)
        .filter(~Q(held_reason="") | Q(repayment__excess__gt=0))
        .select_related("repayment")
        .order_by("created_at", "pk")
    )
    holding = []
    for card_payment in found:
        left = _card_held_minor(card_payment) - card_payment.refunded_minor
        if left > 0:
            card_payment.refundable = Money.from_minor(left, card_payment.currency)
            holding.append(card_payment)
    return holding


def excess_refund_to_card(*, card_payment: LoanCardPayment, by) -> Money:
    """Send back to the card what is still held of a card payment (a repayment beyond what
    was due, or one made after the loan was written off), never more than the offering's
    excess account holds; returns what went back.

    One transaction holds the excess account's lock (`_lock_excess_account`) and the card
    payment's while Stripe is asked, then posts the
    refund out of the excess account through Stripe's clearing account and adds it to the
    card payment's ``refunded_minor`` (which the database keeps within what the card
    paid). The idempotency key, with Stripe and in the ledger, names the card payment, what
    it had refunded before and the amount: a retry after a crash gets the same refund back
    and records it once. When Stripe refuses or cannot be reached, nothing is recorded and
    HeldMoneyRefused says why; so it does for someone without the reviewer role, or when
    nothing of the payment is left to send back."""
    from .payments import PaymentError, provider_for
    from .payments.stripe_provider import StripeProvider

    if not has_role(by, Role.REVIEWER):
        raise HeldMoneyRefused(_("Only staff send held money back."))
    with transaction.atomic():
        offering = card_payment.offering
        held_on = _lock_excess_account(offering)
        locked = (
            LoanCardPayment.objects.select_for_update(of=("self",))
            .select_related("repayment", "payer", "offering")
            .get(pk=card_payment.pk)
        )
        left = 0
        if locked.status == LoanCardPayment.Status.SUCCEEDED:
            left = min(
                _card_held_minor(locked) - locked.refunded_minor,
                excess_held(offering).minor_units,
            )
        if left <= 0:
            raise HeldMoneyRefused(_("Nothing held of this card payment is left to send back."))
        key = f"loancard:{locked.pk}:refund:{locked.refunded_minor}:{left}"
        try:
            reference = provider_for(StripeProvider.name).refund(
                payment=locked, amount_minor=left, idempotency_key=key
            )
        except PaymentError as error:
            raise HeldMoneyRefused(
                _("The card refund did not go through: %(reason)s Nothing was recorded.")
                % {"reason": error.user_message or str(error)}
            ) from error
        money = Money.from_minor(left, locked.currency)
        post_transaction(
            idempotency_key=key,
            kind="returns.excess_refunded_to_card",
            legs=[
                (held_on, -money),
                (services.clearing_account(StripeProvider.name, locked.currency), money),
            ],
            memo=f"held money of loan card payment {locked.pk} refunded to the card ({reference})",
            created_by=by,
        )
        locked.refunded_minor += left
        locked.save(update_fields=["refunded_minor", "updated_at"])
        AuditEntry.record(
            actor=by,
            action="returns.excess_refunded_to_card",
            obj=offering,
            reason=reference,
            data={"card_payment": locked.pk, "amount": str(money.amount)},
        )
        _tell_payer_of_card_refund(locked, money)
    return money


def _tell_payer_of_card_refund(card_payment: LoanCardPayment, money: Money) -> None:
    """Tell whoever paid, in their language and by email (once the refund is committed),
    what went back to their card; the card payment's page says it too."""
    from django.urls import reverse
    from django.utils import translation

    from portal.notifications import notify

    payer = card_payment.payer
    with translation.override(payer.preferred_language or "en"):
        params = {"amount": money.localized(), "loan": card_payment.offering.title}
        url = reverse("returns:loan_card_payment", args=[card_payment.offering_id, card_payment.pk])
    notify(
        [payer],
        verb="loan.card_refund",
        message=_(
            "%(amount)s held from your card payment for %(loan)s went back to your card. "
            "It can take a few days to show on your statement."
        ),
        params=params,
        url=url,
    )


def payout_hold_account(user, currency: str) -> Account:
    """Withdrawals requested and not yet approved: out of the wallet, not yet paid out."""
    return Account.get_or_create_for(
        kind=Account.Kind.REFUNDS_PAYABLE, key=f"payouts:user:{user.pk}", currency=currency
    )


def wallets_for(user_ids: Sequence[int], currency: str) -> dict[int, Account]:
    """The wallet account of each user in ``currency``, creating the missing ones in bulk.

    One query per batch to read, one to insert, one to read back: distributing to 20,000
    holders must not cost 20,000 get_or_create calls."""
    currency = Money.zero(currency).currency
    keys = {f"user:{pk}": pk for pk in user_ids}
    found: dict[int, Account] = {}

    def read(batch_keys):
        for account in Account.objects.filter(
            kind=Account.Kind.INVESTOR_WALLET, currency=currency, key__in=batch_keys
        ):
            found[keys[account.key]] = account

    all_keys = list(keys)
    for start in range(0, len(all_keys), DEFAULT_BATCH_SIZE):
        read(all_keys[start : start + DEFAULT_BATCH_SIZE])
    missing = [key for key, pk in keys.items() if pk not in found]
    if missing:
        Account.objects.bulk_create(
            [
                Account(
                    kind=Account.Kind.INVESTOR_WALLET,
                    key=key,
                    currency=currency,
                    user_id=keys[key],
                    allow_negative=False,
                )
                for key in missing
            ],
            batch_size=DEFAULT_BATCH_SIZE,
            ignore_conflicts=True,  # a wallet created concurrently is read back below
        )
        for start in range(0, len(missing), DEFAULT_BATCH_SIZE):
            read(missing[start : start + DEFAULT_BATCH_SIZE])
    return found


def holdings_of(offering: Offering) -> list[tuple[int, Decimal]]:
    """(investor id, amount paid in) for every investor with a paid pledge, lowest id first.

    Stable order matters: pro_rata breaks remainder ties by position."""
    rows = (
        Pledge.objects.filter(offering=offering, status=Pledge.Status.PAID)
        .values("investor_id")
        .annotate(total=Sum("amount"))
        .order_by("investor_id")
        .values_list("investor_id", "total")
    )
    return [(investor_id, total) for investor_id, total in rows if total > 0]


def _distribute(
    *,
    offering: Offering,
    kind: str,
    source_key: str,
    paid_on: datetime.date,
    income: Money,
    principal: Money,
    source: Account,
    holdings: list[tuple[int, Decimal | int]] | None = None,
    memo: str = "",
) -> Distribution:
    """Share ``income`` and ``principal`` among the offering's holders pro rata and post each
    investor's part from ``source`` to their wallet. Call inside a transaction."""
    holdings = holdings if holdings is not None else holdings_of(offering)
    if not holdings:
        raise ReturnsError(_("This offering has no paid investors to distribute to."))
    zero = Money.zero(offering.currency)
    incomes = pro_rata(income, holdings) if income.amount else [(k, zero) for k, _w in holdings]
    principals = (
        pro_rata(principal, holdings) if principal.amount else [(k, zero) for k, _w in holdings]
    )
    distribution = Distribution.objects.create(
        offering=offering,
        kind=kind,
        source_key=source_key,
        paid_on=paid_on,
        currency=offering.currency,
        income=income.amount,
        principal=principal.amount,
    )
    wallets = wallets_for([investor_id for investor_id, _w in holdings], offering.currency)
    lines = []
    postings = []
    for (investor_id, part_income), (_same, part_principal) in zip(
        incomes, principals, strict=True
    ):
        total = part_income + part_principal
        if not total.amount:
            continue
        lines.append(
            DistributionLine(
                distribution=distribution,
                investor_id=investor_id,
                income=part_income.amount,
                principal=part_principal.amount,
            )
        )
        postings.append(
            Posting(
                idempotency_key=f"{source_key}:investor:{investor_id}",
                kind=f"returns.{kind}",
                legs=((source, -total), (wallets[investor_id], total)),
                memo=memo,
            )
        )
    DistributionLine.objects.bulk_create(lines, batch_size=DEFAULT_BATCH_SIZE)
    post_many(postings)
    return distribution


# --- Loans ------------------------------------------------------------------------------------


def _schedule_installments(schedule: LoanSchedule) -> list[Installment]:
    try:
        lines = loan_schedule(
            Money(schedule.principal, schedule.currency),
            annual_rate=schedule.annual_rate,
            periods=schedule.periods,
            periods_per_year=schedule.periods_per_year,
            kind=LoanKind(schedule.kind),
            start_date=schedule.start_date,
        )
    except (ScheduleError, ValueError, TypeError) as error:
        raise ScheduleRefused(
            _("These terms do not make a repayment schedule: %(reason)s") % {"reason": error}
        ) from error
    return [
        Installment(
            schedule=schedule,
            number=line.number,
            due_date=line.due_date,
            opening_balance=line.opening_balance.amount,
            interest=line.interest.amount,
            principal=line.principal.amount,
            payment=line.payment.amount,
            closing_balance=line.closing_balance.amount,
        )
        for line in lines
    ]


def _loan_periods(offering: Offering) -> int:
    months = offering.tenor_months or 0
    per_year = offering.periods_per_year or 0
    if months < 1 or per_year < 1:
        raise ScheduleRefused(_("These terms do not make a repayment schedule: zero tenor."))
    periods, rest = divmod(months * per_year, 12)
    if rest or periods < 1:
        raise ScheduleRefused(
            _(
                "These terms do not make a repayment schedule: a tenor of %(months)d months "
                "is not a whole number of periods at %(per_year)d payments a year."
            )
            % {"months": months, "per_year": per_year}
        )
    return periods


def current_schedule(offering: Offering) -> LoanSchedule | None:
    return (
        LoanSchedule.objects.filter(offering=offering)
        .exclude(status=LoanSchedule.Status.SUPERSEDED)
        .first()
    )


def loan_fix_schedule(
    *, offering: Offering, start_date: datetime.date | None = None, by=None
) -> LoanSchedule:
    """Fix the repayment schedule of a disbursed loan from its terms and the amount disbursed.

    Idempotent: a loan that already has a schedule returns its current one. Raises
    ScheduleRefused when the terms make no schedule."""
    if offering.instrument != Instrument.LOAN:
        raise ScheduleRefused(_("Only a loan has a repayment schedule."))
    existing = current_schedule(offering)
    if existing is not None:
        return existing
    disbursement = getattr(offering, "disbursement", None)
    if offering.status != Offering.Status.DISBURSED or disbursement is None:
        raise ScheduleRefused(_("The schedule is fixed when the loan is disbursed."))
    start_date = start_date or timezone.localdate(disbursement.approved_at or timezone.now())
    principal = Money(disbursement.amount, offering.currency)
    with transaction.atomic():
        Offering.objects.select_for_update().get(pk=offering.pk)
        existing = current_schedule(offering)
        if existing is not None:
            return existing
        schedule = LoanSchedule(
            offering=offering,
            version=1,
            principal=principal.amount,
            currency=offering.currency,
            annual_rate=offering.annual_rate if offering.annual_rate is not None else Decimal(-1),
            periods=_loan_periods(offering),
            periods_per_year=offering.periods_per_year,
            kind=offering.schedule_type,
            start_date=start_date,
            created_by=by,
        )
        installments = _schedule_installments(schedule)  # refuses before anything is saved
        schedule.save()
        Installment.objects.bulk_create(installments)
        AuditEntry.record(actor=by, action="loan.schedule_fixed", obj=schedule, to_state="active")
    return schedule


def loan_arrears(schedule: LoanSchedule, on: datetime.date) -> Decimal:
    """What was due on or before ``on`` and is still unpaid."""
    return sum(
        (i.outstanding for i in schedule.installments.all() if i.due_date <= on and not i.is_paid),
        Decimal("0"),
    )


def loan_repayment_reference(offering: Offering) -> str:
    """The ISO 11649 structured creditor reference (RF + check digits) the entrepreneur
    quotes on a bank transfer repaying this loan. Derived from the offering's id: it never
    changes and needs no storage."""
    return references.structured_reference(references.LOAN_REPAYMENT, offering.pk)


def loan_for_repayment_reference(reference: str) -> Offering | None:
    """The loan whose repayment reference is ``reference`` (compact form), or None."""
    number = references.number_in_reference(reference, references.LOAN_REPAYMENT)
    if number is None:
        return None
    return Offering.objects.filter(pk=number, instrument=Instrument.LOAN).first()


def loan_amount_due_next(schedule: LoanSchedule, on: datetime.date) -> Decimal:
    """What the entrepreneur should pay now: everything overdue on ``on``, or when nothing
    is, the next installment's outstanding part (the order `repayment_record` applies)."""
    installments = sorted(schedule.installments.all(), key=lambda i: i.number)
    unpaid = [i for i in installments if not i.is_paid]
    due = [i for i in unpaid if i.due_date <= on] or unpaid[:1]
    return sum((i.outstanding for i in due), Decimal("0"))


def repayment_record(
    *,
    offering: Offering,
    amount: Money,
    received_on: datetime.date,
    idempotency_key: str,
    method: str = Repayment.Method.BANK_TRANSFER,
    reference: str = "",
    by=None,
    source: Account | None = None,
) -> Repayment:
    """Apply money the entrepreneur paid to the loan's current schedule and distribute it.

    The amount pays the oldest unpaid installments first, interest before principal, among the
    installments due on or before ``received_on`` (or, when none is, the next one: paying
    early). What is left over is excess: held on a suspense account and shown, never lost.
    Less than what is due leaves an installment partly paid and the rest in arrears.
    Interest and principal are shared among the lenders pro rata to what they lent.

    Refused with RepaymentRefused: another currency than the loan's (with the reason), a loan
    written off or without a schedule, an amount not above zero. The same
    ``idempotency_key`` returns the first repayment.

    ``source`` is the account the money came in through, debited by every posting: the
    outside world (a bank transfer) unless told otherwise; a card repayment comes from the
    card provider's clearing account."""
    existing = Repayment.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.offering_id != offering.pk:
            # A key is one repayment of one loan: never answer with another loan's.
            raise RepaymentRefused(
                _("This entry was already used for another loan: reload the page and try again.")
            )
        return existing
    if not isinstance(amount, Money):
        raise TypeError("amount must be Money")
    if amount.currency != offering.currency:
        raise RepaymentRefused(
            _(
                "This payment is in %(paid)s but the loan is repaid in %(loan)s. It was not "
                "recorded; return it to the payer or convert it first."
            )
            % {"paid": amount.currency, "loan": offering.currency}
        )
    if amount.amount <= 0 or amount.quantize() != amount:
        raise RepaymentRefused(
            _("Enter an amount above zero in whole %(currency)s minor units.")
            % {"currency": offering.currency}
        )
    with transaction.atomic():
        schedule = (
            LoanSchedule.objects.select_for_update()
            .filter(offering=offering)
            .exclude(status=LoanSchedule.Status.SUPERSEDED)
            .first()
        )
        if schedule is None:
            raise RepaymentRefused(_("This loan has no repayment schedule yet."))
        existing = Repayment.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:  # a concurrent twin won the lock first
            return existing
        if schedule.status == LoanSchedule.Status.WRITTEN_OFF:
            raise RepaymentRefused(
                _(
                    "This loan was written off; a repayment cannot be applied to it. "
                    "Staff have to review the money received."
                )
            )
        unpaid = [i for i in schedule.installments.order_by("number") if not i.is_paid]
        due = [i for i in unpaid if i.due_date <= received_on] or unpaid[:1]
        left = amount.amount
        interest_part = principal_part = Decimal("0")
        allocations = []
        for installment in due:
            if not left:
                break
            to_interest = min(left, installment.interest - installment.interest_paid)
            left -= to_interest
            to_principal = min(left, installment.principal - installment.principal_paid)
            left -= to_principal
            if not (to_interest or to_principal):
                continue
            installment.interest_paid += to_interest
            installment.principal_paid += to_principal
            if installment.is_paid:
                installment.paid_on = received_on
            interest_part += to_interest
            principal_part += to_principal
            allocations.append((installment, to_interest, to_principal))
        excess = left
        if allocations:
            Installment.objects.bulk_update(
                [i for i, _interest, _principal in allocations],
                ["interest_paid", "principal_paid", "paid_on"],
            )
        repayment = Repayment.objects.create(
            offering=offering,
            schedule=schedule,
            amount=amount.amount,
            currency=amount.currency,
            received_on=received_on,
            interest_part=interest_part,
            principal_part=principal_part,
            excess=excess,
            arrears_after=sum(
                (i.outstanding for i in unpaid if i.due_date <= received_on), Decimal("0")
            ),
            method=method,
            reference=reference[:100],
            idempotency_key=idempotency_key,
            recorded_by=by,
        )
        RepaymentAllocation.objects.bulk_create(
            RepaymentAllocation(
                repayment=repayment,
                installment=installment,
                interest=to_interest,
                principal=to_principal,
                days_late=max((received_on - installment.due_date).days, 0),
            )
            for installment, to_interest, to_principal in allocations
        )
        source = source or services.external_account(offering.currency)
        if interest_part or principal_part:
            repayment.distribution = _distribute(
                offering=offering,
                kind=Distribution.Kind.LOAN_REPAYMENT,
                source_key=f"repayment:{repayment.pk}",
                paid_on=received_on,
                income=Money(interest_part, amount.currency),
                principal=Money(principal_part, amount.currency),
                source=source,
                memo=f"loan repayment {repayment.pk} of offering {offering.pk}",
            )
            repayment.save(update_fields=["distribution"])
        if excess:
            held = Money(excess, amount.currency)
            post_transaction(
                idempotency_key=f"repayment:{repayment.pk}:excess",
                kind="returns.excess_held",
                legs=[(source, -held), (excess_account(offering), held)],
                memo=f"repayment {repayment.pk}: more than was due, held for review",
            )
        if all(i.is_paid for i in schedule.installments.all()):
            schedule.status = LoanSchedule.Status.REPAID
            schedule.save(update_fields=["status"])
        AuditEntry.record(
            actor=by,
            action="loan.repayment",
            obj=repayment,
            data={
                "interest": str(interest_part),
                "principal": str(principal_part),
                "excess": str(excess),
                "arrears_after": str(repayment.arrears_after),
            },
        )
    return repayment


def loan_restructure(
    *,
    offering: Offering,
    by,
    reason: str,
    annual_rate: Decimal,
    periods: int,
    periods_per_year: int,
    kind: str,
    start_date: datetime.date,
) -> LoanSchedule:
    """Replace the current schedule with a new version over what is still owed: the
    outstanding principal plus the interest already due and unpaid (capitalised). The old
    version is kept, marked superseded. Raises ScheduleRefused for terms making no schedule."""
    if not has_role(by, Role.REVIEWER):
        raise ScheduleRefused(_("Only staff restructure a loan."))
    if not reason.strip():
        raise ScheduleRefused(_("Give the reason for the restructure."))
    with transaction.atomic():
        old = (
            LoanSchedule.objects.select_for_update()
            .filter(offering=offering)
            .exclude(status=LoanSchedule.Status.SUPERSEDED)
            .first()
        )
        if old is None or old.status != LoanSchedule.Status.ACTIVE:
            raise ScheduleRefused(_("Only a loan being repaid can be restructured."))
        installments = list(old.installments.all())
        owed = sum((i.principal - i.principal_paid for i in installments), Decimal("0"))
        owed += sum(
            (i.interest - i.interest_paid for i in installments if i.due_date <= start_date),
            Decimal("0"),
        )
        new = LoanSchedule(
            offering=offering,
            version=old.version + 1,
            principal=owed,
            currency=old.currency,
            annual_rate=annual_rate,
            periods=periods,
            periods_per_year=periods_per_year,
            kind=kind,
            start_date=start_date,
            reason=reason,
            created_by=by,
        )
        if owed <= 0:
            raise ScheduleRefused(_("Nothing is owed on this loan any more."))
        new_installments = _schedule_installments(new)
        old.status = LoanSchedule.Status.SUPERSEDED
        old.closed_at = timezone.now()
        old.save(update_fields=["status", "closed_at"])
        new.save()
        Installment.objects.bulk_create(new_installments)
        AuditEntry.record(
            actor=by,
            action="loan.restructured",
            obj=new,
            from_state=f"v{old.version}",
            to_state=f"v{new.version}",
            reason=reason,
        )
    return new


def loan_write_off(*, offering: Offering, by, reason: str) -> LoanSchedule:
    """Stop expecting repayments: the loan is shown as defaulted to lenders, and later
    repayments are refused for staff review. Idempotent."""
    if not has_role(by, Role.REVIEWER):
        raise ReturnsError(_("Only staff write off a loan."))
    if not reason.strip():
        raise ReturnsError(_("Give the reason for the write-off."))
    with transaction.atomic():
        schedule = (
            LoanSchedule.objects.select_for_update()
            .filter(offering=offering)
            .exclude(status=LoanSchedule.Status.SUPERSEDED)
            .first()
        )
        if schedule is None:
            raise ReturnsError(_("This loan has no repayment schedule."))
        if schedule.status == LoanSchedule.Status.WRITTEN_OFF:
            return schedule
        if schedule.status == LoanSchedule.Status.REPAID:
            raise ReturnsError(_("A repaid loan cannot be written off."))
        before = schedule.status
        schedule.status = LoanSchedule.Status.WRITTEN_OFF
        schedule.closed_at = timezone.now()
        schedule.save(update_fields=["status", "closed_at"])
        AuditEntry.record(
            actor=by,
            action="loan.written_off",
            obj=schedule,
            from_state=before,
            to_state=schedule.status,
            reason=reason,
        )
    return schedule


# --- Loans repaid by card -----------------------------------------------------------------------


def loan_outstanding(schedule: LoanSchedule) -> Decimal:
    """Everything still owed on the schedule, due or not: the most one card payment takes."""
    return sum((i.outstanding for i in schedule.installments.all() if not i.is_paid), Decimal("0"))


def loan_card_schedule(offering: Offering) -> LoanSchedule:
    """The schedule a card repayment of ``offering`` goes to. Raises RepaymentRefused, with
    the reason, when the loan takes none: not a loan, no schedule yet, written off, repaid."""
    if offering.instrument != Instrument.LOAN:
        raise RepaymentRefused(_("Only a loan is repaid."))
    schedule = current_schedule(offering)
    if schedule is None:
        raise RepaymentRefused(_("This loan has no repayment schedule yet."))
    if schedule.status == LoanSchedule.Status.WRITTEN_OFF:
        raise RepaymentRefused(
            _("This loan was written off; it cannot be repaid by card. Please contact us.")
        )
    if schedule.status == LoanSchedule.Status.REPAID:
        raise RepaymentRefused(_("This loan is repaid; nothing is owed any more."))
    return schedule


def loan_card_payment_start(
    *, offering: Offering, payer, amount: Money, idempotency_key: str
) -> LoanCardPayment:
    """Prepare a card repayment of ``amount`` by the loan's entrepreneur: the card payment
    row, then its Stripe PaymentIntent, whose client secret the page hands to Stripe.js.

    Moves no money: the money is recorded when Stripe says the intent succeeded
    (:func:`loan_card_payment_sync`). The same ``idempotency_key`` from the same payer
    returns the same card payment without a second intent; the intent's own Stripe key names
    the card payment, so a retry after a crash finds the intent created the first time.

    Refused with RepaymentRefused: someone other than the project's owner, another currency
    than the loan's, an amount not above zero or not in whole minor units, more than is
    still owed, a loan without a schedule, written off or repaid. PaymentError when Stripe
    refuses or cannot be reached (its ``user_message`` is safe to show)."""
    from .payments.stripe_provider import StripeProvider

    if offering.project_id is None or offering.project.owner_id != payer.pk:
        raise RepaymentRefused(_("Only the entrepreneur repays this loan by card."))
    key = f"user:{payer.pk}:{idempotency_key}"
    card_payment = LoanCardPayment.objects.filter(idempotency_key=key).first()
    if card_payment is None:
        if not isinstance(amount, Money):
            raise TypeError("amount must be Money")
        if amount.currency != offering.currency:
            raise RepaymentRefused(
                _("This loan is repaid in %(loan)s; a payment in %(paid)s cannot be applied.")
                % {"loan": offering.currency, "paid": amount.currency}
            )
        if amount.amount <= 0 or amount.quantize() != amount:
            raise RepaymentRefused(
                _("Enter an amount above zero in whole %(currency)s minor units.")
                % {"currency": offering.currency}
            )
        schedule = loan_card_schedule(offering)
        owed = Money(loan_outstanding(schedule), offering.currency)
        if amount > owed:
            raise RepaymentRefused(
                _("At most %(owed)s is still owed on this loan.") % {"owed": owed.localized()}
            )
        try:
            with transaction.atomic():
                card_payment = LoanCardPayment.objects.create(
                    offering=offering,
                    schedule=schedule,
                    payer=payer,
                    amount_minor=amount.minor_units,
                    currency=amount.currency,
                    idempotency_key=key,
                )
                AuditEntry.record(
                    actor=payer,
                    action="loan.card_payment_started",
                    obj=card_payment,
                    to_state=card_payment.status,
                    data={"amount_minor": card_payment.amount_minor, "currency": amount.currency},
                )
        except IntegrityError:  # the same form sent twice at once: the first one stands
            card_payment = LoanCardPayment.objects.get(idempotency_key=key)
    if card_payment.provider_reference and card_payment.client_secret:
        return card_payment
    intent = StripeProvider().create_loan_repayment_intent(card_payment=card_payment)
    with transaction.atomic():
        card_payment = LoanCardPayment.objects.select_for_update().get(pk=card_payment.pk)
        if not card_payment.provider_reference:
            card_payment.provider_reference = intent.id
            card_payment.client_secret = intent.client_secret
            card_payment.save(update_fields=["provider_reference", "client_secret", "updated_at"])
    return card_payment


#: What an intent's outcome makes of the card payment ("" is nothing decided yet).
_CARD_OUTCOMES = {
    "succeeded": LoanCardPayment.Status.SUCCEEDED,
    "requires_action": LoanCardPayment.Status.PROCESSING,
    "processing": LoanCardPayment.Status.PROCESSING,
    "failed": LoanCardPayment.Status.FAILED,
    "cancelled": LoanCardPayment.Status.CANCELLED,
}


def loan_card_payment_sync(*, card_payment: LoanCardPayment) -> LoanCardPayment:
    """Re-read the card payment's intent from Stripe and apply what it says; when it
    succeeded, record the repayment. Safe to call any number of times, in any order.

    The card payment's row lock is held (with the payment lock timeout) while Stripe is
    asked, so two webhook deliveries apply their reads in the order they made them, and a
    stale read never undoes a fresher one. A succeeded card payment is final and needs no
    call: the repayment is recorded once, in the transaction that marks it succeeded.

    The money came in through Stripe, so every posting debits Stripe's clearing account in
    the loan's currency. When the loan can no longer take a repayment (written off after
    the payment started), the whole amount is held on the loan's excess account for staff
    and the card payment says why. Raises StripeUnavailable when Stripe cannot answer now,
    PaymentError when the intent is not this card payment's (amount, currency, metadata),
    OperationalError when the row lock is not granted in time."""
    from .locks import set_lock_timeout
    from .payments.base import PaymentError
    from .payments.stripe_provider import MESSAGES, StripeProvider

    with transaction.atomic():
        set_lock_timeout()
        locked = (
            LoanCardPayment.objects.select_for_update(of=("self",))
            .select_related("offering")
            .get(pk=card_payment.pk)
        )
        if locked.status == LoanCardPayment.Status.SUCCEEDED or not locked.provider_reference:
            return locked
        intent = StripeProvider().read_intent(locked.provider_reference)
        expected = (locked.provider_reference, locked.amount_minor, locked.currency, str(locked.pk))
        found = (
            intent.id,
            intent.amount_minor,
            intent.currency,
            intent.metadata.get("loan_card_payment"),
        )
        if found != expected:
            raise PaymentError(
                f"intent {found} does not match loan card payment {expected}",
                user_message=str(MESSAGES["refused"]),
            )
        status = _CARD_OUTCOMES.get(intent.outcome)
        message = intent.failure_message[:300]
        if status is None or (status, message) == (locked.status, locked.failure_message):
            return locked
        before = locked.status
        locked.status = status
        locked.failure_message = message
        if status == LoanCardPayment.Status.SUCCEEDED:
            _loan_card_payment_book(locked)
        locked.save(
            update_fields=["status", "failure_message", "repayment", "held_reason", "updated_at"]
        )
        AuditEntry.record(
            actor=None,
            action=f"loan.card_payment_{status}",
            obj=locked,
            from_state=before,
            to_state=status,
            reason=locked.held_reason or locked.failure_message,
            data={"intent": intent.id, "repayment": locked.repayment_id},
        )
    return locked


def _loan_card_payment_book(card_payment: LoanCardPayment) -> None:
    """Record a succeeded card payment: a repayment of the loan, posted from Stripe's
    clearing account, or, when the loan refuses it, the money held on the loan's excess
    account with the reason. Call inside the transaction holding the card payment's lock."""
    from .payments.stripe_provider import StripeProvider

    offering = card_payment.offering
    money = card_payment.money
    clearing = services.clearing_account(StripeProvider.name, card_payment.currency)
    try:
        card_payment.repayment = repayment_record(
            offering=offering,
            amount=money,
            received_on=timezone.localdate(),
            idempotency_key=f"loancard:{card_payment.pk}:repayment",
            method=Repayment.Method.CARD,
            reference=card_payment.provider_reference,
            source=clearing,
        )
    except ReturnsError as refused:
        post_transaction(
            idempotency_key=f"loancard:{card_payment.pk}:held",
            kind="returns.card_repayment_held",
            legs=[(clearing, -money), (excess_account(offering), money)],
            memo=f"loan card payment {card_payment.pk}: not applied, held for review",
        )
        card_payment.held_reason = str(refused)[:300]


def installments_mark_late(*, today: datetime.date | None = None) -> int:
    """Mark installments that passed their due date unpaid, once; returns how many."""
    today = today or timezone.localdate()
    late = [
        installment
        for installment in Installment.objects.filter(
            due_date__lt=today,
            marked_late_on__isnull=True,
            schedule__status=LoanSchedule.Status.ACTIVE,
        ).select_related("schedule")
        if not installment.is_paid
    ]
    for installment in late:
        installment.marked_late_on = today
    Installment.objects.bulk_update(late, ["marked_late_on"], batch_size=1000)
    for installment in late:
        AuditEntry.record(
            actor=None,
            action="loan.installment_late",
            obj=installment,
            data={"offering": installment.schedule.offering_id, "due": str(installment.due_date)},
        )
    return len(late)


# --- Late-payment notices ---------------------------------------------------------------------

#: Days before the due date the entrepreneur is reminded, and days past it after which staff
#: are told as well.
DUE_SOON_DAYS = 3
LONG_LATE_DAYS = 30


class NoticeStage:
    DUE_SOON = "due_soon"
    LATE = "late"
    LONG_LATE = "long_late"


NOTICE_ACTION = "loan.installment_notice"
NOTICE_MESSAGES = {
    NoticeStage.DUE_SOON: _(
        "Installment %(number)s of the loan %(loan)s, %(amount)s, is due on %(due)s."
    ),
    NoticeStage.LATE: _(
        "Installment %(number)s of the loan %(loan)s, %(amount)s, was due on %(due)s and is "
        "not paid yet. Please pay it as soon as you can, or tell us if you cannot."
    ),
    NoticeStage.LONG_LATE: _(
        "Installment %(number)s of the loan %(loan)s is %(days)s days late: %(amount)s was "
        "due on %(due)s. Please contact us to agree on what happens next."
    ),
}
STAFF_LONG_LATE_MESSAGE = _(
    "The loan %(loan)s is %(days)s days late: installment %(number)s, %(amount)s, was due on "
    "%(due)s. Consider a restructure or a write-off."
)


def notice_stage(installment: Installment, today: datetime.date) -> str | None:
    """The notice an unpaid installment calls for today, if any: only the latest stage
    reached, so a loan found 40 days late is not also told it is one day late."""
    days = (today - installment.due_date).days
    if days >= LONG_LATE_DAYS:
        return NoticeStage.LONG_LATE
    if days >= 1:
        return NoticeStage.LATE
    if -DUE_SOON_DAYS <= days <= 0:
        return NoticeStage.DUE_SOON
    return None


def _notify_in_language(user, *, verb: str, message, installment: Installment, today) -> None:
    """One notification, its amount, date and link written in the recipient's language."""
    from django.urls import reverse
    from django.utils import translation
    from django.utils.formats import date_format

    from portal.notifications import notify

    language = user.preferred_language or "en"
    schedule = installment.schedule
    with translation.override(language):
        params = {
            "number": installment.number,
            "loan": schedule.offering.title,
            "amount": Money(installment.outstanding, schedule.currency).localized(),
            "due": date_format(installment.due_date, "DATE_FORMAT"),
            "days": (today - installment.due_date).days,
        }
        url = reverse("returns:loan", args=[schedule.offering_id])
    notify([user], verb=verb, message=message, params=params, url=url)


def _installment_notice_send(
    installment_id: int, stage: str, today: datetime.date, *, staff: Sequence
) -> bool:
    with transaction.atomic():
        # The installment's row lock makes two runs at the same time send one notice.
        installment = (
            Installment.objects.select_for_update(of=("self",))
            .select_related("schedule__offering__project__owner")
            .get(pk=installment_id)
        )
        if installment.schedule.status != LoanSchedule.Status.ACTIVE or installment.is_paid:
            return False
        if AuditEntry.objects.filter(
            action=NOTICE_ACTION,
            object_type=Installment._meta.label_lower,
            object_id=str(installment.pk),
            to_state=stage,
        ).exists():
            return False
        project = installment.schedule.offering.project
        told = []
        if project is not None and project.owner.is_active:
            _notify_in_language(
                project.owner,
                verb=f"loan.{stage}",
                message=NOTICE_MESSAGES[stage],
                installment=installment,
                today=today,
            )
            told.append(project.owner.pk)
        if stage == NoticeStage.LONG_LATE:
            for member in staff:
                _notify_in_language(
                    member,
                    verb="loan.long_late_staff",
                    message=STAFF_LONG_LATE_MESSAGE,
                    installment=installment,
                    today=today,
                )
                told.append(member.pk)
        AuditEntry.record(
            actor=None,
            action=NOTICE_ACTION,
            obj=installment,
            to_state=stage,
            data={
                "offering": installment.schedule.offering_id,
                "due": installment.due_date.isoformat(),
                "on": today.isoformat(),
                "told": told,
            },
        )
    return True


def installments_send_notices(*, today: datetime.date | None = None) -> int:
    """Tell entrepreneurs about installments coming due and late ones (and staff about those
    a month late), once per installment and stage, in each recipient's language; returns
    how many notices went out. Safe to run twice a day or after a missed day."""
    from django.db.models import F, Q

    today = today or timezone.localdate()
    candidates = (
        Installment.objects.filter(
            schedule__status=LoanSchedule.Status.ACTIVE,
            due_date__lte=today + datetime.timedelta(days=DUE_SOON_DAYS),
        )
        .filter(Q(interest_paid__lt=F("interest")) | Q(principal_paid__lt=F("principal")))
        .order_by("due_date", "pk")
        .only("pk", "due_date")
    )
    staged = [(i.pk, stage) for i in candidates if (stage := notice_stage(i, today)) is not None]
    sent_before: set[tuple[str, str]] = set()
    for start in range(0, len(staged), DEFAULT_BATCH_SIZE):
        batch = [str(pk) for pk, _stage in staged[start : start + DEFAULT_BATCH_SIZE]]
        sent_before.update(
            AuditEntry.objects.filter(
                action=NOTICE_ACTION,
                object_type=Installment._meta.label_lower,
                object_id__in=batch,
            ).values_list("object_id", "to_state")
        )
    to_send = [(pk, stage) for pk, stage in staged if (str(pk), stage) not in sent_before]
    # Staff are told of every loan a month late: read them once, not once per installment.
    staff = []
    if any(stage == NoticeStage.LONG_LATE for _pk, stage in to_send):
        staff = list(reviewers())
    return sum(_installment_notice_send(pk, stage, today, staff=staff) for pk, stage in to_send)


# --- Bonds ------------------------------------------------------------------------------------


def _bond_units(offering: Offering) -> list[tuple[int, int]]:
    face = offering.face_value
    return [(investor_id, int(amount / face)) for investor_id, amount in holdings_of(offering)]


def bond_issue(
    *, offering: Offering, issue_date: datetime.date | None = None, by=None
) -> BondIssue:
    """Fix a bond's issue date (hence its coupon dates) once the money is disbursed to the
    issuer. Idempotent. Raises ScheduleRefused for terms that make no schedule."""
    if offering.instrument != Instrument.BOND:
        raise ScheduleRefused(_("Only a bond is issued."))
    existing = BondIssue.objects.filter(offering=offering).first()
    if existing is not None:
        return existing
    disbursement = getattr(offering, "disbursement", None)
    if offering.status != Offering.Status.DISBURSED or disbursement is None:
        raise ScheduleRefused(_("A bond is issued when the money is disbursed to the issuer."))
    if not offering.face_value or offering.face_value <= 0:
        raise ScheduleRefused(_("These terms do not make a coupon schedule: no face value."))
    issue_date = issue_date or timezone.localdate(disbursement.approved_at or timezone.now())
    units = sum(units for _investor, units in _bond_units(offering))
    issue = BondIssue(
        offering=offering, issue_date=issue_date, maturity_date=issue_date, units=units
    )
    try:
        periods = issue.periods()
    except (ScheduleError, ValueError, TypeError) as error:
        raise ScheduleRefused(
            _("These terms do not make a coupon schedule: %(reason)s") % {"reason": error}
        ) from error
    if units < 1:
        raise ScheduleRefused(_("No bonds were paid for."))
    issue.maturity_date = periods[-1].accrual_end
    if issue.maturity_date <= issue.issue_date or periods[0].accrual_start < issue.issue_date:
        raise ScheduleRefused(
            _("These terms do not make a coupon schedule: maturity or a coupon before the issue.")
        )
    try:
        with transaction.atomic():
            issue.save()
            AuditEntry.record(actor=by, action="bond.issued", obj=issue)
    except IntegrityError:
        return BondIssue.objects.get(offering=offering)
    return issue


def coupon_run(
    *,
    offering: Offering,
    payment_date: datetime.date,
    by=None,
    today: datetime.date | None = None,
) -> CouponRun:
    """Pay the coupon falling on ``payment_date`` to every holder's wallet.

    Idempotent: a run for a date already paid posts nothing and returns the first run (the
    unique constraint on offering and date settles two runs started at once). For the
    scheduled runs and the redemption, which may meet a date already paid; a person starting
    a run goes through :func:`coupon_run_start`, which says so instead. Refused with
    CouponRunRefused when no coupon of the bond is paid on that date, when the date has not
    come yet, or when the bond is not issued."""
    run, _created = _coupon_run(offering=offering, payment_date=payment_date, by=by, today=today)
    return run


def coupon_run_start(
    *,
    offering: Offering,
    payment_date: datetime.date,
    by,
    today: datetime.date | None = None,
) -> CouponRun:
    """Staff start the coupon run of ``payment_date`` by hand.

    As :func:`coupon_run`, but a date already paid (before, or by a run that won the race a
    moment ago) raises CouponRunAlreadyDone with when and how much was paid: nothing is
    posted a second time, and the person who asked is told why."""
    run, created = _coupon_run(offering=offering, payment_date=payment_date, by=by, today=today)
    if created:
        return run
    from django.utils.formats import date_format

    starter = run.started_by
    raise CouponRunAlreadyDone(
        _(
            "The coupon of %(date)s was already paid on %(when)s (%(total)s to %(holders)s "
            "holders, started by %(who)s). Nothing was posted again."
        )
        % {
            "date": date_format(payment_date, "DATE_FORMAT"),
            "when": date_format(timezone.localtime(run.created_at), "DATETIME_FORMAT"),
            "total": Money(run.total, run.currency).localized(),
            "holders": run.holders,
            "who": (starter.get_full_name() or starter.get_username())
            if starter is not None
            else _("the daily schedule"),
        },
        run=run,
    )


def _coupon_run(
    *, offering: Offering, payment_date: datetime.date, by, today: datetime.date | None
) -> tuple[CouponRun, bool]:
    """The coupon run of ``payment_date``, and whether this call made it.

    Everything a run writes (the distribution, its lines, every holder's posting, the run)
    is in one transaction: a failure anywhere leaves no trace of it."""
    existing = (
        CouponRun.objects.filter(offering=offering, payment_date=payment_date)
        .select_related("started_by")
        .first()
    )
    if existing is not None:
        return existing, False
    today = today or timezone.localdate()
    issue = BondIssue.objects.filter(offering=offering).select_related("offering").first()
    if issue is None:
        raise CouponRunRefused(_("This bond has not been issued yet."))
    periods = issue.periods()
    period = next((p for p in periods if p.payment_date == payment_date), None)
    if period is None:
        raise CouponRunRefused(
            _("No coupon of this bond is paid on %(date)s. Coupon dates: %(dates)s.")
            % {
                "date": payment_date.isoformat(),
                "dates": ", ".join(p.payment_date.isoformat() for p in periods),
            }
        )
    if payment_date > today:
        raise CouponRunRefused(_("A coupon is paid on its payment date, not before."))
    try:
        with transaction.atomic():
            BondIssue.objects.select_for_update().get(pk=issue.pk)
            existing = (
                CouponRun.objects.filter(offering=offering, payment_date=payment_date)
                .select_related("started_by")
                .first()
            )
            if existing is not None:
                return existing, False
            holdings = [(k, u) for k, u in _bond_units(offering) if u > 0]
            # The coupon on all outstanding bonds, computed exactly and rounded once (half-up),
            # then split by bonds held with the largest remainder: the parts add up to what the
            # issuer pays, to the minor unit.
            units = sum(u for _k, u in holdings)
            total = issue.periods(units=units)[periods.index(period)].coupon
            distribution = _distribute(
                offering=offering,
                kind=Distribution.Kind.COUPON,
                source_key=f"coupon:{offering.pk}:{payment_date.isoformat()}",
                paid_on=payment_date,
                income=total,
                principal=Money.zero(offering.currency),
                source=services.external_account(offering.currency),
                holdings=holdings,
                memo=f"coupon {payment_date} of bond {offering.pk}",
            )
            run = CouponRun.objects.create(
                offering=offering,
                payment_date=payment_date,
                accrual_start=period.accrual_start,
                accrual_end=period.accrual_end,
                total=total.amount,
                currency=offering.currency,
                holders=len(holdings),
                distribution=distribution,
                started_by=by,
            )
            AuditEntry.record(
                actor=by, action="bond.coupon_run", obj=run, data={"total": str(total.amount)}
            )
    except IntegrityError:
        existing = (
            CouponRun.objects.filter(offering=offering, payment_date=payment_date)
            .select_related("started_by")
            .first()
        )
        if existing is None:
            raise
        return existing, False
    return run, True


def bond_redeem(*, offering: Offering, by=None, today: datetime.date | None = None) -> BondIssue:
    """Repay 100% of face to every holder on the (adjusted) maturity date. Idempotent.

    The last coupon is paid first if its run has not happened yet."""
    today = today or timezone.localdate()
    issue = BondIssue.objects.filter(offering=offering).select_related("offering").first()
    if issue is None:
        raise CouponRunRefused(_("This bond has not been issued yet."))
    if issue.redeemed_on is not None:
        return issue
    periods = issue.periods()
    redemption = bond_redemption(periods)
    if today < redemption.payment_date:
        raise CouponRunRefused(
            _("The bond is redeemed on %(date)s.") % {"date": redemption.payment_date.isoformat()}
        )
    with transaction.atomic():
        issue = BondIssue.objects.select_for_update().select_related("offering").get(pk=issue.pk)
        if issue.redeemed_on is not None:
            return issue
        for period in periods:
            coupon_run(offering=offering, payment_date=period.payment_date, by=by, today=today)
        holdings = [(k, u) for k, u in _bond_units(offering) if u > 0]
        units = sum(u for _k, u in holdings)
        _distribute(
            offering=offering,
            kind=Distribution.Kind.REDEMPTION,
            source_key=f"redemption:{offering.pk}",
            paid_on=redemption.payment_date,
            income=Money.zero(offering.currency),
            principal=Money(offering.face_value * units, offering.currency),
            source=services.external_account(offering.currency),
            holdings=holdings,
            memo=f"redemption of bond {offering.pk}",
        )
        issue.redeemed_on = redemption.payment_date
        issue.save(update_fields=["redeemed_on"])
        AuditEntry.record(actor=by, action="bond.redeemed", obj=issue)
    return issue


@dataclass(frozen=True)
class IssuerPayment:
    """A payment an issuer owes: a coupon or the redemption, and whether it was made."""

    payment_date: datetime.date
    kind: str  # "coupon" or "redemption"
    amount: Money
    paid: bool


def bond_payments_due(issue: BondIssue) -> list[IssuerPayment]:
    """Everything the issuer pays over the life of the bond, in date order."""
    periods = issue.periods()
    paid_dates = set(
        CouponRun.objects.filter(offering=issue.offering_id).values_list("payment_date", flat=True)
    )
    result = [
        IssuerPayment(p.payment_date, "coupon", p.coupon, p.payment_date in paid_dates)
        for p in periods
    ]
    redemption = bond_redemption(periods)
    result.append(
        IssuerPayment(
            redemption.payment_date, "redemption", redemption.amount, issue.redeemed_on is not None
        )
    )
    return result


# --- Revenue share ----------------------------------------------------------------------------

#: Days after a reporting period ends by which its report is expected, and days after a
#: report by which its share is expected to be paid; past them investors see the holding late.
REVENUE_REPORT_GRACE_DAYS = 30
REVENUE_SHARE_PAYMENT_DAYS = 30

REVENUE_PAID_ACTION = "revenue.share_paid"


def revenue_share_reference(report: RevenueReport) -> str:
    """The ISO 11649 reference (RF + check digits) the entrepreneur quotes on the bank
    transfer paying this report's share. One per report, so a transfer names exactly what it
    pays; derived from the report's id, it needs no storage."""
    return references.structured_reference(references.REVENUE_SHARE, report.pk)


def revenue_report_for_reference(reference: str) -> RevenueReport | None:
    """The revenue report whose payment reference is ``reference`` (compact form), or None."""
    number = references.number_in_reference(reference, references.REVENUE_SHARE)
    if number is None:
        return None
    return RevenueReport.objects.filter(pk=number).select_related("offering").first()


def revenue_share_cap(offering: Offering) -> Money:
    """The most investors receive: the cap multiple times what they paid in."""
    raised = sum((amount for _k, amount in holdings_of(offering)), Decimal("0"))
    return Money(raised * (offering.cap_multiple or 0), offering.currency).quantize()


def revenue_disbursed_on(offering: Offering) -> datetime.date | None:
    """The day the money reached the entrepreneur: the revenue share counts from then."""
    disbursement = getattr(offering, "disbursement", None)
    if offering.status != Offering.Status.DISBURSED or disbursement is None:
        return None
    return timezone.localdate(disbursement.approved_at or disbursement.created_at)


def revenue_report_overdue(
    offering: Offering,
    *,
    disbursed_on: datetime.date | None,
    reports: Sequence[RevenueReport],
    today: datetime.date,
) -> tuple[datetime.date, datetime.date] | None:
    """The first reporting period whose report is overdue today, as (start, end), or None.

    Only when the terms set a reporting frequency (``periods_per_year`` dividing the year):
    periods run back to back from the disbursement, and a period's report is overdue
    REVENUE_REPORT_GRACE_DAYS after it ends unless a report reaches its last day. Once the
    cap is reached nothing more is expected."""
    from .schedules import add_months

    per_year = offering.periods_per_year or 0
    if disbursed_on is None or per_year < 1 or 12 % per_year:
        return None
    if any(r.cap_reached for r in reports):
        return None
    months = 12 // per_year
    reported_to = max((r.period_end for r in reports), default=None)
    number = 0
    while True:
        start = add_months(disbursed_on, number * months)
        end = add_months(disbursed_on, (number + 1) * months) - datetime.timedelta(days=1)
        if end + datetime.timedelta(days=REVENUE_REPORT_GRACE_DAYS) >= today:
            return None
        if reported_to is None or reported_to < end:
            return start, end
        number += 1


def revenue_report_submit(
    *,
    offering: Offering,
    period_start: datetime.date | None,
    period_end: datetime.date | None,
    revenue: Decimal | None,
    document,
    by,
    currency: str | None = None,
    today: datetime.date | None = None,
) -> RevenueReport:
    """Record the revenue of a period and the investors' share due on it: revenue x share,
    rounded half-up, until the total due reaches the cap (cap multiple x amount invested).

    Refused with RevenueReportRefused, whose ``field`` says which figure is wrong: someone
    other than the entrepreneur, an offering that is not a disbursed revenue share, a missing
    or negative figure, another currency than the offering's, no document, a period ending
    before it starts, ending in the future, starting before the disbursement or overlapping a
    period already reported, and any report once the cap is reached."""
    if offering.instrument != Instrument.REVENUE_SHARE:
        raise RevenueReportRefused(_("Only a revenue share takes revenue reports."))
    if offering.project_id is None or offering.project.owner_id != getattr(by, "pk", None):
        raise RevenueReportRefused(_("Only the entrepreneur reports the project's revenue."))
    disbursed_on = revenue_disbursed_on(offering)
    if disbursed_on is None:
        raise RevenueReportRefused(_("Revenue is reported once the money has been disbursed."))
    today = today or timezone.localdate()
    if revenue is None or revenue == "":
        raise RevenueReportRefused(
            _("Enter the revenue for the period (0 if there was none); it cannot be left out."),
            field="revenue",
        )
    if not isinstance(revenue, Decimal) or not revenue.is_finite():
        raise RevenueReportRefused(_("Enter the revenue as a number."), field="revenue")
    if revenue < 0:
        raise RevenueReportRefused(
            _("Revenue cannot be negative. Report a loss as 0 and explain it in the document."),
            field="revenue",
        )
    if currency is not None and currency.strip().upper() != offering.currency:
        raise RevenueReportRefused(
            _(
                "Report the revenue in %(currency)s, the currency of this revenue share: "
                "convert it at the rate of the last day of the period."
            )
            % {"currency": offering.currency},
            field="currency",
        )
    if Money(revenue, offering.currency).quantize() != Money(revenue, offering.currency):
        raise RevenueReportRefused(
            _("Use whole minor units of %(currency)s.") % {"currency": offering.currency},
            field="revenue",
        )
    if not document:
        raise RevenueReportRefused(_("Attach a document supporting the figure."), field="document")
    if period_start is None:
        raise RevenueReportRefused(_("Enter the first day of the period."), field="period_start")
    if period_end is None or period_end < period_start:
        raise RevenueReportRefused(
            _("The period must end on or after the day it starts."), field="period_end"
        )
    if period_end > today:
        raise RevenueReportRefused(
            _("Revenue is reported once the period has ended; this one ends in the future."),
            field="period_end",
        )
    if period_start < disbursed_on:
        from django.utils.formats import date_format

        raise RevenueReportRefused(
            _(
                "The revenue share counts from the disbursement on %(date)s: start the period "
                "on that day or later."
            )
            % {"date": date_format(disbursed_on, "DATE_FORMAT")},
            field="period_start",
        )
    with transaction.atomic():
        # The offering's row lock serialises reports: the overlap and cap checks below see
        # every report made before this one.
        Offering.objects.select_for_update().get(pk=offering.pk)
        overlapping = (
            RevenueReport.objects.filter(
                offering=offering, period_start__lte=period_end, period_end__gte=period_start
            )
            .order_by("period_start")
            .first()
        )
        if overlapping is not None:
            from django.utils.formats import date_format

            raise RevenueReportRefused(
                _(
                    "This period overlaps the one already reported from %(start)s to %(end)s; "
                    "each day's revenue is reported once."
                )
                % {
                    "start": date_format(overlapping.period_start, "DATE_FORMAT"),
                    "end": date_format(overlapping.period_end, "DATE_FORMAT"),
                },
                field="period_start",
            )
        cap = revenue_share_cap(offering)
        already = RevenueReport.objects.filter(offering=offering).aggregate(s=Sum("share_due"))[
            "s"
        ] or Decimal("0")
        if already >= cap.amount:
            raise RevenueReportRefused(
                _(
                    "The agreed cap of %(cap)s has been reached: nothing more is due to the "
                    "investors and no more revenue is reported."
                )
                % {"cap": cap.localized()}
            )
        share = Money(revenue * offering.revenue_share, offering.currency).quantize()
        due = min(share.amount, cap.amount - already)
        report = RevenueReport.objects.create(
            offering=offering,
            period_start=period_start,
            period_end=period_end,
            revenue=revenue,
            currency=offering.currency,
            document=document,
            share_due=due,
            cap_reached=already + due >= cap.amount,
            status=RevenueReport.Status.DUE if due else RevenueReport.Status.NOTHING_DUE,
            submitted_by=by,
        )
        AuditEntry.record(
            actor=by, action="revenue.reported", obj=report, data={"share_due": str(due)}
        )
    return report


#: The longest note a staff member writes on a report (what the entrepreneur reads).
CHECK_NOTE_MAX = RevenueReport._meta.get_field("check_note").max_length
#: How much of the note the notification and email quote (they link to the whole of it).
NOTIFIED_NOTE_CHARS = 160


def revenue_report_check(*, report: RevenueReport, verdict: str, note: str = "", by):
    """Staff record their check of a report's figure against its document: VERIFIED, or
    QUERIED with a note that the entrepreneur (by notification and email) and the report's
    readers see. A query is cleared by verifying once the entrepreneur has explained; a
    verified report can be queried again. What is due does not change: the check tells
    investors how far to trust the figure, and a query is followed up with the entrepreneur.

    Refused with RevenueReportRefused: someone without the reviewer role, the person who
    reported it or owns the project (nobody checks their own figures), another verdict, a
    query without a note or a note too long. The same verdict and note again changes nothing
    (a double click) and records nothing."""
    if not has_role(by, Role.REVIEWER):
        raise RevenueReportRefused(_("Only staff check revenue reports."))
    if verdict not in (RevenueReport.Check.VERIFIED, RevenueReport.Check.QUERIED):
        raise RevenueReportRefused(_("Choose whether the figure is verified or queried."))
    note = (note or "").strip()
    if verdict == RevenueReport.Check.QUERIED and not note:
        raise RevenueReportRefused(
            _("Write what is queried: the entrepreneur reads the note and answers it."),
            field="note",
        )
    if len(note) > CHECK_NOTE_MAX:
        raise RevenueReportRefused(
            _("Keep the note to %(count)s characters.") % {"count": CHECK_NOTE_MAX},
            field="note",
        )
    with transaction.atomic():
        report = (
            RevenueReport.objects.select_for_update(of=("self",))
            .select_related("offering__project__owner")
            .get(pk=report.pk)
        )
        project = report.offering.project
        if by.pk == report.submitted_by_id or (project is not None and by.pk == project.owner_id):
            raise RevenueReportRefused(
                _("You reported this revenue or own the project: another staff member checks it.")
            )
        if report.check_state == verdict and report.check_note == note:
            return report
        before = report.check_state
        report.check_state = verdict
        report.check_note = note
        report.checked_by = by
        report.checked_at = timezone.now()
        report.save(update_fields=["check_state", "check_note", "checked_by", "checked_at"])
        AuditEntry.record(
            actor=by,
            action=f"revenue.{verdict}",
            obj=report,
            from_state=before,
            to_state=verdict,
            reason=note,
        )
        if project is not None and RevenueReport.Check.QUERIED in (verdict, before):
            _notify_revenue_check(report, project.owner)
    return report


def _notify_revenue_check(report: RevenueReport, owner) -> None:
    """Tell the entrepreneur, in their language, that staff queried a report (email too) or
    cleared an earlier query."""
    from django.urls import reverse
    from django.utils import translation
    from django.utils.formats import date_format
    from django.utils.text import Truncator

    from portal.notifications import notify

    with translation.override(owner.preferred_language or "en"):
        params = {
            "start": date_format(report.period_start, "DATE_FORMAT"),
            "end": date_format(report.period_end, "DATE_FORMAT"),
            # A notification holds 300 characters: the note in full is on the page it links.
            "note": Truncator(report.check_note).chars(NOTIFIED_NOTE_CHARS),
        }
        url = reverse("returns:revenue", args=[report.offering_id])
    queried = report.check_state == RevenueReport.Check.QUERIED
    notify(
        [owner],
        verb=f"revenue.{report.check_state}",
        message=_("Staff queried your revenue report for %(start)s – %(end)s: %(note)s")
        if queried
        else _("Staff checked your revenue report for %(start)s – %(end)s: the query is cleared."),
        params=params,
        url=url,
        email=queried,
    )


@dataclass(frozen=True)
class RevenueSharePaid:
    """What one payment against a report did: the part shared among the investors, the part
    held for review, and whether it was recorded now (False: it had been before, and this
    call moved nothing)."""

    report: RevenueReport
    shared: Money
    excess: Money
    recorded: bool


def _revenue_payment_recorded(key: str, currency: str) -> tuple[Money, Money] | None:
    """(shared, held) of the payment recorded under ``key``, or None if there is none."""
    from .ledger import Leg

    distribution = Distribution.objects.filter(source_key=key).first()
    held = Leg.objects.filter(
        transaction__idempotency_key=f"{key}:excess", amount_minor__gt=0
    ).first()
    if distribution is None and held is None:
        return None
    shared = Money(distribution.income, currency) if distribution else Money.zero(currency)
    return shared, held.money if held else Money.zero(currency)


def revenue_share_pay(
    *,
    report: RevenueReport,
    amount: Money,
    received_on: datetime.date,
    source_id: str,
    by=None,
    source: Account | None = None,
    method: str = Repayment.Method.BANK_TRANSFER,
    reference: str = "",
) -> RevenueSharePaid:
    """Share money the entrepreneur paid against a report among the investors, pro rata to
    what they invested, into their wallets; what goes beyond the report's share still due is
    held on the offering's excess account for staff, never lost and never distributed. Since
    each report's share due stops at the cap, nothing is ever shared past the cap either.

    ``source_id`` names the payment (``bankline:<id>`` for a statement line, ``manual:<bank
    reference>`` for one staff recorded): the ledger keys are ``revenue:<report>:<source>``,
    so the same payment recorded twice moves money once (the second call returns with
    ``recorded`` False). ``source`` is the account the money came in through, the outside
    world unless told otherwise.

    Refused with RevenueReportRefused: another currency (with the reason), an amount not
    above zero or not in whole minor units, a date in the future."""
    source_id = (source_id or "").strip()
    if not source_id:
        raise ValueError("source_id names the payment (a bank line, a staff entry)")
    if not isinstance(amount, Money):
        raise TypeError("amount must be Money")
    if amount.currency != report.currency:
        raise RevenueReportRefused(
            _(
                "This payment is in %(paid)s but the share is due in %(due)s. It was not "
                "recorded; return it to the payer or convert it first."
            )
            % {"paid": amount.currency, "due": report.currency},
            field="currency",
        )
    if amount.amount <= 0 or amount.quantize() != amount:
        raise RevenueReportRefused(
            _("Enter an amount above zero in whole %(currency)s minor units.")
            % {"currency": report.currency},
            field="amount",
        )
    if received_on > timezone.localdate():
        raise RevenueReportRefused(
            _("The money cannot have been received in the future."), field="received_on"
        )
    key = f"revenue:{report.pk}:{source_id}"
    with transaction.atomic():
        report = (
            RevenueReport.objects.select_for_update(of=("self",))
            .select_related("offering")
            .get(pk=report.pk)
        )
        earlier = _revenue_payment_recorded(key, report.currency)
        if earlier is not None:
            return RevenueSharePaid(report, *earlier, recorded=False)
        offering = report.offering
        to_share = min(amount.amount, report.share_due - report.share_paid)
        excess = amount.amount - to_share
        source = source or services.external_account(report.currency)
        if to_share:
            _distribute(
                offering=offering,
                kind=Distribution.Kind.REVENUE_SHARE,
                source_key=key,
                paid_on=received_on,
                income=Money(to_share, report.currency),
                principal=Money.zero(report.currency),
                source=source,
                memo=f"revenue share of report {report.pk}",
            )
            report.share_paid += to_share
        if excess:
            held = Money(excess, report.currency)
            post_transaction(
                idempotency_key=f"{key}:excess",
                kind="returns.excess_held",
                legs=[(source, -held), (excess_account(offering), held)],
                memo=f"revenue report {report.pk}: more than the share due, held for review",
            )
        if report.share_due and report.share_paid >= report.share_due:
            report.status = RevenueReport.Status.PAID
        report.save(update_fields=["share_paid", "status"])
        AuditEntry.record(
            actor=by,
            action=REVENUE_PAID_ACTION,
            obj=report,
            to_state=report.status,
            data={
                "offering": offering.pk,
                "source": source_id,
                "received_on": received_on.isoformat(),
                "amount": str(amount.amount),
                "shared": str(to_share),
                "excess": str(excess),
                "method": method,
                "reference": reference[:100],
            },
        )
    return RevenueSharePaid(
        report, Money(to_share, report.currency), Money(excess, report.currency), recorded=True
    )


@dataclass(frozen=True)
class RevenueSharePayment:
    """One payment received against a report, as shown to the entrepreneur and staff."""

    report_id: int
    received_on: datetime.date
    amount: Money
    shared: Money
    excess: Money
    method: str
    reference: str


def revenue_share_payments(reports: Sequence[RevenueReport]) -> list[RevenueSharePayment]:
    """The payments received against ``reports``, newest first; one query."""
    if not reports:
        return []
    currency = {r.pk: r.currency for r in reports}
    entries = AuditEntry.objects.filter(
        action=REVENUE_PAID_ACTION,
        object_type=RevenueReport._meta.label_lower,
        object_id__in=[str(pk) for pk in currency],
    ).order_by("-at", "-pk")
    payments = []
    for entry in entries:
        pk, data = int(entry.object_id), entry.data
        payments.append(
            RevenueSharePayment(
                report_id=pk,
                received_on=datetime.date.fromisoformat(data["received_on"]),
                amount=Money(data["amount"], currency[pk]),
                shared=Money(data["shared"], currency[pk]),
                excess=Money(data["excess"], currency[pk]),
                method=data.get("method", ""),
                reference=data.get("reference", ""),
            )
        )
    return payments


@dataclass(frozen=True)
class RevenueShareStanding:
    """Where a revenue share stands: what investors may receive at most (the cap), what the
    reports made due, what was paid to them, and what was paid beyond and is held."""

    cap: Money
    due: Money
    paid: Money
    excess: Money
    disbursed_on: datetime.date | None
    overdue_period: tuple[datetime.date, datetime.date] | None

    @property
    def unpaid(self) -> Money:
        return self.due - self.paid

    @property
    def left_to_cap(self) -> Money:
        return self.cap - self.paid

    @property
    def cap_reached(self) -> bool:
        return self.due >= self.cap

    @property
    def complete(self) -> bool:
        """Everything the agreement promises has been paid."""
        return self.cap.amount > 0 and self.paid >= self.cap


def revenue_share_standing(
    offering: Offering, reports: Sequence[RevenueReport], *, today: datetime.date | None = None
) -> RevenueShareStanding:
    """The figures of a revenue share from its reports (already loaded) and the ledger."""
    currency = offering.currency
    zero = Money.zero(currency)
    disbursed_on = revenue_disbursed_on(offering)
    return RevenueShareStanding(
        cap=revenue_share_cap(offering),
        due=sum((Money(r.share_due, currency) for r in reports), zero),
        paid=sum((Money(r.share_paid, currency) for r in reports), zero),
        excess=excess_held(offering),
        disbursed_on=disbursed_on,
        overdue_period=revenue_report_overdue(
            offering,
            disbursed_on=disbursed_on,
            reports=reports,
            today=today or timezone.localdate(),
        ),
    )


# --- Wallet -----------------------------------------------------------------------------------


def wallet_balances(user) -> list[Money]:
    accounts = Account.objects.filter(kind=Account.Kind.INVESTOR_WALLET, user=user).order_by(
        "currency"
    )
    from .ledger import balances

    return [b for b in balances(accounts).values() if b.amount] if accounts else []


def _reinvest_method() -> str:
    # A "wallet" method (no fee, no bank reference) is proposed for Pledge.Method; until then
    # a bank-transfer pledge carries no fee and its reference is simply never used.
    return "wallet" if "wallet" in Pledge.Method.values else Pledge.Method.BANK_TRANSFER


def _pledge_pay_from_wallet(pledge: Pledge) -> Pledge:
    """Pay a pending pledge from the investor's wallet: wallet -> escrow, pledge paid.

    It follows pledge_mark_paid step for step, with the wallet instead of a provider."""
    with transaction.atomic():
        # `of`: lock the pledge only; the joined offering stays unlocked (the
        # lock order at the top of finance/services.py puts offerings first).
        pledge = (
            Pledge.objects.select_for_update(of=("self",))
            .select_related("offering")
            .get(pk=pledge.pk)
        )
        if pledge.status == Pledge.Status.PAID:
            return pledge
        if pledge.status != Pledge.Status.PENDING:
            raise WalletRefused(_("This pledge can no longer be paid."))
        total = pledge.total_due.quantize()
        fee = Money(pledge.fee, pledge.currency).quantize()
        post_transaction(
            idempotency_key=services.wallet_payment_key(pledge),
            kind="pledge.wallet_payment",
            legs=[
                (services.wallet_account(pledge.investor, pledge.currency), -total),
                (services.escrow_account(pledge.offering), total - fee),
                *([(services.fees_account(pledge.currency), fee)] if fee.amount else []),
            ],
            memo=f"pledge {pledge.pk} paid from the wallet",
        )
        pledge.status = Pledge.Status.PAID
        pledge.paid_at = timezone.now()
        pledge.save(update_fields=["status", "paid_at"])
        AuditEntry.record(
            actor=pledge.investor,
            action="pledge.paid",
            obj=pledge,
            from_state="pending",
            to_state="paid",
            reason="paid from wallet",
        )
        if pledge.offering.instrument == Instrument.DONATION_MATCHING:
            services.pledges_allocate_matching(pledges=[pledge])
        services.project_refresh_funding(pledge.offering.project_id)
    return pledge


def wallet_reinvest(
    *, investor, offering: Offering, amount: Decimal, idempotency_key: str
) -> Pledge:
    """Pledge ``amount`` to an open offering and pay it from the wallet, in one step.

    All or nothing: a wallet that does not hold enough leaves no pledge behind. Raises
    WalletRefused or services.PledgeRefused/OfferingBusy with a message to show."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise WalletRefused(_("Enter an amount greater than zero."))
    wallet = services.wallet_account(investor, offering.currency)
    if balance(wallet).amount < amount:
        raise WalletRefused(
            _("Your %(currency)s wallet holds %(held)s.")
            % {"currency": offering.currency, "held": balance(wallet).localized()}
        )
    with transaction.atomic():
        pledge = services.pledge_create(
            offering=offering,
            investor=investor,
            amount=amount,
            method=_reinvest_method(),
            idempotency_key=idempotency_key,
        )
        try:
            return _pledge_pay_from_wallet(pledge)
        except services.FinanceError as error:
            from .ledger import InsufficientFunds

            if isinstance(error, InsufficientFunds):
                raise WalletRefused(_("Your wallet no longer holds enough.")) from error
            raise


def bank_account_register(
    *, user, holder_name: str, iban: str, currency: str, bic: str = ""
) -> BankAccountRegistration:
    from stdnum import iban as iban_check

    holder_name = holder_name.strip()
    number = iban.replace(" ", "").upper()
    if not holder_name:
        raise WalletRefused(_("Enter the name of the account holder."))
    if number[:2].isalpha() and not iban_check.is_valid(number):
        raise WalletRefused(_("This IBAN is not valid; check it against your bank statement."))
    if not 5 <= len(number) <= 34:
        raise WalletRefused(_("Enter the account number."))
    account, _created = BankAccountRegistration.objects.update_or_create(
        user=user,
        iban=number,
        defaults={
            "holder_name": holder_name[:140],
            "bic": bic.strip().upper()[:11],
            "currency": Money.zero(currency).currency,
            "is_active": True,
        },
    )
    return account


class PayoutFailed(WalletRefused):
    """The card refund of a withdrawal failed at the provider; nothing was booked. The text
    is for staff; ``detail`` carries the provider's words."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


PAYOUT_FAILED_ACTION = "payout.card_refund_failed"

# A withdrawal goes back only to card payments that can no longer be refunded another way:
# a pledge in an open offering may still be cancelled (reflection period) and one in a
# failed offering was refunded already.
_CARD_PAYOUT_OFFERING_STATES = (Offering.Status.SUCCEEDED, Offering.Status.DISBURSED)


def card_payout_payments(user, currency: str):
    """The investor's card payments in ``currency`` that a withdrawal can go back to, with
    something left to refund, newest first (a recent card is the likeliest to still work)."""
    from django.db.models import F

    return Payment.objects.filter(
        pledge__investor=user,
        pledge__status=Pledge.Status.PAID,
        pledge__offering__status__in=_CARD_PAYOUT_OFFERING_STATES,
        provider="stripe",
        currency=Money.zero(currency).currency,
        status=Payment.Status.SUCCEEDED,
        refunded_minor__lt=F("captured_minor"),
    ).order_by("-pk")


def payout_card_refunds(payout: PayoutRequest):
    """The provider refunds made for a card withdrawal (several when it spans payments)."""
    from .offerings import Refund

    return Refund.objects.filter(idempotency_key__startswith=f"payout:{payout.pk}:refund:")


def payout_card_refunded_minor(payout: PayoutRequest) -> int:
    """How much of a card withdrawal already went back to the cards, in minor units."""
    return payout_card_refunds(payout).aggregate(s=Sum("amount_minor"))["s"] or 0


def card_payout_room(user, currency: str) -> Money:
    """How much can still go back to the investor's cards in ``currency``: what the card
    payments captured and have not refunded, less what withdrawals awaiting approval will
    take (the part of them already sent back has left the payments' room already)."""
    from django.db.models import F, Q

    from .offerings import Refund

    currency = Money.zero(currency).currency
    room = (
        card_payout_payments(user, currency).aggregate(
            room=Sum(F("captured_minor") - F("refunded_minor"))
        )["room"]
        or 0
    )
    waiting = list(
        PayoutRequest.objects.filter(
            investor=user,
            currency=currency,
            destination=PayoutRequest.Destination.CARD,
            status=PayoutRequest.Status.REQUESTED,
        )
    )
    if waiting:
        # What the waiting withdrawals already sent back, all of them in one query.
        sent = (
            Refund.objects.filter(
                reduce(
                    or_,
                    (Q(idempotency_key__startswith=f"payout:{p.pk}:refund:") for p in waiting),
                )
            ).aggregate(s=Sum("amount_minor"))["s"]
            or 0
        )
        room -= sum(payout.money.minor_units for payout in waiting) - sent
    return Money.from_minor(max(room, 0), currency)


def card_payout_possible(user, currency: str) -> bool:
    """A withdrawal can go back to a card the investor paid with in that currency."""
    return card_payout_room(user, currency).amount > 0


def payout_request(
    *,
    investor,
    amount: Money,
    destination: str,
    idempotency_key: str,
    bank_account: BankAccountRegistration | None = None,
) -> PayoutRequest:
    """Ask to withdraw from the wallet; the amount is set aside until staff approve."""
    existing = PayoutRequest.objects.filter(
        investor=investor, idempotency_key=idempotency_key
    ).first()
    if existing is not None:
        return existing
    if amount.amount <= 0 or amount.quantize() != amount:
        raise WalletRefused(_("Enter an amount greater than zero."))
    if destination == PayoutRequest.Destination.CARD:
        room = card_payout_room(investor, amount.currency)
        if not room.amount:
            raise WalletRefused(
                _("No card payment in this currency to return to; register a bank account.")
            )
        if room.amount < amount.amount:
            raise WalletRefused(
                _("At most %(room)s can go back to your card; send the rest to a bank account.")
                % {"room": room.localized()}
            )
        bank_account = None
    elif destination == PayoutRequest.Destination.BANK:
        if bank_account is None or bank_account.user_id != investor.pk:
            raise WalletRefused(_("Choose one of your registered bank accounts."))
    else:
        raise WalletRefused(_("Choose where the money goes."))
    from .ledger import InsufficientFunds

    try:
        with transaction.atomic():
            payout = PayoutRequest.objects.create(
                investor=investor,
                amount=amount.amount,
                currency=amount.currency,
                destination=destination,
                bank_account=bank_account,
                idempotency_key=idempotency_key,
            )
            post_transaction(
                idempotency_key=f"payout:{payout.pk}:hold",
                kind="payout.requested",
                legs=[
                    (services.wallet_account(investor, amount.currency), -amount),
                    (payout_hold_account(investor, amount.currency), amount),
                ],
            )
            AuditEntry.record(
                actor=investor, action="payout.requested", obj=payout, to_state="requested"
            )
    except InsufficientFunds as error:
        raise WalletRefused(
            _("Your wallet holds %(held)s.") % {"held": error.balance.localized()}
        ) from error
    return payout


def payout_approve(*, payout: PayoutRequest, by) -> PayoutRequest:
    """One staff approval pays the withdrawal out. Idempotent.

    A bank withdrawal is booked as paid out here and staff send the transfer. A card
    withdrawal is first sent back through the provider as refunds of the investor's card
    payments (:func:`_payout_send_to_cards`); only when every refund went through is the
    ledger posted, in one transaction. When the provider fails, PayoutFailed is raised, the
    withdrawal stays awaiting approval and the ledger is unchanged; approving again
    continues where it stopped, never refunding a payment twice."""
    if not has_role(by, Role.REVIEWER):
        raise WalletRefused(_("Only staff approve withdrawals."))
    if by.pk == payout.investor_id:
        raise WalletRefused(_("Nobody approves their own withdrawal."))
    if payout.destination == PayoutRequest.Destination.CARD:
        _payout_send_to_cards(payout=payout, by=by)
    with transaction.atomic():
        payout = (
            PayoutRequest.objects.select_for_update().select_related("investor").get(pk=payout.pk)
        )
        if payout.status == PayoutRequest.Status.APPROVED:
            return payout
        if payout.status != PayoutRequest.Status.REQUESTED:
            raise WalletRefused(_("This withdrawal was already decided."))
        refunds = []
        if payout.destination == PayoutRequest.Destination.CARD:
            refunds = list(payout_card_refunds(payout).order_by("pk"))
            sent = sum(r.amount_minor for r in refunds)
            if sent != payout.money.minor_units:
                # _payout_send_to_cards returns only once everything was sent; anything
                # else is a bug, and booking it would pay out money that did not leave.
                raise PayoutFailed(
                    _("The card refunds do not add up to the withdrawal; nothing was booked."),
                    detail=f"refunded {sent} of {payout.money.minor_units} minor units",
                )
        post_transaction(
            idempotency_key=f"payout:{payout.pk}:paid",
            kind="payout.paid",
            legs=[
                (payout_hold_account(payout.investor, payout.currency), -payout.money),
                (services.external_account(payout.currency), payout.money),
            ],
            created_by=by,
            memo=f"withdrawal {payout.pk} to {payout.destination}",
        )
        payout.status = PayoutRequest.Status.APPROVED
        payout.decided_by = by
        payout.decided_at = timezone.now()
        payout.save(update_fields=["status", "decided_by", "decided_at"])
        AuditEntry.record(
            actor=by,
            action="payout.approved",
            obj=payout,
            from_state="requested",
            to_state="approved",
            data={"refunds": [r.provider_reference for r in refunds]} if refunds else None,
        )
    return payout


def _payout_send_to_cards(*, payout: PayoutRequest, by) -> None:
    """Refund the investor's card payments until the withdrawal's amount went back.

    One payment per step, each step its own transaction holding the withdrawal's row lock
    (then the payment's, after its pledge: the lock order of finance/services.py) while the
    provider is asked, and recording the refund with the payment's refunded total as soon as
    the provider accepted it. A refund never exceeds what a payment captured less what was
    refunded from it. The provider's idempotency key names the withdrawal, the payment and
    the amount, so a step retried after a crash gets the same refund back.

    On a provider error the failing step writes nothing, the failure is put in the audit
    log for staff, and PayoutFailed is raised. Refunds of earlier steps stay recorded: the
    money did go back, and the next approval sends only the rest."""
    from .payments import PaymentError, provider_for

    total = payout.money.minor_units
    while True:
        failure = None
        with transaction.atomic():
            locked = (
                PayoutRequest.objects.select_for_update()
                .select_related("investor")
                .get(pk=payout.pk)
            )
            if locked.status != PayoutRequest.Status.REQUESTED:
                return  # decided meanwhile; payout_approve says how
            sent = payout_card_refunded_minor(locked)
            left = total - sent
            if left <= 0:
                return
            candidate = card_payout_payments(locked.investor, locked.currency).first()
            if candidate is None:
                failure = PayoutFailed(
                    _(
                        "The investor's card payments in %(currency)s can take back only "
                        "%(room)s of this withdrawal. Reject it (what went back to the card "
                        "stays paid out, the rest returns to the wallet) and ask for a bank "
                        "account."
                    )
                    % {
                        "currency": locked.currency,
                        "room": Money.from_minor(sent, locked.currency).localized(),
                    },
                    detail=f"no card payment left to refund {left} minor units",
                )
            else:
                payment = services.lock_payment(candidate)
                room = payment.captured_minor - payment.refunded_minor
                if room <= 0:
                    continue  # refunded by someone else a moment ago: choose again
                amount = min(room, left)
                key = f"payout:{locked.pk}:refund:{payment.pk}:{amount}"
                try:
                    reference = provider_for(payment.provider).refund(
                        payment=payment, amount_minor=amount, idempotency_key=key
                    )
                except PaymentError as error:
                    failure = PayoutFailed(
                        _(
                            "The card refund did not go through: %(reason)s The withdrawal "
                            "is still awaiting approval and nothing was booked."
                        )
                        % {"reason": error.user_message or str(error)},
                        detail=f"payment {payment.pk}, {amount} minor units: {error}",
                    )
                else:
                    from .offerings import Refund

                    Refund.objects.create(
                        payment=payment,
                        amount_minor=amount,
                        destination=Refund.Destination.PROVIDER,
                        provider_reference=reference,
                        reason=f"wallet withdrawal {locked.pk}",
                        idempotency_key=key,
                    )
                    payment.refunded_minor += amount
                    payment.save(update_fields=["refunded_minor", "updated_at"])
                    AuditEntry.record(
                        actor=by,
                        action="payout.card_refund",
                        obj=locked,
                        data={
                            "payment": payment.pk,
                            "amount_minor": amount,
                            "refund": reference,
                        },
                    )
        if failure is not None:
            AuditEntry.record(
                actor=by,
                action=PAYOUT_FAILED_ACTION,
                obj=payout,
                reason=str(failure),
                data={"detail": failure.detail},
            )
            raise failure


def payout_failures(payouts: Sequence[PayoutRequest]) -> dict[int, AuditEntry]:
    """The latest failed card refund of each withdrawal still awaiting approval, for staff;
    one query for the whole list."""
    ids = [str(p.pk) for p in payouts if p.status == PayoutRequest.Status.REQUESTED]
    latest: dict[int, AuditEntry] = {}
    if not ids:
        return latest
    for entry in AuditEntry.objects.filter(
        object_type=PayoutRequest._meta.label_lower,
        object_id__in=ids,
        action__in=(PAYOUT_FAILED_ACTION, "payout.card_refund"),
    ).order_by("-at", "-pk"):
        # A refund that went through after the failure means the failure is behind us.
        latest.setdefault(int(entry.object_id), entry)
    return {pk: e for pk, e in latest.items() if e.action == PAYOUT_FAILED_ACTION}


def payout_reject(*, payout: PayoutRequest, by, reason: str) -> PayoutRequest:
    """Staff refuse a withdrawal: the amount set aside goes back to the wallet.

    A card withdrawal of which part already went back to the card (the refunds of an
    approval that then failed: a disputed payment, no card room left) cannot take that
    part back: it is booked as paid out, the rest returns to the wallet, and the
    withdrawal ends partly paid (PARTIAL). Idempotent."""
    if not has_role(by, Role.REVIEWER):
        raise WalletRefused(_("Only staff decide on withdrawals."))
    with transaction.atomic():
        # The withdrawal's lock: no refund of it is under way while it is held
        # (_payout_send_to_cards sends each one holding it).
        payout = (
            PayoutRequest.objects.select_for_update().select_related("investor").get(pk=payout.pk)
        )
        if payout.status in (PayoutRequest.Status.REJECTED, PayoutRequest.Status.PARTIAL):
            return payout
        if payout.status != PayoutRequest.Status.REQUESTED:
            raise WalletRefused(_("This withdrawal was already decided."))
        sent = Money.from_minor(payout_card_refunded_minor(payout), payout.currency)
        if sent == payout.money:
            raise WalletRefused(
                _(
                    "All of this withdrawal already went back to the card; approve it to "
                    "book it as paid out."
                )
            )
        hold = payout_hold_account(payout.investor, payout.currency)
        if sent.amount:
            post_transaction(
                idempotency_key=f"payout:{payout.pk}:paid",
                kind="payout.paid",
                legs=[(hold, -sent), (services.external_account(payout.currency), sent)],
                created_by=by,
                memo=f"withdrawal {payout.pk}: the part refunded to the card",
            )
        rest = payout.money - sent
        post_transaction(
            idempotency_key=f"payout:{payout.pk}:returned",
            kind="payout.rejected",
            legs=[(hold, -rest), (services.wallet_account(payout.investor, payout.currency), rest)],
            created_by=by,
        )
        before = payout.status
        payout.status = (
            PayoutRequest.Status.PARTIAL if sent.amount else PayoutRequest.Status.REJECTED
        )
        payout.decided_by = by
        payout.decided_at = timezone.now()
        payout.reason = reason[:200]
        payout.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        AuditEntry.record(
            actor=by,
            action="payout.rejected",
            obj=payout,
            from_state=before,
            to_state=payout.status,
            reason=reason,
            data={"paid_out_minor": sent.minor_units, "returned_minor": rest.minor_units}
            if sent.amount
            else None,
        )
    return payout


# --- At disbursement --------------------------------------------------------------------------


def returns_fix_at_disbursement(*, offering: Offering, by=None):
    """What a disbursed offering needs before returns can flow: a loan's schedule, a bond's
    issue. Nothing for donations and revenue shares. Idempotent; for the lead's
    disbursement_approve (on commit) and the daily safety-net task."""
    if offering.instrument == Instrument.LOAN:
        return loan_fix_schedule(offering=offering, by=by)
    if offering.instrument == Instrument.BOND:
        return bond_issue(offering=offering, by=by)
    return None
