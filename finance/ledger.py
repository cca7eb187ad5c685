"""The double-entry ledger: accounts, transactions and their legs, and the posting functions.

Sign convention
---------------
A leg's ``amount_minor`` is a signed whole number of the currency's minor units (cents, yen,
fils). **Positive is a debit: value flows into the account. Negative is a credit: value flows
out of it.** Every account is read the same way: its balance is the plain sum of its legs, and
a positive balance is value held in that pot (an investor's wallet, an offering's escrow, the
platform's bank account). A transaction moves value from the accounts it credits to the
accounts it debits, so the legs of a transaction sum to zero in each currency.

Money that enters from outside comes out of the ``external`` account, which therefore runs
negative: minus its balance is what the outside world has put into the platform and not taken
back. ``provider_clearing`` may also run negative, because a provider's settlement and our
record of the charge do not arrive in a fixed order. Every other kind is refused below zero
unless it is created with ``allow_negative=True``.

Legs are append-only. A mistake is corrected by :func:`reverse_transaction`, never by UPDATE
or DELETE; on PostgreSQL the database enforces this, and the balance of every transaction, with
triggers installed by migration 0002; migration 0010 fixes an account's
``allow_negative`` once it is created.
"""

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from itertools import islice
from operator import or_
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models
from django.db.models import Q, Sum
from django.db.transaction import atomic
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from finance.exceptions import CurrencyMismatch, FinanceError, MoneyError
from finance.money import Money
from portal.prepared import Prepared, statement_cursor

#: Rows per INSERT and ids per ``IN (...)`` in bulk work; the backend may lower it (SQLite
#: allows 999 parameters per statement).
DEFAULT_BATCH_SIZE = 5000


class LedgerError(FinanceError):
    """A posting was refused, or the ledger was asked to do something it never does."""


class InvalidPosting(LedgerError):
    """The legs do not describe a movement of money: too few, zero, or finer than a minor unit."""


class UnbalancedPosting(InvalidPosting):
    """The legs of a posting do not sum to zero in every currency."""


class LegCurrencyMismatch(InvalidPosting, CurrencyMismatch):
    """A leg's amount is not in its account's currency."""


class IdempotencyConflict(LedgerError):
    """An idempotency key already names a different posting: a caller is reusing keys."""


class InsufficientFunds(LedgerError):
    """The posting would take an account that may not go negative below zero."""

    def __init__(self, account: "Account", balance: Money, change: Money) -> None:
        self.account = account
        self.balance = balance
        self.change = change
        super().__init__(
            f"{account} holds {balance}; a change of {change} would take it below zero"
        )


class AlreadyReversed(LedgerError):
    """The transaction has already been reversed (under another idempotency key)."""


class Account(models.Model):
    """A pot of value in one currency, owned by whoever ``key`` names."""

    class Kind(models.TextChoices):
        INVESTOR_WALLET = "investor_wallet", _("Investor wallet")
        OFFERING_ESCROW = "offering_escrow", _("Offering escrow")
        PROJECT_PAYABLE = "project_payable", _("Payable to project")
        MATCHING_POOL = "matching_pool", _("Matching pool")
        PROVIDER_CLEARING = "provider_clearing", _("Payment provider clearing")
        PLATFORM_FEES = "platform_fees", _("Platform fees")
        REFUNDS_PAYABLE = "refunds_payable", _("Refunds payable")
        BANK = "bank", _("Platform bank account")
        ENTREPRENEUR_RECEIVABLE = "entrepreneur_receivable", _("Receivable from entrepreneur")
        LOAN_RECEIVABLE = "loan_receivable", _("Loan receivable")
        SUSPENSE = "suspense", _("Suspense (unmatched, awaiting review)")
        EXTERNAL = "external", _("External (outside world)")

    #: Kinds whose balance may be negative by nature (see the module docstring).
    NEGATIVE_BY_NATURE = frozenset({Kind.EXTERNAL, Kind.PROVIDER_CLEARING})

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    key = models.CharField(
        _("owner key"),
        max_length=100,
        help_text=_('Who or what the account belongs to, e.g. "user:12", "provider:stripe".'),
    )
    currency = models.CharField(_("currency"), max_length=3)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
    )
    allow_negative = models.BooleanField(_("may go negative"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key", "currency"], name="finance_account_kind_key_currency_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} {self.currency}"

    @classmethod
    def from_db(cls, db, field_names, values):
        account = super().from_db(db, field_names, values)
        # The flag as the database gave it: see may_go_negative_as_read.
        account._allow_negative_as_read = account.__dict__.get("allow_negative")
        return account

    @property
    def may_go_negative_as_read(self) -> bool:
        """True when this instance was read from the database with ``allow_negative`` set
        and still says so. The flag cannot change once the account exists (on PostgreSQL
        a trigger refuses it, migration 0010), so such an account needs no lock nor
        balance check before value is taken out of it. False for an instance built or
        edited in memory, or read without the flag: the ledger then asks the database."""
        return self.allow_negative is True and (
            self.__dict__.get("_allow_negative_as_read") is True
        )

    @classmethod
    def get_or_create_for(
        cls,
        *,
        kind: str,
        key: str,
        currency: str,
        user=None,
        allow_negative: bool | None = None,
    ) -> "Account":
        """The account of ``kind`` for ``key`` in ``currency``, created on first use.

        ``allow_negative`` defaults to True for external and provider-clearing accounts and
        False for every other kind; it only applies when the account is created.
        """
        lookup = cls._lookup(kind, key, currency)
        # Accounts are created once and read on every posting: look first.
        try:
            account = cls.objects.get(**lookup)
        except cls.DoesNotExist:
            account = cls._create(lookup, user=user, allow_negative=allow_negative)
        return cls._owned_by(account, user)

    @classmethod
    def get_or_create_many(cls, wanted: Sequence[Mapping[str, Any]]) -> list["Account"]:
        """Several accounts at once, each as ``get_or_create_for(**spec)`` returns it, in the
        order given: one query when they all exist, which after the first posting they do."""
        if not wanted:
            return []
        lookups = [cls._lookup(spec["kind"], spec["key"], spec["currency"]) for spec in wanted]
        values = [lookup[name] for lookup in lookups for name in ("kind", "key", "currency")]
        if len(lookups) <= len(_ACCOUNTS_MATCHING):
            rows = _ACCOUNTS_MATCHING[len(lookups) - 1](*values)
        else:
            rows = _accounts_matching(*values)
        found = {(account.kind, account.key, account.currency): account for account in rows}
        accounts = []
        for spec, lookup in zip(wanted, lookups, strict=True):
            account = found.get((lookup["kind"], lookup["key"], lookup["currency"]))
            if account is None:
                account = cls._create(
                    lookup, user=spec.get("user"), allow_negative=spec.get("allow_negative")
                )
            accounts.append(cls._owned_by(account, spec.get("user")))
        return accounts

    @classmethod
    def _lookup(cls, kind: str, key: str, currency: str) -> dict[str, str]:
        # Money validates and upper-cases the code: "usd" from a provider is "USD" here.
        return {"kind": cls.Kind(kind), "key": key, "currency": Money.zero(currency).currency}

    @classmethod
    def _create(cls, lookup: dict[str, str], *, user, allow_negative: bool | None) -> "Account":
        if allow_negative is None:
            allow_negative = lookup["kind"] in cls.NEGATIVE_BY_NATURE
        # Two requests creating the same wallet at once: the loser's INSERT violates the
        # unique constraint inside its own savepoint (so an outer transaction survives) and it
        # reads the winner's row instead.
        try:
            with atomic():
                account, created = cls.objects.get_or_create(
                    **lookup, defaults={"user": user, "allow_negative": allow_negative}
                )
            if created:
                # Just written: the database holds what the instance says.
                account._allow_negative_as_read = account.allow_negative
        except IntegrityError:
            account = cls.objects.get(**lookup)
        return account

    @staticmethod
    def _owned_by(account: "Account", user) -> "Account":
        if user is not None and account.user_id != user.pk:
            raise LedgerError(f"{account} belongs to user {account.user_id}, not {user.pk}")
        return account


def _accounts_matching(*values: str) -> models.QuerySet:
    """The accounts matching any of the (kind, key, currency) triples given one after another."""
    triples = (values[index : index + 3] for index in range(0, len(values), 3))
    return Account.objects.filter(
        reduce(or_, (Q(kind=kind, key=key, currency=currency) for kind, key, currency in triples))
    )


# Every payment looks up its two or three accounts: for up to four, the query
# is written once per process (portal/prepared.py).
_ACCOUNTS_MATCHING = tuple(
    Prepared(_accounts_matching, *(str,) * (3 * count)) for count in range(1, 5)
)


class Transaction(models.Model):
    """One movement of money: two or more legs summing to zero per currency."""

    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    kind = models.CharField(
        _("kind"), max_length=50, help_text=_('e.g. "pledge.payment", "refund", "coupon"')
    )
    memo = models.TextField(_("memo"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # One-to-one: a transaction is reversed at most once, and the database says so.
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversal",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")

    def __str__(self) -> str:
        return f"{self.kind} {self.idempotency_key}"

    def delete(self, *args, **kwargs):
        raise LedgerError("ledger transactions are append-only; post a reversing transaction")


class Leg(models.Model):
    """One side of a transaction: a signed amount on one account.

    ``amount_minor`` is positive for a debit (value into the account) and negative for a
    credit (value out of it); see the module docstring.
    """

    transaction = models.ForeignKey(
        Transaction, verbose_name=_("transaction"), on_delete=models.PROTECT, related_name="legs"
    )
    # The composite index below starts with account, so a separate one would be redundant.
    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="legs",
        db_index=False,
    )
    amount_minor = models.BigIntegerField(
        _("amount in minor units"), help_text=_("Positive: debit (in). Negative: credit (out).")
    )
    # Repeats the account's currency so that sums per currency need no join; on PostgreSQL a
    # composite foreign key keeps the two equal.
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("ledger leg")
        verbose_name_plural = _("ledger legs")
        indexes = [
            # Balances are SUM(amount_minor) per account: carrying the amount in the index
            # lets both PostgreSQL and SQLite answer from the index alone. (INCLUDE would do
            # on PostgreSQL, but SQLite has no INCLUDE and Django warns about it there.)
            models.Index(
                fields=["account", "transaction", "amount_minor"],
                name="finance_leg_account_txn_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount_minor=0), name="finance_leg_amount_not_zero"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.money}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise LedgerError("ledger legs are append-only; post a reversing transaction")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerError("ledger legs are append-only; post a reversing transaction")

    @property
    def money(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)


@dataclass(frozen=True, slots=True)
class Posting:
    """One transaction to post with :func:`post_many`; fields as for :func:`post_transaction`."""

    idempotency_key: str
    kind: str
    legs: Sequence[tuple[Account, Money]]
    memo: str = ""
    created_by: object = None


def _batched(iterable: Iterable, size: int):
    """Tuples of up to ``size`` items (itertools.batched arrives with Python 3.12)."""
    iterator = iter(iterable)
    while batch := tuple(islice(iterator, size)):
        yield batch


# (account pk, currency, signed minor units): the comparable form of a leg.
_LegKey = tuple[int, str, int]


def _validated_legs(legs: Sequence[tuple[Account, Money]]) -> list[tuple[Account, Money, int]]:
    """Check the legs describe a posting; return them with their amounts in minor units."""
    if len(legs) < 2:
        raise InvalidPosting(f"a transaction needs at least two legs, got {len(legs)}")
    checked = []
    totals: Counter[str] = Counter()
    for account, money in legs:
        if account.pk is None:
            raise InvalidPosting(f"account {account} is not saved")
        if money.currency != account.currency:
            raise LegCurrencyMismatch(
                f"{money} posted to {account}, which is in {account.currency}"
            )
        try:
            minor = money.minor_units
        except MoneyError:
            # Rounding is the caller's decision (half-up, largest remainder...), so a fraction
            # of a cent here is a bug upstream, not something to round away silently.
            raise InvalidPosting(
                f"{money} is finer than the {money.currency} minor unit; quantize it first"
            ) from None
        if minor == 0:
            raise InvalidPosting(f"zero leg on {account}")
        totals[money.currency] += minor
        checked.append((account, money, minor))
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        described = ", ".join(
            str(Money.from_minor(total, currency)) for currency, total in sorted(unbalanced.items())
        )
        raise UnbalancedPosting(f"legs do not sum to zero: off by {described}")
    return checked


def _leg_keys(legs: Iterable[tuple[Account, Money, int]]) -> Counter[_LegKey]:
    return Counter((account.pk, money.currency, minor) for account, money, minor in legs)


def _check_replay(
    existing: Transaction,
    *,
    kind: str,
    reverses_id: int | None,
    legs: Counter[_LegKey],
    existing_legs: Counter[_LegKey] | None = None,
) -> None:
    """Refuse a key reused for a different posting; a true replay passes."""
    if existing_legs is None:
        existing_legs = Counter(existing.legs.values_list("account_id", "currency", "amount_minor"))
    if existing.kind != kind or existing.reverses_id != reverses_id or existing_legs != legs:
        raise IdempotencyConflict(
            f"idempotency key {existing.idempotency_key!r} was already used for a different "
            f"posting (transaction {existing.pk}, {existing.kind}); a key must name one posting"
        )


def _net_changes(postings_legs: Iterable[tuple[Account, Money, int]]) -> dict[int, int]:
    changes: defaultdict[int, int] = defaultdict(int)
    for account, _money, minor in postings_legs:
        changes[account.pk] += minor
    return changes


def _spent_accounts(legs: Iterable[tuple[Account, Money, int]]) -> set[int]:
    """The accounts the legs take value out of that may have to be locked and checked: all
    but those read from the database as allowed to go negative."""
    return {
        account.pk
        for account, _money, minor in legs
        if minor < 0 and not account.may_go_negative_as_read
    }


def _lock_spent_accounts(account_ids: set[int], batch_size: int) -> list[Account]:
    """Lock the non-negative accounts a posting takes value out of, lowest pk first.

    Without the lock two postings spending 60 from a wallet of 100 could each read 100 and both
    pass. The rows are locked in pk order so that two postings touching the same accounts
    cannot deadlock, and with FOR NO KEY UPDATE, which does not conflict with the KEY SHARE
    lock that inserting a leg takes on its account, so postings that only pay into an account
    never wait for one that spends from it. The flag is read from the database, not from the
    caller's instance (`_spent_accounts` has already left out the accounts the database said
    may go negative). SQLite has no row locks but lets one writer at a time commit, so the
    same check cannot pass twice there either.
    """
    if len(account_ids) == 1:
        return _SPENT_ACCOUNT_LOCKED(*account_ids)  # most postings spend from one account
    locked: list[Account] = []
    for ids in _batched(sorted(account_ids), batch_size):
        locked.extend(
            Account.objects.select_for_update(no_key=True)
            .filter(pk__in=ids, allow_negative=False)
            .order_by("pk")
        )
    return locked


_SPENT_ACCOUNT_LOCKED = Prepared(
    lambda pk: Account.objects.select_for_update(no_key=True).filter(pk=pk, allow_negative=False),
    int,
)


def _refuse_overdraft(locked: list[Account], changes: dict[int, int], batch_size: int) -> None:
    """Raise InsufficientFunds if a locked account would end below zero.

    Balances are read after the locks are held: under READ COMMITTED each statement sees what
    was committed before it, including the posting we queued behind.
    """
    spending = [account for account in locked if changes.get(account.pk, 0) < 0]
    if not spending:
        return
    current = balances(spending, batch_size=batch_size)
    for account in spending:
        change = changes[account.pk]
        if current[account.pk].minor_units + change < 0:
            raise InsufficientFunds(
                account, current[account.pk], Money.from_minor(change, account.currency)
            )


def _batch_size(batch_size: int) -> int:
    # SQLite refuses statements with more parameters than it was compiled for; Django knows
    # the limit (999), PostgreSQL has none worth worrying about below 65,535.
    limit = connection.features.max_query_params
    return max(1, min(batch_size, limit)) if limit else batch_size


# Every posting looks its key up first: the query is written once per process.
_TRANSACTION_WITH_KEY = Prepared(lambda key: Transaction.objects.filter(idempotency_key=key), str)


def _posted_under(idempotency_key: str) -> Transaction | None:
    found = _TRANSACTION_WITH_KEY(idempotency_key)  # at most one: the key is unique
    return found[0] if found else None


def post_transaction(
    *,
    idempotency_key: str,
    kind: str,
    legs: Sequence[tuple[Account, Money]],
    memo: str = "",
    reverses: Transaction | None = None,
    created_by=None,
) -> Transaction:
    """Post one transaction, or return the one already posted under ``idempotency_key``.

    ``legs`` pairs an account with a signed amount in the account's currency: positive
    debits (value in), negative credits (value out). The amounts must be whole minor units,
    non-zero, at least two, and sum to zero in each currency.

    Posting the same key again returns the first transaction without writing anything; the
    same key with different legs (or kind, or reversed transaction) raises
    :class:`IdempotencyConflict`. Concurrent posts of one key end with one transaction: the
    loser's INSERT does nothing (ON CONFLICT DO NOTHING) and it returns the winner's.

    Raises :class:`InvalidPosting` (and its subclasses :class:`UnbalancedPosting`,
    :class:`LegCurrencyMismatch`), :class:`InsufficientFunds` when an account that may not go
    negative would, and :class:`AlreadyReversed` when ``reverses`` already has a reversal.
    Inside a caller's transaction these are raised before anything is written, with the
    accounts' locks held until that transaction ends.
    """
    checked = _validated_legs(legs)
    leg_keys = _leg_keys(checked)
    reverses_id = reverses.pk if reverses is not None else None
    spent = _spent_accounts(checked)

    if spent:
        # Replays (a webhook delivered twice, a retried task) are the common case: answer
        # them without taking any lock. A posting that takes value only out of accounts that
        # may go negative (a payment from outside) takes no lock: its INSERT finds a replay
        # without this look-up, and a first posting, the common case there, is spared it.
        existing = _posted_under(idempotency_key)
        if existing is not None:
            _check_replay(existing, kind=kind, reverses_id=reverses_id, legs=leg_keys)
            return existing

    posting = {
        "idempotency_key": idempotency_key,
        "kind": kind,
        "memo": memo,
        "reverses": reverses,
        "created_by": created_by,
    }
    if connection.in_atomic_block:
        # Inside the caller's transaction (a payment, a refund) no savepoint is needed,
        # which saves two statements a posting: the checks raise before anything is written,
        # and a key taken by a concurrent posting does not fail the INSERT.
        return _post(posting, checked, leg_keys, spent)
    with atomic():
        return _post(posting, checked, leg_keys, spent)


def _post(
    posting: dict, checked: list[tuple[Account, Money, int]], leg_keys, spent: set[int]
) -> Transaction:
    size = _batch_size(DEFAULT_BATCH_SIZE)
    locked = _lock_spent_accounts(spent, size)
    if locked:
        # While we waited for the locks, a concurrent post of this very key (or reversal
        # of the same transaction) may have committed; it spent the money, so checking the
        # balance first would refuse a replay that should succeed, or misreport a reversal.
        existing = _posted_meanwhile(posting, leg_keys)
        if existing is not None:
            return existing
    _refuse_overdraft(locked, _net_changes(checked), size)
    # Should a write fail, the enclosing transaction is marked for rollback, so a caller
    # that carried on would be told at its next query.
    with atomic(savepoint=False):
        posted = _insert_transaction(posting, checked, size)
    if posted is not None:
        return posted
    # The key, or the reversal of the same transaction, was taken by a concurrent posting
    # that committed while our INSERT waited for it.
    existing = _posted_meanwhile(posting, leg_keys)
    if existing is not None:
        return existing
    raise IntegrityError(f"transaction {posting['idempotency_key']!r} was not inserted")


def _posted_meanwhile(posting: dict, leg_keys) -> Transaction | None:
    """What a concurrent posting committed while this one waited: the transaction under
    this key (checked to be the same posting, or IdempotencyConflict), or None. A reversal
    of the same transaction under another key raises AlreadyReversed."""
    reverses_id = posting["reverses"].pk if posting["reverses"] is not None else None
    existing = _posted_under(posting["idempotency_key"])
    if existing is not None:
        _check_replay(existing, kind=posting["kind"], reverses_id=reverses_id, legs=leg_keys)
        return existing
    if reverses_id is not None and Transaction.objects.filter(reverses_id=reverses_id).exists():
        raise AlreadyReversed(f"transaction {reverses_id} has already been reversed")
    return None


@functools.cache
def _insert_transaction_sql(vendor: str) -> tuple[str, tuple]:
    """The INSERT of a transaction row and its fields, written once per database vendor:
    every posting runs it."""
    fields = tuple(
        Transaction._meta.get_field(name)
        for name in ("idempotency_key", "kind", "memo", "created_at", "reverses", "created_by")
    )
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(Transaction._meta.db_table)} "  # noqa: S608 - names from model metadata
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT DO NOTHING RETURNING {quote(Transaction._meta.pk.column)}"
    )
    return sql, fields


def _insert_transaction(
    posting: dict, checked: list[tuple[Account, Money, int]], size: int
) -> Transaction | None:
    """INSERT the transaction row and its legs, or nothing if its idempotency key or the
    transaction it reverses is taken (None then). Written as SQL: ON CONFLICT DO NOTHING,
    which the ORM cannot combine with returning the new id, spares the savepoint that
    catching the unique violation needs.

    On PostgreSQL, when the legs fit in one statement, the transaction and its legs are one
    statement, one round trip: the legs' INSERT takes the new id from the transaction's (a
    data-modifying WITH) and writes nothing when the transaction's wrote nothing."""
    transaction = Transaction(**posting, created_at=timezone.now())
    sql, fields = _insert_transaction_sql(connection.vendor)
    params = [
        field.get_db_prep_save(getattr(transaction, field.attname), connection) for field in fields
    ]
    together = connection.vendor == "postgresql" and len(checked) <= _legs_per_statement(size)
    if together:
        sql = _with_legs_sql(sql, len(checked))
        params += [
            value
            for account, money, minor in checked
            for value in (account.pk, minor, money.currency)
        ]
    with statement_cursor(connection) as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    transaction.pk = row[0]
    transaction._state.adding = False
    transaction._state.db = connection.alias
    if not together:
        _insert_legs(transaction, checked, size)
    return transaction


def _legs_per_statement(size: int) -> int:
    return max(1, size // 4)  # four parameters a leg


def _leg_columns() -> str:
    quote = connection.ops.quote_name
    return ", ".join(
        quote(Leg._meta.get_field(name).column)
        for name in ("transaction", "account", "amount_minor", "currency")
    )


@functools.cache
def _with_legs_sql(insert_transaction: str, legs: int) -> str:
    """PostgreSQL: `insert_transaction` (ending RETURNING its id) and the INSERT of `legs`
    legs that takes that id, as one statement returning the id."""
    quote = connection.ops.quote_name
    pk = quote(Transaction._meta.pk.column)
    values = ", ".join(["(%s, %s, %s)"] * legs)
    return (
        f"WITH posted AS ({insert_transaction}), "  # noqa: S608 - names from model metadata
        f"legs AS (INSERT INTO {quote(Leg._meta.db_table)} ({_leg_columns()}) "
        f"SELECT posted.{pk}, leg.account, leg.amount, leg.currency "
        f"FROM posted, (VALUES {values}) AS leg (account, amount, currency)) "
        f"SELECT {pk} FROM posted"
    )


def _insert_legs(posted: Transaction, checked: list[tuple[Account, Money, int]], size: int):
    quote = connection.ops.quote_name
    columns = _leg_columns()
    with connection.cursor() as cursor:
        for batch in _batched(checked, _legs_per_statement(size)):
            values = ", ".join(["(%s, %s, %s, %s)"] * len(batch))
            cursor.execute(
                f"INSERT INTO {quote(Leg._meta.db_table)} ({columns}) VALUES {values}",  # noqa: S608
                [
                    value
                    for account, money, minor in batch
                    for value in (posted.pk, account.pk, minor, money.currency)
                ],
            )


def reverse_transaction(
    original: Transaction, *, idempotency_key: str, memo: str = "", created_by=None
) -> Transaction:
    """Post the negation of ``original``'s legs, marked as its reversal.

    A transaction is reversed at most once: a second call with the same key returns the
    existing reversal, with another key it raises :class:`AlreadyReversed`. The reversal is
    refused with :class:`InsufficientFunds` when the money has meanwhile been spent (a deposit
    whose wallet was already invested).
    """
    existing = Transaction.objects.filter(reverses=original).first()
    if existing is not None:
        if existing.idempotency_key == idempotency_key:
            return existing
        raise AlreadyReversed(
            f"transaction {original.pk} was already reversed by transaction {existing.pk} "
            f"(key {existing.idempotency_key!r})"
        )
    original_legs = list(original.legs.select_related("account"))
    return post_transaction(
        idempotency_key=idempotency_key,
        kind="reversal",
        legs=[(leg.account, -leg.money) for leg in original_legs],
        memo=memo or f"reverses {original.kind} {original.idempotency_key}",
        reverses=original,
        created_by=created_by,
    )


def balance(account: Account) -> Money:
    """The account's balance, summed from its legs in the database."""
    total = Leg.objects.filter(account=account).aggregate(total=Sum("amount_minor"))["total"]
    return Money.from_minor(total or 0, account.currency)


def balances(
    accounts: Iterable[Account], *, batch_size: int = DEFAULT_BATCH_SIZE
) -> dict[int, Money]:
    """Balances of many accounts keyed by account pk, in one query per ``batch_size`` accounts.

    Accounts without legs are present with a zero balance.
    """
    accounts = list(accounts)
    result = {account.pk: Money.zero(account.currency) for account in accounts}
    currencies = {account.pk: account.currency for account in accounts}
    for ids in _batched(sorted(result), _batch_size(batch_size)):
        totals = (
            Leg.objects.filter(account_id__in=ids)
            .values("account_id")
            .annotate(total=Sum("amount_minor"))
            .order_by()
            .values_list("account_id", "total")
        )
        for account_id, total in totals:
            result[account_id] = Money.from_minor(total, currencies[account_id])
    return result


def post_many(
    postings: Iterable[Posting], *, batch_size: int = DEFAULT_BATCH_SIZE
) -> list[Transaction]:
    """Post many transactions at once, all or none; returns them in the order given.

    For bulk work such as a coupon run for every bondholder. Each posting follows the rules of
    :func:`post_transaction`, idempotency included: keys already in the ledger return their
    transaction (or raise :class:`IdempotencyConflict` if the legs differ), and a key given
    twice in ``postings`` is posted once. Non-negative accounts are checked against the net
    change of the whole batch, which is what becomes visible at commit.

    The number of queries grows with the number of batches, not of postings: existing keys are
    looked up ``batch_size`` at a time, transactions and legs are inserted with
    ``bulk_create``.
    """
    postings = list(postings)
    size = _batch_size(batch_size)
    validated: dict[str, tuple[Posting, list[tuple[Account, Money, int]], Counter]] = {}
    for posting in postings:
        checked = _validated_legs(posting.legs)
        leg_keys = _leg_keys(checked)
        seen = validated.get(posting.idempotency_key)
        if seen is None:
            validated[posting.idempotency_key] = (posting, checked, leg_keys)
        elif seen[0].kind != posting.kind or seen[2] != leg_keys:
            raise IdempotencyConflict(
                f"idempotency key {posting.idempotency_key!r} is given twice with different legs"
            )
    every_leg = [leg for _posting, checked, _keys in validated.values() for leg in checked]

    # A concurrent writer may insert one of our keys between our look-up and our INSERT; the
    # INSERT then fails on the unique key, and looking again finds it. Bounded, because only
    # a writer racing us on the same keys can cause it.
    for attempt in range(3):
        try:
            with atomic():
                # Lock before looking up existing keys: a concurrent run of the same postings
                # that held the locks has committed by the time we get them, and we must see
                # its transactions as replays rather than as spending the money twice.
                locked = _lock_spent_accounts(_spent_accounts(every_leg), size)
                by_key = _existing_transactions(validated, size)
                new = [key for key in validated if key not in by_key]
                new_legs = [leg for key in new for leg in validated[key][1]]
                _refuse_overdraft(locked, _net_changes(new_legs), size)
                by_key.update(_insert(new, validated, size))
            break
        except IntegrityError:
            if attempt == 2:
                raise
    return [by_key[posting.idempotency_key] for posting in postings]


def _existing_transactions(validated: dict, size: int) -> dict[str, Transaction]:
    """Transactions already posted under the given keys, each checked to be a true replay."""
    found: dict[str, Transaction] = {}
    for keys in _batched(validated, size):
        batch = {txn.pk: txn for txn in Transaction.objects.filter(idempotency_key__in=keys)}
        if not batch:
            continue
        legs_of: defaultdict[int, Counter] = defaultdict(Counter)
        for ids in _batched(batch, size):
            for txn_id, account_id, currency, minor in Leg.objects.filter(
                transaction_id__in=ids
            ).values_list("transaction_id", "account_id", "currency", "amount_minor"):
                legs_of[txn_id][account_id, currency, minor] += 1
        for txn in batch.values():
            posting, _checked, leg_keys = validated[txn.idempotency_key]
            _check_replay(
                txn,
                kind=posting.kind,
                reverses_id=None,
                legs=leg_keys,
                existing_legs=legs_of[txn.pk],
            )
            found[txn.idempotency_key] = txn
    return found


def _insert(keys: list[str], validated: dict, size: int) -> dict[str, Transaction]:
    transactions = Transaction.objects.bulk_create(
        (
            Transaction(
                idempotency_key=key,
                kind=validated[key][0].kind,
                memo=validated[key][0].memo,
                created_by=validated[key][0].created_by,
            )
            for key in keys
        ),
        batch_size=size,
    )
    if any(txn.pk is None for txn in transactions):
        # Backends that cannot return ids from a multi-row INSERT: read them back by key.
        ids = {}
        for batch in _batched(keys, size):
            ids.update(
                Transaction.objects.filter(idempotency_key__in=batch).values_list(
                    "idempotency_key", "pk"
                )
            )
        for txn in transactions:
            txn.pk = ids[txn.idempotency_key]
    by_key = {txn.idempotency_key: txn for txn in transactions}
    Leg.objects.bulk_create(
        (
            Leg(
                transaction=by_key[key],
                account=account,
                amount_minor=minor,
                currency=money.currency,
            )
            for key in keys
            for account, money, minor in validated[key][1]
        ),
        batch_size=size,
    )
    return by_key
