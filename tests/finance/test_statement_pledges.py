"""Statements show what the investor paid for pledges and got back as refunds, however they
paid; their tables keep project names readable; and the value chart is left out while it
would draw no line. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import subprocess
from decimal import Decimal

import pytest
from django.utils import timezone

from finance import returns_services as rs
from finance import services
from finance.ledger import Transaction, post_transaction
from finance.money import Money
from finance.offerings import Payment, Pledge
from finance.statements import (
    Statement,
    day_start,
    pledge_money,
    statement_build,
    statement_request,
)
from tests.finance.builders import make_offering, pay
from tests.finance.test_returns import investor, key

D = Decimal
JUNE = (datetime.date(2025, 6, 1), datetime.date(2025, 6, 30))
IN_JUNE = datetime.datetime(2025, 6, 12, 10, tzinfo=datetime.UTC)
TITLE = "Panadería cooperativa de San Juan Ostuncalco, horno comunitario"


def backdate(idempotency_key: str, when: datetime.datetime) -> None:
    """Move a ledger transaction to ``when`` (tests only: the ledger stamps postings with the
    time they are made)."""
    assert Transaction.objects.filter(idempotency_key=idempotency_key).update(created_at=when)


def paid_pledge(person, offering, amount: str, *, when=IN_JUNE) -> Payment:
    pledge = services.pledge_create(
        offering=offering,
        investor=person,
        amount=D(amount),
        method="bank_transfer",
        idempotency_key=key("pledge"),
    )
    payment = pay(pledge)
    backdate(f"payment:{payment.pk}:captured", when)
    Pledge.objects.filter(pk=pledge.pk).update(created_at=when, paid_at=when)
    return payment


def pdf_of(client, person, period, language: str) -> bytes:
    """The statement of ``period`` rendered and downloaded as the investor does."""
    statement = statement_request(
        investor=person,
        period_kind="month",
        start=period[0],
        end=period[1],
        language=language,
        request_key=key("statement"),
    )
    statement_build(statement_id=statement.pk)
    statement.refresh_from_db()
    assert statement.status == Statement.Status.READY, statement.error
    client.force_login(person)
    response = client.get(f"/{language}/statements/{statement.pk}/pdf/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def text_of(pdf: bytes) -> str:
    """The PDF's text, a table's row on one line as the page shows it."""
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def two_bank_transfers(db):
    """An investor who paid $50 and $75 by bank transfer in June 2025 (and $20 in May), and
    another investor who paid $30 in June."""
    person = investor()
    bakery = make_offering(
        title=TITLE,
        instrument="loan",
        target=D(5000),
        annual_rate=D("0.1"),
        tenor_months=12,
        periods_per_year=12,
        schedule_type="annuity",
    )
    kitchen = make_offering(title="Cocina escolar de Jerez")
    paid_pledge(person, bakery, "50")
    paid_pledge(person, kitchen, "75")
    paid_pledge(person, kitchen, "20", when=datetime.datetime(2025, 5, 31, 12, tzinfo=datetime.UTC))
    paid_pledge(investor(), kitchen, "30")
    return person, bakery, kitchen


def test_statement_shows_the_pledges_paid_by_bank_transfer(client, two_bank_transfers):
    person, bakery, kitchen = two_bank_transfers
    [usd] = pledge_money(
        person, opens_at=day_start(JUNE[0]), closes_at=day_start(datetime.date(2025, 7, 1))
    )
    assert (usd.paid, usd.refunded) == (Money(D(125), "USD"), Money(D(0), "USD"))
    assert [(line.offering_title, line.paid) for line in usd.lines] == [
        (TITLE, Money(D(50), "USD")),
        (kitchen.title, Money(D(75), "USD")),
    ]
    text = words(text_of(pdf_of(client, person, JUNE, "en")))
    assert "Pledge paid by bank transfer" in text
    assert "$50.00" in text and "$75.00" in text
    assert "Total USD $125.00 $0.00" in text
    # May's pledge and the other investor's are not this statement's.
    assert "$20.00" not in text and "$30.00" not in text
    # The wallet did not move, and says so.
    assert "No wallet movements in this period." in text


def test_refunds_and_wallet_payments_add_up(client, db, django_assert_max_num_queries):
    person = investor()
    offering = make_offering(title="Cocina escolar de Jerez")
    paid_pledge(person, offering, "40")
    refunded = paid_pledge(person, offering, "25")
    services.refund_pledge(pledge=refunded.pledge, reason="changed my mind")
    backdate(f"refund:payment:{refunded.pk}:2500", IN_JUNE + datetime.timedelta(hours=1))
    # $15 into the wallet, $10 of it reinvested, then the reinvestment refunded to the wallet.
    post_transaction(
        idempotency_key="deposit",
        kind="refund",
        legs=[
            (services.external_account("USD"), -Money(D(15), "USD")),
            (services.wallet_account(person, "USD"), Money(D(15), "USD")),
        ],
    )
    backdate("deposit", IN_JUNE - datetime.timedelta(days=1))
    reinvested = rs.wallet_reinvest(
        investor=person, offering=offering, amount=D(10), idempotency_key=key("reinvest")
    )
    backdate(services.wallet_payment_key(reinvested), IN_JUNE + datetime.timedelta(hours=2))
    services.refund_pledge(pledge=reinvested, to_wallet=True)
    backdate(
        f"{services.wallet_payment_key(reinvested)}:refund", IN_JUNE + datetime.timedelta(hours=3)
    )

    with django_assert_max_num_queries(4):
        [usd] = pledge_money(
            person, opens_at=day_start(JUNE[0]), closes_at=day_start(datetime.date(2025, 7, 1))
        )
    assert [(line.label, line.paid.amount, line.refunded.amount) for line in usd.lines] == [
        ("Pledge paid by bank transfer", D(40), D(0)),
        ("Pledge paid by bank transfer", D(25), D(0)),
        ("Refund to the original payment", D(0), D(25)),
        ("Pledge paid from your wallet", D(10), D(0)),
        ("Refund to your wallet", D(0), D(10)),
    ]
    assert (usd.paid.amount, usd.refunded.amount, usd.net.amount) == (D(75), D(35), D(40))
    text = words(text_of(pdf_of(client, person, JUNE, "en")))
    assert "Total USD $75.00 $35.00" in text
    assert "Paid less refunds USD $40.00" in text
    # The wallet's figures stay its own: $15 in, $10 out to the pledge and back in.
    assert "USD $0.00 $25.00 $10.00 $15.00" in text
    assert "Reinvested from your wallet -$10.00 $5.00" in text
    assert "Refund $10.00 $15.00" in text


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
def test_long_project_names_wrap_in_a_wide_column(client, two_bank_transfers, language):
    """The offering column was sized to its longest word beside amount columns sized for
    their headings: a project's name came out one word per line."""
    person, _bakery, _kitchen = two_bank_transfers
    lines = text_of(pdf_of(client, person, JUNE, language)).splitlines()
    # Once among the pledges paid, once among the holdings.
    assert sum("Panadería cooperativa de" in line for line in lines) == 2


def test_value_chart_is_left_out_while_it_has_no_history(client, two_bank_transfers):
    """With all the money paid in today the chart's lines are single points: it was an empty
    frame, alone on a second page."""
    _person, _bakery, kitchen = two_bank_transfers
    newcomer = investor()
    payment = paid_pledge(newcomer, kitchen, "60", when=timezone.now())
    today = timezone.localdate()
    pdf = pdf_of(client, newcomer, (today.replace(day=1), today), "en")
    text = words(text_of(pdf))
    assert "Total USD $60.00" in text and payment.pledge.offering.title in text
    assert "Received back" not in text  # the chart's legend
    assert text_of(pdf).count("\f") == 1  # one page


def test_arabic_statement_uses_no_oblique_font(client, two_bank_transfers):
    """The italic of "nothing in this period" was DejaVu Sans Oblique, which has no Arabic:
    its glyphs came out as unrelated symbols."""
    person, _bakery, _kitchen = two_bank_transfers
    pdf = pdf_of(client, person, JUNE, "ar")
    fonts = subprocess.run(
        ["pdffonts", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "DejaVu-Sans" in fonts
    assert "Oblique" not in fonts
