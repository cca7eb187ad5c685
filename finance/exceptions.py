"""Errors raised by the finance calculations."""


class FinanceError(Exception):
    """Base class for every error raised by the finance package."""


class MoneyError(FinanceError):
    """An amount of money cannot be built or combined as asked."""


class CurrencyMismatch(MoneyError):
    """Two amounts in different currencies were combined or compared."""


class UnknownCurrency(MoneyError):
    """The code is not an ISO 4217 currency known to the currency data."""


class ScheduleError(FinanceError):
    """The terms of a bond or loan do not describe a schedule."""
