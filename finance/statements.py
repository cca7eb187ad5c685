"""Investor statements: one period of an investor's wallet as a PDF anyone can verify.

Every figure of a statement comes from the legs of the investor's wallet accounts in the
ledger, never from a second source: the opening balance is the sum of the legs before the
period, inflows and outflows are the positive and negative legs inside it, and the closing
balance is the sum of every leg up to its end, which must equal opening + inflows - outflows
to the minor unit (checked here, and by the database on :class:`StatementTotal`).

A period runs from the start of its first day to the start of the day after its last one,
in the site's time zone; both instants are stored, so a later change of time zone cannot
change what an issued statement covers. A period that has not ended when the statement is
requested closes at the moment of the request.

The PDF is rendered by a Celery task (``finance.tasks.statement_render``) in the investor's
language and stored in the private storage with its SHA-256. The verification code printed
on it (and in its QR code) opens a public page that shows who and what period the statement
is for, without amounts, and checks that an uploaded file is the one issued.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.db.models import CharField, Exists, F, Max, OuterRef, Q, Sum, Value
from django.db.models.functions import Cast, Concat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from .exceptions import FinanceError
from .ledger import Account, Leg, Transaction
from .money import Money
from .offerings import Payment, Pledge, Refund

#: Crockford's base32: no I, L, O or U, so a code read aloud or typed from paper survives.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: 10 symbols of 5 bits: 2**50 codes, and only ready statements answer to one.
CODE_LENGTH = 10
#: Statements one investor may have waiting at once: each costs a PDF rendering.
MAX_QUEUED_PER_INVESTOR = 5
#: The longest custom period: a year of wallet movements stays a readable document.
MAX_CUSTOM_DAYS = 366

STATEMENT_BUSY = _("The statement service was busy. Please request the statement again.")


class StatementError(FinanceError):
    """A statement could not be requested or built."""


class StatementRefused(StatementError):
    """The request is not one we make a statement for; the message is safe to show."""


class StatementDoesNotReconcile(StatementError):
    """The ledger sums disagree with each other: a bug or a tampered ledger, never shown."""


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """The code as stored, from what a person typed: case, spaces and dashes do not matter,
    and the letters Crockford's alphabet leaves out read as the digits they resemble."""
    cleaned = "".join(ch for ch in (text or "").upper() if ch not in " -\t")
    return cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


def _private_storage():
    from django.core.files.storage import storages

    return storages["private"]


def _statement_path(instance, filename: str) -> str:
    # A random name, as for other private files: it says nothing and cannot be guessed.
    return f"private/statements/{instance.investor_id}/{secrets.token_urlsafe(16)}.pdf"


def day_start(day: datetime.date) -> datetime.datetime:
    """The first instant of ``day`` in the site's time zone."""
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time.min), timezone.get_default_timezone()
    )


def month_period(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    first = datetime.date(year, month, 1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following - datetime.timedelta(days=1)


def quarter_period(year: int, quarter: int) -> tuple[datetime.date, datetime.date]:
    first_month = 3 * (quarter - 1) + 1
    start, _end = month_period(year, first_month)
    _start, end = month_period(year, first_month + 2)
    return start, end


class Statement(models.Model):
    """One PDF statement of an investor's wallet for one period, in one language."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    class PeriodKind(models.TextChoices):
        MONTH = "month", _("Month")
        QUARTER = "quarter", _("Quarter")
        CUSTOM = "custom", _("Custom period")

    investor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("investor"),
        on_delete=models.PROTECT,
        related_name="statements",
    )
    # The key of the request form: submitting it twice asks for one statement.
    request_key = models.CharField(_("request key"), max_length=64)
    period_kind = models.CharField(_("period"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    # The ledger cut-offs: legs of transactions created in [opens_at, closes_at).
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    error = models.TextField(_("error"), blank=True)
    pdf = models.FileField(
        _("PDF"), upload_to=_statement_path, storage=_private_storage, max_length=300, blank=True
    )
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    verification_code = models.CharField(
        _("verification code"), max_length=16, unique=True, default=new_verification_code
    )
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["investor", "request_key"], name="finance_statement_one_per_request"
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="finance_statement_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gte=F("opens_at")),
                name="finance_statement_cutoffs_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["investor", "-created_at"], name="finance_statement_inv_idx")
        ]

    def __str__(self) -> str:
        return f"statement {self.pk} {self.period_start}..{self.period_end}"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    @property
    def is_queued(self) -> bool:
        return self.status == self.Status.QUEUED

    @property
    def is_partial(self) -> bool:
        """True when the period had not ended when the statement was requested."""
        return self.closes_at < day_start(self.period_end + datetime.timedelta(days=1))

    @property
    def code_display(self) -> str:
        """The code in two groups of five, easier to read and type."""
        return f"{self.verification_code[:5]}-{self.verification_code[5:]}"

    @property
    def filename(self) -> str:
        return f"puente-statement-{self.period_start:%Y-%m-%d}-{self.period_end:%Y-%m-%d}.pdf"

    @property
    def investor_initials(self) -> str:
        """What the public verification page may say of the investor: initials only."""
        name = (self.investor.full_name or "").strip() or self.investor.email.split("@")[0]
        return " ".join(f"{word[0].upper()}." for word in name.split() if word[:1].isalpha())

    def verification_path(self) -> str:
        with translation.override(self.language):
            return reverse("statements:verify", args=[self.verification_code])

    def verification_url(self) -> str:
        return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + self.verification_path()


class StatementTotal(models.Model):
    """One currency's figures of a statement, in minor units, kept to verify it against the
    ledger later. The database refuses a row whose closing balance does not follow."""

    statement = models.ForeignKey(
        Statement, verbose_name=_("statement"), on_delete=models.CASCADE, related_name="totals"
    )
    currency = models.CharField(_("currency"), max_length=3)
    opening_minor = models.BigIntegerField(_("opening balance"))
    inflows_minor = models.BigIntegerField(_("money in"))
    outflows_minor = models.BigIntegerField(_("money out"))
    closing_minor = models.BigIntegerField(_("closing balance"))

    class Meta:
        verbose_name = _("statement total")
        verbose_name_plural = _("statement totals")
        ordering = ["statement", "currency"]
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "currency"], name="finance_statement_total_currency_uniq"
            ),
            models.CheckConstraint(
                condition=Q(inflows_minor__gte=0) & Q(outflows_minor__gte=0),
                name="finance_statement_total_flows_positive",
            ),
            models.CheckConstraint(
                condition=Q(
                    closing_minor=F("opening_minor") + F("inflows_minor") - F("outflows_minor")
                ),
                name="finance_statement_total_reconciles",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id} {self.currency}"

    @property
    def opening(self) -> Money:
        return Money.from_minor(self.opening_minor, self.currency)

    @property
    def inflows(self) -> Money:
        return Money.from_minor(self.inflows_minor, self.currency)

    @property
    def outflows(self) -> Money:
        return Money.from_minor(self.outflows_minor, self.currency)

    @property
    def closing(self) -> Money:
        return Money.from_minor(self.closing_minor, self.currency)


# --- Figures from the ledger ------------------------------------------------------------------


def _wallet_legs(investor):
    # The investor's wallets, one per currency, as finance.services.wallet_account opens them.
    return Leg.objects.filter(account__kind=Account.Kind.INVESTOR_WALLET, account__user=investor)


@dataclass(frozen=True)
class WalletTotals:
    """One currency's figures for a period; ``outflows`` is positive."""

    currency: str
    opening: Money
    inflows: Money
    outflows: Money
    closing: Money


def wallet_totals(
    investor, *, opens_at: datetime.datetime, closes_at: datetime.datetime
) -> list[WalletTotals]:
    """Opening balance, money in, money out and closing balance of each of the investor's
    wallets for [opens_at, closes_at), summed by the database from the legs, in one query.

    A currency with nothing before and nothing during the period is left out. Raises
    :class:`StatementDoesNotReconcile` if closing differs from opening + in - out."""
    inside = Q(transaction__created_at__gte=opens_at)
    rows = (
        _wallet_legs(investor)
        .filter(transaction__created_at__lt=closes_at)
        .values("currency")
        .annotate(
            opening=Sum("amount_minor", filter=Q(transaction__created_at__lt=opens_at), default=0),
            inflows=Sum("amount_minor", filter=inside & Q(amount_minor__gt=0), default=0),
            outflows=Sum("amount_minor", filter=inside & Q(amount_minor__lt=0), default=0),
            closing=Sum("amount_minor", default=0),
        )
        .order_by("currency")
    )
    totals = []
    for row in rows:
        currency = row["currency"]
        if row["opening"] + row["inflows"] + row["outflows"] != row["closing"]:
            raise StatementDoesNotReconcile(
                f"{currency}: {row['opening']} + {row['inflows']} + {row['outflows']} "
                f"!= {row['closing']} minor units"
            )
        if not (row["opening"] or row["inflows"] or row["outflows"]):
            continue
        totals.append(
            WalletTotals(
                currency=currency,
                opening=Money.from_minor(row["opening"], currency),
                inflows=Money.from_minor(row["inflows"], currency),
                outflows=Money.from_minor(-row["outflows"], currency),
                closing=Money.from_minor(row["closing"], currency),
            )
        )
    return totals


#: How each kind of ledger transaction reads on a statement; others show their kind.
KIND_LABELS = {
    "returns.loan_repayment": _("Loan repayment"),
    "returns.coupon": _("Bond coupon"),
    "returns.redemption": _("Bond redemption"),
    "returns.revenue_share": _("Revenue share"),
    "pledge.wallet_payment": _("Reinvested from your wallet"),
    "payout.requested": _("Withdrawal"),
    "payout.rejected": _("Withdrawal returned to your wallet"),
    "refund": _("Refund"),
    "reversal": _("Correction"),
}


@dataclass
class Movement:
    """One wallet leg of the period, with the balance after it."""

    when: datetime.datetime
    reference: int
    kind: str
    amount: Money
    balance: Money
    offering_title: str = ""
    income: Money | None = None
    principal: Money | None = None

    @property
    def label(self) -> str:
        label = KIND_LABELS.get(self.kind)
        return str(label) if label is not None else self.kind


@dataclass
class IncomeSummary:
    currency: str
    income: Money
    principal: Money
    lines: list[Movement] = field(default_factory=list)


def _movement_kind(txn: Transaction) -> str:
    # A pledge paid from the wallet is refunded by reversing its payment: to the investor
    # that is a refund, not a correction.
    if txn.kind == "reversal" and txn.reverses and txn.reverses.kind == "pledge.wallet_payment":
        return "refund"
    return txn.kind


def wallet_movements(
    investor, *, opens_at: datetime.datetime, closes_at: datetime.datetime, opening: dict
) -> list[Movement]:
    """The wallet legs of [opens_at, closes_at), oldest first, each with the running balance
    of its currency from ``opening`` (currency -> Money). Distributions carry their
    offering and their split into income and principal (from the distribution line the
    ledger transaction pays)."""
    from .returns import DistributionLine

    legs = list(
        _wallet_legs(investor)
        .filter(transaction__created_at__gte=opens_at, transaction__created_at__lt=closes_at)
        .select_related("transaction__reverses")
        .order_by("transaction__created_at", "transaction_id", "pk")
    )
    # A distribution's transaction is keyed "<distribution source key>:investor:<pk>".
    suffix = f":investor:{investor.pk}"

    def source_key(leg) -> str | None:
        key = leg.transaction.idempotency_key
        if leg.transaction.kind.startswith("returns.") and key.endswith(suffix):
            return key.removesuffix(suffix)
        return None

    source_keys = {key for leg in legs if (key := source_key(leg)) is not None}
    lines = {
        line.distribution.source_key: line
        for line in DistributionLine.objects.filter(
            investor=investor, distribution__source_key__in=source_keys
        ).select_related("distribution__offering")
    }
    balances = dict(opening)
    movements = []
    for leg in legs:
        money = leg.money
        balances[leg.currency] = balances.get(leg.currency, Money.zero(leg.currency)) + money
        movement = Movement(
            when=leg.transaction.created_at,
            reference=leg.transaction_id,
            kind=_movement_kind(leg.transaction),
            amount=money,
            balance=balances[leg.currency],
        )
        line = lines.get(source_key(leg))
        if line is not None:
            movement.offering_title = line.distribution.offering.title
            movement.income = Money(line.income, leg.currency)
            movement.principal = Money(line.principal, leg.currency)
        movements.append(movement)
    return movements


def income_summary(movements: list[Movement]) -> list[IncomeSummary]:
    """Income and principal received in the period per currency, from the distributions
    among ``movements``."""
    by_currency: dict[str, IncomeSummary] = {}
    for movement in movements:
        if movement.income is None:
            continue
        currency = movement.amount.currency
        zero = Money.zero(currency)
        summary = by_currency.setdefault(currency, IncomeSummary(currency, zero, zero))
        summary.income += movement.income
        summary.principal += movement.principal
        summary.lines.append(movement)
    return [by_currency[c] for c in sorted(by_currency)]


# --- Pledges paid and refunded ----------------------------------------------------------------

#: How a pledge's payment reads on a statement, by the pledge's payment method.
PLEDGE_PAYMENT_LABELS = {
    "card": _("Pledge paid by card"),
    "bank_transfer": _("Pledge paid by bank transfer"),
    "remittance": _("Pledge paid through a remittance partner"),
    "wallet": _("Pledge paid from your wallet"),
}
REFUND_TO_PAYMENT = _("Refund to the original payment")
REFUND_TO_WALLET = _("Refund to your wallet")


@dataclass
class PledgeMoney:
    """A payment for one of the investor's pledges, or a refund of one, in the period.
    ``paid`` and ``refunded`` are positive; one of them is zero."""

    when: datetime.datetime
    reference: int
    offering_title: str
    label: str
    paid: Money
    refunded: Money


@dataclass
class PledgeMoneySummary:
    currency: str
    paid: Money
    refunded: Money
    lines: list[PledgeMoney] = field(default_factory=list)

    @property
    def net(self) -> Money:
        return self.paid - self.refunded


def _pledge_transactions(investor, *, opens_at, closes_at):
    """The ledger transactions of [opens_at, closes_at) that pay or refund the investor's
    pledges, each with its amount (the sum of its positive legs: what the investor paid or
    got back, fee included) and currency."""
    # Keyed as finance.services posts them: "payment:<pk>:captured" for a card, bank
    # transfer or remittance; a refund under its Refund's key. Payments from the wallet
    # and their refunds are the only ones of their kinds that touch the wallet.
    captured_keys = (
        Payment.objects.filter(pledge__investor=investor)
        .annotate(key=Concat(Value("payment:"), Cast("pk", CharField()), Value(":captured")))
        .values("key")
    )
    refund_keys = Refund.objects.filter(payment__pledge__investor=investor).values(
        "idempotency_key"
    )
    touches_wallet = Exists(_wallet_legs(investor).filter(transaction=OuterRef("pk")).values("pk"))
    return (
        Transaction.objects.filter(created_at__gte=opens_at, created_at__lt=closes_at)
        .filter(
            Q(kind="pledge.payment", idempotency_key__in=captured_keys)
            | Q(kind="refund", idempotency_key__in=refund_keys)
            | (
                (
                    Q(kind="pledge.wallet_payment")
                    | Q(kind="reversal", reverses__kind="pledge.wallet_payment")
                )
                & touches_wallet
            )
        )
        .annotate(
            gross=Sum("legs__amount_minor", filter=Q(legs__amount_minor__gt=0), default=0),
            currency=Max("legs__currency"),
        )
        .select_related("reverses")
        .order_by("created_at", "pk")
    )


def _keyed_pk(key: str) -> int:
    """The pk in an idempotency key "<model>:<pk>:<event>"."""
    return int(key.split(":")[1])


def pledge_money(
    investor, *, opens_at: datetime.datetime, closes_at: datetime.datetime
) -> list[PledgeMoneySummary]:
    """What the investor paid for pledges in [opens_at, closes_at) and what was refunded to
    them, per currency, from the ledger: card, bank transfer and remittance payments never
    touch the wallet, so the wallet's figures leave them out. Payments from the wallet and
    refunds to it are here too (as what was paid for pledges) and among the wallet's
    movements (as money out of and into the wallet)."""
    transactions = list(_pledge_transactions(investor, opens_at=opens_at, closes_at=closes_at))
    payment_ids = {_keyed_pk(t.idempotency_key) for t in transactions if t.kind == "pledge.payment"}
    refund_keys = {t.idempotency_key for t in transactions if t.kind == "refund"}
    # "pledge:<pk>:wallet", and its refund reverses it.
    pledge_ids = {
        _keyed_pk((t.reverses or t).idempotency_key)
        for t in transactions
        if t.kind in ("pledge.wallet_payment", "reversal")
    }
    payments = Payment.objects.select_related("pledge__offering").in_bulk(payment_ids)
    refunds = {
        refund.idempotency_key: refund
        for refund in Refund.objects.filter(idempotency_key__in=refund_keys).select_related(
            "payment__pledge__offering"
        )
    }
    pledges = Pledge.objects.select_related("offering").in_bulk(pledge_ids)
    by_currency: dict[str, PledgeMoneySummary] = {}
    for txn in transactions:
        amount = Money.from_minor(txn.gross, txn.currency)
        zero = Money.zero(txn.currency)
        if txn.kind == "pledge.payment":
            pledge = payments[_keyed_pk(txn.idempotency_key)].pledge
            label = PLEDGE_PAYMENT_LABELS.get(pledge.method) or pledge.get_method_display()
            paid, refunded = amount, zero
        elif txn.kind == "pledge.wallet_payment":
            pledge = pledges[_keyed_pk(txn.idempotency_key)]
            label, paid, refunded = PLEDGE_PAYMENT_LABELS["wallet"], amount, zero
        elif txn.kind == "reversal":
            pledge = pledges[_keyed_pk(txn.reverses.idempotency_key)]
            label, paid, refunded = REFUND_TO_WALLET, zero, amount
        else:
            refund = refunds[txn.idempotency_key]
            pledge = refund.payment.pledge
            to_wallet = refund.destination == Refund.Destination.WALLET
            label = REFUND_TO_WALLET if to_wallet else REFUND_TO_PAYMENT
            paid, refunded = zero, amount
        summary = by_currency.setdefault(txn.currency, PledgeMoneySummary(txn.currency, zero, zero))
        summary.paid += paid
        summary.refunded += refunded
        summary.lines.append(
            PledgeMoney(
                when=txn.created_at,
                reference=txn.pk,
                offering_title=pledge.offering.title,
                label=str(label),
                paid=paid,
                refunded=refunded,
            )
        )
    return [by_currency[c] for c in sorted(by_currency)]


# --- Requesting, rendering, failing -----------------------------------------------------------


def statement_request(
    *,
    investor,
    period_kind: str,
    start: datetime.date,
    end: datetime.date,
    language: str,
    request_key: str,
    now: datetime.datetime | None = None,
) -> Statement:
    """Ask for a statement of ``investor``'s wallet from ``start`` to ``end`` (inclusive),
    rendered in ``language`` by a task enqueued on commit.

    The same ``request_key`` again returns the statement it already asked for. Raises
    :class:`StatementRefused` for a period that is empty, in the future or too long, or when
    the investor already has :data:`MAX_QUEUED_PER_INVESTOR` statements being prepared."""
    now = now or timezone.now()
    existing = Statement.objects.filter(investor=investor, request_key=request_key).first()
    if existing is not None:
        return existing
    if end < start:
        raise StatementRefused(_("The period ends before it starts."))
    if start > timezone.localdate(now):
        raise StatementRefused(_("A statement can only cover days that have begun."))
    if period_kind == Statement.PeriodKind.CUSTOM and (end - start).days >= MAX_CUSTOM_DAYS:
        raise StatementRefused(_("A custom period can be a year at most."))
    if language not in dict(settings.LANGUAGES):
        raise StatementRefused(_("Choose one of the languages offered."))
    queued = Statement.objects.filter(investor=investor, status=Statement.Status.QUEUED)
    if queued.count() >= MAX_QUEUED_PER_INVESTOR:
        raise StatementRefused(
            _("Some of your statements are still being prepared. Please wait for them first.")
        )
    opens_at = day_start(start)
    statement = Statement(
        investor=investor,
        request_key=request_key,
        period_kind=period_kind,
        period_start=start,
        period_end=end,
        opens_at=opens_at,
        closes_at=max(min(day_start(end + datetime.timedelta(days=1)), now), opens_at),
        language=language,
        created_at=now,
    )
    # The unique request key is checked by the insert below, where a race is decided.
    statement.full_clean(exclude=["pdf", "request_key", "verification_code"])
    try:
        with transaction.atomic():
            statement.save()
    except IntegrityError:
        # A double submit that raced us, or (once in 2**50) a code drawn twice.
        existing = Statement.objects.filter(investor=investor, request_key=request_key).first()
        if existing is None:
            raise
        return existing

    from .tasks import statement_render

    transaction.on_commit(lambda: statement_render.delay(statement.pk))
    return statement


def statement_context(statement: Statement, *, issued_at: datetime.datetime) -> dict:
    """What the PDF template shows. Call inside ``translation.override(statement.language)``:
    the charts and labels are translated when they are built."""
    import segno

    from .portfolio import portfolio_charts, portfolio_for

    investor = statement.investor
    totals = wallet_totals(investor, opens_at=statement.opens_at, closes_at=statement.closes_at)
    movements = wallet_movements(
        investor,
        opens_at=statement.opens_at,
        closes_at=statement.closes_at,
        opening={t.currency: t.opening for t in totals},
    )
    # Holdings and the chart are the portfolio page's, on the day the statement is issued.
    issued_on = timezone.localdate(issued_at)
    portfolio = portfolio_for(investor, today=issued_on)
    url = statement.verification_url()
    qr = segno.make(url, error="m")
    return {
        "statement": statement,
        "investor": investor,
        "totals": totals,
        "movements": movements,
        "income": income_summary(movements),
        "pledges": pledge_money(
            investor, opens_at=statement.opens_at, closes_at=statement.closes_at
        ),
        "portfolio": portfolio,
        # Empty while it would draw no line: the template then leaves it out.
        "value_chart": portfolio_charts(portfolio)["value"],
        "issued_at": issued_at,
        "issued_on": issued_on,
        "closes_on": timezone.localtime(statement.closes_at),
        "verification_url": url,
        "qr_data_uri": qr.svg_data_uri(scale=3, border=2),
        "text_direction": "rtl" if translation.get_language_bidi() else "ltr",
    }


def statement_pdf(statement: Statement, *, issued_at: datetime.datetime) -> tuple[bytes, list]:
    """Render the statement; returns the PDF and the wallet totals it shows."""
    from weasyprint import HTML, URLFetcher

    with translation.override(statement.language):
        context = statement_context(statement, issued_at=issued_at)
        html = render_to_string("finance/statements/statement_pdf.html", context)
    # Everything the statement shows is in the HTML (the QR code as a data: URL): the
    # renderer fetches nothing, so no text in a title or a name can make it call out.
    document = HTML(
        string=html,
        base_url=settings.WAGTAILADMIN_BASE_URL,
        url_fetcher=URLFetcher(allowed_protocols={"data"}),
    )
    return document.write_pdf(), context["totals"]


def statement_build(*, statement_id: int) -> Statement:
    """Render and store a queued statement's PDF, its SHA-256 and its totals.

    Idempotent: a statement already ready (or failed) is returned as it is, and of two
    workers rendering the same statement the second to commit keeps the first's file.
    Errors propagate: the task decides what is transient."""
    statement = Statement.objects.select_related("investor").get(pk=statement_id)
    if statement.status != Statement.Status.QUEUED:
        return statement
    issued_at = timezone.now()
    pdf, totals = statement_pdf(statement, issued_at=issued_at)
    digest = hashlib.sha256(pdf).hexdigest()
    with transaction.atomic():
        locked = Statement.objects.select_for_update().get(pk=statement_id)
        if locked.status != Statement.Status.QUEUED:
            return locked
        locked.pdf.save(statement.filename, ContentFile(pdf), save=False)
        locked.sha256 = digest
        locked.status = Statement.Status.READY
        locked.issued_at = issued_at
        locked.error = ""
        locked.save(update_fields=["pdf", "sha256", "status", "issued_at", "error"])
        StatementTotal.objects.bulk_create(
            StatementTotal(
                statement=locked,
                currency=t.currency,
                opening_minor=t.opening.minor_units,
                inflows_minor=t.inflows.minor_units,
                outflows_minor=t.outflows.minor_units,
                closing_minor=t.closing.minor_units,
            )
            for t in totals
        )
    return locked


def statement_mark_failed(*, statement_id: int, error: str) -> Statement | None:
    """Mark a queued statement failed with ``error`` (kept for staff); a statement already
    ready stays ready. Returns None if the statement no longer exists."""
    with transaction.atomic():
        statement = Statement.objects.select_for_update().filter(pk=statement_id).first()
        if statement is None or statement.status != Statement.Status.QUEUED:
            return statement
        statement.status = Statement.Status.FAILED
        statement.error = error[:2000]
        statement.save(update_fields=["status", "error"])
    return statement


def sha256_of(upload) -> str:
    """The SHA-256 of an uploaded file, read in chunks."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def statement_for_code(code: str) -> Statement | None:
    """The ready statement a verification code names, or None."""
    code = normalize_code(code)
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return (
        Statement.objects.filter(verification_code=code, status=Statement.Status.READY)
        .select_related("investor")
        .first()
    )


def investors_with_wallet_activity(
    *, opens_at: datetime.datetime, closes_at: datetime.datetime
) -> list[int]:
    """Users whose wallets moved in [opens_at, closes_at): who gets a monthly statement."""
    return list(
        Account.objects.filter(
            kind=Account.Kind.INVESTOR_WALLET,
            user__isnull=False,
            legs__transaction__created_at__gte=opens_at,
            legs__transaction__created_at__lt=closes_at,
        )
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )
