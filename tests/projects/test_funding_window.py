"""The project page's funding window: past tense once it has ended, and left
to the offerings' own closing dates when offerings are shown."""

import datetime

import pytest
from django.utils import timezone

from .factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_a_window_that_has_ended_is_said_to_have_ended(client):
    project = ProjectFactory(closes_at=timezone.now() - datetime.timedelta(days=3))
    html = client.get(project.get_absolute_url()).content.decode()
    assert "Funding window ended on" in html and "Funding window ends on" not in html


def test_a_window_still_open_ends(client):
    project = ProjectFactory(closes_at=timezone.now() + datetime.timedelta(days=3))
    html = client.get(project.get_absolute_url()).content.decode()
    assert "Funding window ends on" in html and "ended on" not in html
