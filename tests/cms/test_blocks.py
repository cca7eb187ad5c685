"""Every block of the shared body renders from its preview value, and a quiz
question without exactly one correct answer is refused."""

import copy

import pytest
from django.core.exceptions import ValidationError
from wagtail import blocks
from wagtail.test.utils.form_data import inline_formset, nested_form_data, streamfield

from cms.blocks import BodyStreamBlock, QuizBlock

STREAM = BodyStreamBlock()


@pytest.mark.parametrize("name", list(STREAM.child_blocks))
def test_every_block_renders_with_its_preview_value(db, rf, name):
    block = STREAM.child_blocks[name]
    assert block.meta.icon and block.meta.description
    if isinstance(block, blocks.StructBlock) or name == "rich_text":
        assert block.meta.template.startswith("cms/blocks/")
    value = block.get_preview_value()
    html = block.render(value, context={"request": rf.get("/")})
    assert isinstance(html, str)
    if name not in ("glossary_term", "image"):  # these need a chosen snippet / image
        assert html.strip(), name


def test_preview_template_of_the_stream_renders(db, rf):
    value = STREAM.to_python(
        [
            {
                "type": name,
                "value": STREAM.child_blocks[name].get_prep_value(
                    STREAM.child_blocks[name].get_preview_value()
                ),
            }
            for name in STREAM.child_blocks
        ]
    )
    assert "Check what you learned" in STREAM.render(value, context={"request": rf.get("/")})


def _quiz(correct_flags):
    value = copy.deepcopy(QuizBlock._meta_class.preview_value)
    for choice, flag in zip(value["questions"][0]["choices"], correct_flags, strict=True):
        choice["correct"] = flag
    return QuizBlock().to_python(value)


def test_quiz_without_a_correct_answer_is_refused_by_the_block():
    block = QuizBlock()
    block.clean(_quiz([True, False]))
    with pytest.raises(blocks.StructBlockValidationError):
        block.clean(_quiz([False, False]))
    with pytest.raises(blocks.StructBlockValidationError):
        block.clean(_quiz([True, True]))


def test_a_lesson_saved_in_code_with_such_a_quiz_cannot_be_published(lesson):
    stream = lesson.body.raw_data
    for item in stream:
        if item["type"] == "quiz":
            for choice in item["value"]["questions"][0]["value"]["choices"]:
                choice["value"]["correct"] = False
    lesson.body = list(stream)
    with pytest.raises(ValidationError) as error:
        lesson.save_revision().publish()
    assert "exactly one correct answer" in str(error.value)


def _lesson_form(course, slug, correct_flags):
    choices = {
        "count": len(correct_flags),
        **{
            str(i): {
                "deleted": "",
                "order": i,
                "id": "",
                "value": {
                    "text": f"Answer {i}",
                    "correct": "on" if flag else "",
                    "feedback": f"Feedback {i}",
                },
            }
            for i, flag in enumerate(correct_flags)
        },
    }
    quiz = {
        "title": "Quiz",
        "questions": {
            "count": 1,
            "0": {
                "deleted": "",
                "order": 0,
                "id": "",
                "value": {"question": "Which one?", "choices": choices},
            },
        },
    }
    return nested_form_data(
        {
            "title": "A new lesson",
            "slug": slug,
            "intro": "Intro",
            "minutes": "5",
            "body": streamfield([("quiz", quiz)]),
            "comments": inline_formset([]),
            "action-publish": "action-publish",
        }
    )


def test_editor_cannot_publish_a_lesson_whose_quiz_has_no_correct_answer(cms_seeded, client):
    from wagtail.models import Page

    from cms.models import CoursePage, LessonPage
    from tests.conftest import enable_totp
    from tests.factories import UserFactory

    editor = UserFactory(is_staff=True, is_superuser=True)
    enable_totp(editor)
    client.force_login(editor)
    course = CoursePage.objects.get(slug="avoiding-fraud", locale__language_code="en")
    url = f"/admin/pages/add/cms/lessonpage/{course.pk}/"

    refused = client.post(url, _lesson_form(course, "no-correct-answer", [False, False]))
    assert refused.status_code == 200
    assert "Mark one answer as correct." in refused.content.decode()
    assert not Page.objects.filter(slug="no-correct-answer").exists()

    accepted = client.post(url, _lesson_form(course, "one-correct-answer", [False, True]))
    assert accepted.status_code == 302
    assert LessonPage.objects.get(slug="one-correct-answer").live
