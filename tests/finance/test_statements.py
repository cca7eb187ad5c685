"""Investor statements: figures from the wallet's ledger legs, the PDF and its language, the
task, the investor's pages, and the public verification page."""

from __future__ import annotations

import datetime
import hashlib
import re
import subprocess
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from finance import returns_services as rs
from finance import services
from finance.ledger import Account, Leg, Transaction, balance, post_transaction
from finance.money import Money
from finance.statements import (
    CODE_LENGTH,
    Statement,
    StatementTotal,
    day_start,
    normalize_code,
    statement_build,
    statement_request,
    wallet_totals,
)
from finance.tasks import statement_render, statements_monthly
from tests.conftest import requires_postgres
from tests.factories import UserFactory
from tests.finance.test_returns import START, funded_bond, staff, wallet

D = Decimal
JUNE = (datetime.date(2025, 6, 1), datetime.date(2025, 6, 30))
_keys = iter(range(1, 10**6))


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)


def backdate_latest(account: Account, when: datetime.datetime) -> Transaction:
    """Move the transaction of the account's latest leg to ``when`` (tests only: the ledger
    stamps postings with the time they are made)."""
    txn_id = (
        Leg.objects.filter(account=account)
        .order_by("-pk")
        .values_list("transaction_id", flat=True)[0]
    )
    Transaction.objects.filter(pk=txn_id).update(created_at=when)
    return Transaction.objects.get(pk=txn_id)


def deposit(person, amount: str, currency: str, when: str) -> None:
    """Money into the person's wallet from outside, as a refund to the wallet posts it."""
    post_transaction(
        idempotency_key=f"test-deposit-{next(_keys)}",
        kind="refund",
        legs=[
            (services.external_account(currency), -Money(D(amount), currency)),
            (services.wallet_account(person, currency), Money(D(amount), currency)),
        ],
    )
    backdate_latest(services.wallet_account(person, currency), at(when))


def request(person, start, end, *, language="en", kind="month", key=None, now=None):
    return statement_request(
        investor=person,
        period_kind=kind,
        start=start,
        end=end,
        language=language,
        request_key=key or f"k{next(_keys)}",
        now=now,
    )


def pdf_text(statement: Statement) -> str:
    with statement.pdf.open("rb") as handle:
        data = handle.read()
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()
    # Table cells wrap: compare words, not lines.
    return " ".join(text.split())


@pytest.fixture
def history(db):
    """A bondholder whose USD wallet moves before, during and after June 2025.

    Coupon of 12.50 on 20 May; in June a withdrawal of 2.00 rejected (back in), and one of
    3.25 at the last second of the month; on 1 July at midnight the next coupon of 12.50.
    June: opening 12.50, in 2.00, out 5.25, closing 9.25."""
    offering, holders = funded_bond()
    person = holders[2]  # five bonds of 100: coupons of 12.50
    rs.bond_issue(offering=offering, issue_date=START)
    usd = services.wallet_account(person, "USD")
    day = datetime.date(2025, 7, 15)
    rs.coupon_run(offering=offering, payment_date=day, today=day)
    backdate_latest(usd, at("2025-05-20T09:00:00"))
    bank = rs.bank_account_register(
        user=person, holder_name="Ana", iban="DE89370400440532013000", currency="USD"
    )
    first = rs.payout_request(
        investor=person,
        amount=Money(D("2.00"), "USD"),
        destination="bank",
        bank_account=bank,
        idempotency_key="p1",
    )
    backdate_latest(usd, at("2025-06-03T10:00:00"))
    rs.payout_reject(payout=first, by=staff(), reason="name differs")
    backdate_latest(usd, at("2025-06-10T10:00:00"))
    rs.payout_request(
        investor=person,
        amount=Money(D("3.25"), "USD"),
        destination="bank",
        bank_account=bank,
        idempotency_key="p2",
    )
    backdate_latest(usd, at("2025-06-30T23:59:59.999999"))
    day = datetime.date(2026, 1, 15)
    rs.coupon_run(offering=offering, payment_date=day, today=day)
    backdate_latest(usd, at("2025-07-01T00:00:00"))
    return offering, person


def ready(statement: Statement) -> Statement:
    statement_build(statement_id=statement.pk)
    statement.refresh_from_db()
    assert statement.status == Statement.Status.READY, statement.error
    return statement


# --- Figures ----------------------------------------------------------------------------------


@requires_postgres
def test_totals_reconcile_to_the_wallet_legs_to_the_minor_unit(history):
    _offering, person = history
    # Two more currencies, one with three decimals, and another investor's money that must
    # not count.
    deposit(person, "1.235", "KWD", "2025-05-31T23:59:59")
    deposit(person, "0.001", "KWD", "2025-06-01T00:00:00")
    deposit(person, "40.00", "EUR", "2025-06-15T12:00:00")
    deposit(UserFactory(), "99.99", "USD", "2025-06-15T12:00:00")

    statement = ready(request(person, *JUNE))

    stored = {t.currency: t for t in StatementTotal.objects.filter(statement=statement)}
    # Recomputed leg by leg in Python, not by the database's sums.
    opens, closes = at("2025-06-01T00:00:00"), at("2025-07-01T00:00:00")
    expected: dict[str, list[int]] = {}
    for leg in Leg.objects.filter(account__key=f"user:{person.pk}").select_related("transaction"):
        figures = expected.setdefault(leg.currency, [0, 0, 0, 0])
        created = leg.transaction.created_at
        if created < opens:
            figures[0] += leg.amount_minor
        elif created < closes:
            figures[1 if leg.amount_minor > 0 else 2] += abs(leg.amount_minor)
        if created < closes:
            figures[3] += leg.amount_minor
    assert set(stored) == {"EUR", "KWD", "USD"}
    for currency, total in stored.items():
        assert [
            total.opening_minor,
            total.inflows_minor,
            total.outflows_minor,
            total.closing_minor,
        ] == expected[currency]
    assert [stored["USD"].opening, stored["USD"].inflows, stored["USD"].outflows] == [
        Money(D("12.50"), "USD"),
        Money(D("2.00"), "USD"),
        Money(D("5.25"), "USD"),
    ]
    assert stored["USD"].closing == Money(D("9.25"), "USD")
    assert stored["KWD"].opening_minor == 1235 and stored["KWD"].closing_minor == 1236
    # The next coupon, at midnight on 1 July, is the next statement's opening movement.
    july = ready(request(person, datetime.date(2025, 7, 1), datetime.date(2025, 7, 31)))
    assert july.totals.get(currency="USD").opening == stored["USD"].closing
    assert july.totals.get(currency="USD").inflows == Money(D("12.50"), "USD")
    # A statement up to now closes on the wallet's balance in the ledger.
    today = timezone.localdate()
    current = ready(request(person, today - datetime.timedelta(days=30), today, kind="custom"))
    for total in current.totals.all():
        assert total.closing == balance(services.wallet_account(person, total.currency))


def test_period_boundaries_are_start_of_day_instants(history):
    _offering, person = history
    totals = wallet_totals(
        person,
        opens_at=day_start(JUNE[0]),
        closes_at=day_start(JUNE[1] + datetime.timedelta(days=1)),
    )
    assert [(t.currency, t.opening.amount, t.closing.amount) for t in totals] == [
        ("USD", D("12.50"), D("9.25"))
    ]
    assert wallet(person) == Money(D("21.75"), "USD")


def test_an_open_period_closes_when_it_is_requested(history):
    _offering, person = history
    now = at("2025-06-20T08:00:00")
    statement = request(person, *JUNE, now=now)
    assert statement.closes_at == now and statement.is_partial
    statement = ready(statement)
    usd = statement.totals.get(currency="USD")
    assert (usd.inflows.amount, usd.outflows.amount, usd.closing.amount) == (
        D("2.00"),
        D("2.00"),
        D("12.50"),
    )


# --- The PDF ----------------------------------------------------------------------------------


def test_pdf_shows_the_figures_the_movements_and_the_code(history):
    offering, person = history
    statement = ready(request(person, *JUNE))
    text = pdf_text(statement)
    assert person.full_name in text
    for figure in ("$12.50", "$2.00", "$5.25", "$9.25", "-$3.25"):
        assert figure in text, figure
    assert statement.code_display in text
    assert offering.title in text  # a holding
    assert "Withdrawal returned to your wallet" in text
    # The next coupon is after the period.
    assert "$21.75" not in text
    assert hashlib.sha256(statement.pdf.open("rb").read()).hexdigest() == statement.sha256


def test_income_of_the_period_comes_from_the_distributions(history):
    from finance.statements import income_summary, wallet_movements

    offering, person = history
    july = (at("2025-07-01T00:00:00"), at("2025-08-01T00:00:00"))
    movements = wallet_movements(
        person, opens_at=july[0], closes_at=july[1], opening={"USD": Money(D("9.25"), "USD")}
    )
    assert [(m.kind, m.offering_title, m.income, m.principal, m.balance) for m in movements] == [
        (
            "returns.coupon",
            offering.title,
            Money(D("12.50"), "USD"),
            Money(D("0"), "USD"),
            Money(D("21.75"), "USD"),
        )
    ]
    [summary] = income_summary(movements)
    assert summary.income == Money(D("12.50"), "USD")
    text = pdf_text(ready(request(person, datetime.date(2025, 7, 1), datetime.date(2025, 7, 31))))
    assert f"Bond coupon — {offering.title}" in text
    assert "Bond coupon $12.50 $0.00" in text and "Total USD" in text


def test_statement_pdf_in_spanish(history):
    _offering, person = history
    statement = ready(request(person, *JUNE, language="es"))
    text = pdf_text(statement)
    assert "Estado de cuenta" in text
    assert "Invertido" in text and "Capital pendiente" in text  # holdings
    assert "Aproximado, convertido a USD" in text and "Recibido de vuelta" in text  # chart
    assert "Fecha" in text and "Saldo" in text  # the wallet's movements
    assert "junio de 2025" in text
    # Amounts as the Spanish pages show them (Mexican conventions: "USD 12.50"),
    # their spaces compared as words, as pdf_text() gives them.
    for amount in ("12.50", "9.25", "-3.25"):
        assert " ".join(Money(D(amount), "USD").format("es_MX").split()) in text
    assert "June" not in text


def test_arabic_statement_is_right_to_left(history):
    from django.template.loader import render_to_string
    from django.utils import translation
    from django.utils.translation import gettext

    from finance.statements import statement_context

    _offering, person = history
    statement = request(person, *JUNE, language="ar")
    with translation.override("ar"):
        html = render_to_string(
            "finance/statements/statement_pdf.html",
            statement_context(statement, issued_at=timezone.now()),
        )
    assert 'lang="ar" dir="rtl"' in html
    assert "/ar/verify/" in html
    # The charts' coordinates run left to right: in a right-to-left page their text
    # would otherwise be anchored on the wrong side, and WeasyPrint drew it glyph by
    # glyph backwards.
    charts = re.findall(r"<svg [^>]*>", html)
    assert charts and all('direction="ltr"' in tag for tag in charts)
    # Every holding's status speaks Arabic too.
    with translation.override("ar"):
        on_time = gettext("On time")
    assert on_time != "On time"
    assert f"<td>{on_time}</td>" in html
    # The chart's note, "محوّلة", has a shadda, which WeasyPrint drew on a dotted circle
    # of its own: the chart draws it without.
    assert "محولة" in html and "محوّلة" not in html
    assert "On time" not in pdf_text(ready(statement))


def test_task_renders_once_and_stores_the_files_hash(history, django_capture_on_commit_callbacks):
    _offering, person = history
    with django_capture_on_commit_callbacks(execute=True):
        statement = request(person, *JUNE)
    statement.refresh_from_db()
    assert statement.status == Statement.Status.READY
    first = (statement.pdf.name, statement.sha256)
    with statement.pdf.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == statement.sha256
    assert statement_render.delay(statement.pk).get() == Statement.Status.READY
    statement.refresh_from_db()
    assert (statement.pdf.name, statement.sha256) == first
    assert StatementTotal.objects.filter(statement=statement).count() == 1
    assert len(statement.verification_code) == CODE_LENGTH


def test_task_marks_the_statement_failed_with_the_error(history, monkeypatch):
    from finance import statements

    _offering, person = history
    statement = request(person, *JUNE)

    def broken(*args, **kwargs):
        raise ValueError("template exploded")

    monkeypatch.setattr(statements, "statement_pdf", broken)
    assert statement_render.apply(args=[statement.pk]).get() == Statement.Status.FAILED
    statement.refresh_from_db()
    assert statement.error == "ValueError: template exploded"
    assert not statement.pdf


def test_task_retries_transient_errors_then_says_busy(history, monkeypatch):
    from celery.exceptions import Retry

    from finance import statements

    _offering, person = history
    statement = request(person, *JUNE)

    def flaky(*args, **kwargs):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(statements, "statement_pdf", flaky)
    # As a worker runs it: the first attempts ask to be retried and leave the statement queued.
    statement_render.push_request(id="attempt-1", retries=0, is_eager=True, called_directly=False)
    try:
        with pytest.raises(Retry):
            statement_render.run(statement.pk)
    finally:
        statement_render.pop_request()
    statement.refresh_from_db()
    assert statement.status == Statement.Status.QUEUED
    # The last one gives up and tells the investor to try again.
    statement_render.push_request(
        id="attempt-6", retries=statement_render.max_retries, is_eager=True, called_directly=False
    )
    try:
        assert statement_render.run(statement.pk) == Statement.Status.FAILED
    finally:
        statement_render.pop_request()
    statement.refresh_from_db()
    assert "busy" in statement.error


def test_statement_task_goes_to_the_statements_queue():
    from portal.celery import app

    route = app.amqp.router.route(
        statement_render._get_exec_options(), statement_render.name, (1,), {}
    )
    assert route["queue"].name == "statements"


def test_monthly_beat_requests_each_statement_once(history, django_capture_on_commit_callbacks):
    _offering, person = history
    with django_capture_on_commit_callbacks(execute=True):
        assert statements_monthly("2025-07-03") == 1
        assert statements_monthly("2025-07-03") == 1
    statement = Statement.objects.get(investor=person)
    assert (statement.period_start, statement.period_end) == JUNE
    assert statement.status == Statement.Status.READY


# --- The investor's pages ---------------------------------------------------------------------


def _post_request(client, key="same-key", period="month:2025-06", **extra):
    return client.post("/en/statements/", {"period": period, "language": "en", "key": key, **extra})


def test_double_submit_makes_one_statement(client, history, django_capture_on_commit_callbacks):
    _offering, person = history
    client.force_login(person)
    with django_capture_on_commit_callbacks(execute=True):
        first = _post_request(client)
        second = _post_request(client)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    statement = Statement.objects.get(investor=person)
    assert first["Location"] == f"/en/statements/{statement.pk}/"
    assert statement.status == Statement.Status.READY
    page = client.get(first["Location"]).content.decode()
    assert statement.code_display in page and 'http-equiv="refresh"' not in page


def test_statement_being_prepared_refreshes_itself(client, history):
    _offering, person = history
    client.force_login(person)
    response = _post_request(client)  # on-commit task not run: still queued
    page = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' in page and 'data-status="queued"' in page
    listing = client.get("/en/statements/").content.decode()
    assert 'http-equiv="refresh"' in listing


def test_request_form_refuses_bad_periods(client, history):
    _offering, person = history
    client.force_login(person)
    response = _post_request(client, period="custom", start="2025-06-10", end="2025-06-01")
    assert response.status_code == 200
    assert "The period ends before it starts." in response.content.decode()
    response = _post_request(client, key="k2", period="custom", start="2025-06-10")
    assert "Fill in both dates" in response.content.decode()
    response = _post_request(client, key="k3", period="month:2025-13")
    assert response.status_code == 200
    assert "Choose a period from the list." in response.content.decode()
    assert not Statement.objects.exists()


def test_download_is_for_the_owner_only(client, history):
    _offering, person = history
    statement = ready(request(person, *JUNE))
    client.force_login(person)
    response = client.get(f"/en/statements/{statement.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == statement.sha256
    client.force_login(UserFactory())
    assert client.get(f"/en/statements/{statement.pk}/pdf/").status_code == 404
    assert client.get(f"/en/statements/{statement.pk}/").status_code == 404
    assert statement.code_display not in client.get("/en/statements/").content.decode()
    client.logout()
    assert client.get(f"/en/statements/{statement.pk}/pdf/").status_code == 302


def test_statements_list_costs_the_same_queries_for_more_statements(
    client, history, django_assert_max_num_queries
):
    from django.db import connection

    _offering, person = history
    ready(request(person, *JUNE))
    client.force_login(person)
    client.get("/en/statements/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/en/statements/").status_code == 200
    for month in range(1, 6):
        ready(request(person, datetime.date(2025, month, 1), datetime.date(2025, month, 28)))
    with django_assert_max_num_queries(len(few)):
        page = client.get("/en/statements/").content.decode()
    assert page.count("data-statement=") == 6
    assert len(few) <= 8


def test_arabic_statements_page_fits_a_phone_and_says_it_is_working(client, history):
    from django.utils import translation
    from django.utils.translation import gettext

    _offering, person = history
    ready(request(person, *JUNE))
    client.force_login(person)
    page = client.get("/ar/statements/").content.decode()
    # The table scrolls inside its box; the page keeps the width of the phone.
    assert '<div class="table-scroll" tabindex="0"><table class="statements">' in page
    # Preparing takes seconds: the button says so while it waits (portal/submitting.js).
    with translation.override("ar"):
        working = gettext("Preparing the statement…")
    assert working != "Preparing the statement…"
    button = re.search(r'<button type="submit"[^>]*>', page.split('class="statement-request"')[1])
    assert f'data-busy-text="{working}"' in button.group(0)


def test_portfolio_links_to_statements(client, history):
    _offering, person = history
    client.force_login(person)
    assert 'href="/en/statements/"' in client.get("/en/portfolio/").content.decode()


# --- Public verification ----------------------------------------------------------------------


def test_verification_page_shows_initials_period_and_hash_but_no_amounts(client, history):
    _offering, person = history
    person.full_name = "Ana María Ruiz"
    person.save(update_fields=["full_name"])
    statement = ready(request(person, *JUNE))
    response = client.get(f"/en/verify/{statement.verification_code}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "A. M. R." in body
    assert statement.sha256 in body
    assert "June 1, 2025" in body and "June 30, 2025" in body
    assert "Ana" not in body and person.email not in body
    assert "$" not in body and "9.25" not in body
    assert response["X-Robots-Tag"].startswith("noindex")
    # Typed by hand: lower case and a dash lead to the same page.
    typed = statement.code_display.lower()
    response = client.get(f"/en/verify/?code={typed}")
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).status_code == 200


def test_verification_page_is_404_for_a_wrong_or_unfinished_code(client, history):
    _offering, person = history
    statement = ready(request(person, *JUNE))
    wrong = "0" * CODE_LENGTH if statement.verification_code != "0" * CODE_LENGTH else "1" * 10
    assert client.get(f"/en/verify/{wrong}/").status_code == 404
    assert client.get("/en/verify/short/").status_code == 404
    queued = request(person, *JUNE)
    assert client.get(f"/en/verify/{queued.verification_code}/").status_code == 404
    assert normalize_code("abcde-fghjo") == "ABCDEFGHJ0"


def test_uploaded_pdf_is_checked_against_the_stored_hash(client, history):
    _offering, person = history
    statement = ready(request(person, *JUNE))
    url = f"/en/verify/{statement.verification_code}/"
    with statement.pdf.open("rb") as handle:
        original = handle.read()
    response = client.post(url, {"file": SimpleUploadedFile("s.pdf", original, "application/pdf")})
    assert 'data-result="match"' in response.content.decode()
    middle = len(original) // 2
    altered = original[:middle] + bytes([original[middle] ^ 1]) + original[middle + 1 :]
    assert altered != original
    response = client.post(url, {"file": SimpleUploadedFile("s.pdf", altered, "application/pdf")})
    body = response.content.decode()
    assert 'data-result="mismatch"' in body
    assert hashlib.sha256(altered).hexdigest() in body
    response = client.post(url, {"file": SimpleUploadedFile("s.pdf", b"GIF89a", "application/pdf")})
    assert response.status_code == 400 and "data-result" not in response.content.decode()


def test_oversized_upload_is_refused_before_it_is_read(client, history, settings):
    _offering, person = history
    statement = ready(request(person, *JUNE))
    settings.PUENTE_MAX_DOCUMENT_BYTES = 1024
    big = SimpleUploadedFile("s.pdf", b"%PDF-1.7\n" + b"0" * 200_000, "application/pdf")
    response = client.post(f"/en/verify/{statement.verification_code}/", {"file": big})
    assert response.status_code == 413
    assert 'data-result="too-large"' in response.content.decode()
