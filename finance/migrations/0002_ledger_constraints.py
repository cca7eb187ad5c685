"""Ledger rules enforced by PostgreSQL itself, so that no code path (raw SQL, a shell, a
future bug) can leave an unbalanced or edited ledger behind.

1. A deferred constraint trigger checks, at COMMIT, that every transaction that received
   legs has at least two and that they sum to zero per currency. Deferred, because the legs
   of one transaction arrive in several rows (or several INSERTs); only the committed whole
   must balance. A transaction row inserted without any legs is caught the same way.
2. Legs are append-only: UPDATE and DELETE raise. Transactions may not be deleted, nor their
   idempotency key, kind or reversed transaction changed (the memo and ``created_by``, which
   a user deletion sets to NULL, may change).
3. A leg's currency equals its account's: a composite foreign key (account_id, currency)
   onto a unique (id, currency) of the account, which also stops an account with legs from
   changing currency.

TRUNCATE fires no row triggers, and Django's flush truncates every table in one statement,
so test database flushes keep working. On SQLite this migration does nothing; the Python
checks in finance.ledger and ``manage.py reconcile`` still apply there.
"""

from django.db import migrations

INSTALL = r"""
CREATE FUNCTION finance_leg_check_balanced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    checked_id bigint;
    leg_count bigint;
    unbalanced text;
BEGIN
    -- Fired per leg row and per transaction row; both name the transaction to check.
    IF TG_TABLE_NAME = 'finance_leg' THEN
        checked_id := NEW.transaction_id;
    ELSE
        checked_id := NEW.id;
    END IF;
    SELECT coalesce(sum(per_currency.legs), 0),
           string_agg(per_currency.currency || ' ' || per_currency.total, ', ')
               FILTER (WHERE per_currency.total <> 0)
      INTO leg_count, unbalanced
      FROM (SELECT currency, count(*) AS legs, sum(amount_minor) AS total
              FROM finance_leg
             WHERE transaction_id = checked_id
             GROUP BY currency) AS per_currency;
    IF leg_count < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has % leg(s); a transaction needs at least two',
            checked_id, leg_count
            USING ERRCODE = 'check_violation';
    END IF;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: legs sum to % (minor units)',
            checked_id, unbalanced
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER finance_leg_balanced
    AFTER INSERT ON finance_leg
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION finance_leg_check_balanced();

CREATE CONSTRAINT TRIGGER finance_transaction_has_legs
    AFTER INSERT ON finance_transaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION finance_leg_check_balanced();

CREATE FUNCTION finance_ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER finance_leg_append_only
    BEFORE UPDATE OR DELETE ON finance_leg
    FOR EACH ROW EXECUTE FUNCTION finance_ledger_append_only(
        'ledger legs are append-only; post a reversing transaction');

CREATE TRIGGER finance_transaction_no_delete
    BEFORE DELETE ON finance_transaction
    FOR EACH ROW EXECUTE FUNCTION finance_ledger_append_only(
        'ledger transactions are append-only; post a reversing transaction');

CREATE TRIGGER finance_transaction_immutable
    BEFORE UPDATE OF idempotency_key, kind, reverses_id ON finance_transaction
    FOR EACH ROW
    WHEN (OLD.idempotency_key IS DISTINCT FROM NEW.idempotency_key
          OR OLD.kind IS DISTINCT FROM NEW.kind
          OR OLD.reverses_id IS DISTINCT FROM NEW.reverses_id)
    EXECUTE FUNCTION finance_ledger_append_only(
        'ledger transactions are append-only: idempotency key, kind and reversed '
        'transaction cannot change; post a reversing transaction');

ALTER TABLE finance_account
    ADD CONSTRAINT finance_account_id_currency_uniq UNIQUE (id, currency);

ALTER TABLE finance_leg
    ADD CONSTRAINT finance_leg_account_currency_fk
    FOREIGN KEY (account_id, currency) REFERENCES finance_account (id, currency)
    ON UPDATE RESTRICT ON DELETE RESTRICT;
"""

UNINSTALL = r"""
ALTER TABLE finance_leg DROP CONSTRAINT IF EXISTS finance_leg_account_currency_fk;
ALTER TABLE finance_account DROP CONSTRAINT IF EXISTS finance_account_id_currency_uniq;
DROP TRIGGER IF EXISTS finance_transaction_immutable ON finance_transaction;
DROP TRIGGER IF EXISTS finance_transaction_no_delete ON finance_transaction;
DROP TRIGGER IF EXISTS finance_leg_append_only ON finance_leg;
DROP FUNCTION IF EXISTS finance_ledger_append_only();
DROP TRIGGER IF EXISTS finance_transaction_has_legs ON finance_transaction;
DROP TRIGGER IF EXISTS finance_leg_balanced ON finance_leg;
DROP FUNCTION IF EXISTS finance_leg_check_balanced();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # No parameters: the SQL holds literal % signs for RAISE.
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_on_postgresql(INSTALL), _on_postgresql(UNINSTALL)),
    ]
