"""The investor knowledge test is built from the quizzes editors manage."""

from cms.models import CoursePage, LessonPage
from finance.knowledge import questions


def test_knowledge_test_uses_the_quizzes_editors_manage(cms_seeded):
    english, spanish = questions("en"), questions("es")
    marked = CoursePage.objects.filter(in_knowledge_test=True, locale__language_code="en")
    lessons = LessonPage.objects.filter(path__startswith=marked.first().path).count()
    assert marked.count() == 3 and len(english) >= lessons
    # Keys are the same in both languages; the texts are translated.
    assert [q.key for q in english] == [q.key for q in spanish]
    assert english[0].text != spanish[0].text

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
