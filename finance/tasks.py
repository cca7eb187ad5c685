"""Scheduled money work: coupon runs and redemptions on their dates, repayment due-date
checks, schedules missing after a disbursement, and expiring unpaid pledges.

Tasks take primary keys and ISO dates, never model instances; each is idempotent (the
services it calls are), so Beat firing twice or a retry after a lost acknowledgement moves
no money twice. ``BEAT_SCHEDULE`` is merged into ``CELERY_BEAT_SCHEDULE`` by the settings.
"""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from celery.schedules import crontab
from django.db import OperationalError
from django.utils import timezone

logger = logging.getLogger(__name__)

# Only database hiccups are worth retrying; a refused operation would be refused again.
TRANSIENT = (OperationalError, ConnectionError, TimeoutError)


def _day(value: str | None) -> datetime.date:
    return datetime.date.fromisoformat(value) if value else timezone.localdate()


@shared_task(
    name="finance.tasks.coupon_run_offering",
    queue="payments",
    autoretry_for=TRANSIENT,
    max_retries=5,
    retry_backoff=True,
)
def coupon_run_offering(offering_id: int, payment_date: str) -> int:
    """Pay one coupon of one bond; returns the id of the coupon run."""
    from .offerings import Offering
    from .returns_services import coupon_run

    offering = Offering.objects.get(pk=offering_id)
    run = coupon_run(offering=offering, payment_date=datetime.date.fromisoformat(payment_date))
    return run.pk


@shared_task(name="finance.tasks.coupon_runs_due", queue="payments")
def coupon_runs_due(today: str | None = None) -> int:
    """Enqueue every coupon whose payment date has come and that has not been paid, and the
    redemption of every bond past maturity. Returns how many runs were enqueued."""
    from .returns import BondIssue, CouponRun

    day = _day(today)
    enqueued = 0
    for issue in BondIssue.objects.filter(redeemed_on__isnull=True).select_related("offering"):
        done = set(
            CouponRun.objects.filter(offering=issue.offering_id).values_list(
                "payment_date", flat=True
            )
        )
        periods = issue.periods()
        for period in periods:
            if period.payment_date <= day and period.payment_date not in done:
                coupon_run_offering.delay(issue.offering_id, period.payment_date.isoformat())
                enqueued += 1
        if periods[-1].payment_date <= day:
            bond_redeem_offering.delay(issue.offering_id, day.isoformat())
    return enqueued


@shared_task(
    name="finance.tasks.bond_redeem_offering",
    queue="payments",
    autoretry_for=TRANSIENT,
    max_retries=5,
    retry_backoff=True,
)
def bond_redeem_offering(offering_id: int, today: str | None = None) -> None:
    from .offerings import Offering
    from .returns_services import bond_redeem

    bond_redeem(offering=Offering.objects.get(pk=offering_id), today=_day(today))


@shared_task(name="finance.tasks.repayments_check_due", autoretry_for=TRANSIENT, max_retries=3)
def repayments_check_due(today: str | None = None) -> int:
    """Mark installments past their due date and unpaid as late (once each)."""
    from .returns_services import installments_mark_late

    return installments_mark_late(today=_day(today))


@shared_task(name="finance.tasks.returns_fix_missing", autoretry_for=TRANSIENT, max_retries=3)
def returns_fix_missing() -> int:
    """Safety net: a disbursed loan without a schedule, or bond without an issue, gets one."""
    from .offerings import Instrument, Offering
    from .returns_services import ReturnsError, returns_fix_at_disbursement

    fixed = 0
    missing = Offering.objects.filter(status=Offering.Status.DISBURSED).filter(
        instrument__in=(Instrument.LOAN, Instrument.BOND),
        loan_schedules__isnull=True,
        bond_issue__isnull=True,
    )
    for offering in missing:
        try:
            returns_fix_at_disbursement(offering=offering)
            fixed += 1
        except ReturnsError as error:
            # Terms that make no schedule need a person: the audit log and the log say so.
            logger.warning("offering %s: %s", offering.pk, error)
    return fixed


@shared_task(name="finance.tasks.pledges_expire", autoretry_for=TRANSIENT, max_retries=3)
def pledges_expire() -> int:
    """Expire unpaid pledges past their time, cancelling their card intents first; returns
    how many expired. A pledge whose intent Stripe could not cancel stays pending and is
    tried again on the next run (logged), so one failure never stops the others; only
    database hiccups retry the whole task."""
    from .services import pledges_expire_due

    return pledges_expire_due()


@shared_task(name="finance.tasks.offerings_close", autoretry_for=TRANSIENT, max_retries=3)
def offerings_close() -> int:
    from .services import offerings_close_due

    return offerings_close_due()


BEAT_SCHEDULE = {
    "finance-offerings-close": {
        "task": "finance.tasks.offerings_close",
        "schedule": crontab(minute="5-59/15"),
    },
    "finance-pledges-expire": {
        "task": "finance.tasks.pledges_expire",
        "schedule": crontab(minute="*/10"),
    },
    "finance-returns-fix-missing": {
        "task": "finance.tasks.returns_fix_missing",
        "schedule": crontab(hour=5, minute=30),
    },
    "finance-coupon-runs-due": {
        "task": "finance.tasks.coupon_runs_due",
        "schedule": crontab(hour=6, minute=0),
    },
    "finance-repayments-check-due": {
        "task": "finance.tasks.repayments_check_due",
        "schedule": crontab(hour=6, minute=30),
    },
}


# --- Statements ---------------------------------------------------------------------------------


@shared_task(bind=True, name="finance.tasks.statement_render", queue="statements", max_retries=5)
def statement_render(self, statement_id: int) -> str:
    """Render and store one statement's PDF; returns the statement's status.

    Idempotent: a statement already ready is left alone. Database and storage hiccups are
    retried with a growing delay; when the retries run out, or on any other error, the
    statement is marked failed with the reason, so the investor is told instead of waiting
    for a PDF that never comes."""
    from .statements import (
        STATEMENT_BUSY,
        Statement,
        statement_build,
        statement_mark_failed,
    )

    try:
        return statement_build(statement_id=statement_id).status
    except Statement.DoesNotExist:
        logger.warning("statement %s no longer exists; nothing to render", statement_id)
        return "missing"
    except TRANSIENT as error:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=error, countdown=min(10 * 2**self.request.retries, 600)) from error
        logger.warning("statement %s: giving up after retries: %s", statement_id, error)
        failed = statement_mark_failed(statement_id=statement_id, error=str(STATEMENT_BUSY))
    except Exception as error:
        logger.exception("statement %s could not be rendered", statement_id)
        failed = statement_mark_failed(
            statement_id=statement_id, error=f"{type(error).__name__}: {error}"
        )
    return failed.status if failed is not None else "missing"


@shared_task(name="finance.tasks.statements_monthly", queue="statements")
def statements_monthly(today: str | None = None) -> int:
    """Request last month's statement for every investor whose wallet moved in it, in their
    language. Keyed by the month, so Beat firing twice asks for each statement once."""
    from django.contrib.auth import get_user_model

    from .statements import (
        Statement,
        StatementRefused,
        day_start,
        investors_with_wallet_activity,
        month_period,
        statement_request,
    )

    last_month = _day(today).replace(day=1) - datetime.timedelta(days=1)
    start, end = month_period(last_month.year, last_month.month)
    investor_ids = investors_with_wallet_activity(
        opens_at=day_start(start), closes_at=day_start(end + datetime.timedelta(days=1))
    )
    requested = 0
    for investor in get_user_model().objects.filter(pk__in=investor_ids).order_by("pk"):
        try:
            statement_request(
                investor=investor,
                period_kind=Statement.PeriodKind.MONTH,
                start=start,
                end=end,
                language=investor.preferred_language,
                request_key=f"monthly:{start:%Y-%m}",
            )
        except StatementRefused as error:
            logger.warning("monthly statement for user %s not requested: %s", investor.pk, error)
            continue
        requested += 1
    return requested


BEAT_SCHEDULE["finance-statements-monthly"] = {
    "task": "finance.tasks.statements_monthly",
    "schedule": crontab(day_of_month=1, hour=4, minute=0),
}


# --- Loan installment notices -------------------------------------------------------------------


@shared_task(name="finance.tasks.installments_notify", autoretry_for=TRANSIENT, max_retries=3)
def installments_notify(today: str | None = None) -> int:
    """Tell entrepreneurs of installments due in three days, one day late and thirty days late
    (staff too at thirty), once per installment and stage; returns how many notices went
    out. Running it twice, or again after a missed day, tells nobody twice."""
    from .returns_services import installments_send_notices

    return installments_send_notices(today=_day(today))


BEAT_SCHEDULE["finance-installments-notify"] = {
    "task": "finance.tasks.installments_notify",
    "schedule": crontab(hour=7, minute=0),
}


# --- Monthly plans ------------------------------------------------------------------------------


@shared_task(name="finance.tasks.plans_monthly", autoretry_for=TRANSIENT, max_retries=3)
def plans_monthly(today: str | None = None) -> dict[str, int]:
    """Make this month's pledge of every monthly plan whose day has come (finance/plans.py).
    Runs daily: a day missed is caught up the next, and no month gets two pledges."""
    from .plans import plans_run

    return plans_run(_day(today))


BEAT_SCHEDULE["finance-plans-monthly"] = {
    "task": "finance.tasks.plans_monthly",
    "schedule": crontab(hour=6, minute=30),
}
