"""What an investor is told about their pledges, in the portal and by email,
in their own language: how to pay a pledge made for a bank transfer or a
remittance, that it was paid, and how it ended (expired, cancelled, refunded).

Each notice is written once the workflow's transaction commits: a rolled-back
workflow tells nobody, and the notice's writes (the investor's row counts
their unread notices) wait for no lock the workflow holds, nor take one out
of the lock order of `finance.services`."""

from __future__ import annotations

import contextlib
import contextvars
import enum

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from portal.notifications import notify

from .money import Money
from .offerings import Pledge


class Ending(enum.Enum):
    """How a pledge ended, as the workflow that ended it tells `services._release`:
    what the investor is told follows from this, never from the wording of the
    audit entry's reason, which may change freely."""

    #: Unpaid when its time to pay ran out.
    EXPIRED = "expired"
    #: Unpaid when its offering closed.
    CLOSED_UNPAID = "closed unpaid"
    #: The investor cancelled it: unpaid (cancelled), or paid (refunded).
    INVESTOR_CANCELLED = "investor cancelled"
    #: Paid, and refunded because its all-or-nothing offering missed its target.
    TARGET_MISSED = "target missed"


#: How each end of a pledge is told, by its status and its `Ending`.
ENDINGS = {
    (Pledge.Status.EXPIRED, Ending.EXPIRED): _(
        "Your pledge of %(amount)s to %(offering)s expired unpaid; its place in the "
        "offering was given back."
    ),
    (Pledge.Status.EXPIRED, Ending.CLOSED_UNPAID): _(
        "Your pledge of %(amount)s to %(offering)s expired unpaid when the offering closed."
    ),
    (Pledge.Status.CANCELLED, Ending.INVESTOR_CANCELLED): _(
        "Your pledge of %(amount)s to %(offering)s is cancelled. Nothing was charged."
    ),
    (Pledge.Status.REFUNDED, Ending.INVESTOR_CANCELLED): _(
        "Your pledge of %(amount)s to %(offering)s is cancelled. What you paid, "
        "%(paid)s, is on its way back to you."
    ),
    (Pledge.Status.REFUNDED, Ending.TARGET_MISSED): _(
        "%(offering)s did not reach its target, so nothing is raised: what you paid "
        "for your pledge of %(amount)s, %(paid)s, is on its way back to you."
    ),
}


_quiet = contextvars.ContextVar("pledge_notices_quiet", default=False)


@contextlib.contextmanager
def quiet():
    """Tell nobody about the pledges made, paid or ended inside: for history
    written after the fact, such as the demo's, which is news to no one."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def _tell(pledge: Pledge, *, verb: str, message, **params) -> None:
    if _quiet.get():
        return
    investor = pledge.investor
    with translation.override(investor.preferred_language or "en"):
        params = {
            "amount": Money(pledge.amount, pledge.currency).localized(),
            "paid": pledge.total_due.localized(),
            "offering": pledge.offering.title,
            **{name: str(value) for name, value in params.items()},
        }
        url = reverse("finance:pledge", args=[pledge.pk])
    transaction.on_commit(
        lambda: notify([investor], verb=verb, message=message, params=params, url=url)
    )


def pledge_made(pledge: Pledge) -> None:
    """A pledge to be paid by bank transfer or through a remittance partner:
    how to pay it, and by when. A card pledge is paid on the page at once."""
    if pledge.method not in (Pledge.Method.BANK_TRANSFER, Pledge.Method.REMITTANCE):
        return
    bank = settings.PUENTE_BANK_ACCOUNT
    with translation.override(pledge.investor.preferred_language or "en"):
        until = formats.date_format(timezone.localtime(pledge.expires_at), "DATETIME_FORMAT")
    _tell(
        pledge,
        verb="pledge.made",
        message=_(
            "Your pledge to %(offering)s is reserved until %(until)s: send %(paid)s to "
            "%(holder)s, IBAN %(iban)s, with the reference %(reference)s."
        ),
        until=until,
        holder=bank["holder"],
        iban=bank["iban"],
        reference=pledge.bank_reference,
    )


def pledge_paid(pledge: Pledge) -> None:
    _tell(
        pledge,
        verb="pledge.paid",
        message=_("Your payment of %(paid)s for your pledge to %(offering)s has arrived."),
    )


def pledge_ended(pledge: Pledge, ending: Ending | None) -> None:
    """A pledge that has just ended, as `ending` says; None for an ending its
    investor is not told of. An ending that cannot have led to the pledge's
    status is a mistake in the caller, refused rather than left untold."""
    if ending is None:
        return
    message = ENDINGS.get((pledge.status, ending))
    if message is None:
        raise ValueError(f"a pledge cannot end {pledge.status} as {ending}")
    _tell(pledge, verb=f"pledge.{pledge.status}", message=message)
