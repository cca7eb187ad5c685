"""What a submitted version holds, and how it reads: only a real edit counts as
a change since submission, whatever language the owner submitted in and the
reviewer reads in; labels and amounts are written only when shown."""

import importlib
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from projects import services
from projects.models import Approval, Project
from tests.factories import UserFactory
from tests.projects.test_review import (
    build_submitted_project,
    complete_review,
    messages_of,
    review_page,
    sign_in,
)
from tests.projects.test_submission import fill_every_step

pytestmark = pytest.mark.django_db


def review_in(client, reviewer, project, language: str):
    sign_in(client, reviewer)
    response = client.get(review_page(project), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert f'lang="{language}"' in response.content.decode()
    return response


def approve_in(client, reviewer, project, language: str):
    sign_in(client, reviewer)
    return client.post(
        review_page(project),
        complete_review(action="approve"),
        HTTP_ACCEPT_LANGUAGE=language,
        follow=True,
    )


def submitted_in_spanish(client, territory) -> Project:
    owner = UserFactory(preferred_language="es")
    client.force_login(owner)
    project = services.project_create(owner=owner, title="Cooperativa mezcalera")
    fill_every_step(client, project, territory, language="es")
    assert client.post(f"/es/projects/{project.slug}/edit/submit/").status_code == 302
    client.logout()
    project.refresh_from_db()
    assert project.status == Project.Status.SUBMITTED
    return project


def test_a_project_submitted_in_spanish_is_approved_by_reviewers_in_english_and_arabic(
    client, territory, reviewer, second_reviewer
):
    project = submitted_in_spanish(client, territory)

    for language in ("en", "ar", "es"):
        response = review_in(client, reviewer, project, language)
        assert response.context["change_rows"] == [], language
        assert 'data-field="documents"' not in response.content.decode()

    response = approve_in(client, reviewer, project, "en")
    assert not any("changed the project" in message for message in messages_of(response))
    assert Approval.objects.filter(project=project, reviewer=reviewer).exists()
    approve_in(client, second_reviewer, project, "ar")
    project.refresh_from_db()
    assert project.status == Project.Status.APPROVED


def test_the_submitted_version_holds_codes_and_canonical_amounts(client, territory):
    project = submitted_in_spanish(client, territory)
    data = project.versions.get().data
    assert data["documents"] == [{"kind": "business_plan", "name": "plan.pdf"}]
    assert data["funding_sought"] == "250000.00"
    assert data["budget"] == [
        {"label": "Still", "amount": "150000.00"},
        {"label": "Agave plants", "amount": "100000.00"},
    ]


def test_the_submitted_version_reads_in_the_reviewers_language(client, territory, reviewer):
    project = submitted_in_spanish(client, territory)

    rows = {
        row["key"]: row
        for row in review_in(client, reviewer, project, "en").context["snapshot_rows"]
    }
    assert rows["documents"]["value"] == ["Business plan: plan.pdf"]
    assert rows["funding_sought"]["value"] == "MX$250,000.00"
    assert rows["budget"]["value"] == ["Still: MX$150,000.00", "Agave plants: MX$100,000.00"]

    rows = {
        row["key"]: row
        for row in review_in(client, reviewer, project, "ar").context["snapshot_rows"]
    }
    assert rows["documents"]["value"] == ["خطة العمل: plan.pdf"]
    page = review_in(client, reviewer, project, "es").content.decode()
    assert "Plan de negocios: plan.pdf" in page


def test_the_submit_step_shows_budget_amounts_as_the_portal_writes_money(client, territory):
    owner = UserFactory()
    client.force_login(owner)
    draft = services.project_create(owner=owner, title="Mezcal cooperative")
    fill_every_step(client, draft, territory)
    page = client.get(f"/en/projects/{draft.slug}/edit/submit/").content.decode()
    assert "Still: MX$150,000.00; Agave plants: MX$100,000.00" in page
    assert "150000.00 MXN" not in page


def test_a_real_edit_after_submission_still_blocks_approval(client, territory, reviewer):
    project = submitted_in_spanish(client, territory)
    project.funding_sought = Decimal("260000")
    project.save(update_fields=["funding_sought"])

    response = review_in(client, reviewer, project, "ar")
    rows = {row["key"]: row for row in response.context["change_rows"]}
    assert set(rows) == {"funding_sought"}

    response = review_in(client, reviewer, project, "en")
    row = response.context["change_rows"][0]
    assert (row["old"], row["new"]) == ("MX$250,000.00", "MX$260,000.00")

    response = approve_in(client, reviewer, project, "en")
    assert any("changed the project after submitting" in m for m in messages_of(response))
    assert not Approval.objects.exists()


def test_a_document_filed_under_another_kind_is_a_change(client, territory, reviewer):
    project = submitted_in_spanish(client, territory)
    project.documents.update(kind="quote")
    rows = review_in(client, reviewer, project, "en").context["change_rows"]
    assert [(row["key"], row["removed"], row["added"]) for row in rows] == [
        ("documents", ["Business plan: plan.pdf"], ["Supplier quote: plan.pdf"])
    ]


# --- Versions stored before snapshots held codes ---------------------------------------------


def canonicalize_stored_versions():
    """Run the data migration as `migrate` runs it, on the models as they were then."""
    name = "0005_canonical_project_versions"
    migration = importlib.import_module(f"projects.migrations.{name}")
    state = MigrationLoader(connection).project_state(("projects", name), at_end=False)
    migration.canonicalize_versions(state.apps, schema_editor=None)


@pytest.mark.parametrize(
    ("language", "label"),
    [("es", "Plan de negocios"), ("ar", "خطة العمل"), ("en", "Business plan")],
)
def test_versions_stored_with_labels_and_loose_amounts_are_made_canonical(
    client, entrepreneur, territory, reviewer, second_reviewer, language, label
):
    project = build_submitted_project(entrepreneur, territory)
    version = project.versions.get()
    version.data = dict(
        version.data,
        funding_sought="25000",
        budget=["Copper still: 15000.00 USD", "Working capital: 10000 USD"],
        documents=[f"{label}: business-plan.pdf"],
    )
    version.save()
    assert services.project_changes_since_submission(project)  # as the old code stored it

    canonicalize_stored_versions()
    version.refresh_from_db()
    assert version.data["funding_sought"] == "25000.00"
    assert version.data["budget"] == [
        {"label": "Copper still", "amount": "15000.00"},
        {"label": "Working capital", "amount": "10000.00"},
    ]
    assert version.data["documents"] == [{"kind": "business_plan", "name": "business-plan.pdf"}]
    assert services.project_changes_since_submission(project) == {}

    approve_in(client, reviewer, project, "ar")
    approve_in(client, second_reviewer, project, "en")
    project.refresh_from_db()
    assert project.status == Project.Status.APPROVED


def test_a_stored_label_no_language_knows_is_kept_and_shown_as_stored(
    client, entrepreneur, territory, reviewer
):
    project = build_submitted_project(entrepreneur, territory)
    version = project.versions.get()
    version.data = dict(version.data, documents=["Plan d'entreprise: business-plan.pdf"])
    version.save()

    canonicalize_stored_versions()
    canonicalize_stored_versions()  # running it again changes nothing
    version.refresh_from_db()
    assert version.data["documents"] == [{"kind": "Plan d'entreprise", "name": "business-plan.pdf"}]
    rows = review_in(client, reviewer, project, "en").context["change_rows"]
    assert rows[0]["removed"] == ["Plan d'entreprise: business-plan.pdf"]
    assert rows[0]["added"] == ["Business plan: business-plan.pdf"]


# --- The demo's project in review ------------------------------------------------------------


def test_the_demo_project_in_review_can_be_approved(client, seeded, reviewer, second_reviewer):
    from projects.demo import seed_projects

    seed_projects()
    project = Project.objects.get(status=Project.Status.SUBMITTED)
    assert project.versions.get().data["funding_sought"] == "14000.00"
    for language in ("ar", "en"):
        assert review_in(client, reviewer, project, language).context["change_rows"] == []

    approve_in(client, reviewer, project, "ar")
    approve_in(client, second_reviewer, project, "en")
    project.refresh_from_db()
    assert project.status == Project.Status.APPROVED
