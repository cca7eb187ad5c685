"""The payment provider interface. Each method states its contract; Stripe,
bank transfer and the remittance partner implement it."""

from __future__ import annotations

from finance.exceptions import FinanceError


class PaymentError(FinanceError):
    """A provider refused or failed. `user_message` is safe to show; the
    exception text may carry gateway details for the logs only."""

    def __init__(self, message: str, *, user_message: str = "") -> None:
        super().__init__(message)
        self.user_message = user_message


class PaymentNotCancellable(PaymentError):
    """The provider has taken the money, or is taking it (a card payment that succeeded or
    is processing), so the payment cannot be cancelled: the payment wins, and whatever
    wanted it cancelled must not end the pledge for want of it."""


class PaymentProvider:
    #: Short stable name, stored on each Payment ("stripe", "bank_transfer", ...).
    name: str = ""

    def start(self, *, pledge):
        """Prepare the payment of `pledge.total_due` and return the Payment row.

        Called when the investor confirms a pledge. It moves no money by
        itself: for a card it creates the provider's intent (with an
        idempotency key built from the pledge id, so a retry finds the same
        intent); for a bank transfer it only records the expected amount and
        the structured reference. Calling it twice for one pledge returns the
        same Payment."""
        raise NotImplementedError

    def sync(self, *, payment):
        """Re-read the payment's current state from the provider and apply it.

        Webhooks call this instead of trusting the event body, so a late,
        duplicated or out-of-order event always ends in the provider's real
        state. On success it calls finance.services.pledge_mark_paid, which is
        idempotent. Returns the updated Payment."""
        raise NotImplementedError

    def refund(self, *, payment, amount_minor: int, idempotency_key: str) -> str:
        """Send `amount_minor` back to the payer through the provider.

        Called inside a database transaction that holds the payment's row
        lock, after the amount was checked against what was captured less
        what was refunded: by the pledge refund workflow, and by a card
        withdrawal from the wallet (finance.returns_services.payout_approve),
        which may spread one withdrawal over several payments. The caller
        records the refund and the payment's refunded total in that same
        transaction, so a refund the provider refused leaves nothing behind.
        The idempotency key is stable (it names the payment and the amount),
        so a retry does not refund twice. Returns the provider's refund
        reference; raises PaymentError when the provider refuses, with a
        `user_message` safe to show."""
        raise NotImplementedError

    def cancel(self, *, payment):
        """Make sure the provider takes no money for `payment` from now on; return the Payment.

        Called before a pending pledge ends: when it expires unpaid
        (finance.services.pledges_expire_due), when its investor cancels it
        (`pledge_cancel`) and when its offering closes (`offering_close`); always with no
        row lock held, since it may wait on the network; what it learns it records in its
        own short transaction. When it returns, the provider will not capture money for
        this payment: a card intent is cancelled at the provider, so the payer can no
        longer confirm it, and the Payment is CANCELLED. It is idempotent: a payment
        already cancelled, here or at the provider, counts as cancelled, and the
        provider's call carries an idempotency key built from the payment id.

        Raises PaymentNotCancellable when the provider says the money is already taken or
        on its way (a card payment that succeeded or is processing); what it read is then
        applied as `sync` would apply it, so a success marks the pledge paid (or, if the
        pledge had already ended, is refunded by finance.services.pledge_mark_paid).
        Raises PaymentError when the provider cannot be reached or refuses for another
        reason; nothing is recorded then, and the caller tries again later.

        This default suits providers to whom the payer pushes the money (bank transfer,
        remittance) and the test providers: there is nothing at the provider to cancel,
        so it returns the payment as it is; money that arrives anyway is a late payment
        (a statement line flagged for review). A provider that pulls the money, such as a
        card, must override it."""
        return payment
