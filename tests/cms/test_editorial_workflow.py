"""What editors rely on in the admin: previews, revisions, scheduled publishing
and the moderation workflow on the financial-literacy pages (an editor submits,
a second person approves)."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from wagtail.models import Page, WorkflowState

from cms.models import CoursePage, LessonPage
from tests.cms.test_blocks import _lesson_form
from tests.conftest import enable_totp
from tests.factories import UserFactory


def _staff(group_name: str):
    person = UserFactory(is_staff=True)
    person.groups.add(Group.objects.get(name=group_name))
    enable_totp(person)
    return person


@pytest.fixture
def course(cms_seeded):
    return CoursePage.objects.get(slug="avoiding-fraud", locale__language_code="en")


def _form(course, slug, action):
    data = _lesson_form(course, slug, [False, True])
    del data["action-publish"]
    if action:
        data[action] = action
    return data


def test_an_editor_submits_a_lesson_and_a_moderator_approves_it(course, client):
    editor, moderator = _staff("Editors"), _staff("Moderators")
    add_url = f"/admin/pages/add/cms/lessonpage/{course.pk}/"

    client.force_login(editor)
    # Editors cannot publish: asking to is refused and nothing goes live.
    client.post(add_url, _form(course, "spot-a-scam", "action-publish"))
    assert not LessonPage.objects.filter(slug="spot-a-scam", live=True).exists()
    Page.objects.filter(slug="spot-a-scam").delete()

    response = client.post(add_url, _form(course, "spot-a-scam", "action-submit"))
    assert response.status_code == 302
    lesson = LessonPage.objects.get(slug="spot-a-scam")
    assert not lesson.live
    state = lesson.current_workflow_state
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert state.workflow.name == "Two-step approval"
    task_state = state.current_task_state
    approve_url = f"/admin/pages/workflow/action/{lesson.pk}/approve/{task_state.pk}/"

    # The person who submitted cannot approve their own lesson.
    client.post(approve_url, {"comment": ""})
    lesson.refresh_from_db()
    assert not lesson.live

    client.force_login(moderator)
    response = client.post(approve_url, {"comment": "Clear and correct."})
    assert response.status_code in (200, 302)
    lesson.refresh_from_db()
    assert lesson.live
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_APPROVED
    assert client.get(lesson.url).status_code == 200


def test_preview_shows_an_unsaved_lesson(course, client):
    editor = _staff("Editors")
    client.force_login(editor)
    url = f"/admin/pages/add/cms/lessonpage/{course.pk}/preview/"
    answer = client.post(url, _form(course, "preview-me", None))
    assert answer.json()["is_valid"] is True
    html = client.get(url).content.decode()
    assert "A new lesson" in html and "Which one?" in html
    assert not Page.objects.filter(slug="preview-me").exists()


def test_a_draft_revision_leaves_the_live_lesson_alone_until_published(lesson, client):
    live_title = lesson.title
    lesson.title = "A better title"
    revision = lesson.save_revision()
    assert client.get(lesson.url).content.decode().count(live_title) >= 1
    assert "A better title" not in client.get(lesson.url).content.decode()
    assert lesson.revisions.count() >= 2
    revision.publish()
    assert "A better title" in client.get(lesson.url).content.decode()


def test_scheduled_publishing_goes_live_when_due(lesson, client, monkeypatch):
    from cms.tasks import publish_scheduled
    from portal.celery import app

    assert app.conf.beat_schedule["cms-publish-scheduled"]["task"] == "cms.tasks.publish_scheduled"
    original = lesson.title
    now = timezone.now()
    # What the editor's "Go-live date" and "Publish" do in the admin.
    lesson.title = "Remittances in 2027"
    lesson.go_live_at = now + datetime.timedelta(hours=1)
    revision = lesson.save_revision()
    revision.publish()
    assert LessonPage.objects.get(pk=lesson.pk).title == original  # still the old content
    revision.refresh_from_db()
    assert revision.approved_go_live_at == lesson.go_live_at

    publish_scheduled()  # not due yet: nothing happens
    assert LessonPage.objects.get(pk=lesson.pk).title == original
    assert original in client.get(lesson.url).content.decode()

    later = now + datetime.timedelta(hours=1, minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    publish_scheduled.delay()  # what Beat sends every minute
    published = LessonPage.objects.get(pk=lesson.pk)
    assert published.live and published.title == "Remittances in 2027"
    assert "Remittances in 2027" in client.get(lesson.url).content.decode()


def test_an_expired_page_is_unpublished(lesson, client):
    from cms.tasks import publish_scheduled

    lesson.expire_at = timezone.now() - datetime.timedelta(minutes=1)
    lesson.save()
    assert client.get(lesson.url).status_code == 200
    publish_scheduled.delay()  # what Beat sends every minute
    lesson.refresh_from_db()
    assert not lesson.live and lesson.expired
    assert client.get(lesson.url).status_code == 404
