"""What the matching writes on a bank line is shown in the language of whoever reads
it, not of whoever imported the statement; notes stored as plain text before still
show."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import translation
from wagtail.users.models import UserProfile

from finance import returns_services as rs
from finance.bank import BankStatementLine
from finance.payments.bank_transfer import resolve_line
from finance.returns import Repayment
from finance.statements_import import import_statement
from tests.factories import StaffFactory
from tests.finance import test_bank_transfer as bank
from tests.finance.test_bank_transfer import make_pledge, sign_in
from tests.finance.test_returns import funded_loan

offering = bank.offering
ACCOUNT = "DE89 3704 0044 0532 0130 00"
HEADER = "date;amount;currency;reference;remitter;entry id;account\n"
STATEMENT_PAGE = "/admin/finance/bank-statements/{}/"
LINE_PAGE = "/admin/finance/bank-statements/lines/{}/"

NO_REFERENCE = {
    "en": "No valid RF reference in the remittance information.",
    "es": "No hay una referencia RF válida en el concepto del pago.",
    "ar": "لا يوجد مرجع RF صالح في بيانات التحويل.",
}
PARTIAL = {
    "en": "Received 79.99 EUR of 80.00 EUR due: 0.01 EUR missing.",
    "es": "Recibido 79.99 EUR de 80.00 EUR debidos: faltan 0.01 EUR.",
    "ar": "استُلم 79.99 EUR من أصل 80.00 EUR مستحقة: ينقص 0.01 EUR.",
}


def staff_reading_in(language: str) -> Client:
    """A reviewer signed in, with the admin set to `language`."""
    person = StaffFactory()
    reviewers, _created = Group.objects.get_or_create(name="Reviewers")
    reviewers.permissions.add(Permission.objects.get(codename="access_admin"))
    person.groups.add(reviewers)
    profile = UserProfile.get_for_user(person)
    profile.preferred_language = language
    profile.save()
    return sign_in(Client(), person)


@pytest.fixture
def imported_in_english(offering, reviewer):
    pledge = make_pledge(offering, "80.00")
    data = HEADER + (
        f"2025-04-20;45.00;EUR;no reference;Ana;N-1;{ACCOUNT}\n"
        f"2025-04-20;79.99;EUR;{pledge.bank_reference};Pedro;N-2;{ACCOUNT}\n"
    )
    with translation.override("en"):
        return import_statement(file_bytes=data.encode(), filename="n.csv", uploaded_by=reviewer)


@pytest.mark.parametrize("language", ["es", "ar"])
def test_notes_are_shown_in_the_readers_language(imported_in_english, language):
    client = staff_reading_in(language)
    no_reference = imported_in_english.lines.get(entry_reference="N-1")
    pages = [
        STATEMENT_PAGE.format(imported_in_english.pk),
        bank.QUEUE,
        LINE_PAGE.format(no_reference.pk),
    ]
    for page in pages:
        html = client.get(page).content.decode()
        assert NO_REFERENCE[language] in html, page
        assert NO_REFERENCE["en"] not in html, page
    queue = client.get(bank.QUEUE).content.decode()
    assert PARTIAL[language] in queue and PARTIAL["en"] not in queue

    english = staff_reading_in("en")
    assert NO_REFERENCE["en"] in english.get(bank.QUEUE).content.decode()


def test_a_staff_resolution_keeps_the_free_text_and_words_the_rest(imported_in_english):
    line = imported_in_english.lines.get(entry_reference="N-1")
    person = StaffFactory()
    with translation.override("en"):
        resolve_line(line, note="Sent back to Ana on 22 April.", by=person)
    html = staff_reading_in("es").get(LINE_PAGE.format(line.pk)).content.decode()
    assert NO_REFERENCE["es"] in html
    assert "Sent back to Ana on 22 April." in html
    assert "Resolved by" not in html


def test_notes_stored_as_plain_text_still_show(imported_in_english):
    line = imported_in_english.lines.get(entry_reference="N-1")
    BankStatementLine.objects.filter(pk=line.pk).update(
        note="Nota escrita antes.\nSegunda línea.", notes=[]
    )
    html = staff_reading_in("ar").get(LINE_PAGE.format(line.pk)).content.decode()
    assert "Nota escrita antes.<br>Segunda línea." in html
    queue = staff_reading_in("en").get(bank.QUEUE).content.decode()
    assert "Nota escrita antes.<br>Segunda línea." in queue


def test_a_loan_repayment_note_is_in_the_readers_language(reviewer):
    loan, _lenders = funded_loan()
    schedule = rs.loan_fix_schedule(offering=loan, start_date=datetime.date(2025, 1, 15))
    payment = schedule.installments.get(number=1).payment
    reference = rs.loan_repayment_reference(loan)
    data = HEADER + f"2025-02-15;{payment};USD;{reference};Coop;L-1;{ACCOUNT}\n"
    with translation.override("en"):
        statement = import_statement(
            file_bytes=data.encode(), filename="l.csv", uploaded_by=reviewer
        )
    repayment = Repayment.objects.get()
    html = staff_reading_in("es").get(STATEMENT_PAGE.format(statement.pk)).content.decode()
    spanish = f"Registrado como reembolso {repayment.pk} del préstamo {loan.pk}."
    assert spanish in html
    assert "Recorded as repayment" not in html


def test_a_refused_repayment_gives_its_reason_in_the_readers_language(reviewer):
    loan, _lenders = funded_loan()
    rs.loan_fix_schedule(offering=loan, start_date=datetime.date(2025, 1, 15))
    rs.loan_write_off(offering=loan, by=StaffFactory(), reason="Cooperative closed")
    reference = rs.loan_repayment_reference(loan)
    data = HEADER + f"2025-02-15;80.00;USD;{reference};Coop;L-2;{ACCOUNT}\n"
    with translation.override("ar"):  # imported by someone reading Arabic
        statement = import_statement(
            file_bytes=data.encode(), filename="w.csv", uploaded_by=reviewer
        )
    line = statement.lines.get()
    with translation.override("en"):
        assert "This loan was written off" in line.note_lines[0]
    html = staff_reading_in("es").get(LINE_PAGE.format(line.pk)).content.decode()
    assert "Este préstamo se declaró incobrable" in html
    assert "This loan was written off" not in html
