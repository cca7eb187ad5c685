"""Terms that would make no repayment or coupon schedule are refused when the offering is
validated (saved in the admin, opened), not after the money was taken."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from finance.daycount import DayCount
from finance.exceptions import ScheduleError
from finance.money import Money
from finance.offerings import MAX_TENOR_MONTHS, Offering
from finance.schedules import bond_schedule, loan_period_count
from finance.services import offering_open
from tests.conftest import enable_totp
from tests.factories import OrganizationFactory, UserFactory

from .builders import make_offering

pytestmark = pytest.mark.django_db

LOAN = {
    "instrument": "loan",
    "annual_rate": Decimal("0.08"),
    "tenor_months": 24,
    "periods_per_year": 4,
    "schedule_type": "annuity",
}
BOND = {
    "instrument": "bond",
    "annual_rate": Decimal("0.05"),
    "tenor_months": 36,
    "periods_per_year": 2,
    "day_count": "ACT/ACT ICMA",
    "face_value": Decimal("100"),
    "min_ticket": Decimal("100"),
}
REVENUE_SHARE = {
    "instrument": "revenue_share",
    "revenue_share": Decimal("0.05"),
    "cap_multiple": Decimal("1.5"),
}


def offering(terms: dict, **changes) -> Offering:
    values = {**terms, **changes, "status": Offering.Status.DRAFT}
    if values["instrument"] == "bond":
        values["issuer"] = OrganizationFactory()
    return make_offering(**values)


def field_errors(offering: Offering) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        offering.full_clean()
    return refused.value.message_dict


@pytest.mark.parametrize("terms", [LOAN, BOND, REVENUE_SHARE])
def test_good_terms_pass(terms):
    offering(terms).full_clean()


@pytest.mark.parametrize(
    ("tenor_months", "periods_per_year", "message"),
    [
        # 7 months with a payment every 3: the third would fall 2 months after the tenor.
        (7, 4, "every 3 months: give a tenor that is a multiple of 3 months (7 is not)"),
        (18, 1, "every 12 months: give a tenor that is a multiple of 12 months (18 is"),
        (3, 2, "every 6 months: give a tenor that is a multiple of 6 months (3 is not)"),
        (0, 4, "The tenor must be at least one month"),
        (None, 4, "Give the tenor in months."),
        (MAX_TENOR_MONTHS + 12, 12, f"at most {MAX_TENOR_MONTHS} months"),
    ],
)
def test_a_loan_tenor_that_makes_no_schedule_is_refused(tenor_months, periods_per_year, message):
    errors = field_errors(
        offering(LOAN, tenor_months=tenor_months, periods_per_year=periods_per_year)
    )
    assert list(errors) == ["tenor_months"]
    assert message in errors["tenor_months"][0]


@pytest.mark.parametrize(("tenor_months", "periods_per_year"), [(7, 12), (6, 2), (36, 4), (12, 1)])
def test_a_loan_tenor_of_whole_periods_passes(tenor_months, periods_per_year):
    offering(LOAN, tenor_months=tenor_months, periods_per_year=periods_per_year).full_clean()


def test_loan_payments_per_year_outside_the_choices_is_one_error_on_that_field():
    errors = field_errors(offering(LOAN, tenor_months=7, periods_per_year=3))
    assert errors == {"periods_per_year": ["Payments per year must be 1, 2, 4 or 12."]}


def test_the_rule_is_the_one_that_counts_installments():
    assert loan_period_count(24, 4) == 8
    assert loan_period_count(7, 12) == 7
    for tenor_months, periods_per_year in [(7, 4), (0, 12), (12, 5)]:
        with pytest.raises(ScheduleError):
            loan_period_count(tenor_months, periods_per_year)


def test_a_loan_with_such_terms_cannot_be_opened():
    loan = offering(LOAN, tenor_months=7)
    with pytest.raises(ValidationError) as refused:
        offering_open(offering=loan, by=None)
    assert list(refused.value.message_dict) == ["tenor_months"]
    loan.refresh_from_db()
    assert loan.status == Offering.Status.DRAFT


@pytest.mark.parametrize(
    ("tenor_months", "message"),
    [
        (0, "The tenor must be at least one month"),
        (None, "Give the tenor in months."),
        # 8,000 years after any issue date is outside the calendar.
        (12 * 8000, f"at most {MAX_TENOR_MONTHS} months ({MAX_TENOR_MONTHS // 12} years)"),
    ],
)
def test_a_bond_tenor_that_makes_no_schedule_is_refused(tenor_months, message):
    errors = field_errors(offering(BOND, tenor_months=tenor_months))
    assert list(errors) == ["tenor_months"]
    assert message in errors["tenor_months"][0]


@pytest.mark.parametrize(("tenor_months", "periods_per_year"), [(7, 4), (2, 2), (1, 1)])
def test_a_bond_tenor_short_of_whole_coupon_periods_passes_and_makes_a_schedule(
    tenor_months, periods_per_year
):
    # The issue date is fixed at disbursement; counted back from maturity, the coupon dates
    # stop at the issue date and the first coupon is short: a schedule from any issue date,
    # with no coupon before the issue and maturity after it.
    bond = offering(BOND, tenor_months=tenor_months, periods_per_year=periods_per_year)
    bond.full_clean()
    for issue in (date(2025, 1, 31), date(2024, 2, 29), date(2025, 6, 15)):
        periods = bond_schedule(
            issue,
            tenor_months=bond.tenor_months,
            frequency=bond.periods_per_year,
            rate=bond.annual_rate,
            face=Money(bond.face_value, bond.currency),
            day_count=DayCount(bond.day_count),
        )
        assert periods[0].accrual_start == issue
        assert periods[0].is_stub
        assert all(p.accrual_start < p.accrual_end for p in periods)
        assert len(periods) == -(-tenor_months * periods_per_year // 12)


def test_the_longest_tenor_still_makes_a_schedule():
    bond = offering(BOND, tenor_months=MAX_TENOR_MONTHS, periods_per_year=12)
    bond.full_clean()
    periods = bond_schedule(
        date(2025, 1, 31),
        tenor_months=bond.tenor_months,
        frequency=12,
        rate=bond.annual_rate,
        face=Money(bond.face_value, bond.currency),
        day_count=DayCount.THIRTY_360_US,
    )
    assert periods[-1].accrual_end == date(2125, 1, 31)
    assert len(periods) == MAX_TENOR_MONTHS


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"cap_multiple": Decimal("1")}, "cap_multiple", "The cap multiple must be above 1."),
        ({"cap_multiple": Decimal("0.5")}, "cap_multiple", "The cap multiple must be above 1."),
        ({"cap_multiple": None}, "cap_multiple", "The cap multiple must be above 1."),
        ({"revenue_share": Decimal("0")}, "revenue_share", "Give the share of revenue"),
        ({"revenue_share": Decimal("1")}, "revenue_share", "Give the share of revenue"),
    ],
)
def test_revenue_share_terms_that_repay_nothing_are_refused(changes, field, message):
    errors = field_errors(offering(REVENUE_SHARE, **changes))
    assert list(errors) == [field]
    assert message in errors[field][0]


# The Wagtail admin form


def admin_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    enable_totp(staff)
    client.force_login(staff)
    return client


def admin_form() -> dict:
    project = make_offering().project
    return {
        "project": project.pk,
        "issuer": "",
        "title": "Looms for the weavers",
        "instrument": "loan",
        "currency": "USD",
        "target": "5000",
        "hard_cap": "",
        "min_ticket": "10",
        "max_ticket": "",
        "opens_at": "2030-01-01 09:00",
        "closes_at": "2030-02-01 09:00",
        "funding_rule": "all_or_nothing",
        "annual_rate": "0.08",
        "tenor_months": "24",
        "schedule_type": "annuity",
        "periods_per_year": "4",
        "day_count": "",
        "face_value": "",
        "revenue_share": "",
        "cap_multiple": "",
    }


def test_the_admin_form_shows_term_errors_by_their_fields(client):
    client = admin_client(client)
    form_data = admin_form()
    before = Offering.objects.count()
    response = client.post(reverse("offering:add"), form_data | {"tenor_months": "7"})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {
        "tenor_months": [
            "With 4 payments a year, a payment falls every 3 months: give a tenor that is a "
            "multiple of 3 months (7 is not)."
        ]
    }
    assert "a multiple of 3 months (7 is not)" in response.content.decode()
    assert Offering.objects.count() == before

    response = client.post(reverse("offering:add"), form_data | {"tenor_months": "0"})
    assert list(response.context["form"].errors) == ["tenor_months"]
    response = client.post(
        reverse("offering:add"),
        form_data | {"instrument": "revenue_share", "revenue_share": "0.05", "cap_multiple": "1"},
    )
    assert response.context["form"].errors == {
        "cap_multiple": ["The cap multiple must be above 1."]
    }
    assert Offering.objects.count() == before

    response = client.post(reverse("offering:add"), form_data)
    assert response.status_code == 302, response.context["form"].errors
    assert Offering.objects.get(title="Looms for the weavers").tenor_months == 24


@pytest.mark.parametrize(
    ("field", "value"), [("target", "50050"), ("hard_cap", "80050"), ("max_ticket", "250")]
)
def test_bond_sizes_are_whole_numbers_of_bonds_whichever_form_saves_them(field, value):
    offering = make_offering(
        status="draft",
        instrument="bond",
        face_value=Decimal("100"),
        min_ticket=Decimal("100"),
        target=Decimal("50000"),
        hard_cap=Decimal("80000"),
        annual_rate=Decimal("0.05"),
        tenor_months=24,
        periods_per_year=2,
        day_count=Offering.DayCount.US_30_360,
        issuer=OrganizationFactory(),
    )
    offering.full_clean()
    setattr(offering, field, Decimal(value))
    with pytest.raises(ValidationError) as refused:
        offering.full_clean()
    assert set(refused.value.message_dict) == {field}


def test_an_offering_without_project_or_issuer_is_told_what_to_choose():
    offering = make_offering(status="draft")
    offering.project = None
    with pytest.raises(ValidationError) as refused:
        offering.validate_constraints()
    assert "belongs to a project or, for a bond, to its issuer" in str(refused.value)
