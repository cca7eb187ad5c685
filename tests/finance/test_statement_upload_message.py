"""The message a reviewer reads after uploading a statement in the back
office counts what the import stored."""

from finance.bank import BankStatementImport
from tests.finance import test_bank_transfer as bank
from tests.finance.test_bank_transfer import csv_file, messages_of, sign_in, upload

offering = bank.offering
pledges = bank.pledges


def test_the_upload_message_counts_the_new_and_the_known_lines(client, offering, pledges, reviewer):
    sign_in(client, reviewer)
    response = upload(client, csv_file(pledges), "november.csv")
    (message,) = messages_of(response)
    assert message.strip() == (
        "Statement imported. Lines in the file: 3. Matched to a pledge 1, loan repayments "
        "recorded 0, revenue shares recorded 0, partial 0, overpaid 0, late 0, unmatched 1, "
        "debits ignored 1, already imported 0."
    )
    assert 'id="count-new">3<' in response.content.decode()

    # A later export repeats the last line of November and adds one of its own.
    later = (
        b"Booking date;Amount;Currency;Reference;Remitter;Entry ID;Account\n"
        b"26.11.2026;1.045,50;EUR;Donation;Aminata Sow;CSV-20261126-0001;"
        b"DE89 3704 0044 0532 0130 00\n"
        b"27.11.2026;12,00;EUR;Gift;Ana;CSV-20261127-0001;DE89 3704 0044 0532 0130 00\n"
    )
    response = upload(client, later, "late-november.csv")
    (message,) = messages_of(response)
    assert message.strip().startswith("Statement imported. Lines in the file: 2.")
    assert "unmatched 1, debits ignored 0, already imported 1." in message
    assert BankStatementImport.objects.count() == 2
