"""Every line of an imported statement is counted in exactly one outcome, in the
message a reviewer reads after the upload and on the import's page, and the
outcomes add up to the lines in the file."""

import datetime
import importlib
import re
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile

from finance import returns_services as rs
from finance import services
from finance.bank import BankStatementImport, BankStatementLine
from finance.payments.bank_transfer import resolve_line
from finance.returns import Repayment
from finance.statements_import import import_statement
from tests.finance import test_bank_transfer as bank
from tests.finance.test_bank_transfer import make_pledge, messages_of, sign_in, upload
from tests.finance.test_returns import funded_loan, funded_revenue_share

offering = bank.offering
Status = BankStatementLine.Status
ACCOUNT = "DE89 3704 0044 0532 0130 00"
HEADER = "date;amount;currency;reference;remitter;entry id;account\n"


def row(entry: str, amount: str, currency: str, reference: str, booked="2025-04-20") -> str:
    return f"{booked};{amount};{currency};{reference};Remitter;{entry};{ACCOUNT}\n"


@pytest.fixture
def one_line_of_each_kind(offering, reviewer):
    """A statement with one line of every outcome, and the line an earlier file brought."""
    loan, _lenders = funded_loan()
    schedule = rs.loan_fix_schedule(offering=loan, start_date=datetime.date(2025, 1, 15))
    installment = schedule.installments.get(number=1)
    revenue_share, _investors = funded_revenue_share()
    report = rs.revenue_report_submit(
        offering=revenue_share,
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2025, 3, 31),
        revenue=Decimal("10000"),
        document=SimpleUploadedFile("sales.pdf", b"%PDF-1.4 sales"),
        by=revenue_share.project.owner,
    )
    exact, partial, over, ended = (
        make_pledge(offering, "250.00"),
        make_pledge(offering, "500.00"),
        make_pledge(offering, "100.00"),
        make_pledge(offering, "80.00"),
    )
    services.pledge_cancel(pledge=ended, by=ended.investor)
    earlier = HEADER + row("E-KNOWN", "12.00", "EUR", "gift")
    import_statement(file_bytes=earlier.encode(), filename="earlier.csv", uploaded_by=reviewer)
    statement = HEADER + "".join(
        [
            row("E-MATCHED", "250.00", "EUR", exact.bank_reference),
            row("E-LOAN", str(installment.payment), "USD", rs.loan_repayment_reference(loan)),
            row("E-REVENUE", "1000.00", "USD", rs.revenue_share_reference(report)),
            row("E-PARTIAL", "499.00", "EUR", partial.bank_reference),
            row("E-OVER", "150.00", "EUR", over.bank_reference),
            row("E-LATE", "80.00", "EUR", ended.bank_reference),
            row("E-UNMATCHED", "45.00", "EUR", "no reference at all"),
            row("E-DEBIT", "-25.00", "EUR", "account fee"),
            row("E-KNOWN", "12.00", "EUR", "gift"),  # brought by the earlier file
            row("E-DEBIT", "-25.00", "EUR", "account fee"),  # twice in this file
        ]
    )
    return statement.encode()


def test_the_upload_message_counts_every_line_once(client, reviewer, one_line_of_each_kind):
    sign_in(client, reviewer)
    response = upload(client, one_line_of_each_kind, "mixed.csv")
    statement = BankStatementImport.objects.get(original_name="mixed.csv")
    loan_line = statement.lines.get(entry_reference="E-LOAN")
    assert Repayment.objects.get().idempotency_key == f"bankline:{loan_line.pk}:repayment"

    (message,) = messages_of(response)
    assert message.strip() == (
        "Statement imported. Lines in the file: 10. Matched to a pledge 1, loan repayments "
        "recorded 1, revenue shares recorded 1, partial 1, overpaid 1, late 1, unmatched 1, "
        "debits ignored 1, already imported 2."
    )
    figures = [int(n) for n in re.findall(r" (\d+)[,.]", message.split("file: 10.")[1])]
    assert sum(figures) == statement.line_count == 10

    # The import's page: one cell per outcome, and they add up to the file's lines.
    html = response.content.decode()
    cells = dict(re.findall(r'<td id="count-([a-z-]+)">(\d+)</td>', html))
    assert cells == {
        "matched": "1",
        "repayment": "1",
        "revenue": "1",
        "partial": "1",
        "overpaid": "1",
        "late": "1",
        "unmatched": "1",
        "ignored": "1",
        "resolved": "0",
        "already-imported": "2",
    }
    assert sum(int(n) for n in cells.values()) == statement.line_count


def test_the_list_of_imports_shows_repayments_and_revenue_shares(
    client, reviewer, one_line_of_each_kind
):
    statement = import_statement(
        file_bytes=one_line_of_each_kind, filename="mixed.csv", uploaded_by=reviewer
    )
    assert {line.entry_reference: line.status for line in statement.lines.all()} == {
        "E-MATCHED": Status.MATCHED,
        "E-LOAN": Status.REPAYMENT,
        "E-REVENUE": Status.REVENUE_SHARE,
        "E-PARTIAL": Status.PARTIAL,
        "E-OVER": Status.OVERPAID,
        "E-LATE": Status.LATE,
        "E-UNMATCHED": Status.UNMATCHED,
        "E-DEBIT": Status.IGNORED,
    }
    sign_in(client, reviewer)
    listing = client.get(bank.UPLOAD).content.decode()
    row_html = listing.split(f'id="statement-import-{statement.pk}"')[1].split("</tr>")[0]
    assert 'data-status="repayment">Loan repayment recorded: 1<' in row_html
    assert 'data-status="revenue">Revenue share recorded: 1<' in row_html
    assert 'data-status="ignored">Debit: ignored: 1<' in row_html


def test_lines_closed_by_earlier_imports_get_their_outcome(reviewer, one_line_of_each_kind):
    """Before they had outcomes of their own, repayments and revenue shares were
    "resolved" like the lines staff resolve; the migration tells them apart."""
    migration = importlib.import_module("finance.migrations.0015_bank_line_notes_and_outcomes")
    statement = import_statement(
        file_bytes=one_line_of_each_kind, filename="mixed.csv", uploaded_by=reviewer
    )
    resolve_line(statement.lines.get(entry_reference="E-UNMATCHED"), note="Sent back.", by=reviewer)
    statement.lines.filter(status__in=[Status.REPAYMENT, Status.REVENUE_SHARE]).update(
        status=Status.RESOLVED
    )
    migration.split_resolved(django_apps, None)
    statuses = dict(statement.lines.values_list("entry_reference", "status"))
    assert statuses["E-LOAN"] == Status.REPAYMENT
    assert statuses["E-REVENUE"] == Status.REVENUE_SHARE
    assert statuses["E-UNMATCHED"] == Status.RESOLVED
