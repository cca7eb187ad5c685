"""An account's ``allow_negative`` is fixed when the account is created.

The ledger trusts the flag as it read it (``Account.may_go_negative_as_read``): a posting
that takes value only out of accounts the database said may go negative locks nothing and
checks no balance. That is sound only if the flag cannot change afterwards, which this
trigger makes sure of on PostgreSQL, for raw SQL and shells too. Nothing in the portal
changes it; an account that must behave otherwise is a new account. On SQLite this
migration does nothing.
"""

from importlib import import_module

from django.db import migrations

# The runner migration 0002 wrote for its triggers (and the function this one raises with).
on_postgresql = import_module("finance.migrations.0002_ledger_constraints")._on_postgresql

INSTALL = r"""
CREATE TRIGGER finance_account_allow_negative_fixed
    BEFORE UPDATE OF allow_negative ON finance_account
    FOR EACH ROW
    WHEN (OLD.allow_negative IS DISTINCT FROM NEW.allow_negative)
    EXECUTE FUNCTION finance_ledger_append_only(
        'an account''s allow_negative is fixed when it is created; open another account');
"""

UNINSTALL = r"""
DROP TRIGGER IF EXISTS finance_account_allow_negative_fixed ON finance_account;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0009_payout_partly_paid"),
    ]

    operations = [
        migrations.RunPython(on_postgresql(INSTALL), on_postgresql(UNINSTALL)),
    ]
