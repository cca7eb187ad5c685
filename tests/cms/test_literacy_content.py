"""The financial-literacy seed content: structure, every language, quizzes, and arithmetic.

Every worked example's structured figures are recomputed here, independently of the prose,
with Decimal; and every figure must also appear in the example's text in every language.
"""

from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest

from cms.content.literacy import COURSES, LANGUAGES
from cms.content.translations import localized_texts

LESSONS = [(course, lesson) for course in COURSES for lesson in course["lessons"]]
LESSON_IDS = [f"{course['slug']}/{lesson['slug']}" for course, lesson in LESSONS]
CALCULATIONS = [
    (f"{course['slug']}/{lesson['slug']}#{index}", calculation)
    for course, lesson in LESSONS
    for index, calculation in enumerate(lesson["worked_example"]["calculations"])
]

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def _pct(value):
    return value / HUNDRED


def _remittance_cost(amount, fee, margin_percent, mid_rate=None, target_percent=None):
    margin_cost = amount * _pct(margin_percent)
    total_cost = fee + margin_cost
    results = {
        "margin_cost": margin_cost,
        "total_cost": total_cost,
        "cost_percent": total_cost / amount * HUNDRED,
    }
    if mid_rate is not None:
        offered_rate = mid_rate * (1 - _pct(margin_percent))
        results |= {
            "offered_rate": offered_rate,
            "received": amount * offered_rate,
            "received_at_mid_rate": amount * mid_rate,
        }
    if target_percent is not None:
        results["target_cost"] = amount * _pct(target_percent)
    return results


def _repeated_saving(saving_per_transfer, transfers):
    return {"total_saving": saving_per_transfer * transfers}


def _return_budget(savings, travel, shipping, documents, monthly_living_costs, reserve_months):
    one_off_total = travel + shipping + documents
    reserve = monthly_living_costs * reserve_months
    return {
        "one_off_total": one_off_total,
        "reserve": reserve,
        "available": savings - one_off_total - reserve,
    }


def _savings_plan(target, saved, months):
    remaining = target - saved
    return {"remaining": remaining, "monthly_saving": remaining / months}


def _effective_annual_rate(monthly_rate_percent):
    rate = _pct(monthly_rate_percent)
    return {
        "nominal_annual_percent": monthly_rate_percent * 12,
        "effective_annual_percent": ((1 + rate) ** 12 - 1) * HUNDRED,
    }


def _flat_interest(principal, monthly_rate_percent, months):
    total_interest = principal * _pct(monthly_rate_percent) * months
    return {
        "total_interest": total_interest,
        "monthly_payment": (principal + total_interest) / months,
    }


def _amortizing_loan(principal, monthly_rate_percent, months):
    rate = _pct(monthly_rate_percent)
    payment = principal * rate / (1 - (1 + rate) ** -int(months))
    payment = payment.quantize(CENT, ROUND_HALF_UP)
    total_paid = payment * months
    return {
        "monthly_payment": payment,
        "total_paid": total_paid,
        "total_interest": total_paid - principal,
    }


def _debt_ratio(monthly_income, existing_payments, new_payment):
    total = existing_payments + new_payment
    return {"total_payments": total, "ratio_percent": total / monthly_income * HUNDRED}


def _bond_cash_flows(face_value, coupon_percent, years):
    annual_coupon = face_value * _pct(coupon_percent)
    total_coupons = annual_coupon * years
    return {
        "annual_coupon": annual_coupon,
        "total_coupons": total_coupons,
        "total_received": face_value + total_coupons,
    }


def _currency_change(amount_local, rate_start, rate_end):
    value_start = amount_local / rate_start
    value_end = amount_local / rate_end
    return {
        "value_start": value_start,
        "value_end": value_end,
        "change_percent": (value_end / value_start - 1) * HUNDRED,
    }


def _recovery_gain(loss_percent):
    return {"required_gain_percent": loss_percent / (HUNDRED - loss_percent) * HUNDRED}


def _diversification(total, projects, failed, return_percent):
    per_project = total / projects
    value_after = (projects - failed) * per_project * (1 + _pct(return_percent))
    return {
        "per_project": per_project,
        "value_after": value_after,
        "change_percent": (value_after / total - 1) * HUNDRED,
    }


def _payback(cost, gain_per_day):
    return {"days": cost / gain_per_day}


def _funding_split(total_cost, own_funds):
    return {
        "borrowed": total_cost - own_funds,
        "own_share_percent": own_funds / total_cost * HUNDRED,
    }


def _break_even(fixed_costs, price, variable_cost, working_days):
    unit_margin = price - variable_cost
    units = fixed_costs / unit_margin
    return {
        "unit_margin": unit_margin,
        "break_even_units": units,
        "units_per_day": units / working_days,
    }


def _compound_growth(principal, monthly_rate_percent, months):
    final_value = principal * (1 + _pct(monthly_rate_percent)) ** int(months)
    return {
        "final_value": final_value,
        "gain_percent": (final_value / principal - 1) * HUNDRED,
    }


def _pyramid(recruits_per_person, levels):
    recruits, levels = int(recruits_per_person), int(levels)
    return {
        "people_at_last_level": Decimal(recruits**levels),
        "total_people": Decimal(sum(recruits**level for level in range(1, levels + 1))),
    }


CALCULATORS = {
    "remittance_cost": _remittance_cost,
    "repeated_saving": _repeated_saving,
    "return_budget": _return_budget,
    "savings_plan": _savings_plan,
    "effective_annual_rate": _effective_annual_rate,
    "flat_interest": _flat_interest,
    "amortizing_loan": _amortizing_loan,
    "debt_ratio": _debt_ratio,
    "bond_cash_flows": _bond_cash_flows,
    "currency_change": _currency_change,
    "recovery_gain": _recovery_gain,
    "diversification": _diversification,
    "payback": _payback,
    "funding_split": _funding_split,
    "break_even": _break_even,
    "compound_growth": _compound_growth,
    "pyramid": _pyramid,
}


def _spellings(value):
    """The ways ``value`` may be written in the text: magnitude only, with or without
    thousands separators (comma, space or non-breaking space), decimal point or comma."""
    plain = format(abs(value), "f")
    grouped = format(abs(value), ",f")
    spellings = {plain, grouped}
    for separator in (" ", "\u00a0", "\u202f"):
        spellings.add(grouped.replace(",", separator))
    spellings |= {s.replace(".", "#").replace(",", ".").replace("#", ",") for s in set(spellings)}
    return spellings


def test_seven_courses_with_unique_slugs():
    slugs = [course["slug"] for course in COURSES]
    assert len(slugs) == 7
    assert len(set(slugs)) == len(slugs)


@pytest.mark.parametrize("course", COURSES, ids=[c["slug"] for c in COURSES])
def test_every_course_has_two_or_three_lessons_with_unique_slugs(course):
    lessons = course["lessons"]
    assert 2 <= len(lessons) <= 3
    slugs = [lesson["slug"] for lesson in lessons]
    assert len(set(slugs)) == len(slugs)
    for slug in [course["slug"], *slugs]:
        assert slug == slug.lower() and slug.replace("-", "").isalnum(), slug


@pytest.mark.parametrize(("course", "lesson"), LESSONS, ids=LESSON_IDS)
def test_lesson_structure(course, lesson):
    assert lesson["sections"], "no body sections"
    for section in lesson["sections"]:
        assert section["heading"]
        assert section["paragraphs"], "section without paragraphs"
    example = lesson["worked_example"]
    assert example["title"] and example["text"]
    assert example["calculations"], "worked example without machine-checkable figures"
    assert 2 <= len(lesson["quiz"]) <= 3


@pytest.mark.parametrize(("course", "lesson"), LESSONS, ids=LESSON_IDS)
def test_every_quiz_question_has_one_correct_choice_in_range_and_feedback(course, lesson):
    for question in lesson["quiz"]:
        choices = question["choices"]
        assert len(choices) >= 2
        correct = question["correct"]
        assert type(correct) is int and 0 <= correct < len(choices)
        for choice in choices:
            assert choice["text"] and choice["feedback"]
        for language in LANGUAGES:
            texts = [choice["text"][language] for choice in choices]
            assert len(set(texts)) == len(texts), f"duplicate choices in {language}"


@pytest.mark.parametrize("course", COURSES, ids=[c["slug"] for c in COURSES])
def test_every_text_is_present_in_every_language(course):
    texts = list(localized_texts(course, course["slug"]))
    # slug-free course: title, summary; per lesson at least title, intro, one heading, one
    # paragraph, example title and text, and per question one question and its choices.
    assert len(texts) > 20
    for path, text in texts:
        assert set(text) == set(LANGUAGES), path
        for language in LANGUAGES:
            value = text[language]
            assert isinstance(value, str) and value.strip() == value and value, (path, language)
        for language in LANGUAGES[1:]:
            assert text["en"] != text[language] or len(text["en"]) < 12, (path, language)


@pytest.mark.parametrize(("where", "calculation"), CALCULATIONS, ids=[w for w, _ in CALCULATIONS])
def test_worked_example_figures_recompute(where, calculation):
    calculator = CALCULATORS[calculation["kind"]]
    inputs, stated = calculation["inputs"], calculation["results"]
    assert all(isinstance(v, Decimal) for v in [*inputs.values(), *stated.values()])
    with localcontext() as context:
        context.prec = 40
        computed = calculator(**inputs)
    assert set(stated) == set(computed), where
    for name, value in stated.items():
        exact = computed[name]
        assert exact.quantize(value, ROUND_HALF_UP) == value, f"{where} {name}: {exact}"


@pytest.mark.parametrize(("course", "lesson"), LESSONS, ids=LESSON_IDS)
def test_worked_example_text_states_the_structured_figures(course, lesson):
    example = lesson["worked_example"]
    for calculation in example["calculations"]:
        for name, value in [*calculation["inputs"].items(), *calculation["results"].items()]:
            for language in LANGUAGES:
                text = example["text"][language]
                assert any(s in text for s in _spellings(value)), (name, value, language)


def test_remittance_example_matches_the_brief():
    """300 USD with a 5 USD fee and a 2.5% margin costs 12.50 USD, 4.2%, above SDG 10.c."""
    first = COURSES[0]["lessons"][0]["worked_example"]["calculations"][0]
    assert first["inputs"]["amount"] == 300 and first["inputs"]["fee"] == 5
    assert first["results"]["total_cost"] == Decimal("12.50")
    assert first["results"]["cost_percent"].quantize(Decimal("0.1")) == Decimal("4.2")
    assert first["results"]["cost_percent"] > first["inputs"]["target_percent"]
