"""Bank transfer with a structured reference, and the matching of imported
bank statement lines to pledges.

The investor transfers `pledge.total_due` to the platform's account quoting
the pledge's ISO 11649 reference (``RF..``). Nothing tells us in real time:
staff import the bank's statements (`finance.statements_import`) and each new
line goes through `match_line`. The provider's own methods therefore do very
little — `start` records what we expect, `sync` has nobody to ask.

Matching rules (`match_line`), for a credit line:

======================================  ===========  ===============================
what arrived                            line status  money
======================================  ===========  ===============================
reference of a pending pledge, same     matched      Payment succeeded;
currency, exactly the total due                      `pledge_mark_paid` posts
                                                     external -> escrow (+ fees)
same, less than due                     partial      external -> suspense
same, more than due                     overpaid     external -> suspense
reference of a pledge already paid      overpaid     external -> suspense
reference of an expired, cancelled or   late         external -> suspense
refunded pledge
reference of a pledge in another        unmatched    external -> suspense
currency; unknown or no reference; a
reversal (money coming back)
======================================  ===========  ===============================

A credit quoting a loan's repayment reference
(`finance.returns_services.loan_repayment_reference`, ``RF..LN<offering id>``)
is the entrepreneur repaying: `repayment_record` applies it (interest, then
principal, shared among the lenders) and the line is ``repayment``; if the
repayment is refused (another currency, a loan written off) the line is
``unmatched``, in suspense, with the reason. A credit quoting a revenue report's
reference (`finance.returns_services.revenue_share_reference`, ``RF..RV<report id>``) pays
that report's share: `revenue_share_pay` shares it among the investors (beyond the share
still due, the rest is held on the offering's excess account) and the line is ``revenue``;
refused (another currency), it is ``unmatched`` in suspense with the reason.

Notes on a line are stored as codes with parameters (`finance.bank.line_note`) and
worded when shown, so each reader sees them in their own language.

Debit lines are ``ignored``: money leaving the account was posted by the
workflow that sent it. The suspense posting has the key
``bankline:<id>:suspense``; the pledge is never marked paid for partial,
overpaid or late lines — staff decide in the admin queue, either

- `assign_line`: the line is for this pledge. The same rules run again with
  the pledge staff named and must say "matched"; then the suspense posting is
  reversed (key ``bankline:<id>:unsuspense``, suspense -> external) and
  `pledge_mark_paid` posts external -> escrow as for any payment, so the money
  ends up moved from suspense to escrow; or
- `resolve_line`: the money was sent back to the remitter (or otherwise left
  the account): the suspense posting is reversed the same way and the line
  is closed with the staff member's note.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from stdnum import iso11649

from finance.bank import BankStatementLine, line_note, note_text, suspense_account
from finance.exceptions import FinanceError
from finance.ledger import Transaction, post_transaction, reverse_transaction
from finance.offerings import Payment, Pledge, Refund
from finance.returns import Repayment, RevenueReport
from finance.returns_services import (
    RepaymentRefused,
    RevenueReportRefused,
    loan_for_repayment_reference,
    repayment_record,
    revenue_report_for_reference,
    revenue_share_pay,
)
from finance.services import external_account, pledge_mark_paid
from portal.models import AuditEntry

from . import register_provider
from .base import PaymentError, PaymentProvider

Status = BankStatementLine.Status


class BankMatchError(FinanceError):
    """Staff asked for something the matching rules refuse; the message is
    safe to show and nothing was changed."""

    def __init__(self, message) -> None:
        super().__init__(message)
        self.message = message


class BankTransferProvider(PaymentProvider):
    """Payment by bank transfer quoting the pledge's RF reference."""

    name = "bank_transfer"

    def __init__(self, name: str | None = None) -> None:
        if name:
            self.name = name

    def start(self, *, pledge):
        """Record that `pledge.total_due` is expected under the pledge's
        reference. No money moves and nobody is called; a second call returns
        the same Payment (it is unique per provider and reference)."""
        if not pledge.bank_reference:
            raise PaymentError(
                f"pledge {pledge.pk} has no bank reference",
                user_message=_("This pledge is not paid by bank transfer."),
            )
        due = pledge.total_due
        payment, _created = Payment.objects.get_or_create(
            provider=self.name,
            provider_reference=pledge.bank_reference,
            defaults={
                "pledge": pledge,
                "amount_minor": due.minor_units,
                "currency": due.currency,
                "status": Payment.Status.CREATED,
            },
        )
        if payment.pledge_id != pledge.pk:
            raise PaymentError(f"reference {pledge.bank_reference} belongs to another pledge")
        return payment

    def sync(self, *, payment):
        """A bank has nothing to re-read: statement lines drive the payment's
        state (see `match_line`). Returns the payment unchanged."""
        return payment

    def refund(self, *, payment, amount_minor: int, idempotency_key: str) -> str:
        """A transfer cannot be pulled back: staff pay the refund out by bank
        transfer, to the remitter's account on the matched statement line.

        This records that the payout is due (an audit entry
        ``refund.bank_payout_due`` on the Refund) and returns
        ``bank-refund-<refund id>`` for staff to quote on the transfer. It
        never fails and moves no money; the refund workflow posts the ledger.
        Called twice with one key, it records once and returns the same
        reference."""
        refund = Refund.objects.filter(idempotency_key=idempotency_key).first()
        if refund is not None:
            reference, subject = f"bank-refund-{refund.pk}", refund
        else:
            digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:12]
            reference, subject = f"bank-refund-p{payment.pk}-{digest}", payment
        action = "refund.bank_payout_due"
        already = AuditEntry.objects.filter(
            action=action,
            object_type=subject._meta.label_lower,
            object_id=str(subject.pk),
        ).exists()
        if not already:
            line = payment.bank_lines.order_by("pk").first()
            AuditEntry.record(
                actor=None,
                action=action,
                obj=subject,
                reason=f"pay {amount_minor} minor units of {payment.currency} back by bank",
                data={
                    "reference": reference,
                    "payment": payment.pk,
                    "amount_minor": amount_minor,
                    "currency": payment.currency,
                    "remitter": line.remitter_name if line else "",
                    "remitter_account": line.remitter_account if line else "",
                },
            )
        return reference


bank_transfer = register_provider(BankTransferProvider())
# The remittance partner's API is a later issue; until then its money arrives
# as bank transfers quoting the pledge's reference, with the same mechanics.
remittance = register_provider(BankTransferProvider("remittance"))
_BY_METHOD = {Pledge.Method.BANK_TRANSFER: bank_transfer, Pledge.Method.REMITTANCE: remittance}


# --- Matching --------------------------------------------------------------------------------


def normalize_reference(text: str) -> str:
    """The compact form of a reference as staff or a bank wrote it ("rf18 5390 ...")."""
    return iso11649.compact(text or "")


def _date(moment) -> str:
    return f"{moment:%Y-%m-%d}" if moment else "?"


def decide(line: BankStatementLine, pledge: Pledge | None, *, by_staff: bool = False):
    """What `line` is, given the pledge its reference names (or staff named):
    a status and a note for staff (`line_note`, or None). Changes nothing."""
    if line.direction == BankStatementLine.Direction.DEBIT:
        return Status.IGNORED, None
    if line.is_reversal and not by_staff:
        return Status.UNMATCHED, line_note("reversal")
    if pledge is None:
        if line.rf_reference:
            return Status.UNMATCHED, line_note("unknown_reference", reference=line.rf_reference)
        return Status.UNMATCHED, line_note("no_reference")
    if line.currency != pledge.currency:
        return Status.UNMATCHED, line_note(
            "other_currency", paid=line.currency, pledge=pledge.pk, currency=pledge.currency
        )
    received, due = line.money, pledge.total_due.quantize()
    if pledge.status == Pledge.Status.PAID:
        return Status.OVERPAID, line_note(
            "already_paid", pledge=pledge.pk, date=_date(pledge.paid_at), amount=str(received)
        )
    if pledge.status != Pledge.Status.PENDING:
        return Status.LATE, line_note(
            "pledge_ended",
            pledge=pledge.pk,
            status=pledge.status,
            date=_date(pledge.cancelled_at),
            amount=str(received),
        )
    if received < due:
        return Status.PARTIAL, line_note(
            "partial", received=str(received), due=str(due), missing=str(due - received)
        )
    if received > due:
        return Status.OVERPAID, line_note(
            "overpaid", received=str(received), due=str(due), extra=str(received - due)
        )
    return Status.MATCHED, None


def _lock_line(line: BankStatementLine) -> BankStatementLine:
    return BankStatementLine.objects.select_for_update().get(pk=line.pk)


def _lock_pledge(reference: str) -> Pledge | None:
    if not reference:
        return None
    return Pledge.objects.select_for_update().filter(bank_reference=reference).first()


def _book_matched(line: BankStatementLine, pledge: Pledge) -> bool:
    """Record the line as the pledge's payment and mark the pledge paid.
    Returns False (changing nothing) if the pledge's payment was already
    received some other way."""
    provider = _BY_METHOD.get(pledge.method, bank_transfer)
    payment = provider.start(pledge=pledge)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.status == Payment.Status.SUCCEEDED:
        return False
    payment.status = Payment.Status.SUCCEEDED
    payment.captured_minor = payment.amount_minor
    payment.save(update_fields=["status", "captured_minor", "updated_at"])
    line.payment = payment
    line.pledge = pledge
    line.status = Status.MATCHED
    line.save(update_fields=["payment", "pledge", "status", "notes", "resolved_by", "resolved_at"])
    pledge_mark_paid(payment=payment)
    return True


def _hold_in_suspense(line: BankStatementLine) -> None:
    money = line.money
    post_transaction(
        idempotency_key=line.suspense_key,
        kind="bank.suspense",
        legs=[(external_account(line.currency), -money), (suspense_account(line.currency), money)],
        memo=f"bank line {line.pk} ({line.entry_reference}) awaits review: {line.status}",
    )


def _release_suspense(line: BankStatementLine, *, by) -> None:
    original = Transaction.objects.get(idempotency_key=line.suspense_key)
    reverse_transaction(
        original,
        idempotency_key=line.unsuspense_key,
        memo=f"bank line {line.pk} ({line.entry_reference}) leaves suspense",
        created_by=by,
    )


def _book_repayment(line: BankStatementLine, loan) -> BankStatementLine:
    """The line quotes a loan's repayment reference: the entrepreneur repaid. It is recorded
    through `repayment_record` (key ``bankline:<id>:repayment``, received on the booking
    date), which posts external -> lenders, and the line is ``repayment``. When the
    repayment is refused (another currency, a loan written off or without a schedule) the
    line waits for staff in suspense, unmatched, with the reason."""
    if line.currency != loan.currency:
        # `repayment_record` refuses it too; said here so the note can be worded for
        # each reader rather than in the language of the import.
        return _leave_for_staff(
            line,
            line_note(
                "repayment_currency",
                loan=loan.pk,
                reference=line.rf_reference,
                paid=line.currency,
                currency=loan.currency,
            ),
        )
    repayment, reason = _unless_refused(
        RepaymentRefused,
        lambda: repayment_record(
            offering=loan,
            amount=line.money,
            received_on=line.booking_date,
            idempotency_key=f"bankline:{line.pk}:repayment",
            method=Repayment.Method.BANK_TRANSFER,
            reference=line.rf_reference,
        ),
    )
    if reason is not None:
        return _leave_for_staff(
            line,
            line_note(
                "repayment_refused", loan=loan.pk, reference=line.rf_reference, reason=reason
            ),
        )
    return _book(
        line,
        Status.REPAYMENT,
        line_note("repayment_recorded", repayment=repayment.pk, loan=loan.pk),
    )


def _unless_refused(refusal: type[Exception], record):
    """`record()`'s result and None, or None and the reason it was refused with.

    The reason is kept in the source language, to be worded for each reader
    (finance.bank.note_text): it is made, and read, with no translation active.
    Nothing else the call writes is translated."""
    with translation.override(None):
        try:
            return record(), None
        except refusal as refused:
            return None, str(refused)


def _book_revenue_share(line: BankStatementLine, report: RevenueReport) -> BankStatementLine:
    """The line quotes a revenue report's reference: the entrepreneur paid its share. It is
    recorded through `revenue_share_pay` (key ``revenue:<report>:bankline:<id>``, received
    on the booking date), which posts external -> investors and holds anything beyond the
    share still due; the line is ``revenue``. Refused (another currency), the line waits
    for staff in suspense, unmatched, with the reason."""
    if line.currency != report.currency:
        # As for a repayment: refused by `revenue_share_pay` too, said here to be worded.
        return _leave_for_staff(
            line,
            line_note(
                "revenue_share_currency",
                report=report.pk,
                reference=line.rf_reference,
                paid=line.currency,
                currency=report.currency,
            ),
        )
    paid, reason = _unless_refused(
        RevenueReportRefused,
        lambda: revenue_share_pay(
            report=report,
            amount=line.money,
            received_on=line.booking_date,
            source_id=f"bankline:{line.pk}",
            method=Repayment.Method.BANK_TRANSFER,
            reference=line.rf_reference,
        ),
    )
    if reason is not None:
        return _leave_for_staff(
            line,
            line_note(
                "revenue_share_refused",
                report=report.pk,
                reference=line.rf_reference,
                reason=reason,
            ),
        )
    return _book(
        line,
        Status.REVENUE_SHARE,
        line_note(
            "revenue_share_recorded_excess" if paid.excess else "revenue_share_recorded",
            report=report.pk,
            offering=report.offering_id,
            # Kept with the ledger's three decimals; shown in the currency's minor unit.
            shared=str(paid.shared.quantize()),
            excess=str(paid.excess.quantize()),
        ),
    )


def _leave_for_staff(line: BankStatementLine, note: dict) -> BankStatementLine:
    """A line its reference named but that could not be booked: unmatched, in suspense,
    with the reason for staff."""
    line.status = Status.UNMATCHED
    line.add_note(note)
    line.save(update_fields=["status", "notes"])
    _hold_in_suspense(line)
    return line


def _book(line: BankStatementLine, status: str, note: dict) -> BankStatementLine:
    """Close a line the entrepreneur's payment was recorded from."""
    line.status = status
    line.add_note(note)
    line.resolved_at = timezone.now()
    line.save(update_fields=["status", "notes", "resolved_at"])
    return line


def match_line(line: BankStatementLine) -> BankStatementLine:
    """Decide what a newly imported line is and book it (rules in the module
    docstring), in one transaction with the line and the pledge locked, so
    two imports racing on one pledge cannot both match it. A line already
    decided is returned unchanged: calling this again does nothing."""
    with transaction.atomic():
        line = _lock_line(line)
        if line.status != Status.NEW:
            return line
        pledge = None
        if line.direction == BankStatementLine.Direction.CREDIT:
            pledge = _lock_pledge(line.rf_reference)
            loan = None
            if pledge is None and not line.is_reversal:
                loan = loan_for_repayment_reference(line.rf_reference)
            if loan is not None:
                return _book_repayment(line, loan)
            report = None
            if pledge is None and not line.is_reversal:
                report = revenue_report_for_reference(line.rf_reference)
            if report is not None:
                return _book_revenue_share(line, report)
        status, note = decide(line, pledge)
        line.add_note(note)
        if status == Status.MATCHED:
            if _book_matched(line, pledge):
                return line
            status = Status.OVERPAID
            line.add_note(line_note("payment_recorded", pledge=pledge.pk))
        line.status = status
        line.pledge = pledge
        line.save(update_fields=["status", "pledge", "notes"])
        if status != Status.IGNORED:
            _hold_in_suspense(line)
    return line


def assign_line(line: BankStatementLine, *, reference: str, by) -> BankStatementLine:
    """Staff say the line pays the pledge with `reference`. The matching rules
    run with that pledge and must say "matched" (right currency, exactly the
    total due, pledge still pending); otherwise BankMatchError and nothing
    changes. The line's money leaves suspense (``bankline:<id>:unsuspense``,
    suspense -> external) and `pledge_mark_paid` posts external -> escrow."""
    reference = normalize_reference(reference)
    with transaction.atomic():
        line = _lock_line(line)
        if line.status not in BankStatementLine.NEEDS_ATTENTION:
            raise BankMatchError(_("This line is not waiting for review."))
        pledge = _lock_pledge(reference)
        if pledge is None:
            raise BankMatchError(
                _("No pledge has the reference %(reference)s.") % {"reference": reference or "—"}
            )
        status, note = decide(line, pledge, by_staff=True)
        if status != Status.MATCHED:
            raise BankMatchError(
                _("This line cannot pay that pledge: %(reason)s") % {"reason": note_text(note)}
            )
        before = line.status
        _release_suspense(line, by=by)
        line.add_note(line_note("assigned", pledge=pledge.pk, person=str(by)))
        line.resolved_by = by
        line.resolved_at = timezone.now()
        if not _book_matched(line, pledge):
            raise BankMatchError(_("That pledge's payment was already recorded as received."))
        AuditEntry.record(
            actor=by,
            action="bank_line.assigned",
            obj=line,
            from_state=before,
            to_state=line.status,
            data={"pledge": pledge.pk, "reference": reference},
        )
    return line


def resolve_line(line: BankStatementLine, *, note: str, by) -> BankStatementLine:
    """Staff close a line they dealt with outside the matching: typically the
    money was sent back to the remitter. The line's money leaves suspense
    (suspense -> external, ``bankline:<id>:unsuspense``); the note says what
    was done and is required."""
    note = (note or "").strip()
    if not note:
        raise BankMatchError(_("Say what was done with this money."))
    with transaction.atomic():
        line = _lock_line(line)
        if line.status not in BankStatementLine.NEEDS_ATTENTION:
            raise BankMatchError(_("This line is not waiting for review."))
        before = line.status
        _release_suspense(line, by=by)
        line.status = Status.RESOLVED
        line.add_note(line_note("resolved", person=str(by), note=note))
        line.resolved_by = by
        line.resolved_at = timezone.now()
        line.save(update_fields=["status", "notes", "resolved_by", "resolved_at"])
        AuditEntry.record(
            actor=by,
            action="bank_line.resolved",
            obj=line,
            from_state=before,
            to_state=line.status,
            reason=note,
        )
    return line
