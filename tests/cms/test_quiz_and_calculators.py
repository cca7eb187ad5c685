"""Quizzes and calculators as plain forms posting back to the lesson (no JavaScript)."""

from decimal import Decimal

import pytest
from django.utils import translation

from cms.calculators import CALCULATORS, LoanForm
from cms.models import CoursePage, QuizAttempt
from finance.money import Money
from finance.schedules import LoanKind, loan_schedule


def _quiz(lesson):
    return next(child for child in lesson.body if child.block_type == "quiz")


def _right_answers(quiz):
    return {
        f"q{n}": str(next(i for i, c in enumerate(q["choices"]) if c["correct"]))
        for n, q in enumerate(quiz.value["questions"])
    }


def test_quiz_answers_get_feedback_without_javascript(lesson, client):
    quiz = _quiz(lesson)
    answers = _right_answers(quiz)
    answers["q0"] = "0"  # "Nothing, because there is no fee": wrong
    response = client.post(f"{lesson.url}quiz/{quiz.id}/", answers)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Not quite." in html and "Correct." in html
    assert quiz.value["questions"][0]["choices"][0]["feedback"].replace("'", "&#x27;") in html
    assert "Log in to save your progress." in html
    assert not QuizAttempt.objects.exists()


def test_quiz_submitted_twice_counts_once_and_shows_on_the_course(lesson, client, user):
    client.force_login(user)
    quiz = _quiz(lesson)
    url = f"{lesson.url}quiz/{quiz.id}/"
    for _ in range(2):
        response = client.post(url, _right_answers(quiz))
        assert "Your progress is saved." in response.content.decode()
    attempt = QuizAttempt.objects.get(user=user)
    assert attempt.correct == attempt.total == len(quiz.value["questions"])
    course = CoursePage.objects.get(pk=lesson.get_parent().pk)
    html = client.get(course.url).content.decode()
    assert "You have completed 1 of 2 lessons." in html
    assert html.count("lesson-item is-complete") == 1
    # The same quiz in Spanish is the same quiz: still one lesson completed.
    spanish = lesson.get_translation(
        lesson.get_translations().get(locale__language_code="es").locale
    )
    client.post(f"{spanish.url}quiz/{quiz.id}/", _right_answers(quiz))
    es_course = course.get_translation(spanish.locale)
    assert client.get(es_course.url).content.decode().count("lesson-item is-complete") == 1
    assert QuizAttempt.objects.filter(user=user).count() == 2  # one row per page and quiz


def test_unknown_quiz_is_not_found_and_get_goes_back_to_the_lesson(lesson, client):
    assert client.post(f"{lesson.url}quiz/nope/", {}).status_code == 404
    quiz = _quiz(lesson)
    response = client.get(f"{lesson.url}quiz/{quiz.id}/")
    assert response.status_code == 302 and response["Location"].startswith(lesson.url)


def test_unanswered_question_is_pointed_out(lesson, client):
    quiz = _quiz(lesson)
    response = client.post(f"{lesson.url}quiz/{quiz.id}/", {"q0": "1"})
    assert "Choose an answer to this question." in response.content.decode()


def _calculator(lesson):
    return next(child for child in lesson.body if child.block_type == "calculator")


def test_remittance_calculator_posts_back_with_the_sdg_comparison(lesson, client):
    block = _calculator(lesson)
    prefix = f"c-{block.id}"
    data = {
        f"{prefix}-amount": "300",
        f"{prefix}-currency": "USD",
        f"{prefix}-fee": "5",
        f"{prefix}-margin_percent": "2.5",
    }
    html = client.post(f"{lesson.url}calculator/{block.id}/", data).content.decode()
    assert "$12.50" in html and "4.17 %" in html and "above the 3 % target" in html


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-5", "Enter a number of at least 1."),
        ("", "Enter a number."),
        ("999999999", "That is more than this calculator handles"),
        ("lots", "Enter a number, using digits"),
        ("NaN", "Enter a number"),
    ],
)
def test_calculator_rejects_bad_input_next_to_the_field_and_keeps_it(
    lesson, client, typed, message
):
    block = _calculator(lesson)
    prefix = f"c-{block.id}"
    data = {
        f"{prefix}-amount": typed,
        f"{prefix}-currency": "USD",
        f"{prefix}-fee": "5",
        f"{prefix}-margin_percent": "2.5",
    }
    response = client.post(f"{lesson.url}calculator/{block.id}/", data)
    assert response.status_code == 200
    html = response.content.decode()
    error_id = f'id="id_{prefix}-amount_error"'
    assert error_id in html and message in html.split(error_id)[1][:200]
    assert f'value="{typed}"' in html or (typed == "" and f'name="{prefix}-amount"' in html)
    assert 'aria-invalid="true"' in html


@pytest.mark.parametrize("kind", list(CALCULATORS))
def test_each_calculator_computes_from_its_defaults(db, kind):
    form_class = CALCULATORS[kind].form_class
    data = {name: field.initial for name, field in form_class.base_fields.items()}
    form = form_class(data)
    result = form.result()
    assert result, form.errors


def test_loan_calculator_uses_the_finance_schedule():
    form = LoanForm(
        {
            "principal": "5000",
            "currency": "USD",
            "annual_rate_percent": "12",
            "months": "24",
            "kind": "annuity",
        }
    )
    result = form.result()
    from django.utils import timezone

    expected = loan_schedule(
        Money("5000", "USD"),
        annual_rate=Decimal("0.12"),
        periods=24,
        periods_per_year=12,
        kind=LoanKind.ANNUITY,
        start_date=timezone.localdate(),
    )
    assert result["first_payment"] == expected[0].payment.format("en")
    assert len(result["rows"]) == 24


def test_bond_at_par_yields_its_coupon():
    form = CALCULATORS["bond"].form_class(
        {
            "face": "1000",
            "currency": "USD",
            "coupon_percent": "6",
            "years": "5",
            "frequency": "2",
            "price": "100",
        }
    )
    result = form.result()
    assert result["yield_percent"] == Decimal("6.00") and result["coupons"] == 10


def test_remittance_fee_larger_than_amount_is_refused():
    form = CALCULATORS["remittance_cost"].form_class(
        {"amount": "10", "currency": "USD", "fee": "20", "margin_percent": "1"}
    )
    assert form.result() is None and "fee" in form.errors


@pytest.mark.parametrize(
    "language, margin, total",
    [
        ("fr", "2,5", "12,50\u00a0$US"),
        ("pt", "2,5", "12,50\u00a0US$"),
        ("es", "2.5", "USD\u00a012.50"),
    ],
)
def test_calculators_read_and_write_numbers_as_the_page_language_does(language, margin, total):
    data = {"amount": "300", "currency": "USD", "fee": "5", "margin_percent": margin}
    with translation.override(language):
        result = CALCULATORS["remittance_cost"].form_class(data).result()
    assert result is not None
    assert result["total_cost"] == total
