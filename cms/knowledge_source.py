"""Feeds the investor knowledge test from the financial-literacy quizzes of
the courses on loans, bonds and risk."""

from cms.content.literacy import COURSES
from finance.knowledge import Question

KNOWLEDGE_TEST_COURSES = ("loans-and-interest", "diaspora-bonds", "risk-and-diversification")


def literacy_questions(language: str) -> list[Question]:
    language = language if language in ("en", "es") else "en"
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
