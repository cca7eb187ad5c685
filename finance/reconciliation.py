"""Checks that the ledger is internally consistent, run by ``manage.py reconcile``.

A check is a function taking no arguments and returning an iterable of :class:`Difference`.
Register more with :func:`register_check` (payment providers add theirs: the provider's
settlements against its clearing account); :func:`reconcile_ledger` runs them all.

These checks repeat what PostgreSQL already enforces with triggers (migration 0002) on
purpose: they also cover SQLite, data restored from elsewhere, and a trigger someone dropped.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, F, Q, Sum

from finance.exceptions import MoneyError
from finance.ledger import Account, Leg, Transaction
from finance.money import Money


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


def _amount(minor: int, currency: str) -> str:
    try:
        return str(Money.from_minor(minor, currency))
    except MoneyError:
        # A corrupt currency code must not hide the difference it is part of.
        return f"{minor} minor units {currency}"


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
