from django.core.management.base import BaseCommand, CommandError

from finance.ledger import Account, Leg, Transaction
from finance.payments import PaymentError
from finance.reconciliation import Difference, reconcile_ledger, reconcile_providers

COLUMNS = ("check", "subject", "expected", "found")


def format_table(differences: list[Difference]) -> str:
    """The differences as a plain-text table with a header row, columns padded to fit."""
    rows = [COLUMNS] + [tuple(getattr(d, column) for column in COLUMNS) for d in differences]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


class Command(BaseCommand):
    help = (
        "Recompute every account's balance from the ledger's legs and check that every "
        "transaction balances per currency, that no account that may not go negative is, and "
        "that every leg is in its account's currency; check the figures stored beside the "
        "ledger against what they summarise (offerings' reserved capacity, matching pools' "
        "commitments, payments' captured and refunded totals, refunds, projects' funding). "
        "Each line of the table names the check, the object, the value recomputed (expected) "
        "and the value stored (found). With --providers, also compare card payments with "
        "Stripe's records. With --strict, exit with status 1 if any difference is found."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--strict",
            action="store_true",
            help="exit with status 1 when a difference is found (for cron and CI)",
        )
        parser.add_argument(
            "--providers",
            action="store_true",
            help="also ask the payment providers (Stripe) about every payment they took",
        )

    def handle(self, *args, strict: bool = False, providers: bool = False, **options):
        differences = reconcile_ledger()
        if providers:
            try:
                differences += reconcile_providers()
            except PaymentError as error:
                # Nothing was compared: a reconciliation that could not look must not pass.
                raise CommandError(f"payment providers not reconciled: {error}") from error
        if differences:
            self.stdout.write(format_table(differences))
        summary = (
            f"ledger: {Transaction.objects.count()} transactions, {Leg.objects.count()} legs, "
            f"{Account.objects.count()} accounts, {len(differences)} differences"
        )
        if differences:
            self.stdout.write(self.style.ERROR(summary))
        else:
            self.stdout.write(self.style.SUCCESS(summary))
        if differences and strict:
            raise CommandError(f"{len(differences)} ledger differences found", returncode=1)
