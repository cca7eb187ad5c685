"""Bank statements imported by staff, one row per booked entry, and the
reconciliation check that ties them to the ledger.

A statement line is the bank's word that money arrived (or left). Matching
(`finance.payments.bank_transfer.match_line`) decides what it was: the exact
payment of a pledge, a partial or excess payment, a payment for a pledge
that had already expired, or money nobody can place yet. Until staff decide,
money that is not matched sits in the suspense account, so the ledger always
holds what the bank holds:

- matched:   external -> escrow (and fees), posted by `pledge_mark_paid`;
  the pledges one import pays are matched together when it ends
  (`services.matching_batch`), so a sponsor's last funds are shared among
  them rather than taken by the first line;
- partial, overpaid, late, unmatched: external -> suspense
  (key ``bankline:<id>:suspense``), reversed (key ``bankline:<id>:unsuspense``)
  when staff assign the line to a pledge or resolve it;
- repayment, revenue: the entrepreneur paid a loan installment or a revenue
  share, posted by `finance.returns_services` to the lenders or investors.

What matching and staff write on a line is stored as a note code and its
parameters (`BankStatementLine.notes`) and worded when shown, in the language
of whoever reads it, whatever language the statement was imported in.

This module is imported by ``finance/models.py``, so the check below is
registered whenever Django loads the finance models.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .ledger import Account, Leg
from .money import Money
from .offerings import AMOUNT, Pledge
from .reconciliation import Difference, register_check

#: Owner key of the suspense account bank lines wait in, one account per currency.
SUSPENSE_KEY = "bank-statements"


def suspense_account(currency: str) -> Account:
    return Account.get_or_create_for(
        kind=Account.Kind.SUSPENSE, key=SUSPENSE_KEY, currency=currency
    )


class BankStatementImport(models.Model):
    """One uploaded statement file. The file's SHA-256 is unique: uploading
    the same file again finds this row and changes nothing."""

    class Format(models.TextChoices):
        CAMT053 = "camt053", _("ISO 20022 CAMT.053 (XML)")
        CSV = "csv", _("CSV")

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, unique=True)
    original_name = models.CharField(_("file name"), max_length=255)
    format = models.CharField(_("format"), max_length=10, choices=Format.choices)
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)
    #: Booked entries in the file.
    line_count = models.PositiveIntegerField(_("lines in the file"), default=0)
    #: Lines stored by this import (the others were already known from another file).
    new_line_count = models.PositiveIntegerField(_("new lines"), default=0)
    known_line_count = models.PositiveIntegerField(_("lines already imported"), default=0)
    #: Pending or informational entries (not booked): not imported.
    unbooked_count = models.PositiveIntegerField(_("entries not booked"), default=0)

    class Meta:
        ordering = ["-imported_at", "-pk"]
        verbose_name = _("bank statement import")
        verbose_name_plural = _("bank statement imports")

    def __str__(self) -> str:
        return f"{self.original_name} ({self.imported_at:%Y-%m-%d %H:%M})"

    #: Set by `import_statement`: True when the file had been imported before and
    #: this is the earlier import, returned unchanged. Not stored.
    already_imported = False

    def status_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(BankStatementLine.Status.values, 0)
        rows = self.lines.values("status").annotate(n=models.Count("pk")).order_by()
        for row in rows:
            counts[row["status"]] = row["n"]
        return counts


class BankStatementLine(models.Model):
    """One booked entry of a bank statement (one transaction of a batch)."""

    class Direction(models.TextChoices):
        CREDIT = "credit", _("Credit (money in)")
        DEBIT = "debit", _("Debit (money out)")

    class Status(models.TextChoices):
        NEW = "new", _("Not matched yet")
        MATCHED = "matched", _("Matched to a pledge")
        PARTIAL = "partial", _("Less than due: review")
        OVERPAID = "overpaid", _("More than due or paid twice: review")
        LATE = "late", _("Pledge expired or cancelled: review")
        UNMATCHED = "unmatched", _("No known reference: review")
        IGNORED = "ignored", _("Debit: ignored")
        RESOLVED = "resolved", _("Resolved by staff")
        REPAYMENT = "repayment", _("Loan repayment recorded")
        REVENUE_SHARE = "revenue", _("Revenue share recorded")

    #: Lines staff must look at; their money is held in the suspense account.
    NEEDS_ATTENTION = (Status.PARTIAL, Status.OVERPAID, Status.LATE, Status.UNMATCHED)

    statement_import = models.ForeignKey(
        BankStatementImport,
        verbose_name=_("import"),
        on_delete=models.PROTECT,
        related_name="lines",
    )
    #: The platform's account the statement is for (IBAN, or the bank's own id).
    account_iban = models.CharField(_("account"), max_length=70, blank=True)
    #: The bank's own reference for the entry; with the account, it identifies the
    #: entry across files (a later statement repeating it is not counted twice).
    entry_reference = models.CharField(_("bank's entry reference"), max_length=140)
    booking_date = models.DateField(_("booking date"))
    direction = models.CharField(_("direction"), max_length=6, choices=Direction.choices)
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3)
    remitter_name = models.CharField(_("remitter"), max_length=140, blank=True)
    remitter_account = models.CharField(_("remitter's account"), max_length=70, blank=True)
    remittance_info = models.TextField(_("remittance information"), blank=True)
    rf_reference = models.CharField(_("RF reference found"), max_length=35, blank=True)
    is_reversal = models.BooleanField(_("reversal entry"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NEW, db_index=True
    )
    pledge = models.ForeignKey(
        "finance.Pledge",
        verbose_name=_("pledge"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bank_lines",
    )
    payment = models.ForeignKey(
        "finance.Payment",
        verbose_name=_("payment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bank_lines",
    )
    #: Notes written as text in the language of whoever imported the line, before
    #: notes were stored by code; shown as they are.
    note = models.TextField(_("note"), blank=True)
    #: What matching and staff wrote on the line, oldest first: ``{"code": ..., "params":
    #: {...}}`` (codes in NOTE_TEXTS), worded in the reader's language when shown.
    notes = models.JSONField(_("notes"), default=list, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["booking_date", "pk"]
        verbose_name = _("bank statement line")
        verbose_name_plural = _("bank statement lines")
        constraints = [
            models.UniqueConstraint(
                fields=["account_iban", "entry_reference"], name="bank_line_once_per_account"
            ),
            # One bank credit pays one Payment: a second matching line is a double payment.
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(payment__isnull=False),
                name="bank_line_one_per_payment",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="bank_line_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="matched") | Q(payment__isnull=False),
                name="bank_line_matched_has_payment",
            ),
        ]
        indexes = [models.Index(fields=["rf_reference"])]

    def __str__(self) -> str:
        return f"{self.booking_date} {self.amount} {self.currency} {self.entry_reference}"

    @property
    def money(self) -> Money:
        # Stored with three decimals for every currency; shown in its own minor unit.
        return Money(self.amount, self.currency).quantize()

    @property
    def suspense_key(self) -> str:
        return f"bankline:{self.pk}:suspense"

    @property
    def unsuspense_key(self) -> str:
        return f"bankline:{self.pk}:unsuspense"

    @property
    def needs_attention(self) -> bool:
        return self.status in self.NEEDS_ATTENTION

    def add_note(self, note: dict | None) -> None:
        """Append a note made by `line_note` (None adds nothing); the caller saves ``notes``."""
        if note is not None:
            self.notes = [*self.notes, note]

    @property
    def note_lines(self) -> list[str]:
        """The line's notes in the active language, oldest first."""
        earlier = self.note.splitlines() if self.note else []
        return earlier + [note_text(note) for note in self.notes]


# --- Notes ---------------------------------------------------------------------------------------

#: Every note matching and staff write on a bank line, by code. The parameters are
#: stored with the code; those named in `_WORDED_PARAMS` are worded when shown too.
NOTE_TEXTS = {
    "reversal": _("A reversal (money coming back, e.g. a returned payout)."),
    "unknown_reference": _("No pledge has the reference %(reference)s."),
    "no_reference": _("No valid RF reference in the remittance information."),
    "other_currency": _("Paid in %(paid)s, but pledge %(pledge)s is in %(currency)s."),
    "already_paid": _(
        "Pledge %(pledge)s was already paid on %(date)s: this %(amount)s is a second payment."
    ),
    "pledge_ended": _(
        "Pledge %(pledge)s has ended (%(status)s since %(date)s): send the %(amount)s "
        "back or agree a new pledge with the investor."
    ),
    "partial": _("Received %(received)s of %(due)s due: %(missing)s missing."),
    "overpaid": _("Received %(received)s, %(due)s due: %(extra)s too much."),
    "payment_recorded": _("The payment of pledge %(pledge)s was already recorded as received."),
    "repayment_currency": _(
        "Repayment of loan %(loan)s (%(reference)s) not recorded: paid in %(paid)s, but the "
        "loan is repaid in %(currency)s."
    ),
    "repayment_refused": _("Repayment of loan %(loan)s (%(reference)s) not recorded: %(reason)s"),
    "repayment_recorded": _("Recorded as repayment %(repayment)s of loan %(loan)s."),
    "revenue_share_currency": _(
        "Revenue share of report %(report)s (%(reference)s) not recorded: paid in %(paid)s, "
        "but the share is due in %(currency)s."
    ),
    "revenue_share_refused": _(
        "Revenue share of report %(report)s (%(reference)s) not recorded: %(reason)s"
    ),
    "revenue_share_recorded": _(
        "Recorded as revenue share of report %(report)s of offering %(offering)s: "
        "%(shared)s shared among the investors."
    ),
    "revenue_share_recorded_excess": _(
        "Recorded as revenue share of report %(report)s of offering %(offering)s: "
        "%(shared)s shared among the investors, %(excess)s beyond the share due held "
        "for review."
    ),
    "assigned": _("Assigned to pledge %(pledge)s by %(person)s."),
    "resolved": _("Resolved by %(person)s: %(note)s"),
}


def _word_pledge_status(value: str) -> str:
    return str(Pledge.Status(value).label) if value in Pledge.Status.values else value


def _word_reason(text: str) -> str:
    # gettext("") would be the catalogue's header.
    return gettext(text) if text else text


#: Parameters stored untranslated and worded when the note is shown: a pledge status
#: by its label; a refusal's reason, kept in the source language, by the catalogue.
_WORDED_PARAMS = {"status": _word_pledge_status, "reason": _word_reason}


def line_note(code: str, **params) -> dict:
    """A note for a bank line: its code (a key of NOTE_TEXTS) and parameters, which
    must be JSON: numbers, or text that reads the same in every language."""
    if code not in NOTE_TEXTS:
        raise KeyError(f"unknown bank line note {code!r}")
    return {"code": code, "params": params}


def note_text(note: dict) -> str:
    """A stored note worded in the active language."""
    code, params = note["code"], note.get("params", {})
    if code not in NOTE_TEXTS:
        # A code no longer known (a release that dropped it): show what was stored
        # rather than hide it.
        return " ".join([code, *(f"{key}={value}" for key, value in params.items())])
    worded = {
        key: _WORDED_PARAMS[key](value) if key in _WORDED_PARAMS else value
        for key, value in params.items()
    }
    return str(NOTE_TEXTS[code]) % worded


# --- Reconciliation ----------------------------------------------------------------------------


@register_check
def matched_lines_equal_captures() -> Iterable[Difference]:
    """Every matched bank line brought in exactly what its payment records as captured."""
    lines = (
        BankStatementLine.objects.filter(status=BankStatementLine.Status.MATCHED)
        .select_related("payment")
        .order_by("pk")
    )
    for line in lines.iterator():
        payment = line.payment
        subject = f"bank line {line.pk} ({line.entry_reference})"
        if payment is None:
            yield Difference("bank line matches payment", subject, "a payment", "none")
            continue
        found = Money.from_minor(payment.captured_minor, payment.currency)
        if payment.currency != line.currency or found != line.money:
            yield Difference(
                "bank line matches payment",
                f"{subject}, payment {payment.pk}",
                str(line.money),
                f"{found} captured",
            )


@register_check
def suspense_holds_open_lines() -> Iterable[Difference]:
    """The suspense account holds exactly the bank lines that await staff, per currency."""
    expected: defaultdict[str, int] = defaultdict(int)
    open_lines = (
        BankStatementLine.objects.filter(status__in=BankStatementLine.NEEDS_ATTENTION)
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    for row in open_lines:
        expected[row["currency"]] += Money(row["total"], row["currency"]).minor_units
    held = (
        Leg.objects.filter(account__kind=Account.Kind.SUSPENSE, account__key=SUSPENSE_KEY)
        .values("currency")
        .annotate(total=Sum("amount_minor"))
        .order_by()
    )
    found = {row["currency"]: row["total"] or 0 for row in held}
    for currency in sorted(set(expected) | set(found)):
        if expected.get(currency, 0) != found.get(currency, 0):
            yield Difference(
                "suspense holds open bank lines",
                f"suspense account {SUSPENSE_KEY} {currency}",
                str(Money.from_minor(expected.get(currency, 0), currency)),
                str(Money.from_minor(found.get(currency, 0), currency)),
            )
