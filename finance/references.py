"""ISO 11649 structured creditor references (RF + two check digits + body) that name what
a bank transfer pays.

Every scheme's body is a two-letter prefix and twelve digits of a database id: pledges
"PU", loan repayments "LN", revenue shares "RV". Same length, different prefixes, so no
two schemes can ever make the same reference, and a reference needs no storage to be
traced back to what it pays. python-stdnum computes and checks the digits."""

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

PLEDGE = "PU"
LOAN_REPAYMENT = "LN"
REVENUE_SHARE = "RV"

_DIGITS = 12


def structured_reference(prefix: str, number: int) -> str:
    """The compact reference for `number` in the scheme `prefix`, e.g.
    ``structured_reference("PU", 7) == "RF73PU000000000007"``."""
    body = f"{prefix}{number:0{_DIGITS}d}"
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"


def number_in_reference(reference: str, prefix: str) -> int | None:
    """The number a reference of the scheme `prefix` names, or None when `reference` is
    not a valid structured reference (spaces and case are forgiven) of that scheme."""
    if not reference or not iso11649.is_valid(reference):
        return None
    body = iso11649.compact(reference)[4:]
    digits = body[len(prefix) :]
    if not body.startswith(prefix) or len(digits) != _DIGITS or not digits.isdigit():
        return None
    return int(digits)
