"""Financial-literacy lessons in a real browser, with JavaScript on and off: a
quiz (feedback per answer, progress saved once per learner and quiz) and the
remittance-cost calculator (figures, and errors next to the fields that keep
what was typed). Also: the weight of the catalogue, a project page, the hub and
a lesson on a phone-sized screen, with an empty cache."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import (
    _page_weights,
    assert_accessible,
    submit,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Una-clave-larga-2026!"
MOBILE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2}
KB = 1024
CATALOGUE_AND_PROJECT_LIMIT = 200 * KB
HUB_AND_LESSON_LIMIT = 300 * KB


# --- Helpers ------------------------------------------------------------------------


def path_of(page) -> str:
    return urlsplit(page.url).path


def verified_user(email: str, full_name: str):
    from allauth.account.models import EmailAddress

    from portal.models import User

    user = User.objects.create_user(email, PASSWORD, full_name=full_name)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def log_in(page, email: str, password: str) -> None:
    page.goto("/en/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", password)
    submit(page, "form:has(#id_login)")


def lesson_with_quiz_and_calculator(kind: str = "remittance_cost"):
    """The first live English lesson whose body holds a quiz and a calculator
    of this kind, with both blocks."""
    from cms.models import LessonPage

    lessons = LessonPage.objects.live().filter(locale__language_code="en").order_by("path")
    for lesson in lessons:
        quiz = next((b for b in lesson.body if b.block_type == "quiz"), None)
        calculator = next(
            (b for b in lesson.body if b.block_type == "calculator" and b.value["kind"] == kind),
            None,
        )
        if quiz is not None and calculator is not None:
            return lesson, quiz, calculator
    pytest.fail(f"no live English lesson with a quiz and a {kind} calculator")


def figure(block, label: str) -> str:
    """The value printed next to a label in a calculator's result."""
    row = block.locator(".calculator-result dl.figures > div").filter(
        has=block.page.locator("dt", has_text=label)
    )
    return row.locator("dd").inner_text().strip()


class NavigationCounter:
    """Counts main-frame navigations (full page loads) of a page."""

    def __init__(self, page):
        self.count = 0
        page.on("framenavigated", self._seen)
        self.page = page

    def _seen(self, frame) -> None:
        if frame == self.page.main_frame:
            self.count += 1


def send(page, block, *, js: bool, counter: NavigationCounter) -> None:
    """Submit the block's form: with JavaScript, wait for lesson.js to swap the
    block in place (no navigation); without, wait for the page the post leads to."""
    selector = f"#{block.get_attribute('id')}"
    button = block.locator("form [type=submit]")
    if js:
        before = counter.count
        url = page.url
        with page.expect_response(
            lambda r: r.request.method == "POST" and "/en/learn/" in r.url
        ) as response:
            button.click()
        assert response.value.ok, response.value.status
        # The old block is replaced by a fresh element, its button enabled again.
        page.wait_for_function(
            """(sel) => { const b = document.querySelector(sel);
                          const btn = b && b.querySelector('form [type=submit]');
                          return btn && !btn.disabled; }""",
            arg=selector,
        )
        assert counter.count == before, "lesson.js should update the block without a page load"
        assert page.url == url, page.url
    else:
        submit(page, f"{selector} form")


# --- Quiz and calculator -----------------------------------------------------------------


@pytest.mark.parametrize("java_script_enabled", [True, False], ids=["js", "no-js"])
def test_lesson_quiz_and_calculator(new_page, live_site, java_script_enabled):
    from cms.models import QuizAttempt

    started = time.monotonic()
    js = java_script_enabled
    lesson, quiz_block, calculator_block = lesson_with_quiz_and_calculator()
    lesson_path = urlsplit(lesson.full_url or lesson.url).path
    assert lesson_path.startswith("/en/learn/"), lesson_path
    questions = quiz_block.value["questions"]
    right = [next(i for i, c in enumerate(q["choices"]) if c["correct"]) for q in questions]
    wrong = [next(i for i, c in enumerate(q["choices"]) if not c["correct"]) for q in questions]

    user = verified_user(f"learner.{'js' if js else 'nojs'}@example.org", "Amina Diallo")
    page = new_page(java_script_enabled=js)
    counter = NavigationCounter(page)
    log_in(page, user.email, PASSWORD)

    response = page.goto(lesson_path)
    assert response.status == 200, response.status
    loads = counter.count
    assert page.locator("main h1").inner_text().strip() == lesson.title
    if js:
        assert_accessible(page, label=f"{lesson_path} (before answering)")

    quiz = page.locator(f"#block-{quiz_block.id}")
    calculator = page.locator(f"#block-{calculator_block.id}")

    # a. A wrong answer to the first question, right answers to the others.
    answers = [wrong[0], *right[1:]]
    for number, choice in enumerate(answers):
        quiz.locator(f"input[name=q{number}][value='{choice}']").check()
    send(page, quiz, js=js, counter=counter)
    quiz = page.locator(f"#block-{quiz_block.id}")
    fieldsets = quiz.locator("fieldset.quiz-question")
    first = fieldsets.nth(0)
    assert "is-wrong" in first.get_attribute("class")
    feedback = first.locator(".quiz-feedback").inner_text()
    assert "Not quite." in feedback, feedback
    assert questions[0]["choices"][wrong[0]]["feedback"] in feedback, feedback
    assert first.locator(f"input[value='{wrong[0]}']").is_checked()
    score = quiz.locator(".quiz-score").inner_text()
    assert f"You answered {len(questions) - 1} of {len(questions)}" in score, score
    assert "Your progress is saved." in score, score
    attempts = QuizAttempt.objects.filter(user=user, lesson=lesson, quiz_block_id=quiz_block.id)
    assert attempts.count() == 1
    assert attempts.get().correct == len(questions) - 1

    # b. Now the right answer: marked correct, progress saved, still one row.
    quiz.locator(f"input[name=q0][value='{right[0]}']").check()
    send(page, quiz, js=js, counter=counter)
    quiz = page.locator(f"#block-{quiz_block.id}")
    first = quiz.locator("fieldset.quiz-question").nth(0)
    assert "is-correct" in first.get_attribute("class")
    feedback = first.locator(".quiz-feedback").inner_text()
    assert "Correct." in feedback and questions[0]["choices"][right[0]]["feedback"] in feedback
    assert quiz.locator("fieldset.quiz-question.is-correct").count() == len(questions)
    score = quiz.locator(".quiz-score").inner_text()
    assert f"You answered {len(questions)} of {len(questions)}" in score, score
    assert "Your progress is saved." in score, score
    assert attempts.count() == 1, list(attempts.values())
    attempt = attempts.get()
    assert (attempt.correct, attempt.total) == (len(questions), len(questions))
    assert attempt.answers == {str(n): c for n, c in enumerate(right)}

    # c. The remittance calculator: 300 sent, a 5 fee, a 2.5 % margin.
    prefix = f"#id_c-{calculator_block.id}-"
    calculator.locator(f"{prefix}amount").fill("300")
    calculator.locator(f"{prefix}fee").fill("5")
    calculator.locator(f"{prefix}margin_percent").fill("2.5")
    send(page, calculator, js=js, counter=counter)
    calculator = page.locator(f"#block-{calculator_block.id}")
    result = calculator.locator(".calculator-result")
    assert result.is_visible()
    margin = figure(calculator, "Exchange-rate margin")
    total = figure(calculator, "Total cost")
    share = figure(calculator, "Cost as a share")
    received = figure(calculator, "What arrives")
    print(
        f"calculator ({'js' if js else 'no-js'}): margin {margin!r}, total {total!r}, "
        f"share {share!r}, received {received!r}"
    )
    assert "7.50" in margin, margin
    assert "12.50" in total, total
    assert re.fullmatch(r"4\.17\s*%", share), share
    assert "287.50" in received, received
    verdict = calculator.locator(".verdict").inner_text()
    assert "above the 3 % target" in verdict and "9.00" in verdict and "3.50" in verdict, verdict
    # What was typed stays in the fields.
    assert calculator.locator(f"{prefix}amount").input_value() == "300"

    # d. Bad input: a negative amount and a fee that is not a number.
    calculator.locator(f"{prefix}amount").fill("-50")
    calculator.locator(f"{prefix}fee").fill("five")
    send(page, calculator, js=js, counter=counter)
    calculator = page.locator(f"#block-{calculator_block.id}")
    assert calculator.locator(".calculator-result").count() == 0
    for name, typed, message in (
        ("amount", "-50", "Enter a number of at least 1"),
        ("fee", "five", "Enter a number, using digits"),
    ):
        field = calculator.locator(f".field:has({prefix}{name})")
        assert "field-invalid" in field.get_attribute("class"), name
        error = field.locator(".field-error").inner_text()
        assert message in error, (name, error)
        assert calculator.locator(f"{prefix}{name}").input_value() == typed, name
    assert calculator.locator(f"{prefix}margin_percent").input_value() == "2.5"
    assert "Correct the figures marked above." in calculator.inner_text()
    if js:
        # lesson.js moves the focus to the first thing to read.
        focused = page.evaluate("() => document.activeElement && document.activeElement.id")
        assert focused, "focus should move into the updated calculator"
        assert_accessible(page, label=f"{lesson_path} (after answering)")
        assert counter.count == loads, "the lesson page was loaded again"
    else:
        assert path_of(page) == f"{lesson_path}calculator/{calculator_block.id}/", page.url

    assert attempts.count() == 1

    # e. The course page counts the quiz as done.
    course_path = urlsplit(lesson.get_parent().specific.url).path
    page.goto(course_path)
    item = page.locator(".lesson-item").filter(has_text=lesson.title)
    assert "is-complete" in item.get_attribute("class"), item.inner_html()
    assert "Quiz done" in item.locator(".lesson-progress").inner_text()
    elapsed = time.monotonic() - started
    print(f"lesson quiz and calculator ({'js' if js else 'no-js'}): {elapsed:.1f} s")


# --- Page weight on a phone ----------------------------------------------------------------


def mobile_page_weight(browser, base_url: str, path: str) -> int:
    """Bytes of the document and every subresource on a first load at phone
    width (375×812, 2× pixels) with an empty cache, after scrolling to the
    bottom so lazily loaded images are counted too. Records and prints a
    "page weight" line with the bytes and number of responses per type."""
    context = browser.new_context(base_url=base_url, locale="en-GB", **MOBILE)
    context.set_default_timeout(15_000)
    responses = []
    try:
        page = context.new_page()
        page.on("response", lambda response: responses.append(response))
        page.goto(path, wait_until="load")
        page.wait_for_load_state("networkidle")
        page.evaluate(
            """async () => {
                for (let y = 0; y <= document.body.scrollHeight; y += 400) {
                    window.scrollTo(0, y);
                    await new Promise((r) => setTimeout(r, 30));
                }
            }"""
        )
        page.wait_for_load_state("networkidle")
        unloaded = page.evaluate(
            "() => [...document.images].filter((i) => !i.complete || !i.naturalWidth)"
            ".map((i) => i.src)"
        )
        assert not unloaded, f"{path}: images not loaded, so not weighed: {unloaded}"
        total = 0
        by_type: dict[str, list[int]] = {}
        for response in responses:
            if 300 <= response.status < 400:
                continue  # a redirect has no body
            size = len(response.body())
            kind = response.request.resource_type
            by_type.setdefault(kind, []).append(size)
            total += size
    finally:
        context.close()
    detail = ", ".join(
        f"{kind} {sum(sizes)} in {len(sizes)}" for kind, sizes in sorted(by_type.items())
    )
    line = f"page weight {path} (375x812 @2x): {total} bytes ({detail})"
    print(line)
    _page_weights.append(line)
    return total


def demo_project_path() -> str:
    from projects.models import Project

    project = (
        Project.objects.filter(status=Project.Status.APPROVED, cover_image__isnull=False)
        .order_by("pk")
        .first()
    )
    assert project is not None, "the demo has no approved project with a cover image"
    path = project.get_absolute_url()
    assert path.startswith("/en/projects/"), path
    return path


def test_page_weights_at_phone_width(browser, new_page, live_site):
    from django.utils import translation

    started = time.monotonic()
    with translation.override("en"):
        project_path = demo_project_path()
    lesson, _quiz, _calculator = lesson_with_quiz_and_calculator()
    lesson_path = urlsplit(lesson.url).path
    pages = [
        ("/en/projects/", CATALOGUE_AND_PROJECT_LIMIT),
        (project_path, CATALOGUE_AND_PROJECT_LIMIT),
        ("/en/learn/", HUB_AND_LESSON_LIMIT),
        (lesson_path, HUB_AND_LESSON_LIMIT),
    ]
    weights = {path: mobile_page_weight(browser, live_site.url, path) for path, _ in pages}
    over = [
        f"{path}: {weights[path]} bytes > {limit} bytes"
        for path, limit in pages
        if weights[path] > limit
    ]

    page = new_page(**MOBILE)
    for path in ("/en/projects/", project_path):
        response = page.goto(path)
        assert response.status == 200, f"{path}: {response.status}"
        assert_accessible(page, label=f"{path} at 375px")
    print(f"page weights at phone width: {time.monotonic() - started:.1f} s")
    assert not over, "over the page-weight budget: " + "; ".join(over)
