"""The catalogue's funding figures (amount raised, percent funded) stay exact
as payments add to them one UPDATE at a time: no rounding that builds up in
three-decimal currencies, no binary-float percent on SQLite."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from projects.models import Project
from tests.factories import UserFactory

from .builders import make_offering, make_pledge, pay

pytestmark = pytest.mark.django_db
D = Decimal


def project_seeking(amount: str, currency: str) -> Project:
    return Project.objects.create(
        owner=UserFactory(),
        title="Cooperative still",
        status=Project.Status.APPROVED,
        funding_sought=D(amount),
        currency=currency,
    )


def figures(project) -> tuple[Decimal, int]:
    project.refresh_from_db()
    return project.amount_raised, project.funded_percent


def test_fils_do_not_add_up_rounding_errors():
    project = project_seeking("10", "KWD")
    offering = make_offering(project=project, currency="KWD", target=D("10"), min_ticket=D("0.005"))
    for amount in ("0.095", "0.900"):
        pay(make_pledge(offering, amount))
    # 0.995 of 10 is 9.95 %: 9, not the 10 % a total rounded to 0.10 + 0.90 gave.
    assert figures(project) == (D("1.00"), 9)
    for _ in range(3):
        pay(make_pledge(offering, "0.005"))
    # 1.010 raised, shown with cents once: 1.01, not 1.03 from five roundings.
    assert figures(project) == (D("1.01"), 10)
    call_command("reconcile", "--strict", verbosity=0)


def test_the_percent_is_floored_from_exact_decimals():
    project = project_seeking("1.00", "USD")
    offering = make_offering(project=project, target=D("1.00"), min_ticket=D("0.01"))
    pay(make_pledge(offering, "0.29"))
    # 0.29 x 100 is 28.999... in binary floating point; the project is 29 % funded.
    assert figures(project) == (D("0.29"), 29)
