"""Models of the finance app; Django discovers them here."""

from finance.bank import BankStatementImport, BankStatementLine
from finance.ledger import Account, Leg, Transaction
from finance.offerings import (
    Disbursement,
    KnowledgeTestPass,
    MatchAllocation,
    MatchingPool,
    Offering,
    Payment,
    Pledge,
    ProviderEvent,
    Refund,
)
from finance.plans import PledgePlan
from finance.returns import (
    BankAccountRegistration,
    BondIssue,
    CouponRun,
    Distribution,
    DistributionLine,
    Installment,
    LoanCardPayment,
    LoanSchedule,
    PayoutRequest,
    Repayment,
    RepaymentAllocation,
    RevenueReport,
)
from finance.statements import Statement, StatementTotal  # noqa: F401 - for Django

__all__ = [
    "BankAccountRegistration",
    "BondIssue",
    "CouponRun",
    "Distribution",
    "DistributionLine",
    "Installment",
    "LoanCardPayment",
    "LoanSchedule",
    "PayoutRequest",
    "Repayment",
    "RepaymentAllocation",
    "RevenueReport",
    "Account",
    "BankStatementImport",
    "BankStatementLine",
    "Disbursement",
    "KnowledgeTestPass",
    "Leg",
    "MatchAllocation",
    "MatchingPool",
    "Offering",
    "Payment",
    "Pledge",
    "PledgePlan",
    "ProviderEvent",
    "Refund",
    "Transaction",
]
