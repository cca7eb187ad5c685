"""The home page's featured offerings: chosen by editors, or picked from the live
catalogue (closing soonest, most funded, or both in turn) with each offering's
funding computed in the same query."""

import datetime
import re
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cms.models import HomeFeaturedOffering, HomePage, OfferingPick, featured_offerings

MAX_QUERIES = 15
_keys = count()


@pytest.fixture
def home(cms_seeded):
    return HomePage.objects.get(locale__language_code="en")


@pytest.fixture
def make_offering(cms_seeded, user):
    from finance.offerings import Offering
    from portal.models import Territory
    from projects.models import Project

    territory = Territory.objects.filter(level="municipality").order_by("pk").first()
    now = timezone.now()

    def make(title, *, closes_in_days, paid=(), status="open", opens_in_days=-1, target="1000"):
        project = Project.objects.create(
            owner=user, title=f"Project {title}", status="approved", territory=territory
        )
        offering = Offering.objects.create(
            project=project,
            title=title,
            instrument="donation_matching",
            currency="USD",
            target=Decimal(target),
            min_ticket=Decimal("1"),
            opens_at=now + datetime.timedelta(days=opens_in_days),
            closes_at=now + datetime.timedelta(days=closes_in_days),
            status=status,
        )
        for amount in paid:
            pledge(offering, amount)
        return offering

    def pledge(offering, amount, status="paid"):
        from finance.offerings import Pledge

        return Pledge.objects.create(
            offering=offering,
            investor=user,
            amount=Decimal(amount),
            currency="USD",
            method="card",
            status=status,
            idempotency_key=f"k{next(_keys)}",
            expires_at=now + datetime.timedelta(days=1),
        )

    make.pledge = pledge
    return make


@pytest.fixture
def catalogue(make_offering):
    """Four open offerings and three that must never be featured."""
    offerings = {
        "soonest": make_offering("Soonest", closes_in_days=2),
        "second": make_offering("Second soonest", closes_in_days=3, paid=["100"]),
        "funded": make_offering("Most funded", closes_in_days=30, paid=["500", "400"]),
        "half": make_offering("Half funded", closes_in_days=20, paid=["500"]),
    }
    make_offering("Draft", closes_in_days=1, paid=["990"], status="draft")
    make_offering("Not open yet", closes_in_days=9, opens_in_days=2)
    make_offering("Window passed", closes_in_days=-1, opens_in_days=-10, paid=["999"])
    # A pending pledge is not money raised.
    make_offering.pledge(offerings["soonest"], "800", status="pending")
    return offerings


def titles(offerings):
    return [offering.title for offering in offerings]


def test_closing_soon_and_most_funded_in_turn_by_default(home, catalogue):
    assert home.offerings_picked_by == OfferingPick.BOTH
    picked = featured_offerings(home)
    assert titles(picked) == ["Soonest", "Most funded", "Second soonest"]
    assert [o.funded_percent for o in picked] == [0, 90, 10]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (OfferingPick.CLOSING_SOON, ["Soonest", "Second soonest", "Half funded"]),
        (OfferingPick.MOST_FUNDED, ["Most funded", "Half funded", "Second soonest"]),
    ],
)
def test_each_rule_picks_from_open_offerings_only(home, catalogue, rule, expected):
    home.offerings_picked_by = rule
    assert titles(featured_offerings(home)) == expected


def test_matching_money_counts_towards_funding(home, catalogue, make_offering):
    from finance.offerings import MatchAllocation, MatchingPool
    from portal.models import Organization

    second = catalogue["second"]
    sponsor = Organization.objects.filter(kind="local_government").first()
    pool = MatchingPool.objects.create(
        offering=second,
        sponsor=sponsor,
        ratio=Decimal("3"),
        cap_per_offering=Decimal("1000"),
        committed=Decimal("900"),
    )
    MatchAllocation.objects.create(pool=pool, pledge=second.pledges.get(), amount=Decimal("900"))
    home.offerings_picked_by = OfferingPick.MOST_FUNDED
    picked = featured_offerings(home)
    # 100 pledged and 900 matched, of the 1,000 pledges may bring and the 1,000 the
    # sponsor may add: half of what the offering can raise, as the project page counts it.
    assert titles(picked) == ["Most funded", "Second soonest", "Half funded"]
    assert picked[1].funded_percent == 50


def test_offerings_chosen_by_editors_come_first_and_in_their_order(home, catalogue):
    from finance.offerings import Offering

    draft = Offering.objects.get(title="Draft")
    for order, offering in enumerate((catalogue["half"], draft, catalogue["soonest"])):
        HomeFeaturedOffering.objects.create(page=home, offering=offering, sort_order=order)
    picked = featured_offerings(HomePage.objects.get(pk=home.pk))
    assert titles(picked) == ["Half funded", "Soonest"]  # the draft is not open
    assert picked[0].funded_percent == 50


def test_home_page_shows_the_offerings_with_their_funding(home, catalogue, client):
    html = client.get("/en/").content.decode()
    section = html.split('id="offerings-title"')[1].split("</section>")[0]
    assert re.findall(r"<h3><a [^>]*>([^<]+)</a></h3>", section) == [
        "Soonest",
        "Most funded",
        "Second soonest",
    ]
    assert "90% funded" in section and 'style="width: 90%"' in section
    assert "Draft" not in section and "Window passed" not in section


def _home_queries(client) -> int:
    client.get("/en/")  # warm the caches, as in production
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/en/").status_code == 200
    return len(queries)


def test_home_page_queries_do_not_grow_with_the_offerings_shown(
    home, make_offering, client, django_assert_max_num_queries
):
    make_offering("Only one", closes_in_days=5, paid=["10"])
    with_one = _home_queries(client)
    print(f"home page with featured offerings: {with_one} queries")
    for number in range(5):
        make_offering(f"More {number}", closes_in_days=6 + number, paid=["20", "30"])
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get("/en/").status_code == 200
    assert _home_queries(client) == with_one
    html = client.get("/en/").content.decode()
    assert html.count('class="funding-bar"') == 3
