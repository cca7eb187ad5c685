"""What investments give back: loan schedules and repayments, bond issues and coupon runs,
revenue-share reports, the distributions that carry money to investors' wallets, and
withdrawals from those wallets.

The money itself lives in the ledger; these rows say why it moved. A schedule is fixed when
the loan is disbursed and never edited: a restructure makes a new version and keeps the old.
"""

from __future__ import annotations

import datetime
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .money import Money
from .offerings import AMOUNT, Offering


def _private_storage():
    from django.core.files.storage import storages

    return storages["private"]


def _revenue_document_path(instance, filename: str) -> str:
    # Random names, as for project documents: the name says nothing and cannot be guessed.
    extension = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    return f"private/revenue/{instance.offering_id}/{secrets.token_urlsafe(16)}.{extension}"


# --- Loans ------------------------------------------------------------------------------------


class LoanSchedule(models.Model):
    """One version of a loan's repayment schedule, fixed at disbursement.

    Exactly one version per loan is not superseded: the current one. A restructure
    supersedes it and adds the next version; the old one and its installments are kept so
    that what was agreed, and what was paid against it, stays visible."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Being repaid")
        REPAID = "repaid", _("Repaid")
        WRITTEN_OFF = "written_off", _("Written off")
        SUPERSEDED = "superseded", _("Replaced by a restructure")

    offering = models.ForeignKey(
        Offering, on_delete=models.PROTECT, related_name="loan_schedules", verbose_name=_("loan")
    )
    version = models.PositiveSmallIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    principal = models.DecimalField(_("principal"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3)
    annual_rate = models.DecimalField(_("annual rate"), max_digits=7, decimal_places=5)
    periods = models.PositiveSmallIntegerField(_("number of installments"))
    periods_per_year = models.PositiveSmallIntegerField(_("installments per year"))
    kind = models.CharField(_("kind"), max_length=20, choices=Offering.ScheduleType.choices)
    start_date = models.DateField(_("drawn on"))
    reason = models.TextField(_("reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(_("written off or superseded at"), null=True, blank=True)

    class Meta:
        ordering = ["offering", "-version"]
        verbose_name = _("loan schedule")
        constraints = [
            models.UniqueConstraint(fields=["offering", "version"], name="loan_schedule_version"),
            models.UniqueConstraint(
                fields=["offering"],
                condition=~Q(status="superseded"),
                name="one_current_loan_schedule",
            ),
            models.CheckConstraint(condition=Q(principal__gt=0), name="loan_principal_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.offering_id} v{self.version}"

    @property
    def is_current(self) -> bool:
        return self.status != self.Status.SUPERSEDED


class Installment(models.Model):
    """One line of a schedule: what is due on a date, split into interest and principal, and
    how much of each has been paid."""

    schedule = models.ForeignKey(
        LoanSchedule, on_delete=models.PROTECT, related_name="installments"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    due_date = models.DateField(_("due"), db_index=True)
    opening_balance = models.DecimalField(_("balance before"), **AMOUNT)
    interest = models.DecimalField(_("interest"), **AMOUNT)
    principal = models.DecimalField(_("principal"), **AMOUNT)
    payment = models.DecimalField(_("payment"), **AMOUNT)
    closing_balance = models.DecimalField(_("balance after"), **AMOUNT)
    interest_paid = models.DecimalField(_("interest paid"), **AMOUNT, default=Decimal("0"))
    principal_paid = models.DecimalField(_("principal paid"), **AMOUNT, default=Decimal("0"))
    paid_on = models.DateField(_("fully paid on"), null=True, blank=True)
    # Set by the daily due-date check the first time the installment is found overdue, so
    # that people are told once, not every day.
    marked_late_on = models.DateField(_("marked late on"), null=True, blank=True)

    class Meta:
        ordering = ["schedule", "number"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "number"], name="installment_number"),
            models.CheckConstraint(
                condition=Q(interest_paid__lte=F("interest"))
                & Q(principal_paid__lte=F("principal"))
                & Q(interest_paid__gte=0)
                & Q(principal_paid__gte=0),
                name="installment_paid_within_due",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.due_date}"

    @property
    def paid(self) -> Decimal:
        return self.interest_paid + self.principal_paid

    @property
    def outstanding(self) -> Decimal:
        return self.payment - self.paid

    @property
    def is_paid(self) -> bool:
        return self.outstanding <= 0

    def days_late(self, today: datetime.date | None = None) -> int:
        """Days past the due date until it was fully paid, or until today if it is not."""
        end = self.paid_on or today or timezone.localdate()
        return max((end - self.due_date).days, 0)

    #: What each status of `status()` reads as on a page.
    STATUS_LABELS = {
        "paid": pgettext_lazy("installment", "Paid"),
        "paid_late": pgettext_lazy("installment", "Paid late"),
        "late": pgettext_lazy("installment", "Late"),
        "partial": pgettext_lazy("installment", "Partly paid"),
        "due": pgettext_lazy("installment", "Due today"),
        "upcoming": pgettext_lazy("installment", "Upcoming"),
    }

    def status(self, today: datetime.date | None = None) -> str:
        today = today or timezone.localdate()
        if self.is_paid:
            return "paid_late" if self.days_late() > 0 else "paid"
        if self.due_date < today:
            return "late"
        if self.paid > 0:
            return "partial"
        return "due" if self.due_date == today else "upcoming"


class Repayment(models.Model):
    """Money the entrepreneur paid against a loan, as applied: interest, principal, and any
    excess over what was due, which is held (never lost) until staff decide."""

    class Method(models.TextChoices):
        CARD = "card", _("Card")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        OTHER = "other", _("Other")

    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="repayments")
    schedule = models.ForeignKey(LoanSchedule, on_delete=models.PROTECT, related_name="repayments")
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3)
    received_on = models.DateField(_("received on"))
    interest_part = models.DecimalField(_("interest"), **AMOUNT)
    principal_part = models.DecimalField(_("principal"), **AMOUNT)
    excess = models.DecimalField(_("excess held"), **AMOUNT, default=Decimal("0"))
    arrears_after = models.DecimalField(_("still overdue after this payment"), **AMOUNT)
    method = models.CharField(
        _("method"), max_length=20, choices=Method.choices, default=Method.BANK_TRANSFER
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    distribution = models.OneToOneField(
        "finance.Distribution", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["offering", "received_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="repayment_positive"),
            # Compared at the columns' decimals: SQLite keeps decimals as binary floats, in
            # which 136.33 + 1175.56 is not 1311.89; PostgreSQL's numeric rounds nothing away.
            models.CheckConstraint(
                condition=Exact(
                    Round("amount", AMOUNT["decimal_places"]),
                    Round(
                        F("interest_part") + F("principal_part") + F("excess"),
                        AMOUNT["decimal_places"],
                    ),
                ),
                name="repayment_fully_applied",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on {self.received_on}"

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


class RepaymentAllocation(models.Model):
    """How much of one repayment went to one installment."""

    repayment = models.ForeignKey(Repayment, on_delete=models.PROTECT, related_name="allocations")
    installment = models.ForeignKey(
        Installment, on_delete=models.PROTECT, related_name="allocations"
    )
    interest = models.DecimalField(**AMOUNT)
    principal = models.DecimalField(**AMOUNT)
    days_late = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repayment", "installment"], name="one_allocation_per_installment"
            )
        ]


class LoanCardPayment(models.Model):
    """One attempt by the entrepreneur to repay a loan by card: a Stripe PaymentIntent the
    page confirms with Stripe.js. What it says about the money always comes from re-reading
    the intent; once it succeeded it is recorded as a :class:`Repayment` (or, when the loan
    can no longer take one, held for staff), exactly once."""

    class Status(models.TextChoices):
        CREATED = "created", _("Waiting for the card")
        PROCESSING = "processing", _("Being confirmed by the bank")
        SUCCEEDED = "succeeded", _("Paid")
        FAILED = "failed", _("Did not go through")
        CANCELLED = "cancelled", _("Cancelled")

    offering = models.ForeignKey(
        Offering, on_delete=models.PROTECT, related_name="card_repayments", verbose_name=_("loan")
    )
    schedule = models.ForeignKey(LoanSchedule, on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount_minor = models.BigIntegerField(_("amount in minor units"))
    currency = models.CharField(_("currency"), max_length=3)
    provider_reference = models.CharField(_("PaymentIntent"), max_length=100, blank=True)
    client_secret = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.CREATED
    )
    failure_message = models.CharField(max_length=300, blank=True)
    # Why a succeeded payment was not applied to the loan (written off meanwhile...): the
    # money is held for staff on the loan's excess account.
    held_reason = models.CharField(_("held for review because"), max_length=300, blank=True)
    # What staff sent back to the card of what was held (returns_services.excess_refund_to_card).
    refunded_minor = models.BigIntegerField(_("refunded to the card, in minor units"), default=0)
    idempotency_key = models.CharField(max_length=120, unique=True)
    repayment = models.OneToOneField(
        Repayment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="card_payment",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("loan card payment")
        constraints = [
            models.UniqueConstraint(
                fields=["provider_reference"],
                condition=~Q(provider_reference=""),
                name="loan_card_payment_intent_unique",
            ),
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="loan_card_payment_positive"
            ),
            models.CheckConstraint(
                condition=Q(repayment__isnull=True) | Q(status="succeeded"),
                name="loan_card_repayment_only_when_paid",
            ),
            # Never more back to the card than the card paid.
            models.CheckConstraint(
                condition=Q(refunded_minor__gte=0, refunded_minor__lte=F("amount_minor")),
                name="loan_card_refunds_within_payment",
            ),
        ]

    def __str__(self) -> str:
        return f"card repayment {self.pk} of loan {self.offering_id}"

    @property
    def money(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)

    @property
    def refunded(self) -> Money:
        return Money.from_minor(self.refunded_minor, self.currency)

    @property
    def is_payable(self) -> bool:
        """The card form can still be used: nothing decided, or a declined card (the same
        intent takes another one)."""
        return bool(self.client_secret) and self.status in (
            self.Status.CREATED,
            self.Status.PROCESSING,
            self.Status.FAILED,
        )


# --- Bonds ------------------------------------------------------------------------------------


class BondIssue(models.Model):
    """A diaspora bond series once issued: the issue date fixes its coupon dates."""

    offering = models.OneToOneField(Offering, on_delete=models.PROTECT, related_name="bond_issue")
    issue_date = models.DateField(_("issue date"))
    maturity_date = models.DateField(_("maturity"))
    units = models.PositiveIntegerField(_("bonds issued"))
    redeemed_on = models.DateField(_("redeemed on"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("bond issue")

    def __str__(self) -> str:
        return f"{self.offering} ({self.issue_date})"

    def periods(self, *, units: int | None = None):
        """The coupon periods for ``units`` bonds (all issued bonds by default)."""
        from .daycount import DayCount
        from .schedules import bond_schedule

        offering = self.offering
        units = self.units if units is None else units
        return bond_schedule(
            self.issue_date,
            tenor_months=offering.tenor_months,
            frequency=offering.periods_per_year,
            rate=offering.annual_rate,
            face=Money(offering.face_value * units, offering.currency),
            day_count=DayCount(offering.day_count),
        )


class CouponRun(models.Model):
    """The payment of one coupon of one bond to all its holders; at most one per date."""

    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="coupon_runs")
    payment_date = models.DateField(_("payment date"))
    accrual_start = models.DateField()
    accrual_end = models.DateField()
    total = models.DecimalField(_("total paid"), **AMOUNT)
    currency = models.CharField(max_length=3)
    holders = models.PositiveIntegerField(_("holders paid"))
    distribution = models.OneToOneField(
        "finance.Distribution", on_delete=models.PROTECT, related_name="+"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["offering", "payment_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["offering", "payment_date"], name="one_coupon_run_per_date"
            )
        ]

    def __str__(self) -> str:
        return f"coupon {self.offering_id} {self.payment_date}"


# --- Revenue share ----------------------------------------------------------------------------


class RevenueReport(models.Model):
    """Revenue an entrepreneur reports for a period, and the investors' share of it, due
    until the agreed multiple of what they invested has been paid."""

    class Status(models.TextChoices):
        DUE = "due", _("Share due")
        PAID = "paid", _("Share paid")
        NOTHING_DUE = "nothing_due", _("Nothing due")

    class Check(models.TextChoices):
        """Staff's check of the figure against its document. It changes nothing of what is
        due: a query asks the entrepreneur to explain, with the note they both read."""

        PENDING = "pending", _("Not checked yet")
        VERIFIED = "verified", _("Checked against the document")
        QUERIED = "queried", _("Queried by staff")

    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="revenue_reports")
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    revenue = models.DecimalField(_("revenue"), **AMOUNT)
    currency = models.CharField(max_length=3)
    document = models.FileField(
        _("supporting document"),
        upload_to=_revenue_document_path,
        storage=_private_storage,
        max_length=300,
    )
    share_due = models.DecimalField(_("share due"), **AMOUNT)
    share_paid = models.DecimalField(_("share paid"), **AMOUNT, default=Decimal("0"))
    cap_reached = models.BooleanField(_("cap reached with this report"), default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DUE)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    check_state = models.CharField(
        _("staff check"), max_length=10, choices=Check.choices, default=Check.PENDING
    )
    check_note = models.TextField(_("staff note"), blank=True, max_length=1000)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["offering", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["offering", "period_start", "period_end"], name="one_revenue_report"
            ),
            # A checked report says who checked it and when; a query says why.
            models.CheckConstraint(
                condition=Q(check_state="pending")
                | Q(checked_by__isnull=False, checked_at__isnull=False),
                name="revenue_check_by_someone",
            ),
            models.CheckConstraint(
                condition=~Q(check_state="queried") | ~Q(check_note=""),
                name="revenue_query_has_a_note",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="revenue_period_ordered"
            ),
            models.CheckConstraint(condition=Q(revenue__gte=0), name="revenue_not_negative"),
            models.CheckConstraint(
                condition=Q(share_paid__lte=F("share_due")), name="revenue_share_paid_within_due"
            ),
        ]


# --- Distributions ----------------------------------------------------------------------------


class Distribution(models.Model):
    """Money shared out to an offering's investors, pro rata, in one go. Each line is one
    investor's part; each part is one ledger transaction keyed ``<source_key>:investor:<id>``."""

    class Kind(models.TextChoices):
        LOAN_REPAYMENT = "loan_repayment", _("Loan repayment")
        COUPON = "coupon", _("Bond coupon")
        REDEMPTION = "redemption", _("Bond redemption")
        REVENUE_SHARE = "revenue_share", _("Revenue share")

    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="distributions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    source_key = models.CharField(max_length=120, unique=True)
    paid_on = models.DateField(_("paid on"))
    currency = models.CharField(max_length=3)
    income = models.DecimalField(_("income"), **AMOUNT)
    principal = models.DecimalField(_("principal returned"), **AMOUNT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["offering", "paid_on", "pk"]

    def __str__(self) -> str:
        return self.source_key


class DistributionLine(models.Model):
    distribution = models.ForeignKey(Distribution, on_delete=models.PROTECT, related_name="lines")
    investor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="distribution_lines"
    )
    income = models.DecimalField(**AMOUNT)
    principal = models.DecimalField(**AMOUNT)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["distribution", "investor"], name="one_line_per_investor"
            )
        ]
        indexes = [models.Index(fields=["investor", "distribution"])]


# --- Wallet withdrawals -----------------------------------------------------------------------


class BankAccountRegistration(models.Model):
    """A bank account an investor registered to receive withdrawals."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bank_accounts"
    )
    holder_name = models.CharField(_("account holder"), max_length=140)
    iban = models.CharField(_("IBAN or account number"), max_length=34)
    bic = models.CharField(_("BIC / SWIFT"), max_length=11, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    created_at = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "iban"], name="bank_account_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.holder_name} ···{self.iban[-4:]}"


class PayoutRequest(models.Model):
    """A withdrawal from the wallet. The amount is set aside at request time (so it cannot be
    reinvested twice) and leaves the platform when a staff member approves."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Awaiting approval")
        APPROVED = "approved", _("Approved and paid out")
        REJECTED = "rejected", _("Rejected, returned to wallet")
        # A card withdrawal rejected after part of it went back to the card: that
        # part was paid out, the rest returned to the wallet.
        PARTIAL = "partial", _("Partly paid out to the card, the rest returned to wallet")

    class Destination(models.TextChoices):
        CARD = "card", _("Back to my card")
        BANK = "bank", _("To my bank account")

    investor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payout_requests"
    )
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(max_length=3)
    destination = models.CharField(max_length=10, choices=Destination.choices)
    bank_account = models.ForeignKey(
        BankAccountRegistration, on_delete=models.PROTECT, null=True, blank=True
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.REQUESTED, db_index=True
    )
    idempotency_key = models.CharField(max_length=64)
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_positive"),
            models.UniqueConstraint(
                fields=["investor", "idempotency_key"], name="payout_idempotent_per_investor"
            ),
            models.CheckConstraint(
                condition=~Q(destination="bank") | Q(bank_account__isnull=False),
                name="bank_payout_has_account",
            ),
        ]

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)
