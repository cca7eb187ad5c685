"""The project page reads its lists in one statement (portal.prepared.PreparedLists):
the rows must be what the querysets give, value for value and in order."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.models import AuditEntry
from portal.prepared import PreparedLists
from projects.models import BudgetLine, Milestone, ProjectUpdate, TeamMember
from projects.selectors import _PAGE_LISTS, LATEST_UPDATES
from tests.projects.factories import (
    BudgetLineFactory,
    MilestoneFactory,
    ProjectFactory,
    ProjectUpdateFactory,
    TeamMemberFactory,
)

pytestmark = pytest.mark.django_db


def _values(objects) -> list[tuple]:
    return [
        tuple(getattr(obj, field.attname) for field in obj._meta.concrete_fields) for obj in objects
    ]


@pytest.fixture
def project():
    project = ProjectFactory()
    BudgetLineFactory(project=project, label="Barrels", amount=Decimal("9000.10"), position=2)
    BudgetLineFactory(project=project, label="Labels", amount=Decimal("0.05"), position=1)
    TeamMemberFactory(project=project, name="Lucía", is_returnee=True, is_woman=True)
    TeamMemberFactory(project=project, name="Ramón", is_returnee=False, is_woman=False)
    MilestoneFactory(
        project=project,
        title="Signed",
        status=Milestone.Status.DONE,
        reached_on=datetime.date(2026, 3, 1),
    )
    MilestoneFactory(project=project, title="Planned", due_on=datetime.date(2026, 1, 5))
    for number in range(LATEST_UPDATES + 2):
        ProjectUpdateFactory(project=project, title=f"News {number}")
    return project


def test_each_list_is_what_its_queryset_gives(project, django_assert_num_queries):
    with django_assert_num_queries(1):
        lists = _PAGE_LISTS(project.pk)
    querysets = {
        "budget_lines": BudgetLine.objects.filter(project=project),
        "team": TeamMember.objects.filter(project=project),
        "milestones": Milestone.objects.filter(project=project),
        "updates": ProjectUpdate.objects.filter(project=project)[:LATEST_UPDATES],
    }
    for name, queryset in querysets.items():
        assert _values(lists[name]) == _values(queryset), name
    assert lists["photos"] == [] and lists["documents"] == []


def test_values_keep_their_types(project):
    lists = _PAGE_LISTS(project.pk)
    assert [line.amount for line in lists["budget_lines"]] == [Decimal("0.05"), Decimal("9000.10")]
    assert all(isinstance(line.amount, Decimal) for line in lists["budget_lines"])
    assert [(m.is_returnee, m.is_woman) for m in lists["team"]] == [(True, True), (False, False)]
    first, second = lists["milestones"]
    assert first.due_on == datetime.date(2026, 1, 5) and first.reached_on is None
    assert second.reached_on == datetime.date(2026, 3, 1)
    update = lists["updates"][0]
    assert isinstance(update.published_at, datetime.datetime)
    assert update.published_at.tzinfo is not None
    assert update.author_name == project.owner.full_name
    assert [u.title for u in lists["updates"]] == [f"News {n}" for n in range(LATEST_UPDATES)]
    # Real instances, saved and with nothing deferred.
    assert not update._state.adding and update.get_deferred_fields() == set()


def test_models_with_json_fields_are_refused():
    lists = PreparedLists(int, entries=lambda pk: AuditEntry.objects.filter(pk=pk))
    with pytest.raises(ImproperlyConfigured, match="JSON"):
        lists(1)


def test_images_renditions_and_impact_come_with_the_lists(project):
    from tests.projects.factories import (
        ImageFactory,
        ImpactReportFactory,
        ImpactValueFactory,
        ProjectPhotoFactory,
    )

    cover = ImageFactory()
    project.cover_image = cover
    project.save(update_fields=["cover_image"])
    photo = ProjectPhotoFactory(project=project)
    unrelated = ImageFactory()
    rendition = cover.get_rendition("fill-1200x500|format-webp")
    unrelated.get_rendition("fill-1200x500|format-webp")
    for value in ("2.50", "1"):
        report = ImpactReportFactory(project=project)
        ImpactValueFactory(report=report, indicator="jobs_created", value=Decimal(value))
    ImpactValueFactory(
        report=ImpactReportFactory(project=project, verified_at=None),
        indicator="jobs_created",
        value=Decimal("100"),
    )
    lists = _PAGE_LISTS(project.pk)
    assert {image.pk for image in lists["images"]} == {cover.pk, photo.image_id}
    assert [r.pk for r in lists["renditions"]] == [rendition.pk]
    (row,) = lists["impact"]
    assert row["indicator"] == "jobs_created" and Decimal(row["total"]) == Decimal("3.5")
