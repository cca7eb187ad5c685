"""The investor knowledge test is built from the quizzes editors manage."""

from cms.models import CoursePage, LessonPage
from finance.knowledge import questions


def test_knowledge_test_uses_the_quizzes_editors_manage(cms_seeded):
    english = questions("en")
    marked = CoursePage.objects.filter(in_knowledge_test=True, locale__language_code="en")
    lessons = LessonPage.objects.filter(path__startswith=marked.first().path).count()
    assert marked.count() == 3 and len(english) >= lessons
    # Keys are the same in every language; the texts are translated.
    for language in ("es", "fr", "pt", "ar"):
        translated = questions(language)
        assert [q.key for q in translated] == [q.key for q in english], language
        assert [q.correct for q in translated] == [q.correct for q in english], language
        assert all(q.text != e.text for q, e in zip(translated, english, strict=True)), language

    lesson = LessonPage.objects.get(slug="how-interest-is-charged", locale__language_code="en")
    stream = lesson.body.raw_data
    quiz = next(item for item in stream if item["type"] == "quiz")
    quiz["value"]["questions"][0]["value"]["question"] = "Edited by an editor?"
    lesson.body = list(stream)
    lesson.save_revision().publish()
    assert "Edited by an editor?" in [q.text for q in questions("en")]

    # A course no longer marked drops out of the test.
    course = lesson.get_parent().specific
    course.in_knowledge_test = False
    course.save_revision().publish()
    assert "Edited by an editor?" not in [q.text for q in questions("en")]


def test_before_any_course_is_published_the_seed_questions_come_in_every_language(db):
    from cms.content.literacy import COURSES

    loans = next(course for course in COURSES if course["slug"] == "loans-and-interest")
    for language in ("en", "es", "fr", "pt", "ar"):
        asked = questions(language)
        assert len(asked) >= 6
        first = loans["lessons"][0]["quiz"][0]
        assert first["question"][language] in [q.text for q in asked], language
