"""Structured creditor references: one scheme builder and one reader serve pledges, loan
repayments and revenue shares."""

import pytest
from stdnum import iso11649

from finance import references


def test_a_reference_has_iso_11649_check_digits_computed_as_the_standard_says():
    # The standard's own recipe, spelled out: move "RF00" to the end, letters to numbers
    # (A=10 ... Z=35), and the check digits are 98 minus the remainder modulo 97.
    body = "PU000000000007"
    digits = "".join(str(int(c, 36)) for c in body + "RF00")
    expected = f"RF{98 - int(digits) % 97:02d}{body}"

    assert references.structured_reference(references.PLEDGE, 7) == expected == "RF73PU000000000007"
    assert iso11649.is_valid(expected)


@pytest.mark.parametrize(
    "prefix", [references.PLEDGE, references.LOAN_REPAYMENT, references.REVENUE_SHARE]
)
@pytest.mark.parametrize("number", [1, 97, 123_456, 999_999_999_999])
def test_each_scheme_reads_back_the_number_it_wrote(prefix, number):
    reference = references.structured_reference(prefix, number)

    assert iso11649.is_valid(reference)
    assert references.number_in_reference(reference, prefix) == number
    # As a payer types it: grouped by four, in lower case.
    assert references.number_in_reference(iso11649.format(reference).lower(), prefix) == number


def test_no_two_schemes_make_the_same_reference_and_none_reads_another():
    made = {
        prefix: references.structured_reference(prefix, 42)
        for prefix in (references.PLEDGE, references.LOAN_REPAYMENT, references.REVENUE_SHARE)
    }

    assert len(set(made.values())) == 3
    for prefix, reference in made.items():
        for other in made:
            if other != prefix:
                assert references.number_in_reference(reference, other) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "RF00PU000000000007",  # wrong check digits
        "PU000000000007",  # no RF and check digits
        references.structured_reference(references.PLEDGE, 7)[:-1],  # a digit lost: invalid
        "RF" + "18" + "PU00000000007",  # eleven digits
    ],
)
def test_what_is_not_a_reference_of_the_scheme_names_nothing(text):
    assert references.number_in_reference(text, references.PLEDGE) is None


def test_a_valid_reference_with_the_right_prefix_but_not_twelve_digits_names_nothing():
    body = "PU0000000000007"  # thirteen digits
    digits = "".join(str(int(c, 36)) for c in body + "RF00")
    reference = f"RF{98 - int(digits) % 97:02d}{body}"

    assert iso11649.is_valid(reference)
    assert references.number_in_reference(reference, references.PLEDGE) is None
