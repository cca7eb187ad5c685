"""Bank transfers with an RF reference: statement import (CAMT.053 and CSV),
matching to pledges, the suspense account, the staff queue in Wagtail's
admin, and reconciliation."""

import datetime
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone, translation
from stdnum import iso11649

from finance import services
from finance.bank import SUSPENSE_KEY, BankStatementImport, BankStatementLine, suspense_account
from finance.ledger import Account, Leg, Transaction, balance
from finance.money import Money
from finance.offerings import Offering, Payment, Pledge, Refund
from finance.payments import provider_for
from finance.payments.bank_transfer import BankMatchError, assign_line, match_line, resolve_line
from finance.reconciliation import reconcile_ledger
from finance.statements_import import (
    StatementError,
    find_rf_reference,
    import_statement,
    parse_csv_amount,
)
from portal.models import AuditEntry
from projects.models import Project
from tests.conftest import ON_POSTGRES, enable_totp, requires_postgres
from tests.factories import UserFactory

DATA = Path(__file__).parent / "data"
Status = BankStatementLine.Status
UPLOAD = "/admin/finance/bank-statements/"
QUEUE = "/admin/finance/bank-statements/queue/"


# --- Fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def offering(db):
    now = timezone.now()
    project = Project.objects.create(owner=UserFactory(), title="x", status="approved")
    return Offering.objects.create(
        project=project,
        title="School kitchen in Jerez",
        instrument="donation_matching",
        currency="EUR",
        target=Decimal("50000.00"),
        min_ticket=Decimal("10.00"),
        opens_at=now - datetime.timedelta(days=1),
        closes_at=now + datetime.timedelta(days=30),
        status="open",
    )


def make_pledge(offering, amount: str, *, method: str = "bank_transfer", investor=None) -> Pledge:
    return services.pledge_create(
        offering=offering,
        investor=investor or UserFactory(),
        amount=Decimal(amount),
        method=method,
        idempotency_key=services.new_pledge_key(),
    )


def fill(name: str, **references: str) -> bytes:
    """A fixture file with the pledges' references written where it has {NAME}."""
    text = (DATA / name).read_text(encoding="utf-8")
    for key, value in references.items():
        text = text.replace("{" + key + "}", value)
    assert "{REF" not in text and "{ref" not in text, "a reference was left unfilled"
    return text.encode("utf-8")


@pytest.fixture
def pledges(offering):
    return {
        "exact": make_pledge(offering, "250.00"),
        "partial": make_pledge(offering, "500.00"),
        "over": make_pledge(offering, "100.00"),
        "batch1": make_pledge(offering, "75.00", method="remittance"),
        "batch2": make_pledge(offering, "60.00"),
        "other_currency": make_pledge(offering, "300.00"),
        "csv": make_pledge(offering, "600.00"),
    }


def camt02(pledges) -> bytes:
    return fill(
        "camt053_001_02.xml",
        REF_EXACT=pledges["exact"].bank_reference,
        REF_PARTIAL=pledges["partial"].bank_reference,
        ref_over_lower=pledges["over"].bank_reference.lower(),
    )


def camt08(pledges) -> bytes:
    return fill(
        "camt053_001_08.xml",
        # As printed on the pledge confirmation: groups of four.
        REF_BATCH1_PRINTED=iso11649.format(pledges["batch1"].bank_reference),
        REF_BATCH2=pledges["batch2"].bank_reference,
        REF_OTHER_CURRENCY=pledges["other_currency"].bank_reference,
    )


def csv_file(pledges) -> bytes:
    return fill("statement.csv", REF_CSV=pledges["csv"].bank_reference)


def escrow(offering) -> Money:
    return balance(services.escrow_account(offering))


def suspense(currency="EUR") -> Money:
    return balance(suspense_account(currency))


def line_for(reference_or_entry: str) -> BankStatementLine:
    return BankStatementLine.objects.get(entry_reference=reference_or_entry)


def counts() -> dict:
    return {
        "imports": BankStatementImport.objects.count(),
        "lines": BankStatementLine.objects.count(),
        "payments": Payment.objects.count(),
        "transactions": Transaction.objects.count(),
        "legs": Leg.objects.count(),
        "paid": Pledge.objects.filter(status=Pledge.Status.PAID).count(),
    }


# --- References and the provider ----------------------------------------------------------------


def test_pledge_references_are_valid_iso11649_and_unique(offering):
    references = [make_pledge(offering, "10.00").bank_reference for _ in range(40)]
    assert all(iso11649.is_valid(reference) for reference in references)
    assert all(reference == iso11649.compact(reference) for reference in references)
    assert len(set(references)) == len(references)
    card = make_pledge(offering, "10.00", method="card")
    assert card.bank_reference == ""


@pytest.mark.parametrize(
    "template",
    [
        "{ref}",
        "Pledge {ref}, thank you",
        "pledge {lower}",
        "Inversion {printed} Jerez",
        "Inversion {printed} GRACIAS",  # a word in capitals after a printed reference
        "ref:{ref}.",
    ],
)
def test_references_are_found_in_free_text(offering, template):
    reference = make_pledge(offering, "10.00").bank_reference
    text = template.format(
        ref=reference, lower=reference.lower(), printed=iso11649.format(reference)
    )
    assert find_rf_reference(text) == reference


def test_invalid_or_absent_references_are_not_found():
    assert find_rf_reference("Para el proyecto de Jerez") == ""
    assert find_rf_reference("RF19 5390 0754 7034") == ""  # check digits wrong
    assert find_rf_reference("INTERFACE42") == ""  # "RF" inside a word


def test_start_records_the_expected_payment_once_and_moves_no_money(offering):
    pledge = make_pledge(offering, "250.00")
    provider = provider_for("bank_transfer")
    payment = provider.start(pledge=pledge)
    assert provider.start(pledge=pledge).pk == payment.pk
    assert (payment.provider, payment.status) == ("bank_transfer", Payment.Status.CREATED)
    assert payment.provider_reference == pledge.bank_reference
    assert (payment.amount_minor, payment.currency) == (25000, "EUR")
    assert provider.sync(payment=payment) is payment
    assert not Transaction.objects.exists()
    remittance = provider_for("remittance")
    assert remittance.name == "remittance"
    assert remittance.start(pledge=pledge).provider == "remittance"


# --- CAMT.053 -------------------------------------------------------------------------------------


def test_camt053_v02_import_matches_flags_and_holds_in_suspense(offering, pledges, reviewer):
    statement = import_statement(
        file_bytes=camt02(pledges), filename="2026-11-24.xml", uploaded_by=reviewer
    )
    assert not statement.already_imported
    assert statement.format == "camt053"
    assert (statement.line_count, statement.new_line_count, statement.known_line_count) == (6, 6, 0)
    assert statement.unbooked_count == 1  # the pending entry is not imported
    assert statement.status_counts() | {} == {
        **dict.fromkeys(Status.values, 0),
        "matched": 1,
        "partial": 1,
        "overpaid": 1,
        "unmatched": 2,
        "ignored": 1,
    }

    # Exactly the amount due: the pledge is paid and the money is in escrow.
    exact = line_for("2026112400001")
    pledge = Pledge.objects.get(pk=pledges["exact"].pk)
    assert exact.status == Status.MATCHED and exact.pledge == pledge
    assert exact.remitter_name == "María Hernández López"
    assert exact.remitter_account == "ES9121000418450200051332"
    assert exact.account_iban == "DE89370400440532013000"
    assert exact.booking_date == datetime.date(2026, 11, 24)
    assert pledge.status == Pledge.Status.PAID
    assert exact.payment.status == Payment.Status.SUCCEEDED
    assert exact.payment.captured_minor == 25000
    assert exact.payment.provider == "bank_transfer"
    assert escrow(offering) == Money("250.00", "EUR")
    assert AuditEntry.objects.filter(action="pledge.paid", object_id=str(pledge.pk)).exists()

    # Less or more than due: flagged, the pledge waits, the money waits in suspense.
    partial, over = line_for("2026112400002"), line_for("2026112400003")
    assert partial.status == Status.PARTIAL and partial.pledge_id == pledges["partial"].pk
    assert "300.00 EUR missing" in " ".join(partial.note_lines)
    assert over.status == Status.OVERPAID and over.pledge_id == pledges["over"].pk
    assert "50.00 EUR too much" in " ".join(over.note_lines)
    assert partial.payment is None and over.payment is None
    for key in ("partial", "over"):
        assert Pledge.objects.get(pk=pledges[key].pk).status == Pledge.Status.PENDING

    # No reference, or one nobody has: unmatched, in suspense.
    no_reference, unknown = line_for("2026112400004"), line_for("2026112400005")
    assert no_reference.status == unknown.status == Status.UNMATCHED
    assert no_reference.rf_reference == "" and "No valid RF reference" in " ".join(
        no_reference.note_lines
    )
    assert unknown.rf_reference == "RF18539007547034"
    assert "No pledge has the reference RF18539007547034" in " ".join(unknown.note_lines)

    # The bank's fee is money out: ignored, nothing posted.
    fee = line_for("2026112400006")
    assert (fee.status, fee.direction, fee.amount) == (
        Status.IGNORED,
        "debit",
        Decimal("12.500"),
    )
    assert not Transaction.objects.filter(idempotency_key=f"bankline:{fee.pk}:suspense").exists()

    assert suspense() == Money("460.00", "EUR")  # 200 + 150 + 80 + 30
    assert Transaction.objects.filter(idempotency_key=f"bankline:{partial.pk}:suspense").exists()
    assert reconcile_ledger() == []


def test_camt053_v08_batch_currency_and_a_line_repeated_from_another_file(
    offering, pledges, reviewer
):
    import_statement(file_bytes=camt02(pledges), filename="24.xml", uploaded_by=reviewer)
    before = BankStatementLine.objects.count()
    statement = import_statement(
        file_bytes=camt08(pledges), filename="25.xml", uploaded_by=reviewer
    )
    # Five lines in the file: the repeated entry, the batch split in two, USD, a debit.
    assert (statement.line_count, statement.new_line_count, statement.known_line_count) == (5, 4, 1)
    assert BankStatementLine.objects.count() == before + 4
    assert BankStatementLine.objects.filter(entry_reference="2026112400004").count() == 1

    # A batch of two transfers, each matched on its own reference.
    first = line_for("2026112500001/2026112500001-1")
    second = line_for("2026112500001/2026112500001-2")
    assert first.status == second.status == Status.MATCHED
    assert first.remitter_name == "Envíos Rápidos SA"
    assert first.payment.provider == "remittance"  # the pledge's own method
    assert second.payment.provider == "bank_transfer"
    for key in ("batch1", "batch2"):
        assert Pledge.objects.get(pk=pledges[key].pk).status == Pledge.Status.PAID
    assert escrow(offering) == Money("385.00", "EUR")  # 250 + 75 + 60

    # Dollars for a pledge in euros: unmatched, in a USD suspense account.
    usd = line_for("2026112500002")
    assert usd.status == Status.UNMATCHED
    assert usd.pledge_id == pledges["other_currency"].pk
    assert "Paid in USD" in " ".join(usd.note_lines) and "in EUR" in " ".join(usd.note_lines)
    assert usd.remitter_account == "021000021-4411229"
    assert suspense("USD") == Money("300.00", "USD")
    assert Pledge.objects.get(pk=pledges["other_currency"].pk).status == Pledge.Status.PENDING

    refund_out = line_for("2026112500003")
    assert refund_out.status == Status.IGNORED
    assert refund_out.booking_date == datetime.date(2026, 11, 25)  # from BookgDt/DtTm
    assert suspense() == Money("460.00", "EUR")  # the repeated 80.00 is held once
    assert reconcile_ledger() == []


def test_csv_import_with_semicolons_and_decimal_commas(offering, pledges, reviewer):
    statement = import_statement(
        file_bytes=csv_file(pledges), filename="export.csv", uploaded_by=reviewer
    )
    assert statement.format == "csv"
    assert statement.line_count == statement.new_line_count == 3
    paid = line_for("CSV-20261125-0001")
    assert paid.status == Status.MATCHED and paid.amount == Decimal("600.00")
    assert paid.remitter_name == "Jean-Baptiste Diallo"
    assert paid.account_iban == "DE89370400440532013000"
    assert Pledge.objects.get(pk=pledges["csv"].pk).status == Pledge.Status.PAID
    fee = line_for("CSV-20261125-0002")
    assert (fee.status, fee.direction, fee.amount) == (Status.IGNORED, "debit", Decimal("25.00"))
    donation = line_for("CSV-20261126-0001")
    assert donation.status == Status.UNMATCHED and donation.amount == Decimal("1045.50")
    assert donation.remittance_info == "Donation; Jerez school"
    assert donation.booking_date == datetime.date(2026, 11, 26)
    assert suspense() == Money("1045.50", "EUR")
    assert escrow(offering) == Money("600.00", "EUR")


def test_csv_with_commas_and_iso_dates(offering):
    pledge = make_pledge(offering, "1234.50", investor=UserFactory(verification_tier="enhanced"))
    data = (
        "date,amount,currency,description,remitter,entry id\n"
        f'2026-11-27,"1,234.50",EUR,{pledge.bank_reference},Ana,B-1\n'
        "2026-11-27,12.00,EUR,no reference,Ana,B-2\n"
    ).encode()
    import_statement(file_bytes=data, filename="bank.csv", uploaded_by=None)
    assert line_for("B-1").status == Status.MATCHED
    assert line_for("B-2").status == Status.UNMATCHED


@pytest.mark.parametrize(
    ("text", "delimiter", "expected"),
    [
        ("1234.56", ",", "1234.56"),
        ("1.234,56", ";", "1234.56"),
        ("-1.234,56", ";", "-1234.56"),
        ("1,234.56", ",", "1234.56"),
        ("1'234.56", ";", "1234.56"),
        ("45,5", ";", "45.5"),
        ("1,234", ",", "1234"),
        ("+100", ";", "100"),
        ("1 000,00", ";", "1000.00"),
        ("12,3,4,5", ";", "12345"),
        ("abc", ";", None),
        ("12.3.4", ";", "1234"),
        ("", ";", None),
        ("1e5", ";", None),
    ],
)
def test_csv_amounts(text, delimiter, expected):
    result = parse_csv_amount(text, delimiter=delimiter)
    assert result == (Decimal(expected) if expected is not None else None)


# --- Twice, or in two files -----------------------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing(offering, pledges, reviewer):
    data = camt02(pledges)
    first = import_statement(file_bytes=data, filename="a.xml", uploaded_by=reviewer)
    before = counts()
    balances_before = (escrow(offering), suspense())
    again = import_statement(file_bytes=data, filename="renamed.xml", uploaded_by=reviewer)
    assert again.pk == first.pk and again.already_imported
    assert again.original_name == "a.xml"
    assert counts() == before
    assert (escrow(offering), suspense()) == balances_before


def test_a_line_in_a_second_csv_is_not_counted_twice(offering, reviewer):
    pledge = make_pledge(offering, "250.00")
    header = "date;amount;currency;reference;remitter;entry id;account\n"
    row = f"24.11.2026;250,00;EUR;{pledge.bank_reference};Ana;X-1;DE89370400440532013000\n"
    import_statement(file_bytes=(header + row).encode(), filename="1.csv", uploaded_by=reviewer)
    before = counts()
    second = import_statement(
        file_bytes=(
            header + row + "25.11.2026;5,00;EUR;tip;Ana;X-2;DE89370400440532013000\n"
        ).encode(),
        filename="2.csv",
        uploaded_by=reviewer,
    )
    assert (second.new_line_count, second.known_line_count) == (1, 1)
    assert BankStatementLine.objects.count() == before["lines"] + 1
    assert Payment.objects.count() == before["payments"]
    assert escrow(offering) == Money("250.00", "EUR")
    # The same entry id on another account is another entry.
    third = import_statement(
        file_bytes=(
            header + row.replace("DE89370400440532013000", "ES7921000813610123456789")
        ).encode(),
        filename="3.csv",
        uploaded_by=reviewer,
    )
    assert third.new_line_count == 1
    assert line_for_account("ES7921000813610123456789").status == Status.OVERPAID  # paid twice


def line_for_account(account: str) -> BankStatementLine:
    return BankStatementLine.objects.get(account_iban=account)


def test_matching_a_line_again_does_nothing(offering, pledges, reviewer):
    import_statement(file_bytes=camt02(pledges), filename="a.xml", uploaded_by=reviewer)
    before = counts()
    for line in BankStatementLine.objects.all():
        match_line(line)
    assert counts() == before


# --- Late and double payments -------------------------------------------------------------------------


def test_paying_an_expired_pledge_is_flagged_late_not_matched(offering, reviewer):
    pledge = make_pledge(offering, "250.00")
    services.pledges_expire_due(now=timezone.now() + datetime.timedelta(days=30))
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.EXPIRED
    data = (
        "date;amount;currency;reference;entry id\n"
        f"24.11.2026;250,00;EUR;{pledge.bank_reference};L-1\n"
    ).encode()
    import_statement(file_bytes=data, filename="late.csv", uploaded_by=reviewer)
    line = line_for("L-1")
    assert line.status == Status.LATE and line.pledge_id == pledge.pk
    assert "has ended (Expired unpaid since" in " ".join(line.note_lines)
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.EXPIRED
    assert not Payment.objects.filter(pledge=pledge, status=Payment.Status.SUCCEEDED).exists()
    assert suspense() == Money("250.00", "EUR")
    assert escrow(offering) == Money("0.00", "EUR")
    assert reconcile_ledger() == []


def test_a_second_payment_of_a_paid_pledge_is_overpaid(offering, reviewer):
    pledge = make_pledge(offering, "100.00")
    data = (
        "date;amount;currency;reference;entry id\n"
        f"24.11.2026;100,00;EUR;{pledge.bank_reference};D-1\n"
        f"25.11.2026;100,00;EUR;{pledge.bank_reference};D-2\n"
    ).encode()
    import_statement(file_bytes=data, filename="double.csv", uploaded_by=reviewer)
    assert line_for("D-1").status == Status.MATCHED
    second = line_for("D-2")
    assert second.status == Status.OVERPAID and "already paid" in " ".join(second.note_lines)
    assert escrow(offering) == Money("100.00", "EUR")
    assert suspense() == Money("100.00", "EUR")


# --- Refused files ------------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>&lol3;</BkToCstmrStmt></Document>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>&xxe;</Id></Stmt></BkToCstmrStmt></Document>
"""
CSV_HEADER = "date;amount;currency;reference;remitter;entry id\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty"),
        (b"<Document><BkToCstmrStmt>", "not well-formed XML (line 1"),
        (BILLION_LAUGHS, "document type or entity declaration"),
        (EXTERNAL_ENTITY, "document type or entity declaration"),
        (EXTERNAL_ENTITY.decode().encode("utf-16"), "must be encoded in UTF-8"),
        (
            b'<?xml version="1.0" encoding="cp500"?><Document/>',
            "encoding cp500 is not accepted",
        ),
        (
            b'<?xml version="1.0" encoding="windows-1252"?>\n<!DOCTYPE d SYSTEM "http://x/">'
            b"<Document/>",
            "document type or entity declaration",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"/>',
            "not a CAMT.053 bank statement",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.13"/>',
            "camt.053.001.13 is not supported",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
            b"<Stmt><Id>S1</Id><Ntry><Amt Ccy='EUR'>12,50</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
            b"<BookgDt><Dt>2026-11-24</Dt></BookgDt></Ntry></Stmt></BkToCstmrStmt></Document>",
            "Statement S1, entry 1: cannot read the amount '12,50'",
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
            b"<Stmt><Id>S1</Id><Ntry><Amt Ccy='EUR'>12.50</Amt><CdtDbtInd>CRDT</CdtDbtInd>"
            b"</Ntry></Stmt></BkToCstmrStmt></Document>",
            "Statement S1, entry 1: the booking date is missing",
        ),
        (
            b"date;amount;currency;remitter\n24.11.2026;10,00;EUR;Ana\n",
            "Line 1: the header lacks the column(s) reference, entry_id",
        ),
        (
            (
                CSV_HEADER + "24.11.2026;10,00;EUR;x;Ana;E1\n24.11.2026;ten euros;EUR;x;Ana;E2\n"
            ).encode(),
            "Line 3: cannot read the amount 'ten euros'",
        ),
        (
            (CSV_HEADER + "24.11.2026;10,005;EUR;x;Ana;E1\n").encode(),
            "Line 2: the amount 10.005 has more decimals than EUR allows",
        ),
        (
            (CSV_HEADER + "24.11.2026;10,00;EURO;x;Ana;E1\n").encode(),
            "Line 2: EURO is not a currency code",
        ),
        (
            (CSV_HEADER + "11/24/2026;10,00;EUR;x;Ana;E1\n").encode(),
            "Line 2: cannot read the date '11/24/2026'",
        ),
        ((CSV_HEADER + "24.11.2026;10,00;EUR;x;Ana;\n").encode(), "Line 2: the entry id is empty"),
        (b"x" * (5 * 1024 * 1024 + 1), "larger than 5 MB"),
    ],
    ids=[
        "empty",
        "malformed-xml",
        "billion-laughs",
        "external-entity",
        "utf16-doctype",
        "ebcdic",
        "cp1252-doctype",
        "camt054",
        "camt053-v13",
        "camt-decimal-comma",
        "camt-no-date",
        "csv-missing-columns",
        "csv-bad-amount",
        "csv-too-many-decimals",
        "csv-bad-currency",
        "csv-us-date",
        "csv-no-entry-id",
        "too-large",
    ],
)
def test_bad_files_are_refused_clearly_and_write_nothing(offering, reviewer, data, message):
    make_pledge(offering, "10.00")
    before = counts()
    with pytest.raises(StatementError) as refused:
        import_statement(file_bytes=data, filename="bad", uploaded_by=reviewer)
    assert message in str(refused.value.message)
    assert counts() == before


def test_a_bad_line_late_in_a_file_writes_none_of_the_good_ones(offering, reviewer):
    pledge = make_pledge(offering, "10.00")
    data = (
        CSV_HEADER
        + f"24.11.2026;10,00;EUR;{pledge.bank_reference};Ana;E1\n"
        + "24.11.2026;1O,00;EUR;x;Ana;E2\n"
    ).encode()
    before = counts()
    with pytest.raises(StatementError, match="Line 3"):
        import_statement(file_bytes=data, filename="bad.csv", uploaded_by=reviewer)
    assert counts() == before
    pledge.refresh_from_db()
    assert pledge.status == Pledge.Status.PENDING


# --- Staff decisions -------------------------------------------------------------------------------------


def test_assigning_an_unmatched_line_moves_its_money_from_suspense_to_escrow(offering, reviewer):
    pledge = make_pledge(offering, "80.00")
    data = (CSV_HEADER + "24.11.2026;80,00;EUR;para Jerez;Pedro;U-1\n").encode()
    import_statement(file_bytes=data, filename="u.csv", uploaded_by=reviewer)
    line = line_for("U-1")
    assert line.status == Status.UNMATCHED and suspense() == Money("80.00", "EUR")

    line = assign_line(line, reference=iso11649.format(pledge.bank_reference).lower(), by=reviewer)
    assert line.status == Status.MATCHED and line.pledge_id == pledge.pk
    assert line.resolved_by == reviewer and line.resolved_at is not None
    assert Pledge.objects.get(pk=pledge.pk).status == Pledge.Status.PAID
    assert suspense() == Money("0.00", "EUR")
    assert escrow(offering) == Money("80.00", "EUR")
    unsuspense = Transaction.objects.get(idempotency_key=f"bankline:{line.pk}:unsuspense")
    assert unsuspense.reverses.idempotency_key == f"bankline:{line.pk}:suspense"
    assert AuditEntry.objects.filter(action="bank_line.assigned", object_id=str(line.pk)).exists()
    assert reconcile_ledger() == []
    with pytest.raises(BankMatchError, match="not waiting for review"):
        assign_line(line, reference=pledge.bank_reference, by=reviewer)


def test_notes_are_worded_for_the_reader_and_refusals_for_the_staff_member(offering, reviewer):
    """What the matching writes on a line is stored as a code and worded in the language
    of whoever reads it; why assigning a line is refused comes in the language of the
    staff member who asked."""
    pledge = make_pledge(offering, "80.00")
    data = (CSV_HEADER + f"24.11.2026;79.99;EUR;{pledge.bank_reference};Pedro;U-ES\n").encode()
    with translation.override("es"):
        import_statement(file_bytes=data, filename="u.csv", uploaded_by=reviewer)
    line = line_for("U-ES")
    assert line.status == Status.PARTIAL and line.note == ""
    assert line.notes == [
        {
            "code": "partial",
            "params": {"received": "79.99 EUR", "due": "80.00 EUR", "missing": "0.01 EUR"},
        }
    ]
    with translation.override("en"):
        assert line.note_lines == ["Received 79.99 EUR of 80.00 EUR due: 0.01 EUR missing."]
    with translation.override("es"):
        assert line.note_lines == ["Recibido 79.99 EUR de 80.00 EUR debidos: faltan 0.01 EUR."]
        with pytest.raises(BankMatchError) as refusal:
            assign_line(line, reference=pledge.bank_reference, by=reviewer)
    assert "faltan 0.01 EUR" in str(refusal.value)
    assert "missing" not in str(refusal.value)


@pytest.mark.parametrize(
    ("amount", "pledge_status", "message"),
    [
        ("79.99", "pending", "missing"),
        ("80.01", "pending", "too much"),
        ("80.00", "paid", "already paid"),
        ("80.00", "cancelled", "has ended \\(Cancelled since"),
    ],
)
def test_assigning_refuses_what_matching_refuses(
    offering, reviewer, amount, pledge_status, message
):
    pledge = make_pledge(offering, "80.00")
    if pledge_status == "paid":
        payment = provider_for("bank_transfer").start(pledge=pledge)
        Payment.objects.filter(pk=payment.pk).update(status="succeeded", captured_minor=8000)
        services.pledge_mark_paid(payment=payment)
    elif pledge_status == "cancelled":
        services.pledge_cancel(pledge=pledge, by=pledge.investor)
    data = (CSV_HEADER + f"24.11.2026;{amount};EUR;no ref;Pedro;U-1\n").encode()
    import_statement(file_bytes=data, filename="u.csv", uploaded_by=reviewer)
    line = line_for("U-1")
    before = counts()
    with pytest.raises(BankMatchError, match=message):
        assign_line(line, reference=pledge.bank_reference, by=reviewer)
    assert counts() == before
    assert BankStatementLine.objects.get(pk=line.pk).status == Status.UNMATCHED
    with pytest.raises(BankMatchError, match="No pledge has the reference"):
        assign_line(line, reference="RF18539007547034", by=reviewer)


def test_resolving_a_line_releases_suspense_with_a_note(offering, pledges, reviewer):
    import_statement(file_bytes=camt02(pledges), filename="a.xml", uploaded_by=reviewer)
    over = line_for("2026112400003")
    with pytest.raises(BankMatchError, match="Say what was done"):
        resolve_line(over, note="  ", by=reviewer)
    resolved = resolve_line(over, note="Sent 150.00 back to the remitter on 26 Nov.", by=reviewer)
    assert resolved.status == Status.RESOLVED
    assert "Sent 150.00 back" in " ".join(resolved.note_lines) and resolved.resolved_by == reviewer
    assert suspense() == Money("310.00", "EUR")
    assert Pledge.objects.get(pk=pledges["over"].pk).status == Pledge.Status.PENDING
    assert reconcile_ledger() == []


def test_refunding_a_bank_payment_asks_staff_to_pay_it_out(offering, reviewer):
    pledge = make_pledge(offering, "100.00")
    data = (CSV_HEADER + f"24.11.2026;100,00;EUR;{pledge.bank_reference};Ana;R-1\n").encode()
    import_statement(file_bytes=data, filename="r.csv", uploaded_by=reviewer)
    services.pledge_cancel(pledge=pledge, by=pledge.investor)
    refund = Refund.objects.get(payment__pledge=pledge)
    assert refund.provider_reference == f"bank-refund-{refund.pk}"
    entry = AuditEntry.objects.get(action="refund.bank_payout_due")
    assert entry.data["amount_minor"] == 10000 and entry.data["remitter"] == "Ana"
    assert escrow(offering) == Money("0.00", "EUR")
    again = provider_for("bank_transfer").refund(
        payment=refund.payment, amount_minor=10000, idempotency_key=refund.idempotency_key
    )
    assert again == refund.provider_reference
    assert AuditEntry.objects.filter(action="refund.bank_payout_due").count() == 1


# --- Reconciliation -------------------------------------------------------------------------------------


def test_reconcile_strict_passes_after_a_mixed_import(offering, pledges, reviewer, capsys):
    import_statement(file_bytes=camt02(pledges), filename="24.xml", uploaded_by=reviewer)
    import_statement(file_bytes=camt08(pledges), filename="25.xml", uploaded_by=reviewer)
    import_statement(file_bytes=csv_file(pledges), filename="26.csv", uploaded_by=reviewer)
    resolve_line(line_for("2026112400005"), note="Returned to sender.", by=reviewer)
    call_command("reconcile", "--strict")
    assert "0 differences" in capsys.readouterr().out


def test_reconciliation_notices_suspense_and_captures_that_disagree(offering, pledges, reviewer):
    import_statement(file_bytes=camt02(pledges), filename="24.xml", uploaded_by=reviewer)
    assert reconcile_ledger() == []
    # Someone books a line as resolved without taking its money out of suspense...
    BankStatementLine.objects.filter(entry_reference="2026112400004").update(status=Status.RESOLVED)
    # ...and a payment's capture is edited by hand.
    Payment.objects.filter(bank_lines__entry_reference="2026112400001").update(captured_minor=20000)
    found = {(d.check, d.expected, d.found) for d in reconcile_ledger()}
    assert ("suspense holds open bank lines", "380.00 EUR", "460.00 EUR") in found
    assert ("bank line matches payment", "250.00 EUR", "200.00 EUR captured") in found
    assert Account.objects.filter(kind="suspense", key=SUSPENSE_KEY).exists()


# --- Staff pages ---------------------------------------------------------------------------------------


def sign_in(client, user):
    if not user.authenticator_set.exists():
        enable_totp(user)
    client.force_login(user)
    return client


@pytest.fixture
def staff_without_role(db):
    person = UserFactory(is_staff=True)
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    person.groups.add(editors)
    return person


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def upload(client, data: bytes, name: str = "statement.xml"):
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, data)}, follow=True)


def test_reviewer_uploads_a_statement_and_sees_the_counts(client, offering, pledges, reviewer):
    sign_in(client, reviewer)
    page = client.get(UPLOAD)
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.content.decode()
    assert "Bank statements" in client.get("/admin/").content.decode()  # the menu item

    response = upload(client, camt02(pledges), "2026-11-24.xml")
    assert response.status_code == 200
    statement = BankStatementImport.objects.get()
    assert response.redirect_chain[-1][0] == f"/admin/finance/bank-statements/{statement.pk}/"
    assert statement.uploaded_by == reviewer
    (message,) = messages_of(response)
    assert (
        "Matched to a pledge 1, loan repayments recorded 0, revenue shares recorded 0, "
        "partial 1, overpaid 1, late 0, unmatched 2, debits ignored 1"
    ) in message
    html = response.content.decode()
    assert 'id="count-matched">1<' in html and 'id="count-unmatched">2<' in html
    assert 'id="count-partial">1<' in html and 'id="count-overpaid">1<' in html
    assert "María Hernández López" in html

    again = upload(client, camt02(pledges), "copy.xml")
    (message,) = messages_of(again)
    assert "This file was already imported on" in message
    assert BankStatementImport.objects.count() == 1

    listing = client.get(UPLOAD).content.decode()
    assert "2026-11-24.xml" in listing


def test_upload_of_a_bad_file_shows_the_error_and_writes_nothing(client, offering, reviewer):
    sign_in(client, reviewer)
    response = upload(client, BILLION_LAUGHS, "evil.xml")
    assert response.status_code == 200
    html = response.content.decode()
    assert "document type or entity declaration" in html
    assert "nothing was changed" in " ".join(messages_of(response))
    assert not BankStatementImport.objects.exists()
    response = client.post(UPLOAD, {}, follow=True)
    assert response.status_code == 200
    assert not BankStatementImport.objects.exists()


def test_queue_lists_lines_needing_attention_and_staff_resolve_them(
    client, offering, pledges, reviewer, django_assert_max_num_queries
):
    import_statement(file_bytes=camt02(pledges), filename="24.xml", uploaded_by=reviewer)
    sign_in(client, reviewer)
    response = client.get(QUEUE)
    assert response.status_code == 200
    html = response.content.decode()
    for entry in ("2026112400002", "2026112400003", "2026112400004", "2026112400005"):
        assert f'id="bank-line-{line_for(entry).pk}"' in html
    for entry in ("2026112400001", "2026112400006"):  # matched, ignored
        assert f'id="bank-line-{line_for(entry).pk}"' not in html
    partial_only = client.get(QUEUE + "?status=partial").content.decode()
    assert f'id="bank-line-{line_for("2026112400002").pk}"' in partial_only
    assert f'id="bank-line-{line_for("2026112400004").pk}"' not in partial_only

    # The 80.00 without a reference was for a pledge of 80.00.
    pledge = make_pledge(offering, "80.00")
    unmatched = line_for("2026112400004")
    page = client.get(f"/admin/finance/bank-statements/lines/{unmatched.pk}/")
    assert page.status_code == 200
    assert pledge.bank_reference in page.content.decode()  # offered as a candidate
    response = client.post(
        f"/admin/finance/bank-statements/lines/{unmatched.pk}/",
        {"action": "assign", "reference": pledge.bank_reference},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == QUEUE
    assert "is paid" in " ".join(messages_of(response))
    assert line_for("2026112400004").status == Status.MATCHED
    assert Pledge.objects.get(pk=pledge.pk).status == Pledge.Status.PAID

    # Assigning the partial line to its pledge is refused: the amount is short.
    partial = line_for("2026112400002")
    response = client.post(
        f"/admin/finance/bank-statements/lines/{partial.pk}/",
        {"action": "assign", "reference": pledges["partial"].bank_reference},
    )
    assert response.status_code == 200
    assert "300.00 EUR missing" in " ".join(messages_of(response))
    assert line_for("2026112400002").status == Status.PARTIAL

    response = client.post(
        f"/admin/finance/bank-statements/lines/{partial.pk}/",
        {"action": "resolve", "note": "Sent back to José on 26 Nov."},
        follow=True,
    )
    assert line_for("2026112400002").status == Status.RESOLVED
    assert line_for("2026112400002").resolved_by == reviewer
    assert suspense() == Money("180.00", "EUR")  # 150 + 30 left

    # Many lines cost what a few do.
    more = "".join(f"24.11.2026;{n},00;EUR;x;Ana;Q-{n}\n" for n in range(10, 70))
    import_statement(
        file_bytes=(CSV_HEADER + more).encode(), filename="q.csv", uploaded_by=reviewer
    )
    with django_assert_max_num_queries(15):
        assert client.get(QUEUE).status_code == 200


def test_bank_pages_are_403_for_staff_without_the_reviewer_role(
    client, offering, pledges, reviewer, staff_without_role
):
    import_statement(file_bytes=camt02(pledges), filename="24.xml", uploaded_by=reviewer)
    line = line_for("2026112400004")
    statement = BankStatementImport.objects.get()
    sign_in(client, staff_without_role)
    assert "Bank statements" not in client.get("/admin/").content.decode()
    pages = [
        UPLOAD,
        QUEUE,
        f"/admin/finance/bank-statements/{statement.pk}/",
        f"/admin/finance/bank-statements/lines/{line.pk}/",
    ]
    for url in pages:
        assert client.get(url).status_code == 403, url
    before = counts()
    assert upload_status(client, csv_file(pledges)) == 403
    response = client.post(
        f"/admin/finance/bank-statements/lines/{line.pk}/",
        {"action": "resolve", "note": "mine now"},
    )
    assert response.status_code == 403
    assert counts() == before
    assert line_for("2026112400004").status == Status.UNMATCHED


def upload_status(client, data: bytes) -> int:
    return client.post(UPLOAD, {"file": SimpleUploadedFile("s.csv", data)}).status_code


def test_investors_and_visitors_do_not_get_in(client, offering, pledges):
    response = client.get(UPLOAD)
    assert response.status_code == 302 and "login" in response["Location"]
    # Investors hold no access to Wagtail's admin: Wagtail sends them to log in.
    client.force_login(pledges["exact"].investor)
    for response in (
        client.post(UPLOAD, {"file": SimpleUploadedFile("s.csv", csv_file(pledges))}),
        client.get(QUEUE),
    ):
        assert response.status_code == 302 and "login" in response["Location"]
    assert not BankStatementImport.objects.exists()


def test_a_reviewer_without_two_factor_is_sent_to_set_it_up(client, reviewer):
    client.force_login(reviewer)
    response = client.get(UPLOAD)
    assert response.status_code == 302
    assert "next=" in response["Location"]


# --- Concurrency (PostgreSQL) -----------------------------------------------------------------------


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_imports_racing_on_one_pledge_match_it_once(offering):
    assert ON_POSTGRES and connection.vendor == "postgresql"
    pledge = make_pledge(offering, "100.00")
    files = [
        (CSV_HEADER + f"24.11.2026;100,00;EUR;{pledge.bank_reference};Ana;{entry}\n").encode()
        for entry in ("RACE-1", "RACE-2")
    ]
    barrier = threading.Barrier(2)
    errors = []

    def run(data):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            import_statement(file_bytes=data, filename="race.csv", uploaded_by=None)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(data,)) for data in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    statuses = sorted(BankStatementLine.objects.values_list("status", flat=True))
    assert statuses == ["matched", "overpaid"]
    assert escrow(offering) == Money("100.00", "EUR")
    assert suspense() == Money("100.00", "EUR")
    assert reconcile_ledger() == []
