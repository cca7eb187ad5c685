"""What a project's offerings may raise, pledges and matching funds together,
fits in what the project seeks: checked where staff and local governments set
offerings and matching pools up. Bonds belong to no project and are left out."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from finance import services
from finance.offerings import MatchingPool, Offering
from projects.models import Project
from tests.conftest import enable_totp
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

from .builders import make_offering

pytestmark = pytest.mark.django_db

D = Decimal
SOUGHT = D("10000")


@pytest.fixture
def project(territory):
    return Project.objects.create(
        owner=UserFactory(),
        title="School kitchen",
        status="approved",
        territory=territory,
        currency="USD",
        funding_sought=SOUGHT,
    )


def unsaved(project, **fields) -> Offering:
    now = timezone.now()
    values = {
        "project": project,
        "title": "Stoves",
        "instrument": "donation_matching",
        "currency": "USD",
        "target": D("1000"),
        "min_ticket": D("10"),
        "opens_at": now,
        "closes_at": now + datetime.timedelta(days=30),
        "status": Offering.Status.DRAFT,
    }
    return Offering(**values | fields)


def pool_for(offering, cap, *, name="Municipio") -> MatchingPool:
    return services.matching_pool_create(
        offering=offering,
        sponsor=OrganizationFactory(name=name),
        ratio=D("1"),
        cap_per_offering=D(cap),
        by=UserFactory(is_staff=True),
    )


def errors_of(offering) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        offering.full_clean()
    return raised.value.message_dict


def test_an_offering_past_the_project_s_amount_is_refused_with_the_figures(project):
    errors = errors_of(unsaved(project, target=D("10000.01")))
    assert errors == {
        "target": [
            "This offering could raise $10,000.01: $10,000.01 in pledges and $0.00 from its "
            "matching sponsors. Its project seeks $10,000.00, of which its other offerings "
            "account for $0.00, so at most $10,000.00 is left for this one."
        ]
    }


def test_an_offering_of_exactly_the_project_s_amount_is_accepted(project):
    unsaved(project, target=SOUGHT).full_clean()
    unsaved(project, target=D("6000"), hard_cap=SOUGHT).full_clean()


def test_the_hard_cap_is_what_pledges_may_reach(project):
    errors = errors_of(unsaved(project, target=D("6000"), hard_cap=D("10001")))
    assert list(errors) == ["hard_cap"]
    assert "could raise $10,001.00" in errors["hard_cap"][0]


def test_the_offering_s_matching_caps_count(project):
    offering = make_offering(project=project, target=D("6000"), status="draft")
    pool_for(offering, "4000")
    offering.full_clean()  # 6,000 and 4,000: exactly what the project seeks
    offering.target = D("6000.01")
    assert errors_of(offering)["target"] == [
        "This offering could raise $10,000.01: $6,000.01 in pledges and $4,000.00 from its "
        "matching sponsors. Its project seeks $10,000.00, of which its other offerings "
        "account for $0.00, so at most $10,000.00 is left for this one."
    ]


def test_other_offerings_of_the_project_count_with_their_matching(project):
    first = make_offering(project=project, target=D("3000"), hard_cap=D("4000"))
    pool_for(first, "1000")
    unsaved(project, target=D("5000")).full_clean()
    errors = errors_of(unsaved(project, target=D("5001")))
    assert errors["target"] == [
        "This offering could raise $5,001.00: $5,001.00 in pledges and $0.00 from its "
        "matching sponsors. Its project seeks $10,000.00, of which its other offerings "
        "account for $5,000.00, so at most $5,000.00 is left for this one."
    ]
    # Another draft counts as well.
    make_offering(project=project, target=D("1000"), status="draft")
    assert "at most $4,000.00 is left" in errors_of(unsaved(project, target=D("5000")))["target"][0]


def test_a_failed_offering_counts_for_nothing(project):
    now = timezone.now()
    failed = make_offering(
        project=project,
        target=D("9500"),
        opens_at=now - datetime.timedelta(days=40),
        closes_at=now - datetime.timedelta(days=10),
    )
    pool_for(failed, "500")
    Offering.objects.filter(pk=failed.pk).update(status=Offering.Status.FAILED)
    unsaved(project, target=SOUGHT).full_clean()


def test_a_closed_offering_counts_for_what_it_raised(project):
    """Keep what you raise: one that closed below its target leaves the rest to seek."""
    done = make_offering(project=project, target=D("8000"), funding_rule="keep")
    pool = pool_for(done, "1000")
    Offering.objects.filter(pk=done.pk).update(status=Offering.Status.SUCCEEDED, reserved=D("3000"))
    MatchingPool.objects.filter(pk=pool.pk).update(committed=D("500"))
    unsaved(project, target=D("6500")).full_clean()
    errors = errors_of(unsaved(project, target=D("6500.01")))
    assert "its other offerings account for $3,500.00, so at most $6,500.00" in errors["target"][0]


def test_an_offering_is_not_counted_against_itself(project):
    offering = make_offering(project=project, target=SOUGHT, status="draft")
    offering.title = "Stoves and pans"
    offering.full_clean()


def test_an_offering_in_another_currency_than_the_project_s_is_refused(project):
    errors = errors_of(unsaved(project, currency="EUR"))
    assert errors == {
        "currency": ["The project seeks its amount in USD: its offerings raise USD too, not EUR."]
    }


def test_opening_a_draft_that_no_longer_fits_is_refused(project):
    draft = make_offering(project=project, target=D("6000"), status="draft")
    make_offering(project=project, target=D("5000"))
    with pytest.raises(ValidationError) as raised:
        services.offering_open(offering=draft, by=UserFactory(is_staff=True))
    assert "at most $5,000.00 is left" in raised.value.message_dict["target"][0]
    draft.refresh_from_db()
    assert draft.status == Offering.Status.DRAFT


def test_bonds_belong_to_no_project_and_are_not_measured_against_one(project):
    issuer = OrganizationFactory(kind="local_government", territory=project.territory)
    bond = unsaved(
        None,
        issuer=issuer,
        instrument="bond",
        target=D("250000"),
        min_ticket=D("100"),
        face_value=D("100"),
        annual_rate=D("0.055"),
        tenor_months=36,
        periods_per_year=2,
        day_count="30/360 US",
    )
    bond.full_clean()


# --- Matching pools ----------------------------------------------------------------------------


def test_a_pool_whose_cap_takes_the_offering_past_the_project_is_refused(project):
    offering = make_offering(project=project, target=D("8000"))
    with pytest.raises(ValidationError) as raised:
        pool_for(offering, "2000.01")
    assert raised.value.message_dict == {
        "cap_per_offering": [
            "This offering could raise $10,000.01: $8,000.00 in pledges and $2,000.01 from its "
            "matching sponsors. Its project seeks $10,000.00, of which its other offerings "
            "account for $0.00, so at most $10,000.00 is left for this one."
        ]
    }
    assert not MatchingPool.objects.exists()
    pool_for(offering, "1500")
    with pytest.raises(ValidationError) as raised:
        pool_for(offering, "500.01", name="Estado")
    assert (
        "$2,000.01 from its matching sponsors" in raised.value.message_dict["cap_per_offering"][0]
    )
    pool_for(offering, "500", name="Estado")  # exactly the project's amount
    assert MatchingPool.objects.count() == 2


def test_a_pool_counts_the_project_s_other_offerings(project):
    make_offering(project=project, target=D("4000"))
    offering = make_offering(project=project, target=D("4000"))
    with pytest.raises(ValidationError):
        pool_for(offering, "2001")
    pool_for(offering, "2000")


def test_editing_a_pool_does_not_count_its_old_cap(project):
    offering = make_offering(project=project, target=D("8000"))
    pool = pool_for(offering, "1000")
    pool.cap_per_offering = D("2000")
    pool.full_clean()
    pool.cap_per_offering = D("2000.01")
    with pytest.raises(ValidationError) as raised:
        pool.full_clean()
    assert list(raised.value.message_dict) == ["cap_per_offering"]


def test_a_local_government_sees_the_limit_at_the_cap_field(client, project, territory):
    offering = make_offering(project=project, target=D("9000"))
    government = OrganizationFactory(kind="local_government", territory=territory)
    member = MembershipFactory(organization=government, role="admin").user
    enable_totp(member)
    client.force_login(member)
    url = f"/en/matching/offerings/{offering.pk}/new/"
    response = client.post(
        url, {"sponsor": government.pk, "ratio": "1", "cap_per_offering": "1500"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["cap_per_offering"] == [
        "This offering could raise $10,500.00: $9,000.00 in pledges and $1,500.00 from its "
        "matching sponsors. Its project seeks $10,000.00, of which its other offerings "
        "account for $0.00, so at most $10,000.00 is left for this one."
    ]
    assert not MatchingPool.objects.exists()
    response = client.post(
        url, {"sponsor": government.pk, "ratio": "1", "cap_per_offering": "1000"}
    )
    assert response.status_code == 302
    assert MatchingPool.objects.get().cap_per_offering == D("1000")


def _staff_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    enable_totp(staff)
    client.force_login(staff)
    return client


def _admin_form(project, **fields) -> dict:
    return {
        "project": project.pk,
        "issuer": "",
        "title": "Stoves for the kitchen",
        "instrument": "donation_matching",
        "currency": "USD",
        "target": "8000",
        "hard_cap": "",
        "min_ticket": "10",
        "max_ticket": "",
        "opens_at": "2030-01-01 09:00",
        "closes_at": "2030-02-01 09:00",
        "funding_rule": "all_or_nothing",
        "annual_rate": "",
        "tenor_months": "",
        "schedule_type": "",
        "periods_per_year": "",
        "day_count": "",
        "face_value": "",
        "revenue_share": "",
        "cap_multiple": "",
    } | fields


def test_staff_see_the_limit_in_the_admin(client, project):
    client = _staff_client(client)
    make_offering(project=project, target=D("3000"))
    response = client.post(
        reverse("offering:add"), _admin_form(project, target="5000", hard_cap="7001")
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "hard_cap": [
            "This offering could raise $7,001.00: $7,001.00 in pledges and $0.00 from its "
            "matching sponsors. Its project seeks $10,000.00, of which its other offerings "
            "account for $3,000.00, so at most $7,000.00 is left for this one."
        ]
    }
    assert "so at most $7,000.00 is left for this one." in response.content.decode()
    response = client.post(
        reverse("offering:add"), _admin_form(project, target="7000", hard_cap="7000")
    )
    assert response.status_code == 302, response.context["form"].errors
    assert Offering.objects.filter(project=project).count() == 2


def test_staff_raising_a_pool_s_cap_in_the_admin_are_refused(client, project):
    client = _staff_client(client)
    offering = make_offering(project=project, target=D("8000"))
    pool = pool_for(offering, "1000")
    response = client.post(
        reverse("matchingpool:edit", args=[pool.pk]),
        {
            "offering": offering.pk,
            "sponsor": pool.sponsor_id,
            "ratio": "1",
            "cap_per_offering": "2500",
            "cap_per_contributor": "",
        },
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["cap_per_offering"]
    pool.refresh_from_db()
    assert pool.cap_per_offering == D("1000")
