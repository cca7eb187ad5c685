"""The entrepreneur repays a loan by bank transfer: the loan's own RF reference shown on
the loan page, and bank statement lines quoting it recorded as repayments (interest and
principal shared among the lenders), on PostgreSQL where the ledger's triggers hold."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.db.models import Sum
from stdnum import iso11649

from finance import returns_services as rs
from finance import services
from finance.bank import SUSPENSE_KEY, BankStatementLine, suspense_account
from finance.ledger import Account, Leg, balance
from finance.money import Money
from finance.offerings import Pledge
from finance.returns import DistributionLine, LoanSchedule, Repayment
from finance.statements_import import import_statement
from tests.conftest import enable_totp, requires_postgres
from tests.factories import UserFactory
from tests.finance.test_returns import (
    START,
    assert_ledger_consistent,
    funded_loan,
    staff,
    wallet,
)

pytestmark = requires_postgres
D = Decimal
Status = BankStatementLine.Status
ACCOUNT = "DE89 3704 0044 0532 0130 00"


def csv_statement(*rows) -> bytes:
    """A CSV statement: one row per (entry id, booking date, amount, currency, reference)."""
    lines = ["Booking date;Amount;Currency;Reference;Remitter;Entry ID;Account"]
    for entry, booked, amount, currency, reference in rows:
        lines.append(
            f"{booked:%d.%m.%Y};{str(amount).replace('.', ',')};{currency};"
            f"Loan repayment {reference};Cooperative still;{entry};{ACCOUNT}"
        )
    return ("\n".join(lines) + "\n").encode()


def camt_statement(entry: str, booked: datetime.date, amount, currency: str, reference: str):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>LOAN-{entry}</MsgId><CreDtTm>{booked}T18:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-{entry}</Id>
      <CreDtTm>{booked}T18:00:00</CreDtTm>
      <Acct><Id><IBAN>{ACCOUNT.replace(" ", "")}</IBAN></Id><Ccy>{currency}</Ccy></Acct>
      <Ntry>
        <NtryRef>{entry}</NtryRef>
        <Amt Ccy="{currency}">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>{booked}</Dt></BookgDt>
        <ValDt><Dt>{booked}</Dt></ValDt>
        <AcctSvcrRef>{entry}</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Refs><AcctSvcrRef>{entry}</AcctSvcrRef></Refs>
          <RltdPties><Dbtr><Nm>Cooperative still</Nm></Dbtr></RltdPties>
          <RmtInf><Strd><CdtrRefInf><Ref>{reference}</Ref></CdtrRefInf></Strd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
""".encode()


@pytest.fixture
def loan(db):
    offering, lenders = funded_loan()
    schedule = rs.loan_fix_schedule(offering=offering, start_date=START)
    return offering, lenders, schedule


def ledger_snapshot():
    return Leg.objects.count(), Repayment.objects.count()


# --- The reference ----------------------------------------------------------------------------


def test_loan_reference_is_valid_iso_11649_and_never_a_pledge_reference(loan):
    offering, _lenders, _schedule = loan
    reference = rs.loan_repayment_reference(offering)
    assert iso11649.is_valid(reference) and reference.startswith("RF")
    assert reference == rs.loan_repayment_reference(offering)  # stable: derived, not stored
    # The pledge with the offering's own id and every pledge of this loan have other ones.
    pledge_refs = set(
        Pledge.objects.filter(offering=offering).values_list("bank_reference", flat=True)
    )
    assert reference not in pledge_refs
    same_pk = Pledge(pk=offering.pk)
    assert services.bank_reference_for(same_pk) != reference
    assert rs.loan_for_repayment_reference(reference) == offering
    for pledge_ref in pledge_refs:
        assert rs.loan_for_repayment_reference(pledge_ref) is None


def test_owner_and_staff_see_how_to_repay_and_lenders_do_not(client, loan):
    offering, lenders, schedule = loan
    reference = rs.loan_repayment_reference(offering)
    # Every installment is overdue by now: all of it is due next.
    overdue = sum(i.payment for i in schedule.installments.all()).quantize(D("0.01"))
    client.force_login(offering.project.owner)
    body = client.get(f"/en/loans/{offering.pk}/").content.decode()
    assert reference in body and settings.PUENTE_BANK_ACCOUNT["iban"] in body
    shown = body.split("data-repay-amount>", 1)[1].split("</dd>", 1)[0]
    assert f"{overdue:,}" in shown
    watcher = staff()
    enable_totp(watcher)  # staff see a loan through the back office
    client.force_login(watcher)
    assert reference in client.get(f"/en/loans/{offering.pk}/").content.decode()
    client.force_login(lenders[0])
    response = client.get(f"/en/loans/{offering.pk}/")
    assert response.status_code == 200 and reference not in response.content.decode()
    client.force_login(UserFactory())
    assert client.get(f"/en/loans/{offering.pk}/").status_code == 404


def test_loan_page_query_count_does_not_grow_with_repayments(
    client, loan, django_assert_max_num_queries
):
    offering, _lenders, schedule = loan
    client.force_login(offering.project.owner)
    client.get(f"/en/loans/{offering.pk}/")  # the site's settings row is made once
    # The session, the person, the offering, memberships, the schedule, its installments,
    # the repayments, what is held, the site and its settings.
    with django_assert_max_num_queries(10):
        assert client.get(f"/en/loans/{offering.pk}/").status_code == 200
    for installment in schedule.installments.order_by("number")[:4]:
        rs.repayment_record(
            offering=offering,
            amount=Money(installment.payment.quantize(D("0.01")), "USD"),
            received_on=installment.due_date,
            idempotency_key=f"pin-{installment.number}",
        )
    with django_assert_max_num_queries(10):
        assert client.get(f"/en/loans/{offering.pk}/").status_code == 200


def test_amount_due_next_is_what_is_overdue_or_the_next_installment(loan):
    _offering, _lenders, schedule = loan
    first, second = schedule.installments.order_by("number")[:2]
    assert rs.loan_amount_due_next(schedule, START) == first.payment
    assert rs.loan_amount_due_next(schedule, second.due_date) == first.payment + second.payment


# --- Bank statements ----------------------------------------------------------------------------


@pytest.mark.parametrize("statement", ["csv", "camt"])
def test_statement_line_with_the_loan_reference_is_a_repayment_shared_by_lenders(loan, statement):
    offering, (a, b, c), schedule = loan
    first = schedule.installments.get(number=1)
    reference = rs.loan_repayment_reference(offering)
    if statement == "csv":
        data = csv_statement(("REPAY-1", first.due_date, first.payment, "USD", reference))
    else:
        data = camt_statement("REPAY-1", first.due_date, first.payment, "USD", reference)
    imported = import_statement(file_bytes=data, filename=f"loan.{statement}", uploaded_by=staff())
    line = imported.lines.get()
    assert line.status == Status.REPAYMENT and line.resolved_by is None
    assert line.note_lines == [
        f"Recorded as repayment {Repayment.objects.get().pk} of loan {offering.pk}."
    ]
    repayment = Repayment.objects.get(offering=offering)
    assert repayment.idempotency_key == f"bankline:{line.pk}:repayment"
    assert repayment.received_on == first.due_date
    assert repayment.method == Repayment.Method.BANK_TRANSFER
    assert repayment.interest_part == first.interest == D("10.00")
    assert repayment.principal_part == first.principal and repayment.excess == 0
    first.refresh_from_db()
    assert first.is_paid
    lines = DistributionLine.objects.filter(distribution=repayment.distribution)
    assert lines.aggregate(s=Sum("income"))["s"] == D("10.00")
    assert wallet(a).amount + wallet(b).amount + wallet(c).amount == first.payment
    assert wallet(a).amount == (first.payment * D("0.5")).quantize(D("0.01"))
    assert balance(suspense_account("USD")).minor_units == 0
    assert_ledger_consistent()


def test_importing_the_same_repayment_twice_records_it_once(loan):
    offering, _lenders, schedule = loan
    first = schedule.installments.get(number=1)
    reference = rs.loan_repayment_reference(offering)
    data = csv_statement(("REPAY-2", first.due_date, first.payment, "USD", reference))
    import_statement(file_bytes=data, filename="a.csv", uploaded_by=staff())
    before = ledger_snapshot()
    again = import_statement(file_bytes=data, filename="a.csv", uploaded_by=staff())
    assert again.already_imported
    # The same line in another file (the next day's statement repeats it).
    other = data + f"{first.due_date:%d.%m.%Y};1,00;USD;fee;;FEE-1;{ACCOUNT}\n".encode()
    later = import_statement(file_bytes=other, filename="b.csv", uploaded_by=staff())
    assert later.known_line_count == 1
    assert ledger_snapshot()[1] == before[1] == 1
    assert Repayment.objects.get().amount == first.payment
    assert_ledger_consistent()


def test_repayment_in_another_currency_is_held_for_review_with_the_reason(loan):
    offering, lenders, schedule = loan
    reference = rs.loan_repayment_reference(offering)
    wallets = [wallet(p) for p in lenders]
    imported = import_statement(
        file_bytes=csv_statement(("REPAY-3", START, D("150.00"), "EUR", reference)),
        filename="eur.csv",
        uploaded_by=staff(),
    )
    line = imported.lines.get()
    assert line.status == Status.UNMATCHED and line.needs_attention
    assert line.note_lines == [
        f"Repayment of loan {offering.pk} ({reference}) not recorded: paid in EUR, but the loan "
        "is repaid in USD."
    ]
    assert not Repayment.objects.exists()
    assert [wallet(p) for p in lenders] == wallets
    assert balance(suspense_account("EUR")) == Money(D("150.00"), "EUR")
    assert all(not i.interest_paid for i in schedule.installments.all())
    assert_ledger_consistent()


def test_repayment_of_a_written_off_loan_is_held_for_review(loan):
    offering, lenders, schedule = loan
    rs.loan_write_off(offering=offering, by=staff(), reason="Cooperative closed")
    reference = rs.loan_repayment_reference(offering)
    wallets = [wallet(p) for p in lenders]
    imported = import_statement(
        file_bytes=csv_statement(("REPAY-4", START, D("80.00"), "USD", reference)),
        filename="late.csv",
        uploaded_by=staff(),
    )
    line = imported.lines.get()
    assert line.status == Status.UNMATCHED and "written off" in " ".join(line.note_lines)
    # The refusal is stored as the catalogue has it, to be worded for each reader.
    assert "a repayment cannot be applied to it" in line.notes[0]["params"]["reason"]
    assert not Repayment.objects.exists()
    assert [wallet(p) for p in lenders] == wallets
    held = Leg.objects.filter(account__kind=Account.Kind.SUSPENSE, account__key=SUSPENSE_KEY)
    assert held.aggregate(s=Sum("amount_minor"))["s"] == 8000
    schedule.refresh_from_db()
    assert schedule.status == LoanSchedule.Status.WRITTEN_OFF
    assert_ledger_consistent()
