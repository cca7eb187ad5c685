"""The pledge pages as an investor uses them."""

import re
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.html import escape

from finance import services
from finance.forms import PledgeForm
from finance.offerings import KnowledgeTestPass, Pledge
from portal.models import Organization
from tests.factories import OrganizationFactory, TerritoryFactory, UserFactory

from .builders import make_offering

pytestmark = pytest.mark.django_db


@pytest.fixture
def investor(client):
    person = UserFactory(verification_tier="enhanced")
    client.force_login(person)
    return person


def form_key(html: str) -> str:
    return re.search(r'name="key" value="([^"]+)"', html).group(1)


def test_choose_amount_see_fee_confirm_then_pay_page(client, investor):
    offering = make_offering()
    page = client.get(f"/en/offerings/{offering.pk}/pledge/").content.decode()
    key = form_key(page)
    review = client.post(
        f"/en/offerings/{offering.pk}/pledge/", {"amount": "250", "method": "card", "key": key}
    )
    text = review.content.decode()
    assert review.status_code == 200
    assert "$3.75" in text and "$253.75" in text  # 1.5% card fee, shown before confirming
    assert "reflection" not in text or "4 days" in text
    assert not Pledge.objects.exists()
    data = {"amount": "250", "method": "card", "key": key, "confirm": "1"}
    first = client.post(f"/en/offerings/{offering.pk}/pledge/", data)
    again = client.post(f"/en/offerings/{offering.pk}/pledge/", data)  # double click
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Pledge.objects.count() == 1


def test_bad_amount_is_refused_next_to_the_field_and_kept(client, investor):
    offering = make_offering()
    response = client.post(
        f"/en/offerings/{offering.pk}/pledge/",
        {"amount": "abc", "method": "card", "key": "k1", "confirm": "1"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter an amount such as 250" in html and 'value="abc"' in html
    response = client.post(
        f"/en/offerings/{offering.pk}/pledge/",
        {"amount": "5", "method": "card", "key": "k2", "confirm": "1"},
    )
    assert response.status_code == 400 and "minimum pledge" in response.content.decode()
    assert not Pledge.objects.exists()


def test_forms_share_their_fields_but_nothing_of_one_request_reaches_the_next(client, investor):
    """The pledge form's fields are shared between forms, not copied for each."""
    offering = make_offering()
    first, second = PledgeForm(offering=offering), PledgeForm(offering=offering)
    assert first.fields["amount"] is second.fields["amount"]
    assert first.fields is not second.fields
    refused = client.post(
        f"/en/offerings/{offering.pk}/pledge/",
        {"amount": "abc", "method": "bank_transfer", "key": "k1", "confirm": "1"},
    ).content.decode()
    assert 'aria-invalid="true"' in refused and 'value="abc"' in refused
    fresh = client.get(f"/en/offerings/{offering.pk}/pledge/").content.decode()
    assert "aria-invalid" not in fresh and "abc" not in fresh
    assert 'value="card"' in fresh and re.search(r'value="card"[^>]*checked', fresh)
    assert form_key(fresh) != "k1"


def test_lock_timeout_answers_503_with_retry_after(client, investor, monkeypatch):
    offering = make_offering()

    def busy(*args, **kwargs):
        raise services.OfferingBusy("busy")

    monkeypatch.setattr(services, "_lock_offering", busy)
    response = client.post(
        f"/en/offerings/{offering.pk}/pledge/",
        {"amount": "100", "method": "card", "key": "k", "confirm": "1"},
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "try again" in response.content.decode()


def test_bank_transfer_page_shows_reference_and_amount(client, investor):
    offering = make_offering(currency="EUR")
    pledge = services.pledge_create(
        offering=offering,
        investor=investor,
        amount=Decimal("80"),
        method="bank_transfer",
        idempotency_key="bt",
    )
    html = client.get(f"/en/pledges/{pledge.pk}/").content.decode()
    assert pledge.bank_reference in html and "€80.00" in html


def test_someone_elses_pledge_is_not_found(client, investor):
    offering = make_offering()
    other = services.pledge_create(
        offering=offering,
        investor=UserFactory(verification_tier="enhanced"),
        amount=Decimal("50"),
        method="bank_transfer",
        idempotency_key="x",
    )
    assert client.get(f"/en/pledges/{other.pk}/").status_code == 404
    assert client.post(f"/en/pledges/{other.pk}/cancel/").status_code == 404
    other.refresh_from_db()
    assert other.status == Pledge.Status.PENDING


def test_loan_pledge_sends_to_the_knowledge_test_first_and_passing_unlocks_it(client, investor):
    offering = make_offering(
        instrument="loan",
        annual_rate=Decimal("0.08"),
        tenor_months=12,
        periods_per_year=12,
        schedule_type="annuity",
    )
    response = client.get(f"/en/offerings/{offering.pk}/pledge/")
    assert response.status_code == 302 and "/knowledge-test/" in response["Location"]
    from finance.knowledge import questions

    asked = questions("en")
    assert len(asked) >= 3
    wrong = {q.key: (q.correct + 1) % len(q.choices) for q in asked}
    response = client.post("/en/knowledge-test/", {**wrong, "acknowledge_risk": "on"})
    assert response.status_code == 200 and not hasattr(investor, "knowledge_test")
    # Each wrong answer is explained: why the answer chosen is not right.
    html = response.content.decode()
    for question in asked:
        explanation = question.feedback[wrong[question.key]]
        assert escape(explanation) in html, explanation
    assert html.count('<span class="question-number">') == len(asked)
    right = {q.key: q.correct for q in asked}
    response = client.post(
        f"/en/knowledge-test/?next=/en/offerings/{offering.pk}/pledge/",
        {**right, "acknowledge_risk": "on"},
    )
    assert response.status_code == 302
    assert client.get(f"/en/offerings/{offering.pk}/pledge/").status_code == 200


def test_the_test_s_choices_are_shuffled_the_same_way_for_each_person(client, investor):
    import re

    from finance.knowledge import questions

    asked = questions("en")

    def shown_order(person) -> list[list[str]]:
        client.force_login(person)
        html = client.get("/en/knowledge-test/").content.decode()
        return [re.findall(rf'name="{q.key}" value="(\d+)"', html) for q in asked]

    mine = shown_order(investor)
    assert mine == shown_order(investor)  # the same on every visit, and when graded
    assert all(
        sorted(order) == [str(i) for i in range(len(q.choices))] for order, q in zip(mine, asked)
    )
    others = [shown_order(UserFactory()) for _ in range(3)]
    assert any(order != mine for order in others)


def test_always_picking_the_first_choice_does_not_pass():
    from finance.forms import KnowledgeTestForm
    from finance.knowledge import PASS_MARK, questions

    asked = questions("en")
    first_is_right = []
    for person in range(200):
        form = KnowledgeTestForm(questions=asked, order_for=person)
        for question in asked:
            first_is_right.append(form.fields[question.key].choices[0][0] == question.correct)
    # As written, most first choices are right; shuffled, about one in the number of choices.
    assert sum(first_is_right) / len(first_is_right) < 0.45 < PASS_MARK


def test_draft_offering_or_unpublished_project_is_not_found(client, investor):
    offering = make_offering(status="draft")
    assert client.get(f"/en/offerings/{offering.pk}/pledge/").status_code == 404


def test_project_page_shows_open_offerings_and_exhausted_matching(
    client, investor, django_assert_max_num_queries
):
    from finance.offerings import MatchingPool
    from tests.factories import OrganizationFactory

    offering = make_offering()
    project = offering.project
    project.slug = "still-for-the-cooperative"
    project.save()
    MatchingPool.objects.create(
        offering=offering,
        sponsor=OrganizationFactory(name="Estado"),
        ratio=1,
        cap_per_offering=Decimal("100"),
        committed=Decimal("100"),
    )
    MatchingPool.objects.create(
        offering=offering,
        sponsor=OrganizationFactory(name="Municipio"),
        ratio=1,
        cap_per_offering=Decimal("500"),
    )
    client.get(f"/en/projects/{project.slug}/")  # caches warm, as in steady use
    with django_assert_max_num_queries(15):
        html = client.get(f"/en/projects/{project.slug}/").content.decode()
    assert f"/en/offerings/{offering.pk}/pledge/" in html
    assert "Matching funds exhausted" in html
    assert "Estado has given the $100.00 it committed." in html
    assert "Municipio adds 1 for each 1 you give, up to $500.00 in all; $0.00 so far." in html


@pytest.mark.parametrize(
    "language, currency, shown",
    [
        ("en", "USD", ["Minimum pledge: $10.00.", "Maximum pledge: $500.00.", "$5,000.00"]),
        ("fr", "EUR", ["10,00\u00a0€", "500,00\u00a0€", "5\u202f000,00\u00a0€"]),
        ("en", "XOF", ["F\u202fCFA\u00a010", "F\u202fCFA\u00a05,000."]),
    ],
)
def test_the_limits_are_shown_as_money_in_the_page_language(
    client, investor, language, currency, shown
):
    offering = make_offering(currency=currency, max_ticket=Decimal("500"))
    html = client.get(f"/{language}/offerings/{offering.pk}/pledge/").content.decode()
    for text in shown:
        assert text in html
    assert "10.000" not in html and "5000.000" not in html  # the stored scale, unformatted


def test_an_amount_the_offering_refuses_is_refused_before_the_fees_are_shown(client, investor):
    offering = make_offering(max_ticket=Decimal("500"))
    for amount, reason in [("5", "The minimum pledge is $10.00."), ("600", "$500.00")]:
        review = client.post(
            f"/en/offerings/{offering.pk}/pledge/", {"amount": amount, "method": "card", "key": "k"}
        )
        text = review.content.decode()
        assert review.status_code == 400
        assert reason in text
        assert "Confirm pledge" not in text  # no review step
    assert not Pledge.objects.exists()


def test_a_portuguese_amount_that_reads_two_ways_is_asked_again_not_guessed(client, investor):
    offering = make_offering(currency="EUR", target=Decimal("50000"))
    review = client.post(
        f"/pt/offerings/{offering.pk}/pledge/", {"amount": "12.500", "method": "card", "key": "k"}
    )
    assert review.status_code == 400
    assert "12500" in review.content.decode() and "12,5" in review.content.decode()
    review = client.post(
        f"/pt/offerings/{offering.pk}/pledge/",
        {"amount": "12\u00a0500,00", "method": "card", "key": "k"},
    )
    assert review.status_code == 200
    assert "12\u00a0500,00\u00a0€" in review.content.decode()


@pytest.mark.parametrize(
    "language, rate, shown",
    [
        ("en", "0.0600", "Rate 6% a year, 12 months."),
        ("en", "0.05125", "Rate 5.125% a year"),
        ("fr", "0.0550", "5,5\u00a0%"),
        ("pt", "0.0550", "5,5%"),
    ],
)
def test_the_project_page_shows_a_loans_rate_as_a_percentage(client, language, rate, shown):
    offering = make_offering(
        instrument="loan",
        annual_rate=Decimal(rate),
        tenor_months=12,
        periods_per_year=12,
        schedule_type="annuity",
    )
    project = offering.project
    project.slug = "cooperative-still"
    project.save()
    html = client.get(f"/{language}/projects/{project.slug}/").content.decode()
    assert shown in html
    assert rate not in html  # the stored fraction


def test_a_bond_shows_its_terms_before_the_investor_pledges(client, investor):
    issuer = OrganizationFactory(
        kind=Organization.Kind.LOCAL_GOVERNMENT,
        name="Municipio de Jerez",
        territory=TerritoryFactory(),
    )
    offering = make_offering(
        instrument="bond",
        issuer=issuer,
        face_value=Decimal("100"),
        min_ticket=Decimal("100"),
        annual_rate=Decimal("0.0550"),
        periods_per_year=2,
        tenor_months=36,
        day_count="30/360 US",
    )
    KnowledgeTestPass.objects.create(
        investor=investor, score=5, risk_acknowledged_at=timezone.now()
    )
    english = client.get(f"/en/offerings/{offering.pk}/pledge/").content.decode()
    for text in ("Municipio de Jerez", "$100.00", "5.5%", "Twice a year", "36"):
        assert text in english, text
    french = client.get(f"/fr/offerings/{offering.pk}/pledge/").content.decode()
    assert "5,5\u00a0%" in french and "100,00\u00a0$US" in french
