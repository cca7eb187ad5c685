"""When the database refuses what a statement import writes: a line another import stored at
the same moment asks staff to import the file again (it then goes through); anything else is
an error naming the line, logged, and never "import the file again" forever."""

import datetime
import logging
from decimal import Decimal

import pytest
from django.db import IntegrityError

from finance import returns_services as rs
from finance import statements_import
from finance.bank import BankStatementImport, BankStatementLine
from finance.returns import Repayment
from finance.statements_import import StatementError, import_statement
from tests.finance.test_bank_transfer import UPLOAD, messages_of, sign_in, upload
from tests.finance.test_returns import START, funded_loan, staff

D = Decimal
ACCOUNT = "DE89 3704 0044 0532 0130 00"
HEADER = "Booking date;Amount;Currency;Reference;Remitter;Entry ID;Account\n"
CONCURRENT = "Another import stored some of these lines at the same moment"


@pytest.fixture
def loan(db):
    offering, _lenders = funded_loan(
        amounts=("14800", "14800"), annual_rate=D("0.06"), tenor_months=24
    )
    rs.loan_fix_schedule(offering=offering, start_date=START)
    return offering


def statement(offering, *entries: str) -> bytes:
    reference = rs.loan_repayment_reference(offering)
    rows = [
        f"15.02.2025;1311,89;USD;Loan repayment {reference};Cooperative still;{entry};{ACCOUNT}\n"
        for entry in entries
    ]
    return (HEADER + "".join(rows)).encode()


@pytest.fixture
def refused_by_the_database(monkeypatch):
    """Matching writes something a constraint of the database refuses (a line's amount
    of zero), as the repayment whose parts SQLite once added up wrongly did."""

    def match_line(line):
        BankStatementLine.objects.filter(pk=line.pk).update(amount=D("0"))

    monkeypatch.setattr(statements_import, "match_line", match_line)


def test_a_refusal_other_than_a_line_stored_twice_names_the_line_and_is_logged(
    loan, refused_by_the_database, caplog
):
    data = statement(loan, "REPAY-3")

    with caplog.at_level(logging.ERROR, logger="finance.statements_import"):
        with pytest.raises(StatementError) as refused:
            import_statement(file_bytes=data, filename="march.csv", uploaded_by=staff())

    message = str(refused.value.message)
    assert CONCURRENT not in message
    assert "could not be imported" in message and "REPAY-3" in message
    assert "1,311.89" in message
    (record,) = [r for r in caplog.records if r.name == "finance.statements_import"]
    assert record.levelno == logging.ERROR and record.exc_info[0] is IntegrityError
    assert "REPAY-3" in record.getMessage()
    assert not BankStatementImport.objects.exists()
    assert not BankStatementLine.objects.exists()
    assert not Repayment.objects.exists()


def test_staff_uploading_it_read_what_went_wrong_not_to_try_again(
    client, loan, refused_by_the_database, reviewer
):
    sign_in(client, reviewer)

    response = upload(client, statement(loan, "REPAY-3"), "march.csv")

    body = response.content.decode()
    assert response.status_code == 200
    assert [m.strip() for m in messages_of(response)] == [
        "The statement was not imported: nothing was changed."
    ]
    assert "REPAY-3" in body and "could not be imported" in body
    assert CONCURRENT not in body
    assert client.get(UPLOAD).status_code == 200


def test_a_line_another_import_stored_at_the_same_moment_asks_to_import_again(loan, monkeypatch):
    reviewer = staff()
    import_statement(
        file_bytes=statement(loan, "REPAY-1"), filename="february.csv", uploaded_by=reviewer
    )
    # The second import read which lines were known before the first one committed.
    reads = []

    def known_keys(lines):
        reads.append(lines)
        return set() if len(reads) == 1 else real_known_keys(lines)

    real_known_keys = statements_import._known_keys
    monkeypatch.setattr(statements_import, "_known_keys", known_keys)
    both = statement(loan, "REPAY-1", "REPAY-2")

    with pytest.raises(StatementError, match=CONCURRENT):
        import_statement(file_bytes=both, filename="both.csv", uploaded_by=reviewer)

    assert BankStatementLine.objects.count() == 1
    monkeypatch.setattr(statements_import, "_known_keys", real_known_keys)
    again = import_statement(file_bytes=both, filename="both.csv", uploaded_by=reviewer)
    assert (again.new_line_count, again.known_line_count) == (1, 1)
    assert Repayment.objects.filter(offering=loan).count() == 2
    assert Repayment.objects.filter(received_on=datetime.date(2025, 2, 15)).count() == 2
