"""The double-entry ledger: postings, idempotency, reversals, balances, reconciliation, and on
PostgreSQL the rules the database enforces by itself."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from finance.exceptions import CurrencyMismatch, FinanceError
from finance.ledger import (
    Account,
    AlreadyReversed,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidPosting,
    LedgerError,
    Leg,
    LegCurrencyMismatch,
    Posting,
    Transaction,
    UnbalancedPosting,
    balance,
    balances,
    post_many,
    post_transaction,
    reverse_transaction,
)
from finance.money import Money
from finance.reconciliation import Difference, reconcile_ledger, register_check
from tests.conftest import ON_POSTGRES, requires_postgres
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def usd(amount: str) -> Money:
    return Money(amount, "USD")


def wallet_of(user, currency: str = "USD") -> Account:
    return Account.get_or_create_for(
        kind=Account.Kind.INVESTOR_WALLET, key=f"user:{user.pk}", currency=currency, user=user
    )


def outside(currency: str = "USD") -> Account:
    return Account.get_or_create_for(kind=Account.Kind.EXTERNAL, key="world", currency=currency)


def deposit(account: Account, amount: str, *, key: str) -> Transaction:
    money = Money(amount, account.currency)
    return post_transaction(
        idempotency_key=key,
        kind="pledge.payment",
        legs=[(account, money), (outside(account.currency), -money)],
    )


@pytest.fixture
def wallet(user):
    return wallet_of(user)


@pytest.fixture
def escrow():
    return Account.get_or_create_for(
        kind=Account.Kind.OFFERING_ESCROW, key="offering:1", currency="USD"
    )


# Accounts


def test_accounts_are_found_again_not_duplicated(user):
    first = wallet_of(user)
    again = Account.get_or_create_for(
        kind="investor_wallet", key=f"user:{user.pk}", currency="usd", user=user
    )
    assert again.pk == first.pk
    assert again.currency == "USD"
    assert Account.objects.count() == 1


def test_only_external_and_clearing_accounts_may_go_negative_by_default(user):
    assert outside().allow_negative
    clearing = Account.get_or_create_for(
        kind=Account.Kind.PROVIDER_CLEARING, key="provider:stripe", currency="USD"
    )
    assert clearing.allow_negative
    assert not wallet_of(user).allow_negative


def test_an_account_key_cannot_be_claimed_by_another_user(user):
    wallet_of(user)
    with pytest.raises(LedgerError, match="belongs to user"):
        Account.get_or_create_for(
            kind="investor_wallet", key=f"user:{user.pk}", currency="USD", user=UserFactory()
        )


# Posting


def test_a_balanced_posting_moves_money(wallet):
    posted = deposit(wallet, "100.00", key="stripe:pi_1")
    assert balance(wallet) == usd("100.00")
    assert balance(outside()) == usd("-100.00")
    assert sorted(posted.legs.values_list("amount_minor", flat=True)) == [-10000, 10000]
    assert set(posted.legs.values_list("currency", flat=True)) == {"USD"}


def test_a_posting_writes_its_transaction_and_legs_in_one_statement_on_postgres(wallet):
    deposit(wallet, "1.00", key="warm-up")  # the accounts exist
    with CaptureQueriesContext(connection) as queries:
        posted = deposit(wallet, "100.00", key="stripe:pi_2")
    writes = [q["sql"] for q in queries if "INSERT" in q["sql"]]
    leg_table = connection.ops.quote_name(Leg._meta.db_table)
    if ON_POSTGRES:
        assert len(writes) == 1 and leg_table in writes[0]
    else:
        assert len(writes) == 2  # SQLite has no INSERT inside WITH
    assert sorted(posted.legs.values_list("amount_minor", flat=True)) == [-10000, 10000]
    assert balance(wallet) == usd("101.00")


def test_legs_too_many_for_one_statement_are_written_in_batches(user, monkeypatch):
    monkeypatch.setattr("finance.ledger.DEFAULT_BATCH_SIZE", 8)  # two legs a statement
    payers = [wallet_of(UserFactory()) for _ in range(4)]
    for number, payer in enumerate(payers):
        deposit(payer, "10.00", key=f"in-{number}")
    pot = wallet_of(user)
    with CaptureQueriesContext(connection) as queries:
        posted = post_transaction(
            idempotency_key="pooled",
            kind="pool",
            legs=[*((payer, usd("-2.50")) for payer in payers), (pot, usd("10.00"))],
        )
    leg_table = connection.ops.quote_name(Leg._meta.db_table)
    assert len([q for q in queries if f"INSERT INTO {leg_table}" in q["sql"]]) == 3
    assert posted.legs.count() == 5
    assert balance(pot) == usd("10.00")
    assert [balance(payer) for payer in payers] == [usd("7.50")] * 4


def test_an_unbalanced_posting_is_refused(wallet):
    with pytest.raises(UnbalancedPosting, match="off by 0.01 USD"):
        post_transaction(
            idempotency_key="bad",
            kind="pledge.payment",
            legs=[(wallet, usd("100.00")), (outside(), usd("-99.99"))],
        )
    assert not Transaction.objects.exists()
    assert not Leg.objects.exists()


def test_amounts_in_two_currencies_must_balance_in_each(user):
    usd_wallet, mxn_wallet = wallet_of(user, "USD"), wallet_of(user, "MXN")
    deposit(usd_wallet, "100.00", key="in")
    # 100 USD out and 100 MXN in add up to zero as numbers, but not as money.
    with pytest.raises(UnbalancedPosting):
        post_transaction(
            idempotency_key="fx-bad",
            kind="fx",
            legs=[(usd_wallet, usd("-100.00")), (mxn_wallet, Money("100.00", "MXN"))],
        )
    fx = Account.get_or_create_for(
        kind=Account.Kind.PROVIDER_CLEARING, key="provider:fx", currency="USD"
    )
    fx_mxn = Account.get_or_create_for(
        kind=Account.Kind.PROVIDER_CLEARING, key="provider:fx", currency="MXN"
    )
    post_transaction(
        idempotency_key="fx-good",
        kind="fx",
        legs=[
            (usd_wallet, usd("-100.00")),
            (fx, usd("100.00")),
            (fx_mxn, Money("-1712.40", "MXN")),
            (mxn_wallet, Money("1712.40", "MXN")),
        ],
    )
    assert balance(mxn_wallet) == Money("1712.40", "MXN")
    assert balance(usd_wallet) == usd("0")


def test_a_leg_in_another_currency_than_its_account_is_refused(wallet):
    with pytest.raises(LegCurrencyMismatch) as caught:
        post_transaction(
            idempotency_key="eur-into-usd",
            kind="pledge.payment",
            legs=[(wallet, Money("10.00", "EUR")), (outside("EUR"), Money("-10.00", "EUR"))],
        )
    assert isinstance(caught.value, CurrencyMismatch)
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(("amount", "currency"), [("10.005", "USD"), ("1.5", "JPY")])
def test_fractions_of_a_minor_unit_are_refused(user, amount, currency):
    account = wallet_of(user, currency)
    money = Money(amount, currency)
    with pytest.raises(InvalidPosting, match="quantize"):
        post_transaction(
            idempotency_key="sub-minor",
            kind="coupon",
            legs=[(account, money), (outside(currency), -money)],
        )


def test_fewer_than_two_legs_or_a_zero_leg_is_refused(wallet):
    with pytest.raises(InvalidPosting, match="at least two legs"):
        post_transaction(idempotency_key="one", kind="x", legs=[(wallet, usd("0.00"))])
    with pytest.raises(InvalidPosting, match="zero leg"):
        post_transaction(
            idempotency_key="zero", kind="x", legs=[(wallet, usd("0")), (outside(), usd("0"))]
        )


def test_posting_the_same_key_again_returns_the_first_transaction(wallet, escrow):
    legs = [(wallet, usd("25.00")), (outside(), usd("-25.00"))]
    first = post_transaction(idempotency_key="stripe:evt_1", kind="pledge.payment", legs=legs)
    # Out of an account that may go negative: the INSERT finds the key and writes nothing,
    # then the key and legs are read to compare.
    with CaptureQueriesContext(connection) as queries:
        again = post_transaction(idempotency_key="stripe:evt_1", kind="pledge.payment", legs=legs)
    assert again.pk == first.pk
    assert len(queries) == 3, [q["sql"] for q in queries]
    # Out of a wallet, which is locked for its balance check: the key is looked up before,
    # and a replay takes no lock.
    spend = [(wallet, usd("-5.00")), (escrow, usd("5.00"))]
    spent = post_transaction(idempotency_key="pledge-1", kind="pledge.reserve", legs=spend)
    with CaptureQueriesContext(connection) as queries:
        again = post_transaction(idempotency_key="pledge-1", kind="pledge.reserve", legs=spend)
    assert again.pk == spent.pk
    assert len(queries) == 2, [q["sql"] for q in queries]  # look up the key, compare legs
    assert not any("FOR " in q["sql"] for q in queries)
    assert Transaction.objects.count() == 2
    assert balance(wallet) == usd("20.00")


def test_a_key_reused_for_different_legs_is_an_error(wallet):
    deposit(wallet, "25.00", key="stripe:evt_1")
    with pytest.raises(IdempotencyConflict, match="'stripe:evt_1' was already used"):
        deposit(wallet, "26.00", key="stripe:evt_1")
    assert balance(wallet) == usd("25.00")


# Non-negative accounts


def test_a_wallet_cannot_be_overdrawn(wallet, escrow):
    deposit(wallet, "100.00", key="in")
    with pytest.raises(InsufficientFunds, match="holds 100.00 USD"):
        post_transaction(
            idempotency_key="pledge-1",
            kind="pledge.reserve",
            legs=[(wallet, usd("-100.01")), (escrow, usd("100.01"))],
        )
    assert balance(wallet) == usd("100.00")
    post_transaction(
        idempotency_key="pledge-2",
        kind="pledge.reserve",
        legs=[(wallet, usd("-100.00")), (escrow, usd("100.00"))],
    )
    assert balance(wallet) == usd("0.00")


def test_a_posting_out_of_accounts_read_as_free_to_go_negative_locks_and_looks_up_nothing(wallet):
    world = outside()  # read from the database: external accounts may go negative
    legs = [(wallet, usd("5.00")), (world, usd("-5.00"))]
    with CaptureQueriesContext(connection) as queries:
        posted = post_transaction(idempotency_key="in", kind="pledge.payment", legs=legs)
    # The INSERT alone (with its legs on PostgreSQL, then the legs on SQLite): no look-up of
    # the key first and no lock on the account it spends from.
    assert len(queries) == (1 if ON_POSTGRES else 2), [q["sql"] for q in queries]
    # Its INSERT still finds a replay, and a different posting under the same key.
    assert post_transaction(idempotency_key="in", kind="pledge.payment", legs=legs).pk == posted.pk
    with pytest.raises(IdempotencyConflict):
        post_transaction(
            idempotency_key="in",
            kind="pledge.payment",
            legs=[(wallet, usd("6.00")), (world, usd("-6.00"))],
        )
    assert balance(wallet) == usd("5.00")


def test_an_account_said_in_memory_to_go_negative_is_still_checked(wallet, escrow):
    deposit(wallet, "10.00", key="in")
    wallet.allow_negative = True  # edited, not read: the database says it may not
    built = Account(pk=wallet.pk, kind=wallet.kind, key=wallet.key, currency="USD")
    built.allow_negative = True
    for account in (wallet, built):
        assert not account.may_go_negative_as_read
        with pytest.raises(InsufficientFunds):
            post_transaction(
                idempotency_key=f"overdraw-{id(account)}",
                kind="pledge.reserve",
                legs=[(account, usd("-20.00")), (escrow, usd("20.00"))],
            )
    assert balance(wallet) == usd("10.00")
    assert outside().may_go_negative_as_read


# Reversals


def test_a_reversal_undoes_a_transaction(wallet):
    original = deposit(wallet, "40.00", key="in")
    reversal = reverse_transaction(original, idempotency_key="in:reversal", memo="duplicate")
    assert reversal.reverses == original
    assert Transaction.objects.get(pk=original.pk).reversal == reversal
    assert balance(wallet) == usd("0.00")
    assert balance(outside()) == usd("0.00")
    assert Leg.objects.count() == 4  # nothing was edited or deleted


def test_a_transaction_is_reversed_at_most_once(wallet):
    original = deposit(wallet, "40.00", key="in")
    first = reverse_transaction(original, idempotency_key="in:reversal")
    assert reverse_transaction(original, idempotency_key="in:reversal").pk == first.pk
    with pytest.raises(AlreadyReversed):
        reverse_transaction(original, idempotency_key="in:reversal-again")
    assert balance(wallet) == usd("0.00")


def test_a_deposit_already_spent_cannot_be_reversed(wallet, escrow):
    original = deposit(wallet, "40.00", key="in")
    post_transaction(
        idempotency_key="pledge",
        kind="pledge.reserve",
        legs=[(wallet, usd("-30.00")), (escrow, usd("30.00"))],
    )
    with pytest.raises(InsufficientFunds):
        reverse_transaction(original, idempotency_key="in:reversal")


def test_legs_refuse_to_be_edited_or_deleted_through_the_orm(wallet):
    leg = deposit(wallet, "5.00", key="in").legs.first()
    leg.amount_minor = 1
    with pytest.raises(LedgerError, match="append-only"):
        leg.save()
    with pytest.raises(LedgerError, match="append-only"):
        leg.delete()


# Balances


def test_balances_of_many_accounts_take_one_query(django_assert_num_queries):
    from tests.factories import UserFactory

    wallets = [wallet_of(UserFactory()) for _ in range(5)]
    for i, account in enumerate(wallets[:4]):
        deposit(account, f"{i + 1}.50", key=f"in-{i}")
    with django_assert_num_queries(1):
        result = balances(wallets)
    assert result == {
        wallets[0].pk: usd("1.50"),
        wallets[1].pk: usd("2.50"),
        wallets[2].pk: usd("3.50"),
        wallets[3].pk: usd("4.50"),
        wallets[4].pk: usd("0.00"),
    }


# Bulk postings


def _coupon_run(count: int, *, run: str, funding: Account) -> list[Posting]:
    holders = Account.objects.bulk_create(
        Account(kind=Account.Kind.INVESTOR_WALLET, key=f"{run}:holder:{i}", currency="USD")
        for i in range(count)
    )
    if any(holder.pk is None for holder in holders):
        holders = list(Account.objects.filter(key__startswith=f"{run}:holder:").order_by("pk"))
    return [
        Posting(
            idempotency_key=f"{run}:coupon:{holder.key}",
            kind="coupon",
            legs=[(funding, usd("-1.25")), (holder, usd("1.25"))],
        )
        for holder in holders
    ]


@pytest.fixture
def coupon_account():
    account = Account.get_or_create_for(kind=Account.Kind.BANK, key="coupons", currency="USD")
    deposit(account, "5000.00", key="coupon-funding")
    return account


def test_post_many_costs_queries_per_batch_not_per_posting(coupon_account):
    small = _coupon_run(100, run="small", funding=coupon_account)
    large = _coupon_run(1000, run="large", funding=coupon_account)
    with CaptureQueriesContext(connection) as small_queries:
        post_many(small)
    with CaptureQueriesContext(connection) as large_queries:
        posted = post_many(large)
    # SQLite caps a statement at 999 parameters, so Django splits each INSERT a few more
    # times there; PostgreSQL takes each batch of 5,000 in one statement.
    assert len(small_queries) <= 25
    assert len(large_queries) <= 25
    if ON_POSTGRES:
        assert len(large_queries) == len(small_queries)
    assert [txn.idempotency_key for txn in posted] == [p.idempotency_key for p in large]
    assert Transaction.objects.filter(kind="coupon").count() == 1100
    assert balance(coupon_account) == usd("5000.00") - usd("1.25") * 1100
    assert balance(large[0].legs[1][0]) == usd("1.25")


def test_post_many_is_idempotent_and_posts_repeated_keys_once(coupon_account):
    postings = _coupon_run(30, run="r", funding=coupon_account)
    first = post_many(postings[:10])
    everything = post_many(postings + postings[:5])
    assert [txn.pk for txn in everything[:10]] == [txn.pk for txn in first]
    assert [txn.pk for txn in everything[30:]] == [txn.pk for txn in first[:5]]
    assert Transaction.objects.filter(kind="coupon").count() == 30
    assert balance(coupon_account) == usd("5000.00") - usd("1.25") * 30


def test_post_many_refuses_a_conflicting_key(coupon_account):
    postings = _coupon_run(3, run="r", funding=coupon_account)
    post_many(postings[:1])
    holder = postings[0].legs[1][0]
    changed = Posting(
        idempotency_key=postings[0].idempotency_key,
        kind="coupon",
        legs=[(coupon_account, usd("-2.00")), (holder, usd("2.00"))],
    )
    with pytest.raises(IdempotencyConflict):
        post_many([changed, *postings[1:]])
    assert Transaction.objects.filter(kind="coupon").count() == 1


def test_post_many_posts_all_or_nothing_when_funds_run_short():
    funding = Account.get_or_create_for(kind=Account.Kind.BANK, key="coupons", currency="USD")
    deposit(funding, "10.00", key="coupon-funding")
    postings = _coupon_run(9, run="r", funding=funding)  # 9 x 1.25 = 11.25
    with pytest.raises(InsufficientFunds):
        post_many(postings)
    assert not Transaction.objects.filter(kind="coupon").exists()
    assert balance(funding) == usd("10.00")


# Reconciliation


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_reconcile_passes_on_a_clean_ledger(wallet, capsys):
    deposit(wallet, "10.00", key="in")
    reverse_transaction(Transaction.objects.get(), idempotency_key="in:reversal")
    assert reconcile_ledger() == []
    call_command("reconcile", "--strict")
    out = capsys.readouterr().out
    assert "ledger: 2 transactions, 4 legs, 2 accounts, 0 differences" in out


def _insert_leg(transaction_id: int, account: Account, amount_minor: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO finance_leg (transaction_id, account_id, amount_minor, currency)"
            " VALUES (%s, %s, %s, %s)",
            [transaction_id, account.pk, amount_minor, account.currency],
        )


def _post_unchecked(key: str, legs: list[tuple[Account, int]]) -> Transaction:
    """Write a transaction behind the ledger's back, as a buggy script or a restore might."""
    if connection.vendor == "postgresql":
        # As if someone had dropped the balance triggers. Django checks deferred constraints
        # before rolling a test back, so they must not be queued at all; the ALTERs are undone
        # with the test's transaction. PostgreSQL refuses to alter a table with checks still
        # pending, so run those first (they pass: earlier postings balance).
        _raw("SET CONSTRAINTS ALL IMMEDIATE")
        _raw("SET CONSTRAINTS ALL DEFERRED")
        _raw("ALTER TABLE finance_leg DISABLE TRIGGER finance_leg_balanced")
        _raw("ALTER TABLE finance_transaction DISABLE TRIGGER finance_transaction_has_legs")
    posted = Transaction.objects.create(idempotency_key=key, kind="manual")
    for account, amount_minor in legs:
        _insert_leg(posted.pk, account, amount_minor)
    return posted


def test_reconcile_reports_an_unbalanced_transaction_and_fails_when_strict(wallet, capsys):
    deposit(wallet, "10.00", key="in")
    bad = _post_unchecked("bad", [(wallet, -2000), (outside(), 1000)])

    call_command("reconcile")  # without --strict: report, exit 0
    out = capsys.readouterr().out
    assert "transaction balances" in out
    assert f"transaction {bad.pk} (bad)" in out
    assert "-10.00 USD" in out
    assert "non-negative balance" in out  # the wallet is now at -10.00
    assert "3 differences" in out  # the transaction, the wallet, the USD trial balance

    with pytest.raises(CommandError) as failed:
        call_command("reconcile", "--strict")
    assert failed.value.returncode == 1


def test_reconcile_reports_a_transaction_with_a_single_leg(wallet):
    bad = _post_unchecked("lonely", [(wallet, 500)])
    found = {(d.check, d.subject) for d in reconcile_ledger()}
    assert ("at least two legs", f"transaction {bad.pk} (lonely)") in found


def test_more_checks_can_be_registered(monkeypatch):
    from finance import reconciliation

    # An empty registry, so that only the check registered here runs (and none leaks out).
    monkeypatch.setattr(reconciliation, "_checks", [])

    @register_check
    def stripe_settlements():
        yield Difference("stripe settlement", "payout po_1", "100.00 USD", "99.00 USD")

    register_check(stripe_settlements)  # registering twice runs it once
    assert [d.check for d in reconcile_ledger()] == ["stripe settlement"]


def test_ledger_errors_belong_to_the_finance_hierarchy():
    for error in (InvalidPosting, IdempotencyConflict, InsufficientFunds, AlreadyReversed):
        assert issubclass(error, FinanceError)


# PostgreSQL: rules the database enforces whatever the code does


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_an_unbalanced_transaction_at_commit(wallet):
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic():
            _raw(
                "INSERT INTO finance_transaction (idempotency_key, kind, memo, created_at)"
                " VALUES ('raw', 'raw', '', now())"
            )
            txn_id = Transaction.objects.get(idempotency_key="raw").pk
            _insert_leg(txn_id, wallet, 500)
            _insert_leg(txn_id, outside(), -400)
            # Until COMMIT the rows are accepted: the legs of one transaction may arrive in
            # several statements.
    assert not Transaction.objects.exists()
    assert not Leg.objects.exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_a_transaction_with_fewer_than_two_legs(wallet):
    outside()
    with pytest.raises(IntegrityError, match="at least two"):
        with transaction.atomic():
            _raw(
                "INSERT INTO finance_transaction (idempotency_key, kind, memo, created_at)"
                " VALUES ('legless', 'raw', '', now())"
            )
    assert not Transaction.objects.exists()


@requires_postgres
def test_postgres_refuses_to_update_or_delete_legs(wallet):
    posted = deposit(wallet, "10.00", key="in")
    leg_id = posted.legs.first().pk
    for sql in (
        "UPDATE finance_leg SET amount_minor = 1 WHERE id = %s",
        "DELETE FROM finance_leg WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="ledger legs are append-only"):
            with transaction.atomic():
                _raw(sql, [leg_id])
    assert balance(wallet) == usd("10.00")


@requires_postgres
def test_postgres_refuses_to_rewrite_or_delete_transactions(wallet):
    posted = deposit(wallet, "10.00", key="in")
    for sql in (
        "UPDATE finance_transaction SET idempotency_key = 'other' WHERE id = %s",
        "UPDATE finance_transaction SET kind = 'other' WHERE id = %s",
        "DELETE FROM finance_transaction WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with transaction.atomic():
                _raw(sql, [posted.pk])
    # The memo is commentary, not money: it may be corrected.
    _raw("UPDATE finance_transaction SET memo = 'card payment' WHERE id = %s", [posted.pk])


@requires_postgres
def test_postgres_refuses_to_change_whether_an_account_may_go_negative(wallet):
    for sql in (
        "UPDATE finance_account SET allow_negative = true WHERE id = %s",
        "UPDATE finance_account SET allow_negative = NOT allow_negative WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="allow_negative is fixed"):
            with transaction.atomic():
                _raw(sql, [wallet.pk])
    wallet.refresh_from_db()
    assert not wallet.allow_negative
    # Writing the same value, or another column, is not a change of it.
    _raw("UPDATE finance_account SET allow_negative = false, key = key WHERE id = %s", [wallet.pk])


@requires_postgres
def test_postgres_refuses_a_leg_in_another_currency_than_its_account(wallet):
    posted = deposit(wallet, "10.00", key="in")
    with pytest.raises(IntegrityError, match="finance_leg_account_currency_fk"):
        with transaction.atomic():
            _raw(
                "INSERT INTO finance_leg (transaction_id, account_id, amount_minor, currency)"
                " VALUES (%s, %s, 100, 'EUR')",
                [posted.pk, wallet.pk],
            )


def _in_threads(*targets) -> None:
    """Run each target in its own thread, with its own database connection."""

    def run(target):
        try:
            target()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_two_concurrent_spends_cannot_overdraw_a_wallet(wallet, escrow):
    deposit(wallet, "100.00", key="in")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def spend(n):
        def run():
            start.wait()
            try:
                post_transaction(
                    idempotency_key=f"pledge-{n}",
                    kind="pledge.reserve",
                    legs=[(wallet, usd("-60.00")), (escrow, usd("60.00"))],
                )
                outcomes.append("posted")
            except InsufficientFunds:
                outcomes.append("refused")

        return run

    _in_threads(spend(1), spend(2))
    assert sorted(outcomes) == ["posted", "refused"]
    assert balance(wallet) == usd("40.00")


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_a_spend_waits_for_the_lock_and_sees_the_committed_balance(wallet, escrow):
    # Deterministic version of the race above: the first spend holds its lock, uncommitted,
    # while the second one starts. Without the lock the second would read 100 and pass.
    deposit(wallet, "100.00", key="in")
    first_posted, second_started = threading.Event(), threading.Event()
    outcomes: dict[str, str] = {}

    def spend(key):
        post_transaction(
            idempotency_key=key,
            kind="pledge.reserve",
            legs=[(wallet, usd("-60.00")), (escrow, usd("60.00"))],
        )

    def first():
        with transaction.atomic():
            spend("pledge-1")
            first_posted.set()
            second_started.wait(timeout=10)
            threading.Event().wait(0.5)  # let the second spend reach the lock
        outcomes["first"] = "posted"

    def second():
        first_posted.wait(timeout=10)
        second_started.set()
        try:
            spend("pledge-2")
            outcomes["second"] = "posted"
        except InsufficientFunds:
            outcomes["second"] = "refused"

    _in_threads(first, second)
    assert outcomes == {"first": "posted", "second": "refused"}
    assert balance(wallet) == usd("40.00")


@requires_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("movement", ["spend", "deposit"])
def test_postgres_the_same_key_posted_concurrently_makes_one_transaction(wallet, escrow, movement):
    # A spend takes the wallet's lock and finds the winner after waiting for it; a deposit
    # takes no lock and loses the race on the unique key instead.
    deposit(wallet, "100.00", key="in")
    payer, payee = (wallet, escrow) if movement == "spend" else (outside(), wallet)
    start = threading.Barrier(4)
    posted_ids: list[int] = []

    def post():
        start.wait()
        posted_ids.append(
            post_transaction(
                idempotency_key="once",
                kind=movement,
                legs=[(payer, usd("-60.00")), (payee, usd("60.00"))],
            ).pk
        )

    _in_threads(post, post, post, post)
    assert len(posted_ids) == 4
    assert len(set(posted_ids)) == 1
    assert Transaction.objects.filter(idempotency_key="once").count() == 1
    assert balance(wallet) == (usd("40.00") if movement == "spend" else usd("160.00"))


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_two_concurrent_reversals_leave_one(wallet):
    original = deposit(wallet, "100.00", key="in")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def reverse(n):
        def run():
            start.wait()
            try:
                reverse_transaction(original, idempotency_key=f"in:reversal-{n}")
                outcomes.append("reversed")
            except AlreadyReversed:
                outcomes.append("already reversed")

        return run

    _in_threads(reverse(1), reverse(2))
    assert sorted(outcomes) == ["already reversed", "reversed"]
    assert balance(wallet) == usd("0.00")


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_a_key_race_inside_a_callers_transaction_leaves_that_transaction_usable(wallet):
    # Inside a caller's transaction (a payment) the posting takes no savepoint: the loser's
    # INSERT must not fail on the unique key, or the caller's whole transaction would be lost.
    first_posted = threading.Event()
    posted_ids: list[int] = []

    def post():
        posted = post_transaction(
            idempotency_key="once",
            kind="deposit",
            legs=[(outside(), usd("-60.00")), (wallet, usd("60.00"))],
        )
        posted_ids.append(posted.pk)

    def first():
        with transaction.atomic():
            post()
            first_posted.set()
            threading.Event().wait(0.5)  # let the second one's INSERT wait for this one

    def second():
        first_posted.wait(timeout=10)
        with transaction.atomic():
            post()
            assert Account.objects.filter(pk=wallet.pk).exists()  # still usable

    _in_threads(first, second)
    assert len(posted_ids) == 2
    assert len(set(posted_ids)) == 1
    assert balance(wallet) == usd("60.00")
