"""What investors commit to: offerings and their terms, pledges, matching
pools, payments and refunds, provider events, disbursements and the
investor's knowledge test."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import DecimalField, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .exceptions import ScheduleError
from .money import Money, minor_unit_exponent, too_many_decimals
from .schedules import loan_period_count

AMOUNT = {"max_digits": 18, "decimal_places": 3}

#: The longest loan or bond term accepted. Beyond keeping terms plausible, it keeps maturity
#: inside the calendar and a schedule to a size that can be built and shown.
MAX_TENOR_MONTHS = 100 * 12


def currency_choices():
    return [(code, code) for code in settings.PUENTE_CURRENCIES]


class Instrument(models.TextChoices):
    DONATION_MATCHING = "donation_matching", _("Donation with matching")
    LOAN = "loan", _("Loan")
    REVENUE_SHARE = "revenue_share", _("Revenue share")
    BOND = "bond", _("Diaspora bond")


INVESTMENT_INSTRUMENTS = (Instrument.LOAN, Instrument.REVENUE_SHARE, Instrument.BOND)


class Offering(models.Model):
    class FundingRule(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", _("All or nothing")
        KEEP_WHAT_YOU_RAISE = "keep", _("Keep what you raise")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open for pledges")
        # Keep-what-you-raise succeeds below its target too: the label says it
        # was funded, the pages say how much of the target was raised.
        SUCCEEDED = "succeeded", _("Closed: funded")
        FAILED = "failed", _("Closed: target missed, refunded")
        DISBURSED = "disbursed", _("Disbursed")

    class ScheduleType(models.TextChoices):
        ANNUITY = "annuity", _("Annuity (equal payments)")
        EQUAL_PRINCIPAL = "equal_principal", _("Equal principal")
        INTEREST_ONLY = "interest_only", _("Interest only, principal at the end")

    class DayCount(models.TextChoices):
        US_30_360 = "30/360 US", "30/360 US"
        BOND_BASIS = "30/360 BB", "30/360 Bond Basis"
        ACT_365F = "ACT/365F", "ACT/365 Fixed"
        ACT_ACT_ICMA = "ACT/ACT ICMA", "ACT/ACT ICMA"

    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offerings",
        verbose_name=_("project"),
    )
    issuer = models.ForeignKey(
        "portal.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offerings",
        verbose_name=_("issuing local government"),
    )
    title = models.CharField(_("title"), max_length=160)
    instrument = models.CharField(_("instrument"), max_length=20, choices=Instrument.choices)
    currency = models.CharField(_("currency"), max_length=3, choices=currency_choices)
    target = models.DecimalField(_("target"), **AMOUNT, validators=[MinValueValidator(1)])
    hard_cap = models.DecimalField(_("hard cap"), **AMOUNT, null=True, blank=True)
    min_ticket = models.DecimalField(
        _("minimum ticket"), **AMOUNT, validators=[MinValueValidator(Decimal("0.001"))]
    )
    max_ticket = models.DecimalField(_("maximum ticket"), **AMOUNT, null=True, blank=True)
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"))
    funding_rule = models.CharField(
        _("funding rule"),
        max_length=20,
        choices=FundingRule.choices,
        default=FundingRule.ALL_OR_NOTHING,
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    # Capacity taken by pledges that are pending or paid; changed only under
    # the offering's row lock, together with the pledge row.
    reserved = models.DecimalField(_("reserved"), **AMOUNT, default=Decimal("0"))
    # Terms; which ones apply depends on the instrument (see clean()).
    annual_rate = models.DecimalField(
        _("annual interest or coupon rate"),
        max_digits=7,
        decimal_places=5,
        null=True,
        blank=True,
        help_text=_("As a fraction: 0.05 is 5%."),
    )
    tenor_months = models.PositiveIntegerField(_("tenor in months"), null=True, blank=True)
    schedule_type = models.CharField(
        _("repayment schedule"), max_length=20, choices=ScheduleType.choices, blank=True
    )
    periods_per_year = models.PositiveSmallIntegerField(
        _("payments per year"), null=True, blank=True
    )
    day_count = models.CharField(
        _("day count"), max_length=14, choices=DayCount.choices, blank=True
    )
    face_value = models.DecimalField(_("face value of one bond"), **AMOUNT, null=True, blank=True)
    revenue_share = models.DecimalField(
        _("share of revenue"),
        max_digits=6,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("As a fraction: 0.05 is 5%."),
    )
    cap_multiple = models.DecimalField(
        _("repayment cap as a multiple"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["closes_at", "pk"]
        verbose_name = _("offering")
        constraints = [
            models.CheckConstraint(
                condition=Q(project__isnull=False) | Q(issuer__isnull=False),
                name="offering_has_owner",
                violation_error_message=_(
                    "An offering belongs to a project or, for a bond, to its issuer: choose one."
                ),
            ),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="offering_reserved_positive"),
            models.CheckConstraint(
                condition=Q(hard_cap__isnull=True) | Q(reserved__lte=F("hard_cap")),
                name="offering_never_past_cap",
            ),
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="offering_window_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def capacity(self) -> Decimal:
        """What pledges may add up to: the hard cap, else the target."""
        return self.hard_cap if self.hard_cap is not None else self.target

    @property
    def remaining(self) -> Decimal:
        return max(self.capacity - self.reserved, Decimal("0"))

    @property
    def needs_knowledge_test(self) -> bool:
        return self.instrument in INVESTMENT_INSTRUMENTS

    def is_open(self, at: datetime.datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.status == self.Status.OPEN and self.opens_at <= at < self.closes_at

    def money(self, amount: Decimal) -> Money:
        return Money(amount, self.currency)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        exponent = minor_unit_exponent(self.currency) if self.currency else 2
        for name in ("target", "hard_cap", "min_ticket", "max_ticket", "face_value"):
            value = getattr(self, name)
            if value is not None and value != value.quantize(Decimal(1).scaleb(-exponent)):
                errors[name] = too_many_decimals(self.currency)
        if self.hard_cap is not None and self.target and self.hard_cap < self.target:
            errors["hard_cap"] = _("The hard cap cannot be below the target.")
        if self.max_ticket is not None and self.min_ticket and self.max_ticket < self.min_ticket:
            errors["max_ticket"] = _("The maximum ticket cannot be below the minimum.")
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            errors["closes_at"] = _("An offering closes after it opens.")
        rate_needed = self.instrument in (Instrument.LOAN, Instrument.BOND)
        if rate_needed:
            if self.annual_rate is None or self.annual_rate < 0 or self.annual_rate > 1:
                errors["annual_rate"] = _("Give a rate between 0 and 1 (0.05 is 5%).")
            tenor_error = self._tenor_error()
            if tenor_error:
                errors["tenor_months"] = tenor_error
            if self.periods_per_year not in (1, 2, 4, 12):
                errors["periods_per_year"] = _("Payments per year must be 1, 2, 4 or 12.")
            elif self.instrument == Instrument.LOAN and not tenor_error:
                tenor_error = self._loan_periods_error()
                if tenor_error:
                    errors["tenor_months"] = tenor_error
        if self.instrument == Instrument.LOAN and not self.schedule_type:
            errors["schedule_type"] = _("Choose how the loan is repaid.")
        if self.instrument == Instrument.BOND:
            if not self.day_count:
                errors["day_count"] = _("Choose the bond's day count.")
            if not self.face_value or self.face_value <= 0:
                errors["face_value"] = _("Give the face value of one bond.")
            else:
                # An issue size or a largest purchase between two whole bonds could
                # never be sold to the last unit.
                for name, message in (
                    ("min_ticket", _("The minimum must be a whole number of bonds.")),
                    ("target", _("The issue size must be a whole number of bonds.")),
                    ("hard_cap", _("The hard cap must be a whole number of bonds.")),
                    ("max_ticket", _("The maximum must be a whole number of bonds.")),
                ):
                    value = getattr(self, name)
                    if value and value % self.face_value and name not in errors:
                        errors[name] = message
            if not self.issuer_id:
                errors["issuer"] = _("A diaspora bond is issued by a local government.")
        if self.instrument == Instrument.REVENUE_SHARE:
            if self.revenue_share is None or not 0 < self.revenue_share < 1:
                errors["revenue_share"] = _("Give the share of revenue (between 0 and 1).")
            if self.cap_multiple is None or self.cap_multiple <= 1:
                errors["cap_multiple"] = _("The cap multiple must be above 1.")
        capacity_field = "hard_cap" if self.hard_cap is not None else "target"
        if (
            self.reserved
            and self.target is not None
            and capacity_field not in errors
            and self.capacity < self.reserved
        ):
            # The database refuses a hard cap below `reserved` too
            # (offering_never_past_cap); this says so by the field.
            errors[capacity_field] = reserved_above_capacity(self)
        if self.currency and self.target is not None and not errors.keys() & {"target", "hard_cap"}:
            currency_error, amount_error = self.project_fit_errors(matching=self.matching_caps())
            if currency_error:
                errors["currency"] = currency_error
            elif amount_error:
                errors[capacity_field] = amount_error
        if errors:
            raise ValidationError(errors)

    def matching_caps(self, *, leaving_out: int | None = None) -> Decimal:
        """The most this offering's sponsors may add, in all: the sum of their
        pools' caps, the pool `leaving_out` (a pk) aside."""
        if self.pk is None:
            return Decimal("0")
        pools = self.matching_pools.exclude(pk=leaving_out)
        return pools.aggregate(total=Sum("cap_per_offering"))["total"] or Decimal("0")

    def project_fit_errors(self, *, matching: Decimal) -> tuple[str | None, str | None]:
        """Why what this offering may raise does not fit in what its project
        still seeks: a currency other than the project's, or an amount past
        it; (None, None) when it fits.

        What it may raise is its capacity (pledges stop there) plus `matching`,
        what its sponsors may add. What the project still seeks is its amount
        less what its other offerings count for: one still raising (a draft or
        open) what it may raise, one that succeeded what it raised, pledges
        and matches, and one that failed nothing, since its money went back.
        Bonds belong to no project and are left out; so are an offering whose
        raising is over, whose terms no longer decide anything, and a project
        that has not said what it seeks."""
        if (
            self.project_id is None
            or self.status not in STILL_RAISING
            or self.project.funding_sought is None
        ):
            return None, None
        project = self.project
        if self.currency != project.currency:
            return _(
                "The project seeks its amount in %(project)s: its offerings raise %(project)s "
                "too, not %(offering)s."
            ) % {"project": project.currency, "offering": self.currency}, None
        amount = Decimal("0")
        zero = Value(Decimal("0"), output_field=DecimalField(**AMOUNT))
        others = (
            Offering.objects.filter(project_id=self.project_id)
            .exclude(pk=self.pk)
            .exclude(status=Offering.Status.FAILED)
            .annotate(
                caps=Coalesce(Sum("matching_pools__cap_per_offering"), zero),
                matched=Coalesce(Sum("matching_pools__committed"), zero),
            )
        )
        for other in others:
            if other.status in STILL_RAISING:
                amount += other.capacity + other.caps
            else:
                amount += other.reserved + other.matched
        limit = project.funding_sought - amount
        total = self.capacity + matching
        if total <= limit:
            return None, None
        return None, _(
            "This offering could raise %(total)s: %(pledges)s in pledges and %(matching)s "
            "from its matching sponsors. Its project seeks %(sought)s, of which its other "
            "offerings account for %(others)s, so at most %(limit)s is left for this one."
        ) % {
            "total": self.money(total).localized(),
            "pledges": self.money(self.capacity).localized(),
            "matching": self.money(matching).localized(),
            "sought": self.money(project.funding_sought).localized(),
            "others": self.money(amount).localized(),
            "limit": self.money(max(limit, Decimal("0"))).localized(),
        }

    def _tenor_error(self) -> str | None:
        """Why the tenor of a loan or bond makes no schedule, or None."""
        if self.tenor_months is None:
            return _("Give the tenor in months.")
        if self.tenor_months < 1:
            return _(
                "The tenor must be at least one month: with %(months)d months, maturity would "
                "fall on the issue date."
            ) % {"months": self.tenor_months}
        if self.tenor_months > MAX_TENOR_MONTHS:
            return _("The tenor can be at most %(max)d months (%(years)d years).") % {
                "max": MAX_TENOR_MONTHS,
                "years": MAX_TENOR_MONTHS // 12,
            }
        return None

    def _loan_periods_error(self) -> str | None:
        """Why a loan's tenor is not a whole number of installment periods, or None.

        The rule is the one applied when the schedule is fixed at disbursement: checked here,
        the offering cannot open with terms that would only be refused after the money is
        taken. A bond needs no such rule: a tenor that is not a whole number of coupon periods
        gives a short first coupon.
        """
        try:
            loan_period_count(self.tenor_months, self.periods_per_year)
        except ScheduleError:
            period = 12 // self.periods_per_year
            return _(
                "With %(per_year)d payments a year, a payment falls every %(period)d months: "
                "give a tenor that is a multiple of %(period)d months (%(months)d is not)."
            ) % {"per_year": self.periods_per_year, "period": period, "months": self.tenor_months}
        return None


#: Offerings whose terms still decide what they raise.
STILL_RAISING = (Offering.Status.DRAFT, Offering.Status.OPEN)


def reserved_above_capacity(offering: Offering) -> str:
    """Why an offering cannot be set to raise less than its pledges reserve."""
    return _(
        "Pledges already reserve %(reserved)s of this offering: what it may raise cannot be less."
    ) % {"reserved": offering.money(offering.reserved).localized()}


class Pledge(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")
        EXPIRED = "expired", _("Expired unpaid")
        REFUNDED = "refunded", _("Refunded")

    class Method(models.TextChoices):
        CARD = "card", _("Card")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        REMITTANCE = "remittance", _("Remittance partner")

    ACTIVE = (Status.PENDING, Status.PAID)

    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="pledges")
    investor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pledges"
    )
    amount = models.DecimalField(_("amount"), **AMOUNT)
    fee = models.DecimalField(_("fee"), **AMOUNT, default=Decimal("0"))
    currency = models.CharField(max_length=3)
    method = models.CharField(
        _("payment method"), max_length=20, choices=Method.choices, default=Method.CARD
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    # Issued with the pledge form: a double click, a refresh or a retried POST
    # carries the same key and finds the same pledge.
    idempotency_key = models.CharField(max_length=64)
    bank_reference = models.CharField(_("bank transfer reference"), max_length=35, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("pledge")
        constraints = [
            models.UniqueConstraint(
                fields=["investor", "idempotency_key"], name="pledge_idempotent_per_investor"
            ),
            models.UniqueConstraint(
                fields=["bank_reference"],
                condition=~Q(bank_reference=""),
                name="pledge_bank_reference_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="pledge_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["offering", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} → {self.offering_id}"

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    @property
    def total_due(self) -> Money:
        return Money(self.amount + self.fee, self.currency)

    def reflection_ends_at(self) -> datetime.datetime:
        return self.created_at + datetime.timedelta(days=settings.PUENTE_REFLECTION_DAYS)

    def in_reflection_period(self, at: datetime.datetime | None = None) -> bool:
        return (at or timezone.now()) < self.reflection_ends_at()


class MatchingPool(models.Model):
    """A sponsor's promise to match contributions to one offering (3x1 style):
    `ratio` of each contribution, up to a cap per offering and per contributor."""

    offering = models.ForeignKey(
        Offering,
        on_delete=models.CASCADE,
        related_name="matching_pools",
        verbose_name=_("offering"),
    )
    sponsor = models.ForeignKey(
        "portal.Organization",
        on_delete=models.PROTECT,
        related_name="matching_pools",
        verbose_name=_("sponsor"),
    )
    ratio = models.DecimalField(
        _("match per unit contributed"),
        max_digits=6,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    cap_per_offering = models.DecimalField(_("cap for this offering"), **AMOUNT)
    cap_per_contributor = models.DecimalField(
        _("cap per contributor"), **AMOUNT, null=True, blank=True
    )
    committed = models.DecimalField(_("committed so far"), **AMOUNT, default=Decimal("0"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("matching pool")
        verbose_name_plural = _("matching pools")
        constraints = [
            models.UniqueConstraint(fields=["offering", "sponsor"], name="one_pool_per_sponsor"),
            models.CheckConstraint(
                condition=Q(committed__lte=F("cap_per_offering")), name="matching_within_cap"
            ),
            models.CheckConstraint(condition=Q(committed__gte=0), name="matching_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sponsor} × {self.ratio}"

    def clean(self) -> None:
        """What the offering may raise with this cap, its pledges and every
        sponsor's matching, fits in what its project still seeks
        (Offering.project_fit_errors)."""
        if self.offering_id is None or self.cap_per_offering is None:
            return
        offering = self.offering
        currency_error, amount_error = offering.project_fit_errors(
            matching=offering.matching_caps(leaving_out=self.pk) + self.cap_per_offering
        )
        if currency_error:
            raise ValidationError(currency_error)
        if amount_error:
            raise ValidationError({"cap_per_offering": amount_error})

    @property
    def exhausted(self) -> bool:
        return self.committed >= self.cap_per_offering


class MatchAllocation(models.Model):
    pool = models.ForeignKey(MatchingPool, on_delete=models.PROTECT, related_name="allocations")
    pledge = models.ForeignKey(Pledge, on_delete=models.PROTECT, related_name="matches")
    amount = models.DecimalField(**AMOUNT)
    released = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pool", "pledge"], name="one_match_per_pool_and_pledge")
        ]


class Payment(models.Model):
    """Money taken for a pledge by one provider. Refunds never exceed what
    was captured: the database refuses it."""

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        REQUIRES_ACTION = "requires_action", _("Waiting for the bank's check")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    pledge = models.ForeignKey(Pledge, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=20)
    provider_reference = models.CharField(max_length=100, blank=True)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED)
    captured_minor = models.BigIntegerField(default=0)
    refunded_minor = models.BigIntegerField(default=0)
    failure_message = models.CharField(max_length=300, blank=True)
    client_secret = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="payment_provider_reference_unique",
            ),
            models.CheckConstraint(
                condition=Q(refunded_minor__lte=F("captured_minor")),
                name="refunds_never_exceed_captures",
            ),
            models.CheckConstraint(
                condition=Q(captured_minor__lte=F("amount_minor")), name="capture_within_amount"
            ),
            models.CheckConstraint(
                condition=Q(refunded_minor__gte=0) & Q(captured_minor__gte=0),
                name="payment_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.provider_reference or self.pk}"


class Refund(models.Model):
    class Destination(models.TextChoices):
        PROVIDER = "provider", _("Back to the original payment")
        WALLET = "wallet", _("To my Puente wallet")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.BigIntegerField()
    destination = models.CharField(
        max_length=10, choices=Destination.choices, default=Destination.PROVIDER
    )
    provider_reference = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="refund_positive")
        ]


class ProviderEvent(models.Model):
    """A webhook event as received: stored once by id, processed once."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once")
        ]


class Disbursement(models.Model):
    """Money released from a successful offering to its project; needs two
    different staff approvals (four eyes) before it is posted."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Awaiting approvals")
        APPROVED = "approved", _("Approved and posted")

    offering = models.OneToOneField(Offering, on_delete=models.PROTECT, related_name="disbursement")
    amount = models.DecimalField(**AMOUNT)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    first_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    second_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(second_approver__isnull=True) | ~Q(second_approver=F("first_approver")),
                name="disbursement_four_eyes",
            )
        ]


class KnowledgeTestPass(models.Model):
    """The investor passed the short knowledge test and acknowledged the risk
    of losing money; required before a first loan, revenue share or bond."""

    investor = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="knowledge_test"
    )
    score = models.PositiveSmallIntegerField()
    risk_acknowledged_at = models.DateTimeField()
    passed_at = models.DateTimeField(default=timezone.now)
