"""Money workflows: pledging, paying, matching, cancelling, refunding,
closing offerings and disbursing. Every movement of money is a ledger
transaction with an idempotency key built from stable ids, so retrying any
of these functions never moves money twice.

Lock order. Every workflow here that holds more than one row lock takes them
in this order, and never asks for an earlier kind while holding a later one,
so two workflows may wait for each other but never in a circle:

    plan -> investor -> offering -> pledge -> payment -> matching pools (by pk) -> project

- a monthly plan's month (`plans._plan_month`) locks the plan, then pledges;
  cancelling the pledge that started a plan stops the plan after the
  cancellation has committed, never inside it;
- pledging by an investor with a 12-month limit locks the investor's row
  first (`_lock_investor`), so two pledges cannot both fit in what is left;
- pledging, expiring, cancelling and closing start with the offering
  (`_lock_offering`), then the pledge; expiring, cancelling a pending pledge
  and closing first have the provider cancel the pending pledges' open
  payments with no lock held (a network call never waits inside their
  locks), then re-check the payments under the pledge's lock
  (`_stopped_pledges`);
- paying starts with the pledge, then its payment (`lock_payment`, used by
  the Stripe sync, start and cancel; bank lines lock the pledge, then the
  payment), then `pledge_mark_paid` re-takes both in the same order;
- matching (`pledges_allocate_matching`) and refunds (`refund_pledge`) lock
  every pool they touch in one statement ordered by pk, after the pledge and
  payment, and the project row last (`project_add_funding`,
  `project_refresh_funding`).
Ledger postings lock only the accounts they spend from, by pk, and wait for
nothing else meanwhile (finance.ledger). Beware `select_related` under
`select_for_update()`: it locks the joined rows too, out of this order;
write `select_for_update(of=("self",))`.
A transaction that handles several pledges (a bank statement import, an
offering closing) first locks every pledge it may touch, in one statement
in pk order (`pledges_lock`), and only then works through them one by one:
it never holds a payment, pool or project row while it waits for a pledge,
and two of them meeting the same pledges take them in the same order."""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import functools
import logging
import secrets
from collections import defaultdict
from collections.abc import Hashable, Iterator, Mapping, Sequence
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import AuditEntry
from portal.prepared import Insert, Prepared, Returning, Update, statement_cursor
from projects.caching import pages_changed

from . import notices, plans, references
from .exceptions import FinanceError
from .ledger import Account, post_transaction
from .locks import LOCK_TIMEOUT_CTE, lock_timeout, set_lock_timeout
from .money import Money, allocate, minor_unit_exponent, too_many_decimals
from .offerings import (
    Instrument,
    KnowledgeTestPass,
    MatchAllocation,
    MatchingPool,
    Offering,
    Payment,
    Pledge,
)

logger = logging.getLogger(__name__)


class PledgeRefused(FinanceError):
    """The pledge cannot be made; the message is safe to show."""


class PaymentGoesAhead(PledgeRefused):
    """The pledge's payment is being processed by its provider, so it cannot be
    stopped and the pledge cannot be cancelled now."""


class PaymentNotStopped(PledgeRefused):
    """The provider could not be reached to stop the pledge's payment, so the pledge
    was left as it was; trying again later may work."""


class OfferingBusy(FinanceError):
    """The offering's row lock could not be taken in time: ask the user to retry."""


class KnowledgeTestRequired(PledgeRefused):
    pass


# --- Accounts -------------------------------------------------------------------------------


def escrow_account(offering: Offering) -> Account:
    return Account.get_or_create_for(**_escrow(offering))


def _escrow(offering: Offering) -> dict:
    return {
        "kind": Account.Kind.OFFERING_ESCROW,
        "key": f"offering:{offering.pk}",
        "currency": offering.currency,
    }


def payable_account(offering: Offering) -> Account:
    return Account.get_or_create_for(
        kind=Account.Kind.PROJECT_PAYABLE, key=f"offering:{offering.pk}", currency=offering.currency
    )


def wallet_account(user, currency: str) -> Account:
    return Account.get_or_create_for(
        kind=Account.Kind.INVESTOR_WALLET, key=f"user:{user.pk}", currency=currency, user=user
    )


def fees_account(currency: str) -> Account:
    return Account.get_or_create_for(**_fees(currency))


def _fees(currency: str) -> dict:
    return {"kind": Account.Kind.PLATFORM_FEES, "key": "platform", "currency": currency}


def external_account(currency: str) -> Account:
    return Account.get_or_create_for(**_external(currency))


def _external(currency: str) -> dict:
    return {"kind": Account.Kind.EXTERNAL, "key": "world", "currency": currency}


def clearing_account(provider: str, currency: str) -> Account:
    return Account.get_or_create_for(
        kind=Account.Kind.PROVIDER_CLEARING, key=f"provider:{provider}", currency=currency
    )


def matching_account(pool: MatchingPool, currency: str) -> Account:
    # Matching pools run negative by nature: a negative balance is what the
    # sponsor has promised and not yet paid in.
    return Account.get_or_create_for(
        kind=Account.Kind.MATCHING_POOL,
        key=f"pool:{pool.pk}",
        currency=currency,
        allow_negative=True,
    )


# --- Pledging ---------------------------------------------------------------------------------


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit_exponent(currency))


def pledge_fee(offering: Offering, amount: Decimal, method: str) -> Decimal:
    """The fee an investor pays on top of the pledge, shown before confirming."""
    rate = settings.PUENTE_FEE_RATES.get(method, Decimal("0"))
    return (amount * rate).quantize(quantum(offering.currency), rounding=ROUND_DOWN)


def new_pledge_key() -> str:
    return secrets.token_urlsafe(24)


def _twelve_month_total_usd(investor) -> Decimal:
    since = timezone.now() - datetime.timedelta(days=365)
    rows = (
        Pledge.objects.filter(
            investor=investor,
            created_at__gte=since,
            status__in=[Pledge.Status.PENDING, Pledge.Status.PAID],
        )
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    rates = settings.PUENTE_REFERENCE_RATES_TO_USD
    return sum((row["total"] * rates[row["currency"]] for row in rows), Decimal("0"))


def investment_limit_left_usd(investor) -> Decimal | None:
    limit = settings.PUENTE_INVESTMENT_LIMITS_USD.get(investor.verification_tier)
    if limit is None:
        return None
    return max(limit - _twelve_month_total_usd(investor), Decimal("0"))


def _refuse_past_limit(investor, limit: Decimal, amount: Decimal, currency: str) -> None:
    """Raise PledgeRefused if `amount` more would take the investor past the
    limit of their verification tier for the last 12 months."""
    in_usd = amount * settings.PUENTE_REFERENCE_RATES_TO_USD[currency]
    so_far = _twelve_month_total_usd(investor)
    if so_far + in_usd > limit:
        raise PledgeRefused(
            _(
                "This pledge would take you past the investment limit of your "
                "verification level: %(limit)s over 12 months, of which %(left)s is "
                "left. Verify your identity to raise it."
            )
            % {
                "limit": Money(limit, "USD").localized(),
                "left": Money(max(limit - so_far, Decimal(0)), "USD")
                .quantize(ROUND_DOWN)
                .localized(),
            }
        )


# The fixed-shape reads every pledge and every payment runs, written as SQL
# once per process (portal/prepared.py): building these querysets and writing
# their SQL cost the ORM more than the database spends answering them. Those
# that read one row clear the model's ordering, as get() did.
_INVESTOR_LOCKED = Prepared(
    lambda pk: (
        get_user_model().objects.select_for_update(no_key=True).filter(pk=pk).values_list("pk")
    ),
    int,
)
_OFFERING = Prepared(lambda pk: Offering.objects.filter(pk=pk).order_by(), int)
_OFFERING_RETURNED = Returning(Offering)
_OFFERING_LOCKED = Prepared(
    lambda pk: Offering.objects.select_for_update(no_key=True).filter(pk=pk).order_by(), int
)
_PLEDGE_MADE_WITH = Prepared(
    lambda investor_id, key: Pledge.objects.filter(
        investor_id=investor_id, idempotency_key=key
    ).order_by(),
    int,
    str,
)
# A payment with its pledge and offering, the pledge and the payment locked in one
# statement: PostgreSQL takes the locks of FOR UPDATE OF in the order OF names the tables,
# pledge first, as the lock order at the top wants. `of` keeps the offering unlocked.
_PAYMENT_LOCKED_WITH_PLEDGE = Prepared(
    lambda pk: (
        Payment.objects.select_for_update(of=("pledge", "self"))
        .select_related("pledge__offering", "pledge__investor")
        .filter(pk=pk)
        .order_by()
    ),
    int,
)
# And the writes every pledge and every payment make, as save() makes them.
_INSERT_PLEDGE = Insert(Pledge)
_UPDATE_PLEDGE_REFERENCE = Update(Pledge, "bank_reference")
_UPDATE_PLEDGE_PAID = Update(Pledge, "status", "paid_at")


def _lock_investor(investor) -> None:
    """Serialize one investor's pledges that count against a limit. FOR NO KEY
    UPDATE: it does not block rows that merely refer to the investor."""
    _INVESTOR_LOCKED(investor.pk)


def _lock_offering(offering_id: int, *, reserve: Decimal | None = None) -> Offering:
    """Take the offering's row lock, waiting at most PUENTE_LOCK_TIMEOUT_MS.

    Capacity is scarce: the lock makes check-and-reserve one step, so
    concurrent pledges can never take an offering past its cap. It is FOR NO
    KEY UPDATE, the lock an UPDATE of `reserved` takes anyway: it excludes
    every other pledge, cancellation and closing of the offering, but not
    the KEY SHARE lock that inserting a pledge (a foreign key to the
    offering) takes, so `pledge_create` can write its pledge row before it
    queues for the offering.

    With `reserve`, that amount is also added to the offering's `reserved`
    if it fits in what is left, and the offering is returned as it was just
    before, for the caller to check under the lock: a refusal rolls the
    reservation back with the transaction. If it does not fit, nothing is
    reserved and the caller's check says so. In the common case one UPDATE
    sets the lock timeout, takes the lock and reserves, instead of three
    statements: every pledge on the offering queues for this lock, so it is
    held for less. With PUENTE_PLEDGE_LOCKING off, the new total is
    computed from a read that locks nothing, which is how the concurrency
    test shows that the lock matters."""
    locking = settings.PUENTE_PLEDGE_LOCKING
    try:
        if reserve is not None and locking:
            before = _reserve_if_it_fits(offering_id, reserve)
            if before is not None:
                return before
        if locking and reserve is None:
            # With `reserve`, the reserving UPDATE has set it already.
            set_lock_timeout()
        offering = (_OFFERING_LOCKED if locking else _OFFERING).get(offering_id)
    except OperationalError as error:
        if getattr(getattr(error, "__cause__", None), "sqlstate", None) == "55P03" or (
            "lock" in str(error).lower()
        ):
            raise OfferingBusy(
                _("Many people are pledging right now. Please try again in a moment.")
            ) from error
        raise
    if reserve is not None and reserve <= offering.remaining:
        # Room was made meanwhile, or the read took no lock. An UPDATE rather
        # than save(): no signal handlers run while the lock is held.
        Offering.objects.filter(pk=offering_id).update(reserved=offering.reserved + reserve)
    return offering


@functools.cache
def _reserve_sql(vendor: str) -> str:
    """The reserving UPDATE, written once per database vendor: every pledge
    runs it. On PostgreSQL it sets the lock timeout first (finance/locks.py)."""
    meta = Offering._meta
    quote = connection.ops.quote_name
    reserved, hard_cap, target = (
        quote(meta.get_field(name).column) for name in ("reserved", "hard_cap", "target")
    )
    update = (
        f"UPDATE {quote(meta.db_table)} SET {reserved} = {reserved} + %s "  # noqa: S608
        f"WHERE {quote(meta.pk.column)} = %s "
        f"AND {reserved} + %s <= COALESCE({hard_cap}, {target})"
    )
    if vendor == "postgresql":
        update = f"WITH {LOCK_TIMEOUT_CTE} {update} AND EXISTS (SELECT FROM lock_timeout)"
    return f"{update} RETURNING {Returning.COLUMNS}"


def _reserve_if_it_fits(offering_id: int, amount: Decimal) -> Offering | None:
    """One UPDATE adds `amount` to the offering's `reserved`, taking the row's
    lock (waiting at most PUENTE_LOCK_TIMEOUT_MS), if it fits in what is left
    (`Offering.remaining`); returns the offering as it was before, or None if
    the amount does not fit (or there is no such offering). Written as SQL:
    the ORM's update() returns no rows."""
    params = [amount, offering_id, amount]
    if connection.vendor == "postgresql":
        params.insert(0, lock_timeout())
    found = _OFFERING_RETURNED(_reserve_sql(connection.vendor), params)
    if not found:
        return None
    offering = found[0]
    offering.reserved -= amount
    return offering


def _refuse_unless_pledgeable(offering: Offering, amount: Decimal) -> None:
    """Raise PledgeRefused unless the offering, as given, takes this amount."""
    if not offering.is_open():
        raise PledgeRefused(_("This offering is not open for pledges."))
    if amount < offering.min_ticket:
        raise PledgeRefused(
            _("The minimum pledge is %(amount)s.")
            % {"amount": Money(offering.min_ticket, offering.currency).localized()}
        )
    if offering.max_ticket is not None and amount > offering.max_ticket:
        raise PledgeRefused(
            _("The maximum pledge is %(amount)s.")
            % {"amount": Money(offering.max_ticket, offering.currency).localized()}
        )
    if offering.face_value and amount % offering.face_value:
        raise PledgeRefused(
            _("Bonds are sold in whole units of %(face)s.")
            % {"face": Money(offering.face_value, offering.currency).localized()}
        )
    if amount > offering.remaining:
        raise PledgeRefused(
            _("Only %(left)s is left in this offering.")
            % {"left": Money(offering.remaining, offering.currency).localized()}
        )


def _refuse_unless_an_amount_of(currency: str, amount) -> None:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise PledgeRefused(_("Enter an amount greater than zero."))
    if amount != amount.quantize(quantum(currency)):
        raise PledgeRefused(too_many_decimals(currency))


def pledge_check(*, offering: Offering, investor, amount: Decimal) -> None:
    """Raise PledgeRefused, with the reason, for an amount `pledge_create`
    would refuse on the offering as read here: what the pledge form's review
    step asks before it shows the fees. `pledge_create` checks again, under
    the offering's lock."""
    _refuse_unless_an_amount_of(offering.currency, amount)
    _refuse_unless_pledgeable(offering, amount)
    limit = settings.PUENTE_INVESTMENT_LIMITS_USD.get(investor.verification_tier)
    if limit is not None:
        _refuse_past_limit(investor, limit, amount, offering.currency)


def pledge_create(
    *,
    offering: Offering,
    investor,
    amount: Decimal,
    method: str,
    idempotency_key: str,
    tell_investor: bool = True,
) -> Pledge:
    """Create a pledge and reserve its capacity, or return the pledge this
    key already made. Raises PledgeRefused (with a message for the user) or
    OfferingBusy (answer 503 with Retry-After). A pledge to pay by transfer
    tells the investor how (`notices.pledge_made`), unless `tell_investor` is
    off for a caller that tells them itself."""
    limit = settings.PUENTE_INVESTMENT_LIMITS_USD.get(investor.verification_tier)
    if limit is not None:
        # Looked up before the limit is checked: a replay near the limit gets its pledge
        # back, not a refusal. Without a limit nothing below refuses a replay before the
        # INSERT, whose unique key finds it (the except clause at the end), so the first
        # pledge, the common case, is spared the look-up.
        existing = _pledge_made_with(investor, idempotency_key)
        if existing is not None:
            return existing
    _refuse_unless_an_amount_of(offering.currency, amount)
    if method not in Pledge.Method.values:
        raise PledgeRefused(_("Choose a payment method."))
    if (
        offering.needs_knowledge_test
        and not KnowledgeTestPass.objects.filter(investor=investor).exists()
    ):
        raise KnowledgeTestRequired(
            _("Before your first loan, revenue share or bond, take the short knowledge test.")
        )
    if limit is not None:
        _refuse_past_limit(investor, limit, amount, offering.currency)
    # Everything that does not need the offering's lock is done before it is
    # taken: every pledge on the offering queues for that lock, so what runs
    # under it is only what must (re-read, check, reserve, commit). The
    # offering's terms are checked only under the lock, as they are there:
    # the caller's copy may be older.
    currency = offering.currency
    fee = pledge_fee(offering, amount, method)
    now = timezone.now()
    try:
        with transaction.atomic():
            # The pledge row is written before the lock: no one else sees it
            # until this transaction commits, and if the offering refuses it
            # below, the rollback takes it away again.
            pledge = _INSERT_PLEDGE(
                Pledge(
                    offering_id=offering.pk,
                    investor=investor,
                    amount=amount,
                    currency=currency,
                    fee=fee,
                    method=method,
                    idempotency_key=idempotency_key,
                    created_at=now,
                    expires_at=now
                    + datetime.timedelta(minutes=settings.PUENTE_PLEDGE_EXPIRY_MINUTES),
                )
            )
            if method in (Pledge.Method.BANK_TRANSFER, Pledge.Method.REMITTANCE):
                pledge.bank_reference = bank_reference_for(pledge)
                _UPDATE_PLEDGE_REFERENCE(pledge)
                if tell_investor:
                    # Before the offering's lock, which other pledges queue for; a
                    # refusal below rolls the notice back with the pledge.
                    pledge.offering = offering
                    notices.pledge_made(pledge)
            if limit is not None:
                # Checked again under the investor's lock, this pledge counted:
                # two pledges at once cannot both fit in what is left.
                _lock_investor(investor)
                _refuse_past_limit(investor, limit, Decimal(0), currency)
            # Reserved at once, with the lock; checked on the offering as it
            # was before, and a refusal rolls the reservation back.
            locked = _lock_offering(offering.pk, reserve=amount)
            if locked.currency != currency:
                raise PledgeRefused(
                    _("This offering changed while you were pledging. Please try again.")
                )
            _refuse_unless_pledgeable(locked, amount)
            pages_changed()  # the remaining amount shown on the project page
            locked.reserved += amount
            pledge.offering = locked
    except DatabaseError as error:
        # A double click that raced its twin: the unique key kept one pledge.
        existing = _pledge_made_with(investor, idempotency_key)
        if existing is not None:
            return existing
        raise error
    return pledge


def _pledge_made_with(investor, idempotency_key: str) -> Pledge | None:
    # At most one: (investor, idempotency_key) is unique.
    found = _PLEDGE_MADE_WITH(investor.pk, idempotency_key)
    return found[0] if found else None


def bank_reference_for(pledge: Pledge) -> str:
    """A unique ISO 11649 structured creditor reference (RF + check digits)."""
    return references.structured_reference(references.PLEDGE, pledge.pk)


def _release(
    pledge: Pledge,
    status: str,
    *,
    ending: notices.Ending | None,
    actor=None,
    reason: str = "",
    only_from: tuple = Pledge.ACTIVE,
) -> Pledge:
    """Move an active pledge to a final status and give back its capacity.
    Runs inside the caller's transaction, under the offering's lock; the
    status is re-read under the pledge's lock, so a pledge paid meanwhile is
    not expired (`only_from=(PENDING,)`).

    `ending` says how the investor is told (`notices.ENDINGS`), None for an
    ending nobody is told of; `reason` is only the audit entry's wording."""
    offering = _lock_offering(pledge.offering_id)
    pledge = (
        Pledge.objects.select_for_update(of=("self",)).select_related("investor").get(pk=pledge.pk)
    )
    if pledge.status not in only_from:
        return pledge
    before = pledge.status
    pledge.status = status
    pledge.cancelled_at = timezone.now()
    pledge.save(update_fields=["status", "cancelled_at"])
    offering.reserved -= pledge.amount
    offering.save(update_fields=["reserved"])
    AuditEntry.record(
        actor=actor,
        action=f"pledge.{status}",
        obj=pledge,
        from_state=before,
        to_state=status,
        reason=reason,
    )
    pledge.offering = offering
    notices.pledge_ended(pledge, ending)
    return pledge


#: Payments a provider may still take money on: not decided yet, waiting for 3-D Secure,
#: or declined (a declined card intent takes another card).
_OPEN_PAYMENT_STATUSES = (
    Payment.Status.CREATED,
    Payment.Status.REQUIRES_ACTION,
    Payment.Status.FAILED,
)


def pledges_expire_due(*, now: datetime.datetime | None = None) -> int:
    """Expire unpaid pledges past their time and release their capacity; returns how
    many expired.

    A pledge's open payments are cancelled at their provider first, so nobody can be
    charged for an expired pledge: a card intent is cancelled. Those calls go over the
    network, so they are made with no row lock held, and the pledge is expired
    afterwards in its own transaction, under the offering's and the pledge's locks (the
    lock order at the top), after checking that nothing changed meanwhile. A payment
    that has succeeded or is processing wins over the clock: the pledge stays pending
    (the webhook marks it paid). A provider that fails or a busy offering does not stop
    the others: the pledge stays pending and the next run tries again."""
    from .payments import PaymentError, PaymentNotCancellable

    now = now or timezone.now()
    count = 0
    for pledge_id in Pledge.objects.filter(
        status=Pledge.Status.PENDING, expires_at__lte=now
    ).values_list("pk", flat=True)[:1000]:
        try:
            cancelled = _payments_cancel_open(pledge_id)
            if _pledge_expire_unless_changed(pledge_id, cancelled):
                count += 1
        except PaymentNotCancellable as refusal:
            logger.info("pledge %s not expired, its payment goes ahead: %s", pledge_id, refusal)
        except PaymentError as error:
            logger.warning(
                "pledge %s not expired, its payment could not be cancelled (next run retries): %s",
                pledge_id,
                error,
            )
        except OfferingBusy:
            logger.info("pledge %s not expired: its offering is busy (next run retries)", pledge_id)
    return count


def _payments_cancel_open(pledge_id: int) -> frozenset[tuple]:
    """Have each provider cancel the pledge's open payments; returns the (pk, status,
    provider reference) each one has afterwards. Call with no transaction open: the
    providers call out over the network. Raises PaymentNotCancellable when the money of
    one is taken or on its way, PaymentError when a provider fails."""
    from .payments import provider_for

    after = []
    open_payments = Payment.objects.filter(pledge_id=pledge_id, status__in=_OPEN_PAYMENT_STATUSES)
    for payment in open_payments.order_by("pk"):
        payment = provider_for(payment.provider).cancel(payment=payment)
        after.append((payment.pk, payment.status, payment.provider_reference))
    return frozenset(after)


def _pledge_expire_unless_changed(pledge_id: int, cancelled: frozenset[tuple]) -> bool:
    """Expire a pending pledge whose open payments are exactly those `cancelled` left
    as they are; True if it expired. A payment that succeeded, or one started or
    changed since (its intent created meanwhile), keeps the pledge pending: paying takes
    the pledge's lock too, so under it what the payments say holds."""
    with transaction.atomic():
        offering_id = Pledge.objects.values_list("offering_id", flat=True).get(pk=pledge_id)
        _lock_offering(offering_id)
        pledge = Pledge.objects.select_for_update().get(pk=pledge_id)
        if not _stopped_pledges({pledge_id: cancelled}):
            return False
        released = _release(
            pledge,
            Pledge.Status.EXPIRED,
            ending=notices.Ending.EXPIRED,
            only_from=(Pledge.Status.PENDING,),
        )
        return released.status == Pledge.Status.EXPIRED


def _stopped_pledges(cancelled: Mapping[int, frozenset[tuple]]) -> set[int]:
    """Of the pledges `cancelled` names, those whose payments are stopped: none has
    succeeded, and their open payments are exactly those `_payments_cancel_open` left as
    they are (`cancelled[pk]`), none started or changed since. One query for them all.
    Call under the pledges' locks: paying takes them too, so what it says holds until the
    transaction ends."""
    rows: defaultdict[int, list[tuple]] = defaultdict(list)
    payments = Payment.objects.filter(pledge_id__in=list(cancelled)).values_list(
        "pledge_id", "pk", "status", "provider_reference"
    )
    for pledge_id, *row in payments:
        rows[pledge_id].append(tuple(row))
    return {
        pledge_id
        for pledge_id, left in cancelled.items()
        if not any(status == Payment.Status.SUCCEEDED for _pk, status, _ref in rows[pledge_id])
        and {row for row in rows[pledge_id] if row[1] in _OPEN_PAYMENT_STATUSES} <= left
    }


def pledges_lock(pledges) -> list[int]:
    """Lock the pledges of a queryset in one statement, in pk order (see the
    lock order at the top); returns their pks. For transactions that go on to
    handle several of them. Call inside a transaction."""
    return list(pledges.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))


# --- Paying and matching -------------------------------------------------------------------------


def lock_payment(payment: Payment) -> Payment:
    """Lock a payment for an update, its pledge first (see the lock order at
    the top), in one statement. Call inside a transaction; returns the
    payment as stored, with its pledge and the pledge's offering."""
    return _PAYMENT_LOCKED_WITH_PLEDGE.get(payment.pk)


#: The pledges paid inside a `matching_batch()` block, waiting to be matched together.
_matching_batch: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "matching_batch", default=None
)


@contextlib.contextmanager
def matching_batch() -> Iterator[None]:
    """Match the pledges paid inside the block together, when it ends.

    `pledge_mark_paid` called inside the block marks pledges paid as usual
    but leaves their matching to the end of the block, where
    `pledges_allocate_matching` takes them all in one go: when a sponsor's
    cap cannot cover every match, what is left is shared fairly instead of
    going to whichever line of a bank statement came first. The block runs
    in one transaction, so the payments and their matching commit together.
    A block inside another batch joins the outer one."""
    if _matching_batch.get() is not None:
        yield
        return
    paid: list[int] = []
    token = _matching_batch.set(paid)
    try:
        with transaction.atomic():
            yield
            _matching_batch.reset(token)
            token = None
            _match_paid_batch(paid)
    finally:
        if token is not None:
            _matching_batch.reset(token)


def _match_paid_batch(pledge_ids: list[int]) -> None:
    if not pledge_ids:
        return
    found = Pledge.objects.select_related("offering").in_bulk(pledge_ids)
    pledges = [
        found[pk]
        for pk in dict.fromkeys(pledge_ids)  # once each, in the order they were paid
        if pk in found and found[pk].status == Pledge.Status.PAID
    ]
    matched = pledges_allocate_matching(pledges=pledges)
    by_project: defaultdict[int, Decimal] = defaultdict(Decimal)
    currencies: dict[int, str] = {}
    for pledge in pledges:
        if pledge.offering.project_id is not None:
            by_project[pledge.offering.project_id] += matched[pledge.pk]
            currencies[pledge.offering.project_id] = pledge.currency
    for project_id in sorted(by_project):
        project_add_funding(project_id, by_project[project_id], currencies[project_id])


def pledge_mark_paid(*, payment: Payment) -> Pledge:
    """Record a succeeded payment: post it to the ledger, mark the pledge paid
    and allocate matching funds (at the end of the enclosing
    `matching_batch()`, if any). Safe to call any number of times."""
    with transaction.atomic():
        # Locks in the order pledge, then payment (the lock order at the top);
        # `of` keeps the joined offering unlocked: a bare select_related under
        # FOR UPDATE locked it too, after the payment, the reverse of what
        # pledge_cancel does, and the two deadlocked.
        payment = _PAYMENT_LOCKED_WITH_PLEDGE.get(payment.pk)
        pledge = payment.pledge
        offering = pledge.offering
        currency = pledge.currency
        gross = Money.from_minor(payment.amount_minor, currency)
        fee = Money(pledge.fee, currency).quantize()
        # The accounts in one query: every payment needs them.
        external, escrow, *fees = Account.get_or_create_many(
            [_external(currency), _escrow(offering), *([_fees(currency)] if fee.amount else [])]
        )
        post_transaction(
            idempotency_key=f"payment:{payment.pk}:captured",
            kind="pledge.payment",
            legs=[
                (external, -gross),
                (escrow, gross - fee),
                *((account, fee) for account in fees),
            ],
            memo=f"pledge {pledge.pk} paid by {payment.provider}",
        )
        if pledge.status == Pledge.Status.PAID:
            return pledge
        if pledge.status != Pledge.Status.PENDING:
            # Paid after it expired or was cancelled: nothing is owed for it,
            # so the money goes straight back the way it came, before a
            # closing could pass it on to the project with the escrow.
            AuditEntry.record(
                actor=None,
                action="pledge.late_payment",
                obj=pledge,
                from_state=pledge.status,
                to_state=pledge.status,
                reason="refunded: the pledge had already ended",
            )
            _refund_payment(
                pledge, payment, to_wallet=False, reason="paid after the pledge had ended"
            )
            return pledge
        pledge.status = Pledge.Status.PAID
        pledge.paid_at = timezone.now()
        _UPDATE_PLEDGE_PAID(pledge)
        AuditEntry.record(
            actor=None, action="pledge.paid", obj=pledge, from_state="pending", to_state="paid"
        )
        notices.pledge_paid(pledge)
        matched = Decimal("0")
        if offering.instrument == Instrument.DONATION_MATCHING:
            batch = _matching_batch.get()
            if batch is not None:
                batch.append(pledge.pk)  # matched, and counted, when the batch ends
            else:
                matched = pledges_allocate_matching(pledges=[pledge])[pledge.pk]
        project_add_funding(offering.project_id, pledge.amount + matched, pledge.currency)
    return pledge


def match_amounts(
    *,
    pool: MatchingPool,
    contributions: Sequence[tuple[Hashable, Decimal]],
    already_by_contributor: Mapping[Hashable, Decimal],
    currency: str,
    matched_so_far: Sequence[Decimal] | None = None,
) -> list[Decimal]:
    """What one sponsor adds to each of several contributions matched
    together, in minor units: `contributions` pairs a contributor with an
    amount; the result follows its order.

    Each match is the contribution times the pool's ratio, truncated to the
    minor unit, less what this pool already gave that very contribution
    (`matched_so_far`, same order; a top-up), then limited by the cap per
    contributor (less what that contributor already received, here or
    earlier in the list). If what is
    left of the pool's cap for the offering cannot cover all of them, it is
    split by the largest-remainder method weighted by those matches (ties:
    the larger match, then the earlier contribution): the parts add up to
    exactly what is left, and none exceeds its match, so no contributor goes
    past their cap either."""
    q = quantum(currency)
    zero = Decimal(0).quantize(q)
    given: dict[Hashable, Decimal] = dict(already_by_contributor)
    wanted: list[Decimal] = []
    for index, (contributor, amount) in enumerate(contributions):
        match = (amount * pool.ratio).quantize(q, rounding=ROUND_DOWN)
        if matched_so_far is not None:
            match -= matched_so_far[index]
        if pool.cap_per_contributor is not None:
            room = pool.cap_per_contributor - given.get(contributor, Decimal(0))
            match = min(match, max(room, zero).quantize(q, rounding=ROUND_DOWN))
        match = max(match, zero)
        given[contributor] = given.get(contributor, Decimal(0)) + match
        wanted.append(match)
    left = max(pool.cap_per_offering - pool.committed, zero).quantize(q, rounding=ROUND_DOWN)
    if sum(wanted, zero) <= left:
        return wanted
    if not left:
        return [zero] * len(wanted)
    return [part.amount for part in allocate(Money(left, currency), wanted)]


def _pools_locked(offering_ids):
    return (
        MatchingPool.objects.select_for_update()
        .filter(offering__in=offering_ids)
        .select_related("sponsor")
        .order_by("pk")
    )


_POOLS_LOCKED = Prepared(lambda offering_id: _pools_locked([offering_id]), int)


def pledges_allocate_matching(*, pledges: Sequence[Pledge]) -> dict[int, Decimal]:
    """Allocate sponsors' matches to paid pledges, all in one go; returns the
    total matched per pledge pk.

    Pools of every offering concerned are locked in one statement in pk
    order. Each pool shares what is left of its cap among the pledges by
    `match_amounts`, in the order given (earlier pledges win ties). A pledge
    a pool has already matched (or matched and returned) is skipped, so a
    retry adds nothing. Callers hold the pledges' locks and decide which
    pledges are matched (only donations with matching are)."""
    pledges = list({pledge.pk: pledge for pledge in pledges}.values())
    matched = {pledge.pk: Decimal("0") for pledge in pledges}
    if not pledges:
        return matched
    offering_ids = {pledge.offering_id for pledge in pledges}
    if len(offering_ids) == 1:
        pools = _POOLS_LOCKED(*offering_ids)  # a payment: the query every one runs
    else:
        pools = list(_pools_locked(offering_ids))
    if not pools:
        return matched
    done = set(
        MatchAllocation.objects.filter(pool__in=pools, pledge__in=matched).values_list(
            "pool", "pledge"
        )
    )
    already: defaultdict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for pool_id, investor_id, amount in MatchAllocation.objects.filter(
        pool__in=pools,
        pledge__investor__in={pledge.investor_id for pledge in pledges},
        released=False,
    ).values_list("pool", "pledge__investor", "amount"):
        already[pool_id][investor_id] += amount
    escrows: dict[int, Account] = {}
    for pool in pools:
        batch = [
            pledge
            for pledge in pledges
            if pledge.offering_id == pool.offering_id and (pool.pk, pledge.pk) not in done
        ]
        if not batch:
            continue
        currency = batch[0].currency
        amounts = match_amounts(
            pool=pool,
            contributions=[(pledge.investor_id, pledge.amount) for pledge in batch],
            already_by_contributor=already[pool.pk],
            currency=currency,
        )
        for pledge, amount in zip(batch, amounts, strict=True):
            if not amount:
                continue
            if pool.offering_id not in escrows:
                escrows[pool.offering_id] = escrow_account(pledge.offering)
            MatchAllocation.objects.create(pool=pool, pledge=pledge, amount=amount)
            money = Money(amount, currency)
            post_transaction(
                idempotency_key=f"match:{pool.pk}:{pledge.pk}",
                kind="matching",
                legs=[
                    (matching_account(pool, currency), -money),
                    (escrows[pool.offering_id], money),
                ],
                memo=f"{pool.sponsor} matches pledge {pledge.pk}",
            )
            matched[pledge.pk] += amount
        total = sum(amounts, Decimal("0"))
        if total:
            pool.committed += total
            pool.save(update_fields=["committed"])
    return matched


def matching_top_up(*, offering: Offering) -> Decimal:
    """At closing, give matching funds still free to the contributions that
    got less than their full match; returns the total added.

    A pool's cap can bind while contributions arrive (those paid last get a
    share of what was left, or nothing) and later loosen, when a matched
    pledge is cancelled and its match goes back to the pool. What the pool
    has free at closing goes to the paid pledges still short of their full
    match (ratio and cap per contributor as usual), in pk order, shared by
    largest remainder when it cannot cover them all (`match_amounts`). Each
    top-up is added to the pledge's allocation, so a later refund returns it
    too. Callers hold the offering's and the pledges' locks (`offering_close`)."""
    added = Decimal("0")
    if offering.instrument != Instrument.DONATION_MATCHING:
        return added
    pools = list(MatchingPool.objects.select_for_update().filter(offering=offering).order_by("pk"))
    pledges = list(
        Pledge.objects.filter(offering=offering, status=Pledge.Status.PAID).order_by("pk")
    )
    if not pools or not pledges:
        return added
    allocations = {
        (allocation.pool_id, allocation.pledge_id): allocation
        for allocation in MatchAllocation.objects.select_for_update().filter(
            pool__in=pools, pledge__in=pledges
        )
    }
    currency = offering.currency
    escrow = escrow_account(offering)
    for pool in pools:
        if pool.exhausted:
            continue
        so_far = []
        by_contributor: defaultdict[int, Decimal] = defaultdict(Decimal)
        for pledge in pledges:
            allocation = allocations.get((pool.pk, pledge.pk))
            current = allocation.amount if allocation and not allocation.released else Decimal(0)
            so_far.append(current)
            by_contributor[pledge.investor_id] += current
        top_ups = match_amounts(
            pool=pool,
            contributions=[(pledge.investor_id, pledge.amount) for pledge in pledges],
            already_by_contributor=by_contributor,
            currency=currency,
            matched_so_far=so_far,
        )
        for pledge, amount in zip(pledges, top_ups, strict=True):
            if amount <= 0:
                continue
            allocation = allocations.get((pool.pk, pledge.pk))
            if allocation is None:
                key = f"match:{pool.pk}:{pledge.pk}"
                MatchAllocation.objects.create(pool=pool, pledge=pledge, amount=amount)
            else:
                key = f"match:{pool.pk}:{pledge.pk}:top-up"
                allocation.amount += amount
                allocation.save(update_fields=["amount"])
            money = Money(amount, currency)
            post_transaction(
                idempotency_key=key,
                kind="matching",
                legs=[(matching_account(pool, currency), -money), (escrow, money)],
                memo=f"pool {pool.pk} tops up the match of pledge {pledge.pk} at closing",
            )
            pool.committed += amount
            added += amount
        pool.save(update_fields=["committed"])
    if added:
        project_add_funding(offering.project_id, added, offering.currency)
    return added


def matching_pool_create(
    *,
    offering: Offering,
    sponsor,
    ratio: Decimal,
    cap_per_offering: Decimal,
    cap_per_contributor: Decimal | None = None,
    by,
) -> MatchingPool:
    """A sponsor commits to match contributions to an offering: `ratio` of
    each, up to `cap_per_offering` in all and `cap_per_contributor` per
    person, in the offering's currency.

    The commitment is recorded in three places: the pool row, the pool's
    ledger account (opened now; it runs negative by what the sponsor owes as
    matches are allocated) and an audit entry with the terms. Raises
    ValidationError, keyed by field, for terms that do not hold; nothing is
    written then."""
    pool = MatchingPool(
        offering=offering,
        sponsor=sponsor,
        ratio=ratio,
        cap_per_offering=cap_per_offering,
        cap_per_contributor=cap_per_contributor,
    )
    errors: dict[str, list] = defaultdict(list)
    if offering.instrument != Instrument.DONATION_MATCHING:
        errors[NON_FIELD_ERRORS].append(
            _("Matching applies to donations with matching, not to this kind of offering.")
        )
    if offering.status not in (Offering.Status.DRAFT, Offering.Status.OPEN):
        errors[NON_FIELD_ERRORS].append(_("This offering has closed."))
    q = quantum(offering.currency)
    for name in ("cap_per_offering", "cap_per_contributor"):
        value = getattr(pool, name)
        if value is None:
            continue
        if value <= 0:
            errors[name].append(_("Enter an amount greater than zero."))
        elif value != value.quantize(q):
            errors[name].append(too_many_decimals(offering.currency))
    if (
        cap_per_contributor is not None
        and cap_per_contributor > 0
        and cap_per_offering is not None
        and cap_per_contributor > cap_per_offering
    ):
        errors["cap_per_contributor"].append(
            _("The cap per contributor cannot be above the cap for the offering.")
        )
    if MatchingPool.objects.filter(offering=offering, sponsor=sponsor).exists():
        errors[NON_FIELD_ERRORS].append(
            _("%(sponsor)s already matches this offering.") % {"sponsor": sponsor}
        )
    try:
        pool.full_clean(validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors[name].extend(messages)
    if errors:
        raise ValidationError(dict(errors))
    try:
        with transaction.atomic():
            pool.save()
            matching_account(pool, offering.currency)
            AuditEntry.record(
                actor=by,
                action="matching_pool.created",
                obj=pool,
                to_state="committed",
                data={
                    "offering": offering.pk,
                    "sponsor": sponsor.pk,
                    "currency": offering.currency,
                    "ratio": str(pool.ratio),
                    "cap_per_offering": str(pool.cap_per_offering),
                    "cap_per_contributor": (
                        None if cap_per_contributor is None else str(pool.cap_per_contributor)
                    ),
                },
            )
    except IntegrityError:
        # The same sponsor's pool created a moment ago by another request.
        raise ValidationError(
            {
                NON_FIELD_ERRORS: [
                    _("%(sponsor)s already matches this offering.") % {"sponsor": sponsor}
                ]
            }
        ) from None
    return pool


def project_add_funding(project_id: int | None, amount: Decimal, currency: str) -> None:
    """Add newly paid money to the catalogue's funding figures in one UPDATE
    (atomic in the database, so concurrent payments never lose one).

    Every payment runs it, last in its transaction, and it holds the
    project's row lock until the commit; written as SQL because building the
    same statement from ORM expressions cost several times more than
    running it. The percentage is floored, as `project_refresh_funding`
    truncates it (amounts are never negative).

    The stored total keeps cents: an amount with finer units (KWD's fils)
    would be rounded at every addition and the errors would add up, so for
    those the figures are recomputed from the pledges instead."""
    from projects.models import Project

    if project_id is None or not amount:
        return
    if minor_unit_exponent(currency) > 2:
        project_refresh_funding(project_id)
        return
    table = connection.ops.quote_name(Project._meta.db_table)
    percent = "(amount_raised + %s) * 100 / funding_sought"
    if connection.vendor == "sqlite":
        # SQLite computes decimals as binary floats: 0.29 * 100 gives 28.999...,
        # which FLOOR would make 28. Rounding first to far below a percent
        # removes that noise; PostgreSQL's numeric is exact and needs nothing.
        percent = f"ROUND({percent}, 6)"
    sql = f"""
        UPDATE {table}
           SET amount_raised = amount_raised + %s,
               funded_percent = CASE WHEN funding_sought > 0
                   THEN CAST(FLOOR({percent}) AS INTEGER)
                   ELSE 0 END
         WHERE id = %s
    """  # noqa: S608 - the table name comes from model metadata, no user input
    with statement_cursor(connection) as cursor:
        cursor.execute(sql, [amount, amount, project_id])
    pages_changed()


@transaction.atomic
def project_refresh_funding(project_id: int | None) -> None:
    """Keep the catalogue's denormalised funding figures in step with paid
    pledges (in the offerings' currency; matching included)."""
    from projects.models import Project

    if project_id is None:
        return
    # Lock the project row first, so two payments landing at once cannot each
    # write a total that misses the other's pledge.
    project = (
        Project.objects.select_for_update().filter(pk=project_id).only("funding_sought").first()
    )
    if project is None:
        return
    offerings = Offering.objects.filter(project_id=project_id)
    paid = Pledge.objects.filter(offering__in=offerings, status=Pledge.Status.PAID).aggregate(
        total=Sum("amount")
    )["total"] or Decimal("0")
    matched = MatchAllocation.objects.filter(
        pledge__offering__in=offerings, released=False
    ).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    raised = paid + matched
    sought = project.funding_sought or Decimal("0")
    percent = int(raised * 100 / sought) if sought else 0
    Project.objects.filter(pk=project_id).update(amount_raised=raised, funded_percent=percent)
    pages_changed()


# --- Cancelling and refunding ------------------------------------------------------------------


def pledge_cancel(*, pledge: Pledge, by, to_wallet: bool = False) -> Pledge:
    """The investor cancels: pending pledges any time; paid ones without a
    reason during the reflection period, with a full refund (fee included).

    A pending pledge's open payments are cancelled at their provider first, with
    no lock held (`_stop_payments_before_cancel`), so nobody is charged for a
    pledge they cancelled. The decision is then taken on the pledge as it is
    under its lock (offering, then pledge: the lock order at the top): a payment
    confirmed a moment earlier makes this a refund, never a cancellation that
    keeps the money, and a payment started meanwhile makes it refuse ("try
    again")."""
    if pledge.investor_id != by.pk:
        raise PledgeRefused(_("This is not your pledge."))
    cancelled: frozenset[tuple] = frozenset()
    if pledge.status == Pledge.Status.PENDING:
        cancelled = _stop_payments_before_cancel(pledge.pk)
    with transaction.atomic():
        offering = _lock_offering(pledge.offering_id)
        pledge = Pledge.objects.select_for_update().get(pk=pledge.pk)
        if pledge.status == Pledge.Status.PENDING and not _stopped_pledges({pledge.pk: cancelled}):
            raise PledgeRefused(
                _("Your pledge changed while it was being cancelled. Please try again.")
            )
        was_paid = pledge.status == Pledge.Status.PAID
        if was_paid and not pledge.in_reflection_period():
            raise PledgeRefused(_("The reflection period of this pledge is over."))
        if was_paid and offering.status != Offering.Status.OPEN:
            raise PledgeRefused(_("This offering has closed; pledges can no longer be cancelled."))
        pledge = _release(
            pledge,
            Pledge.Status.REFUNDED if was_paid else Pledge.Status.CANCELLED,
            ending=notices.Ending.INVESTOR_CANCELLED,
            actor=by,
            reason="investor cancelled",
            only_from=(pledge.status,) if pledge.status in Pledge.ACTIVE else (),
        )
        if was_paid:
            refund_pledge(pledge=pledge, to_wallet=to_wallet, reason="reflection period")
    plans.plan_stop_with_first_pledge(pledge=pledge, by=by)
    return pledge


def _stop_payments_before_cancel(pledge_id: int) -> frozenset[tuple]:
    """Cancel a pending pledge's open payments at their providers for `pledge_cancel`;
    returns what `_payments_cancel_open` returns. A payment that went through meanwhile
    has been recorded by the provider (the pledge is paid now, and cancelling it is a
    refund): that returns too. Raises PaymentGoesAhead for a payment still being
    processed, PaymentNotStopped when a provider fails."""
    from .payments import PaymentError, PaymentNotCancellable

    try:
        return _payments_cancel_open(pledge_id)
    except PaymentNotCancellable:
        if not Pledge.objects.filter(pk=pledge_id, status=Pledge.Status.PENDING).exists():
            return frozenset()
        raise PaymentGoesAhead(
            _(
                "Your payment is being processed, so your pledge cannot be cancelled now. "
                "Please try again once the payment is confirmed."
            )
        ) from None
    except PaymentError as error:
        logger.warning(
            "pledge %s not cancelled, its payment could not be stopped: %s", pledge_id, error
        )
        raise PaymentNotStopped(
            _(
                "We could not reach the payment service to stop your payment, so your pledge "
                "was not cancelled. Please try again in a few minutes."
            )
        ) from error


def wallet_payment_key(pledge: Pledge) -> str:
    """The idempotency key of a pledge's payment from the investor's wallet
    (finance.returns_services), which a refund reverses."""
    return f"pledge:{pledge.pk}:wallet"


def _refund_payment(pledge: Pledge, payment: Payment, *, to_wallet: bool, reason: str) -> None:
    """Give back what is left of one captured payment, fee included: through
    the provider that took it, or to the investor's wallet. Call with the
    pledge and the payment locked; idempotent per amount left."""
    from .offerings import Refund
    from .payments import provider_for

    left = payment.captured_minor - payment.refunded_minor
    if left <= 0:
        return
    currency = pledge.currency
    gross = Money.from_minor(left, currency)
    fee = min(Money(pledge.fee, currency).quantize(), gross)
    destination = Refund.Destination.WALLET if to_wallet else Refund.Destination.PROVIDER
    target = wallet_account(pledge.investor, currency) if to_wallet else external_account(currency)
    refund, _created = Refund.objects.get_or_create(
        idempotency_key=f"refund:payment:{payment.pk}:{left}",
        defaults={
            "payment": payment,
            "amount_minor": left,
            "destination": destination,
            "reason": reason[:200],
        },
    )
    # A retry after a failed provider call asks again; the stable
    # idempotency key stops the provider from refunding twice.
    if not to_wallet and not refund.provider_reference:
        refund.provider_reference = provider_for(payment.provider).refund(
            payment=payment, amount_minor=left, idempotency_key=refund.idempotency_key
        )
        refund.save(update_fields=["provider_reference"])
    post_transaction(
        idempotency_key=refund.idempotency_key,
        kind="refund",
        legs=[
            (escrow_account(pledge.offering), -(gross - fee)),
            *([(fees_account(currency), -fee)] if fee.amount else []),
            (target, gross),
        ],
        memo=f"refund of pledge {pledge.pk} ({destination})",
    )
    payment.refunded_minor += left
    payment.save(update_fields=["refunded_minor"])


@transaction.atomic
def refund_pledge(*, pledge: Pledge, to_wallet: bool = False, reason: str = "") -> None:
    """Give back everything a paid pledge brought in: the investor's money
    (fee included) through the provider or to the wallet, and any matching
    to its pools. What was paid from the wallet goes back to the wallet.
    Idempotent per pledge."""
    from .ledger import Transaction, reverse_transaction

    currency = pledge.currency
    escrow = escrow_account(pledge.offering)
    # The lock order at the top: pledge, payments, then the pools by pk.
    list(Pledge.objects.select_for_update().filter(pk=pledge.pk).values_list("pk"))
    payments = list(
        pledge.payments.select_for_update().filter(status=Payment.Status.SUCCEEDED).order_by("pk")
    )
    allocations = list(
        MatchAllocation.objects.select_for_update(of=("self",))
        .filter(pledge=pledge, released=False)
        .select_related("pool")
        .order_by("pool_id")
    )
    list(
        MatchingPool.objects.select_for_update()
        .filter(pk__in=[allocation.pool_id for allocation in allocations])
        .order_by("pk")
        .values_list("pk")
    )
    for allocation in allocations:
        money = Money(allocation.amount, currency)
        post_transaction(
            idempotency_key=f"match:{allocation.pool_id}:{pledge.pk}:returned",
            kind="matching.returned",
            legs=[(escrow, -money), (matching_account(allocation.pool, currency), money)],
        )
        MatchingPool.objects.filter(pk=allocation.pool_id).update(
            committed=F("committed") - allocation.amount
        )
        pages_changed()  # "matching funds exhausted" may no longer hold
        allocation.released = True
        allocation.save(update_fields=["released"])
    for payment in payments:
        _refund_payment(pledge, payment, to_wallet=to_wallet, reason=reason)
    from_wallet = Transaction.objects.filter(idempotency_key=wallet_payment_key(pledge)).first()
    if from_wallet is not None:
        reverse_transaction(
            from_wallet,
            idempotency_key=f"{wallet_payment_key(pledge)}:refund",
            memo=f"refund of pledge {pledge.pk} to the wallet it was paid from",
        )
    project_refresh_funding(pledge.offering.project_id)


# --- Closing and disbursing ------------------------------------------------------------------------


def offering_open(*, offering: Offering, by) -> Offering:
    offering.full_clean()
    with transaction.atomic():
        locked = Offering.objects.select_for_update().get(pk=offering.pk)
        if locked.status != Offering.Status.DRAFT:
            raise FinanceError(_("Only a draft offering can be opened."))
        locked.status = Offering.Status.OPEN
        locked.save(update_fields=["status"])
        AuditEntry.record(
            actor=by, action="offering.open", obj=locked, from_state="draft", to_state="open"
        )
    return locked


def paid_total(offering: Offering) -> Decimal:
    total = offering.pledges.filter(status=Pledge.Status.PAID).aggregate(s=Sum("amount"))["s"]
    return total or Decimal("0")


def offering_close(*, offering: Offering, now: datetime.datetime | None = None) -> Offering:
    """Close an offering at its closing date, or once paid pledges fill its
    hard cap; before that, and for an offering not open, it does nothing.

    Unpaid pledges expire. All-or-nothing below target: every paid pledge is
    refunded at once. Otherwise the closing waits until the reflection period
    of every paid pledge has ended, since until then investors may cancel
    with a full refund (the offering stays open, taking no new pledges, and
    the target is judged again then); then matching funds still free top up
    the matches a cap cut short (`matching_top_up`) and escrow moves to the
    project payable, awaiting disbursement. Run it again later
    (`offerings_close_due` does, from Celery beat).

    The open payments of unpaid pledges are cancelled at their providers first,
    with no lock held (`_stop_pending_payments`), as expiry does. A pledge whose
    payment cannot be stopped (the provider did not answer, or is processing
    it), or whose payment started meanwhile, stays pending, and so does the
    offering, until a later run: its money may still come in and count."""
    now = now or timezone.now()
    stopped = _stop_pending_payments(offering.pk, now)
    with transaction.atomic():
        locked = _lock_offering(offering.pk)
        if locked.status != Offering.Status.OPEN or not closing_due(locked, now):
            return locked
        pledges_lock(
            Pledge.objects.filter(
                offering=locked, status__in=(Pledge.Status.PENDING, Pledge.Status.PAID)
            )
        )
        pending = list(
            Pledge.objects.filter(offering=locked, status=Pledge.Status.PENDING).order_by("pk")
        )
        ended = _stopped_pledges(
            {pledge.pk: stopped.get(pledge.pk, frozenset()) for pledge in pending}
        )
        waiting = len(ended) < len(pending)
        for pledge in pending:
            if pledge.pk in ended:
                _release(
                    pledge,
                    Pledge.Status.EXPIRED,
                    ending=notices.Ending.CLOSED_UNPAID,
                    reason="offering closed",
                    only_from=(Pledge.Status.PENDING,),
                )
        locked.refresh_from_db()
        if waiting:
            return locked
        paid = paid_total(locked)
        succeeded = (
            paid >= locked.target or locked.funding_rule == Offering.FundingRule.KEEP_WHAT_YOU_RAISE
        )
        if succeeded and paid > 0:
            if now < reflection_ends_at(locked):
                return locked
            from .ledger import balance

            matching_top_up(offering=locked)
            escrow = escrow_account(locked)
            held = balance(escrow)
            if held.amount:
                post_transaction(
                    idempotency_key=f"offering:{locked.pk}:close",
                    kind="offering.close",
                    legs=[(escrow, -held), (payable_account(locked), held)],
                )
            locked.status = Offering.Status.SUCCEEDED
        else:
            for pledge in Pledge.objects.filter(
                offering=locked, status=Pledge.Status.PAID
            ).order_by("pk"):
                released = _release(
                    pledge,
                    Pledge.Status.REFUNDED,
                    ending=notices.Ending.TARGET_MISSED,
                    reason="target missed",
                    only_from=(Pledge.Status.PAID,),
                )
                refund_pledge(pledge=released, reason="all-or-nothing target missed")
            locked.status = Offering.Status.FAILED
        locked.save(update_fields=["status"])
        AuditEntry.record(
            actor=None,
            action="offering.close",
            obj=locked,
            from_state="open",
            to_state=locked.status,
        )
    return locked


def closing_due(offering: Offering, now: datetime.datetime) -> bool:
    """Whether an offering is due to close: past its closing date, or with paid pledges
    filling its hard cap."""
    if now >= offering.closes_at:
        return True
    return offering.hard_cap is not None and paid_total(offering) >= offering.hard_cap


def _stop_pending_payments(offering_id: int, now: datetime.datetime) -> dict[int, frozenset]:
    """For an open offering due to close, cancel the open payments of its pending
    pledges at their providers (`_payments_cancel_open`), with no lock held; returns
    what each pledge's payments were left as, by pledge pk. A pledge whose payment cannot
    be stopped is left out, and logged: `offering_close` then keeps it, and the offering,
    open."""
    from .payments import PaymentError, PaymentNotCancellable

    offering = Offering.objects.get(pk=offering_id)
    if offering.status != Offering.Status.OPEN or not closing_due(offering, now):
        return {}
    pledge_ids = (
        Payment.objects.filter(
            pledge__offering_id=offering_id,
            pledge__status=Pledge.Status.PENDING,
            status__in=_OPEN_PAYMENT_STATUSES,
        )
        .order_by("pledge_id")
        .values_list("pledge_id", flat=True)
        .distinct()
    )
    stopped = {}
    for pledge_id in pledge_ids:
        try:
            stopped[pledge_id] = _payments_cancel_open(pledge_id)
        except PaymentNotCancellable as refusal:
            logger.info("offering %s: pledge %s goes ahead: %s", offering_id, pledge_id, refusal)
        except PaymentError as error:
            logger.warning(
                "offering %s not closed: the payment of pledge %s could not be cancelled "
                "(next run retries): %s",
                offering_id,
                pledge_id,
                error,
            )
    return stopped


def reflection_ends_at(offering: Offering) -> datetime.datetime | None:
    """When the last reflection period of the offering's paid pledges ends
    (None without paid pledges): a successful closing waits for it."""
    newest = offering.pledges.filter(status=Pledge.Status.PAID).aggregate(m=Max("created_at"))["m"]
    if newest is None:
        return None
    return newest + datetime.timedelta(days=settings.PUENTE_REFLECTION_DAYS)


def offerings_close_due(*, now: datetime.datetime | None = None) -> int:
    """Close every open offering past its closing date or with paid pledges
    filling its hard cap (Celery beat); returns how many closed. Each closes
    in its own transaction; one that is busy waits for the next run, and one
    that fails does not stop the others (the error is raised at the end)."""
    now = now or timezone.now()
    candidates = (
        Offering.objects.filter(status=Offering.Status.OPEN)
        .filter(Q(closes_at__lte=now) | Q(hard_cap__isnull=False))
        .order_by("closes_at", "pk")
    )
    closed, failures = 0, []
    for offering in candidates.only("pk", "closes_at", "hard_cap"):
        if not closing_due(offering, now):
            continue
        try:
            result = offering_close(offering=offering, now=now)
        except OfferingBusy:
            continue
        except Exception as error:  # noqa: BLE001 - logged, and raised once the others ran
            logger.exception("closing offering %s failed", offering.pk)
            failures.append(error)
            continue
        if result.status != Offering.Status.OPEN:
            closed += 1
    if failures:
        raise failures[0]
    return closed


def disbursement_approve(*, offering: Offering, by):
    """Four eyes: the first staff approval records, the second (a different
    person) posts the payable out to the project."""
    from .ledger import balance
    from .offerings import Disbursement

    with transaction.atomic():
        locked = Offering.objects.select_for_update().get(pk=offering.pk)
        if locked.status != Offering.Status.SUCCEEDED:
            raise FinanceError(_("Only a successful offering can be disbursed."))
        payable = payable_account(locked)
        held = balance(payable)
        disbursement, _created = Disbursement.objects.select_for_update().get_or_create(
            offering=locked, defaults={"amount": held.amount, "requested_by": by}
        )
        if disbursement.first_approver_id is None:
            disbursement.first_approver = by
            disbursement.save(update_fields=["first_approver"])
            AuditEntry.record(actor=by, action="disbursement.first_approval", obj=disbursement)
            return disbursement
        if disbursement.first_approver_id == by.pk:
            raise FinanceError(_("A second, different staff member must approve."))
        if disbursement.status == Disbursement.Status.APPROVED:
            return disbursement
        post_transaction(
            idempotency_key=f"offering:{locked.pk}:disbursement",
            kind="disbursement",
            legs=[(payable, -held), (external_account(locked.currency), held)],
        )
        disbursement.second_approver = by
        disbursement.status = Disbursement.Status.APPROVED
        disbursement.approved_at = timezone.now()
        disbursement.save(update_fields=["second_approver", "status", "approved_at"])
        locked.status = Offering.Status.DISBURSED
        locked.save(update_fields=["status"])
        AuditEntry.record(actor=by, action="disbursement.approved", obj=disbursement)
        # The loan schedule or bond issue is fixed now (the daily task catches up if not).
        from .returns_services import returns_fix_at_disbursement

        transaction.on_commit(lambda: returns_fix_at_disbursement(offering=locked, by=by))
    return disbursement
