"""Feeds the investor knowledge test from the financial-literacy quizzes that
editors manage in Wagtail: the first question of each quiz of every live lesson
in a course marked "questions used in the investor knowledge test", in the
investor's language (English when the course is not translated).

Question keys are built from the lesson's translation key and the quiz block's
id, which translations keep, so an answer means the same in every language.
Before any course is published (a fresh database, most tests) the questions come
from the seed content in ``cms.content.literacy`` instead.
"""

from __future__ import annotations

from django.conf import settings

from cms.content.literacy import COURSES, LANGUAGES
from finance.knowledge import Question

#: Courses whose quizzes feed the test in the seed content (and seed_cms marks so).
KNOWLEDGE_TEST_COURSES = ("loans-and-interest", "diaspora-bonds", "risk-and-diversification")


def _seed_questions(language: str) -> list[Question]:
    language = language if language in LANGUAGES else "en"
    found = []
    for course in COURSES:
        if course["slug"] not in KNOWLEDGE_TEST_COURSES:
            continue
        for lesson in course["lessons"]:
            # The first question of each lesson keeps the test short.
            for number, item in enumerate(lesson["quiz"][:1]):
                found.append(
                    Question(
                        key=f"{course['slug']}/{lesson['slug']}/{number}",
                        text=item["question"][language],
                        choices=tuple(c["text"][language] for c in item["choices"]),
                        correct=item["correct"],
                        feedback=tuple(c["feedback"][language] for c in item["choices"]),
                    )
                )
    return found


def _wagtail_questions(language: str) -> list[Question]:
    from wagtail.models import Locale

    from cms.blocks import correct_index
    from cms.models import CoursePage, LessonPage

    default = settings.LANGUAGE_CODE
    courses = list(
        CoursePage.objects.live()
        .filter(in_knowledge_test=True, locale__language_code=default)
        .order_by("path")
    )
    if not courses:
        return []
    locale = Locale.objects.filter(language_code=language).first()
    found: list[Question] = []
    for course in courses:
        lessons = list(LessonPage.objects.child_of(course).live().order_by("path"))
        if locale is not None and locale.language_code != default:
            translated = {
                page.translation_key: page
                for page in LessonPage.objects.live().filter(
                    locale=locale,
                    translation_key__in=[lesson.translation_key for lesson in lessons],
                    alias_of__isnull=True,
                )
            }
            lessons = [translated.get(lesson.translation_key, lesson) for lesson in lessons]
        for lesson in lessons:
            for child in lesson.body:
                if child.block_type != "quiz" or not child.value["questions"]:
                    continue
                question = child.value["questions"][0]
                right = correct_index(question)
                if right is None:
                    continue
                found.append(
                    Question(
                        key=f"{lesson.translation_key}/{child.id}/0",
                        text=question["question"],
                        choices=tuple(c["text"] for c in question["choices"]),
                        correct=right,
                        feedback=tuple(c["feedback"] for c in question["choices"]),
                    )
                )
    return found


def literacy_questions(language: str) -> list[Question]:
    return _wagtail_questions(language) or _seed_questions(language)
