"""Checks that the ledger is internally consistent, and that the figures stored beside it
(an offering's reserved capacity, a matching pool's commitment, a payment's captured and
refunded totals, a project's funding) agree with what they summarise; run by
``manage.py reconcile``.

A check is a function taking no arguments and returning an iterable of :class:`Difference`.
Register more with :func:`register_check` (payment providers add theirs: the provider's
settlements against its clearing account); :func:`reconcile_ledger` runs them all. Each check
reads the whole table in a fixed number of queries, whatever the number of rows.

Checks that ask a payment provider over the network are registered apart, with
:func:`register_provider_check`, and run only when asked (:func:`reconcile_providers`,
``manage.py reconcile --providers``).

The ledger checks repeat what PostgreSQL already enforces with triggers (migration 0002) on
purpose: they also cover SQLite, data restored from elsewhere, and a trigger someone dropped.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, Q, Sum

from finance.exceptions import MoneyError
from finance.ledger import Account, Leg, Transaction
from finance.money import Money
from finance.offerings import MatchAllocation, MatchingPool, Offering, Payment, Pledge, Refund


@dataclass(frozen=True, slots=True)
class Difference:
    """One inconsistency: which check found it, in what, what was expected and what is there."""

    check: str
    subject: str
    expected: str
    found: str


Check = Callable[[], Iterable[Difference]]

_checks: list[Check] = []


def register_check(check: Check) -> Check:
    """Add ``check`` to the checks :func:`reconcile_ledger` runs; usable as a decorator.

    Registering the same function twice keeps one (``AppConfig.ready()`` may run twice in
    tests).
    """
    if check not in _checks:
        _checks.append(check)
    return check


def reconcile_ledger() -> list[Difference]:
    """Run every registered check, in registration order, and return what they found."""
    return [difference for check in _checks for difference in check()]


_provider_checks: list[Check] = []


def register_provider_check(check: Check) -> Check:
    """Add ``check`` to the checks that ask a payment provider (:func:`reconcile_providers`)."""
    if check not in _provider_checks:
        _provider_checks.append(check)
    return check


def reconcile_providers() -> list[Difference]:
    """Run every provider check: compare our payments with the providers' own records.

    These call the providers over the network; a provider that cannot be reached raises
    :class:`finance.payments.PaymentError` rather than passing unchecked."""
    return [difference for check in _provider_checks for difference in check()]


def _amount(minor: int, currency: str) -> str:
    try:
        return str(Money.from_minor(minor, currency))
    except MoneyError:
        # A corrupt currency code must not hide the difference it is part of.
        return f"{minor} minor units {currency}"


def _figure(value: Decimal | None, currency: str) -> str:
    """A stored decimal amount, written to the currency's minor unit unless it holds less."""
    value = Decimal(0) if value is None else value
    try:
        money = Money(value, currency)
        rounded = money.quantize()
    except MoneyError:
        return f"{value} {currency}"
    return str(rounded if rounded == money else money)


def _minor(value: Decimal, currency: str) -> int | None:
    """A decimal amount in whole minor units of ``currency``; None when it holds a fraction of
    one or the currency code is corrupt (so the difference is reported, not raised)."""
    try:
        return Money(value, currency).minor_units
    except MoneyError:
        return None


@register_check
def transactions_balance() -> Iterable[Difference]:
    """Every transaction's legs sum to zero in each currency."""
    unbalanced = (
        Leg.objects.values("transaction_id", "transaction__idempotency_key", "currency")
        .annotate(total=Sum("amount_minor"))
        .exclude(total=0)
        .order_by("transaction_id", "currency")
    )
    for row in unbalanced:
        yield Difference(
            check="transaction balances",
            subject=f"transaction {row['transaction_id']} ({row['transaction__idempotency_key']})",
            expected=_amount(0, row["currency"]),
            found=_amount(row["total"], row["currency"]),
        )


@register_check
def transactions_have_two_legs() -> Iterable[Difference]:
    """Every transaction has at least two legs."""
    short = (
        Transaction.objects.annotate(leg_count=Count("legs"))
        .filter(leg_count__lt=2)
        .order_by("pk")
        .values_list("pk", "idempotency_key", "leg_count")
    )
    for pk, key, leg_count in short:
        yield Difference(
            check="at least two legs",
            subject=f"transaction {pk} ({key})",
            expected="2 or more legs",
            found=f"{leg_count} leg(s)",
        )


@register_check
def non_negative_accounts() -> Iterable[Difference]:
    """No account that may not go negative has a negative balance."""
    overdrawn = (
        Account.objects.filter(allow_negative=False)
        .annotate(total=Sum("legs__amount_minor"))
        .filter(total__lt=0)
        .order_by("pk")
    )
    for account in overdrawn:
        yield Difference(
            check="non-negative balance",
            subject=f"account {account.pk} ({account})",
            expected=f">= {_amount(0, account.currency)}",
            found=_amount(account.total, account.currency),
        )


@register_check
def legs_in_account_currency() -> Iterable[Difference]:
    """Every leg is in its account's currency."""
    mismatched = (
        Leg.objects.exclude(currency=F("account__currency"))
        .order_by("pk")
        .values_list("pk", "transaction_id", "currency", "account_id", "account__currency")
    )
    for pk, transaction_id, currency, account_id, account_currency in mismatched:
        yield Difference(
            check="leg currency",
            subject=f"leg {pk} of transaction {transaction_id} on account {account_id}",
            expected=account_currency,
            found=currency,
        )


@register_check
def reversals_mirror_originals() -> Iterable[Difference]:
    """A reversal's legs are exactly the negation of its original's, account by account."""
    leg = Leg._meta.db_table
    txn = Transaction._meta.db_table
    # Legs of the reversal and of the original, added up per account: each sum must be zero.
    sql = f"""
        SELECT r.id, l.account_id, l.currency, SUM(l.amount_minor)
          FROM {txn} r
          JOIN {leg} l ON l.transaction_id = r.id OR l.transaction_id = r.reverses_id
         WHERE r.reverses_id IS NOT NULL
         GROUP BY r.id, l.account_id, l.currency
        HAVING SUM(l.amount_minor) <> 0
         ORDER BY r.id, l.account_id, l.currency
    """  # noqa: S608 - table names come from model metadata, no user input
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    for reversal_id, account_id, currency, total in rows:
        yield Difference(
            check="reversal mirrors original",
            subject=f"reversal {reversal_id}, account {account_id}",
            expected=_amount(0, currency),
            found=_amount(total, currency),
        )


@register_check
def trial_balance() -> Iterable[Difference]:
    """All legs together sum to zero in each currency: money is neither created nor lost."""
    totals = (
        Leg.objects.values("currency")
        .annotate(total=Sum("amount_minor"))
        .filter(~Q(total=0))
        .order_by("currency")
    )
    for row in totals:
        yield Difference(
            check="trial balance",
            subject=f"all {row['currency']} accounts",
            expected=_amount(0, row["currency"]),
            found=_amount(row["total"], row["currency"]),
        )


# --- Figures stored beside the ledger ------------------------------------------------------------


@register_check
def offerings_reserve_their_active_pledges() -> Iterable[Difference]:
    """An offering's ``reserved`` is the sum of its pending and paid pledges: `pledge_create`
    adds each pledge and `_release` takes it back off when the pledge ends."""
    offerings = (
        Offering.objects.annotate(
            active=Sum("pledges__amount", filter=Q(pledges__status__in=Pledge.ACTIVE))
        )
        .order_by("pk")
        .values_list("pk", "currency", "reserved", "active")
    )
    for pk, currency, reserved, active in offerings:
        active = active or Decimal(0)
        if reserved != active:
            yield Difference(
                check="offering reserved = active pledges",
                subject=f"offering {pk}",
                expected=f"{_figure(active, currency)} (pending and paid pledges)",
                found=f"{_figure(reserved, currency)} (reserved)",
            )


@register_check
def matching_pools_agree() -> Iterable[Difference]:
    """A matching pool's ``committed`` is the sum of its allocations not released, and minus
    the balance of its ledger account (``pool:<pk>``): a match is posted pool -> escrow and
    adds to ``committed``; a refund posts it back and releases the allocation."""
    pools = (
        MatchingPool.objects.annotate(
            allocated=Sum("allocations__amount", filter=Q(allocations__released=False))
        )
        .order_by("pk")
        .values_list("pk", "offering__currency", "committed", "allocated")
    )
    held = {
        (key, currency): total
        for key, currency, total in Leg.objects.filter(account__kind=Account.Kind.MATCHING_POOL)
        .values("account__key", "account__currency")
        .annotate(total=Sum("amount_minor"))
        .order_by()
        .values_list("account__key", "account__currency", "total")
    }
    for pk, currency, committed, allocated in pools:
        allocated = allocated or Decimal(0)
        subject = f"matching pool {pk}"
        if committed != allocated:
            yield Difference(
                check="pool committed = allocations",
                subject=subject,
                expected=f"{_figure(allocated, currency)} (allocations not released)",
                found=f"{_figure(committed, currency)} (committed)",
            )
        owed = -held.pop((f"pool:{pk}", currency), 0)
        if _minor(committed, currency) != owed:
            yield Difference(
                check="pool committed = -pool account",
                subject=subject,
                expected=f"{_amount(owed, currency)} (minus the pool:{pk} account balance)",
                found=f"{_figure(committed, currency)} (committed)",
            )
    for (key, currency), total in sorted(held.items()):
        if total:
            yield Difference(
                check="pool account has a pool",
                subject=f"matching account {key} {currency}",
                expected=_amount(0, currency),
                found=_amount(total, currency),
            )


def _capture_key(payment_pk: int) -> str:
    # The idempotency key of a captured payment's posting (finance.services.pledge_mark_paid).
    return f"payment:{payment_pk}:captured"


@register_check
def payments_agree_with_ledger() -> Iterable[Difference]:
    """A payment is succeeded exactly when its capture is posted (``payment:<pk>:captured``,
    by `pledge_mark_paid`); its ``captured_minor`` is what that posting brought in (0 when
    there is none); its ``refunded_minor`` is the sum of its refunds."""
    posted = dict(
        Leg.objects.filter(
            amount_minor__gt=0,
            transaction__idempotency_key__startswith="payment:",
            transaction__idempotency_key__endswith=":captured",
        )
        .values("transaction__idempotency_key")
        .annotate(total=Sum("amount_minor"))
        .order_by()
        .values_list("transaction__idempotency_key", "total")
    )
    payments = (
        Payment.objects.annotate(refunds_total=Sum("refunds__amount_minor"))
        .order_by("pk")
        .values_list(
            "pk", "currency", "status", "captured_minor", "refunded_minor", "refunds_total"
        )
    )
    for pk, currency, status, captured, refunded, refunds_total in payments:
        subject = f"payment {pk}"
        key = _capture_key(pk)
        gross = posted.pop(key, None)
        if (gross is not None) != (status == Payment.Status.SUCCEEDED):
            yield Difference(
                check="payment status = ledger",
                subject=subject,
                expected=(
                    f"succeeded ({key} posted)"
                    if gross is not None
                    else f"not succeeded (no {key} posted)"
                ),
                found=f"{status} (status)",
            )
        if captured != (gross or 0):
            yield Difference(
                check="payment captured = ledger",
                subject=subject,
                expected=f"{_amount(gross or 0, currency)} (posted under {key})",
                found=f"{_amount(captured, currency)} (captured_minor)",
            )
        if refunded != (refunds_total or 0):
            yield Difference(
                check="payment refunded = refunds",
                subject=subject,
                expected=f"{_amount(refunds_total or 0, currency)} (sum of its refunds)",
                found=f"{_amount(refunded, currency)} (refunded_minor)",
            )
    for key in sorted(posted):
        yield Difference(
            check="capture posting has a payment",
            subject=f"transaction {key}",
            expected="a payment",
            found="none",
        )


#: The key of held money sent back to a loan's card payment (finance.returns_services.
#: excess_refund_to_card: ``loancard:<card payment pk>:refund:<refunded before>:<amount>``).
_LOAN_CARD_REFUND_KEY = re.compile(r"loancard:(\d+):refund:")


@register_check
def loan_card_refunds_agree_with_ledger() -> Iterable[Difference]:
    """What a loan's card payment says went back to the card (``refunded_minor``) is what
    the ledger sent back out through Stripe for it."""
    from .returns import LoanCardPayment

    posted: defaultdict[int, int] = defaultdict(int)
    for key, amount in Leg.objects.filter(
        amount_minor__gt=0, transaction__kind="returns.excess_refunded_to_card"
    ).values_list("transaction__idempotency_key", "amount_minor"):
        found = _LOAN_CARD_REFUND_KEY.match(key)
        if found:
            posted[int(found.group(1))] += amount
    card_payments = (
        LoanCardPayment.objects.filter(Q(refunded_minor__gt=0) | Q(pk__in=list(posted)))
        .order_by("pk")
        .values_list("pk", "currency", "refunded_minor")
    )
    for pk, currency, refunded in card_payments:
        if refunded != posted.get(pk, 0):
            yield Difference(
                check="loan card refunded = ledger",
                subject=f"loan card payment {pk}",
                expected=f"{_amount(posted.get(pk, 0), currency)} (posted back to the card)",
                found=f"{_amount(refunded, currency)} (refunded_minor)",
            )


#: The key of a refund made for a card withdrawal (finance.returns_services:
#: ``payout:<payout pk>:refund:<payment pk>:<amount>``).
_PAYOUT_REFUND_KEY = re.compile(r"payout:(\d+):refund:")


@register_check
def refunds_agree_with_ledger() -> Iterable[Difference]:
    """Every refund is in the ledger. A pledge's refund posts under its own idempotency key
    exactly its amount (`finance.services`). The refunds of a card withdrawal post nothing
    themselves: the withdrawal's own posting takes the whole amount out once it is approved,
    so an approved withdrawal's refunds add up to it, one awaiting approval's to no more
    than it, one partly paid (rejected after part went back) to less than it, and a
    rejected one has none. No refund is posted without its Refund row."""
    from .returns import PayoutRequest

    refund_keys = Refund.objects.values("idempotency_key")
    posted = dict(
        Leg.objects.filter(amount_minor__gt=0, transaction__idempotency_key__in=refund_keys)
        .values("transaction__idempotency_key")
        .annotate(total=Sum("amount_minor"))
        .order_by()
        .values_list("transaction__idempotency_key", "total")
    )
    by_payout: defaultdict[int, int] = defaultdict(int)
    refunds = Refund.objects.order_by("pk").values_list(
        "pk", "idempotency_key", "payment__currency", "amount_minor"
    )
    for pk, key, currency, amount in refunds:
        payout = _PAYOUT_REFUND_KEY.match(key)
        if payout is not None:
            by_payout[int(payout.group(1))] += amount
            continue
        got = posted.get(key)
        if got != amount:
            yield Difference(
                check="refund posted",
                subject=f"refund {pk} ({key})",
                expected=f"{_amount(amount, currency)} (amount_minor)",
                found="no posting" if got is None else f"{_amount(got, currency)} posted",
            )
    payouts = (
        PayoutRequest.objects.filter(destination=PayoutRequest.Destination.CARD)
        .order_by("pk")
        .values_list("pk", "currency", "amount", "status")
    )
    for pk, currency, amount, status in payouts:
        sent = by_payout.pop(pk, 0)
        whole = _minor(amount, currency)
        if status == PayoutRequest.Status.APPROVED:
            consistent = sent == whole
        elif status == PayoutRequest.Status.REQUESTED:
            consistent = whole is not None and sent <= whole
        elif status == PayoutRequest.Status.PARTIAL:
            consistent = whole is not None and 0 < sent < whole
        else:
            consistent = sent == 0
        if not consistent:
            yield Difference(
                check="card withdrawal refunds",
                subject=f"withdrawal {pk} ({status})",
                expected=f"{_figure(amount, currency)} (withdrawal)",
                found=f"{_amount(sent, currency)} refunded to cards",
            )
    for pk in sorted(by_payout):
        yield Difference(
            check="card withdrawal refunds",
            subject=f"withdrawal {pk}",
            expected="a card withdrawal",
            found=f"{by_payout[pk]} minor units refunded, no such card withdrawal",
        )
    for pk, key in (
        Transaction.objects.filter(kind="refund")
        .exclude(idempotency_key__in=refund_keys)
        .order_by("pk")
        .values_list("pk", "idempotency_key")
    ):
        yield Difference(
            check="refund posting has a refund",
            subject=f"transaction {pk} ({key})",
            expected="a refund",
            found="none",
        )


#: ``Project.amount_raised`` keeps two decimals: an amount in a three-decimal currency (KWD)
#: is stored rounded, so it may be this far from the exact sum.
_RAISED_TOLERANCE = Decimal("0.005")


@register_check
def projects_funding_figures() -> Iterable[Difference]:
    """A project's ``amount_raised`` is its offerings' paid pledges plus the matching
    allocated to them and not released, and ``funded_percent`` is that as a whole percent of
    ``funding_sought``, truncated; as `project_refresh_funding` computes them and
    `project_add_funding` keeps them up to date."""
    from projects.models import Project

    paid = dict(
        Pledge.objects.filter(status=Pledge.Status.PAID, offering__project__isnull=False)
        .values("offering__project")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("offering__project", "total")
    )
    matched = dict(
        MatchAllocation.objects.filter(released=False, pledge__offering__project__isnull=False)
        .values("pledge__offering__project")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("pledge__offering__project", "total")
    )
    projects = Project.objects.order_by("pk").values_list(
        "pk", "funding_sought", "amount_raised", "funded_percent"
    )
    for pk, sought, stored_raised, stored_percent in projects:
        raised = paid.get(pk, Decimal(0)) + matched.get(pk, Decimal(0))
        subject = f"project {pk}"
        if abs(stored_raised - raised) > _RAISED_TOLERANCE:
            cents = raised.quantize(Decimal("0.01"))
            yield Difference(
                check="project amount raised",
                subject=subject,
                expected=f"{cents if cents == raised else raised} (paid pledges and matching)",
                found=f"{stored_raised} (amount_raised)",
            )
        percent = int(raised * 100 / sought) if sought else 0
        if stored_percent != percent:
            yield Difference(
                check="project funded percent",
                subject=subject,
                expected=f"{percent}% (of {sought or 0} sought)",
                found=f"{stored_percent}% (funded_percent)",
            )


# --- Payment providers' records (asked over the network) -----------------------------------------

#: Refunds Stripe did not (or will not) pay out.
_STRIPE_REFUNDS_NOT_PAID = frozenset({"failed", "canceled"})


def _stripe_field(obj, name: str, default=None):
    value = getattr(obj, name, None)
    return default if value is None else value


@dataclass(frozen=True, slots=True)
class _CardPaymentHere:
    """What a card payment of ours says, whatever model holds it."""

    subject: str
    intent_id: str
    currency: str
    amount: int
    status: str
    succeeded: bool
    captured: int
    refunded: int


def _card_payments_here(provider_name: str) -> list[_CardPaymentHere]:
    """Pledges' card payments and loans' card repayments that have an intent at Stripe."""
    from .returns import LoanCardPayment

    rows = [
        _CardPaymentHere(
            f"payment {pk} ({intent_id})",
            intent_id,
            currency,
            amount,
            status,
            status == Payment.Status.SUCCEEDED,
            captured,
            refunded,
        )
        for pk, intent_id, currency, amount, status, captured, refunded in (
            Payment.objects.filter(provider=provider_name)
            .exclude(provider_reference="")
            .order_by("pk")
            .values_list(
                "pk",
                "provider_reference",
                "currency",
                "amount_minor",
                "status",
                "captured_minor",
                "refunded_minor",
            )
        )
    ]
    # A loan's card repayment captures its whole amount when it succeeds.
    succeeded = LoanCardPayment.Status.SUCCEEDED
    rows += [
        _CardPaymentHere(
            f"loan card payment {pk} ({intent_id})",
            intent_id,
            currency,
            amount,
            status,
            status == succeeded,
            amount if status == succeeded else 0,
            refunded,
        )
        for pk, intent_id, currency, amount, status, refunded in (
            LoanCardPayment.objects.exclude(provider_reference="")
            .order_by("pk")
            .values_list(
                "pk", "provider_reference", "currency", "amount_minor", "status", "refunded_minor"
            )
        )
    ]
    return rows


@register_provider_check
def stripe_payments_agree_with_stripe() -> Iterable[Difference]:
    """Each card payment (a pledge's, or a loan's card repayment) agrees with its
    PaymentIntent at Stripe: succeeded there exactly when succeeded here, the same amount
    and currency, what was captured and what was refunded. Two requests to Stripe per
    payment that has an intent; Stripe unreachable raises StripeUnavailable."""
    import stripe

    from .payments import provider_for
    from .payments.stripe_provider import TRANSIENT_ERRORS, StripeUnavailable, stripe_client

    provider = provider_for("stripe")
    for here in _card_payments_here(provider.name):
        subject, intent_id, currency = here.subject, here.intent_id, here.currency
        try:
            intent = provider._retrieve_intent(intent_id)
            stripe_refunds = stripe_client().v1.refunds.list(
                params={"payment_intent": intent_id, "limit": 100}
            )
            refunded_there = sum(
                int(refund.amount)
                for refund in stripe_refunds.auto_paging_iter()
                if _stripe_field(refund, "status") not in _STRIPE_REFUNDS_NOT_PAID
            )
        except TRANSIENT_ERRORS as error:
            raise StripeUnavailable(
                f"Stripe did not answer about {subject}: {type(error).__name__} {error}"
            ) from error
        except stripe.StripeError as error:
            yield Difference(
                check="Stripe has the intent",
                subject=subject,
                expected="a PaymentIntent",
                found=f"{type(error).__name__} {error.http_status}: {error}"[:200],
            )
            continue
        state = _stripe_field(intent, "status", "")
        if (state == "succeeded") != here.succeeded:
            yield Difference(
                check="Stripe status",
                subject=subject,
                expected=f"{state} (at Stripe)",
                found=f"{here.status} (status)",
            )
        there = (
            _stripe_field(intent, "amount"),
            str(_stripe_field(intent, "currency", "")).upper(),
        )
        if there != (here.amount, currency):
            yield Difference(
                check="Stripe amount",
                subject=subject,
                expected=f"{there[0]} minor units {there[1]} (at Stripe)",
                found=f"{_amount(here.amount, currency)} (amount_minor)",
            )
        # Stripe's amount_received; localstripe leaves it out, and an intent captured
        # automatically that succeeded received its whole amount (as StripeProvider reads it).
        received = int(
            _stripe_field(intent, "amount_received", (there[0] or 0) if state == "succeeded" else 0)
        )
        if received != here.captured:
            yield Difference(
                check="Stripe captured",
                subject=subject,
                expected=f"{_amount(received, currency)} (at Stripe)",
                found=f"{_amount(here.captured, currency)} (captured_minor)",
            )
        if refunded_there != here.refunded:
            yield Difference(
                check="Stripe refunded",
                subject=subject,
                expected=f"{_amount(refunded_there, currency)} (at Stripe)",
                found=f"{_amount(here.refunded, currency)} (refunded_minor)",
            )
