"""Remittance-linked monthly plans: the same pledge to the same offering every
month, paid by bank transfer or through a remittance partner together with the
money the investor sends home anyway.

A plan starts from a pledge the investor confirms (its first month). On the
plan's day of each following month, `plans_run` makes that month's pledge
through `services.pledge_create`, with every check a pledge made by hand has
(the offering open and not full, the ticket limits, the investor's limit over
twelve months, the knowledge test), and tells the investor the amount and the
reference to send it with. Each month's pledge has the key
``plan-<plan>-<YYYY-MM>``: running twice, or again after a missed day, makes
one pledge a month. A month whose pledge is refused ends the plan, with the
reason, and the investor is told; a busy offering is tried again on the next
run. The investor stops a plan whenever they like; pledges already made stay
as they are (each may be cancelled on its own page during its reflection
period). Cancelling the pledge that started a plan stops the plan too. Cards are not offered: a card would be charged without the investor
at hand, which needs their stored consent and 3-D Secure exemptions."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import models, transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from portal.models import AuditEntry

from .money import Money
from .offerings import AMOUNT, Offering, Pledge

logger = logging.getLogger(__name__)

#: The days a plan may take: every month has them.
DAYS = range(1, 29)
#: A plan whose latest pledges all expired unpaid, this many in a row, ends:
#: the investor has stopped sending the money, and is not asked again each month.
UNPAID_IN_A_ROW = 2
METHODS = (Pledge.Method.BANK_TRANSFER, Pledge.Method.REMITTANCE)


class PledgePlan(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ENDED = "ended", _("Ended")
        STOPPED = "stopped", _("Stopped")

    investor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pledge_plans"
    )
    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="plans")
    first_pledge = models.OneToOneField(
        Pledge, on_delete=models.PROTECT, related_name="plan_started"
    )
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(max_length=3)
    method = models.CharField(_("payment method"), max_length=20, choices=Pledge.Method.choices)
    day = models.PositiveSmallIntegerField(_("day of the month"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    #: The month ("2026-11") of the latest pledge the plan made.
    last_period = models.CharField(max_length=7)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("monthly plan")
        verbose_name_plural = _("monthly plans")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="plan_amount_positive"),
            models.CheckConstraint(condition=Q(day__gte=1, day__lte=28), name="plan_day_in_month"),
            models.CheckConstraint(condition=Q(method__in=METHODS), name="plan_method_transfer"),
        ]
        indexes = [models.Index(fields=["status", "day"])]

    def __str__(self) -> str:
        return f"plan {self.pk}: {self.amount} {self.currency} on day {self.day}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)

    def pledges(self):
        """The pledges the plan made after its first, newest first."""
        return Pledge.objects.filter(
            investor_id=self.investor_id, idempotency_key__startswith=_key_prefix(self.pk)
        ).order_by("-created_at")

    def unpaid_in_a_row(self) -> bool:
        """Whether its latest UNPAID_IN_A_ROW pledges (the first one included)
        all expired unpaid."""
        latest = Pledge.objects.filter(
            Q(pk=self.first_pledge_id) | Q(idempotency_key__startswith=_key_prefix(self.pk)),
            investor_id=self.investor_id,
        ).order_by("-created_at", "-pk")[:UNPAID_IN_A_ROW]
        statuses = [pledge.status for pledge in latest]
        return len(statuses) == UNPAID_IN_A_ROW and all(
            status == Pledge.Status.EXPIRED for status in statuses
        )


def plan_of(pledge: Pledge) -> PledgePlan | None:
    """The monthly plan a pledge started or was made by, if any (one query)."""
    made_by = pledge.idempotency_key.removeprefix("plan-").split("-", 1)[0]
    found = Q(first_pledge=pledge)
    if pledge.idempotency_key.startswith("plan-") and made_by.isdigit():
        found |= Q(pk=int(made_by))
    return PledgePlan.objects.filter(found, investor_id=pledge.investor_id).first()


def _key_prefix(plan_id: int) -> str:
    """How the keys of a plan's monthly pledges begin: "plan-<plan>-"."""
    return f"plan-{plan_id}-"


def key_prefix_of(plan_pk) -> Concat:
    """`_key_prefix` as an SQL expression, of a plan's pk given as an
    expression (an OuterRef, say): for counting many plans' pledges in one query."""
    return Concat(Value("plan-"), Cast(plan_pk, CharField()), Value("-"))


def _period(day: datetime.date) -> str:
    return f"{day:%Y-%m}"


def plan_start(*, pledge: Pledge, day: int) -> PledgePlan:
    """Repeat a pledge just made (the plan's first month) on `day` of every
    month; the same pledge starts one plan however often this is asked."""
    from .services import PledgeRefused

    if pledge.method not in METHODS:
        raise PledgeRefused(
            _(
                "Only pledges paid by bank transfer or through a remittance partner "
                "can repeat every month."
            )
        )
    if day not in DAYS:
        raise PledgeRefused(_("Choose a day between 1 and 28."))
    with transaction.atomic():
        plan, created = PledgePlan.objects.get_or_create(
            first_pledge=pledge,
            defaults={
                "investor_id": pledge.investor_id,
                "offering_id": pledge.offering_id,
                "amount": pledge.amount,
                "currency": pledge.currency,
                "method": pledge.method,
                "day": day,
                "last_period": _period(timezone.localdate(pledge.created_at)),
            },
        )
        if created:
            AuditEntry.record(
                actor=pledge.investor,
                action="plan.started",
                obj=plan,
                to_state=PledgePlan.Status.ACTIVE,
                data={"day": day, "amount": str(pledge.amount), "first_pledge": pledge.pk},
            )
    return plan


def plan_stop(*, plan: PledgePlan, by) -> PledgePlan:
    """The investor stops the plan: no more monthly pledges."""
    with transaction.atomic():
        plan = PledgePlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status == PledgePlan.Status.ACTIVE:
            _end(plan, PledgePlan.Status.STOPPED, by=by)
    return plan


def plan_stop_with_first_pledge(*, pledge: Pledge, by) -> PledgePlan | None:
    """The investor cancelled the pledge that started a plan: the plan repeats
    that pledge, so it stops too, with the reason. Returns the plan it stopped,
    or None.

    Called once the cancellation has committed, holding no other lock: a
    plan's month locks the plan before the offering (`_plan_month`), a
    cancellation the offering first, and waiting for each other's in the
    middle would be a deadlock."""
    plan = PledgePlan.objects.filter(first_pledge=pledge, status=PledgePlan.Status.ACTIVE).first()
    if plan is None or pledge.status not in (Pledge.Status.CANCELLED, Pledge.Status.REFUNDED):
        return None
    with transaction.atomic():
        plan = PledgePlan.objects.select_for_update().get(pk=plan.pk)
        if plan.status != PledgePlan.Status.ACTIVE:
            return None
        _end(
            plan,
            PledgePlan.Status.STOPPED,
            by=by,
            reason=str(_("Its first pledge was cancelled.")),
        )
    return plan


def _end(plan: PledgePlan, status: str, *, by=None, reason: str = "") -> None:
    """An active plan, locked by the caller, ends: stopped by its investor, or
    ended by a month that was refused."""
    plan.status = status
    plan.ended_at = timezone.now()
    plan.end_reason = reason[:300]
    plan.save(update_fields=["status", "ended_at", "end_reason"])
    AuditEntry.record(
        actor=by,
        action=f"plan.{status}",
        obj=plan,
        from_state=PledgePlan.Status.ACTIVE,
        to_state=status,
        reason=plan.end_reason,
    )


def plans_due(today: datetime.date):
    """Active plans whose day has come this month and that have not pledged for
    it, of investors whose account is open."""
    return PledgePlan.objects.filter(
        status=PledgePlan.Status.ACTIVE,
        day__lte=today.day,
        last_period__lt=_period(today),
        investor__is_active=True,
    ).order_by("pk")


def plans_run(today: datetime.date | None = None) -> dict[str, int]:
    """Make this month's pledge of every plan due; returns how many were made,
    ended (refused) and left for the next run (busy offering, or being made
    by another run)."""
    today = today or timezone.localdate()
    counts = {"pledged": 0, "ended": 0, "skipped": 0}
    for plan_id in plans_due(today).values_list("pk", flat=True):
        counts[_plan_month(plan_id, today)] += 1
    return counts


def _plan_month(plan_id: int, today: datetime.date) -> str:
    from portal.notifications import notify

    from .services import KnowledgeTestRequired, OfferingBusy, PledgeRefused, pledge_create

    period = _period(today)
    with transaction.atomic():
        # Skipped if another run holds it: that run makes this month's pledge.
        # Only the plan's row: the investor and the offering are locked by
        # pledge_create in their turn, and a joined lock here would skip the
        # month whenever anything else held the investor's row.
        plan = (
            PledgePlan.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("investor", "offering")
            .filter(pk=plan_id, status=PledgePlan.Status.ACTIVE, last_period__lt=period)
            .first()
        )
        if plan is None:
            return "skipped"
        investor = plan.investor
        with translation.override(investor.preferred_language or "en"):
            try:
                if plan.unpaid_in_a_row():
                    raise PledgeRefused(_("The last two monthly pledges expired unpaid."))
                pledge = pledge_create(
                    offering=plan.offering,
                    investor=investor,
                    amount=plan.amount,
                    method=plan.method,
                    idempotency_key=f"{_key_prefix(plan.pk)}{period}",
                    tell_investor=False,  # told below, as this month's pledge
                )
            except OfferingBusy:
                return "skipped"
            except (PledgeRefused, KnowledgeTestRequired) as refusal:
                _end(plan, PledgePlan.Status.ENDED, reason=str(refusal))
                params = {"offering": plan.offering.title, "reason": plan.end_reason}
                message = _("Your monthly plan for %(offering)s has ended: %(reason)s")
                url = reverse("finance:my_pledges")
                verb = "plan.ended"
                outcome = "ended"
            else:
                plan.last_period = period
                plan.save(update_fields=["last_period"])
                params = {
                    "amount": pledge.total_due.localized(),
                    "offering": plan.offering.title,
                    "reference": pledge.bank_reference,
                }
                message = _(
                    "This month's pledge to %(offering)s is ready: send %(amount)s with "
                    "the reference %(reference)s."
                )
                url = reverse("finance:pledge", args=[pledge.pk])
                verb = "plan.pledged"
                outcome = "pledged"
        # Written once the month commits, as every notice of a pledge is
        # (finance.notices): the investor hears of the month's pledge only once
        # it is made, and of a month rolled back not at all.
        transaction.on_commit(
            lambda: notify([investor], verb=verb, message=message, params=params, url=url)
        )
    return outcome
