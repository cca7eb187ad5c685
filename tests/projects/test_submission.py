"""The owner's side: step-by-step submission, uploads, documents and their
permissions, endorsement by the local government, updates and impact."""

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from portal.models import AuditEntry, Notification
from projects import services
from projects.models import Document, Follow, ImpactReport, Project
from tests.conftest import enable_totp
from tests.factories import MembershipFactory, OrganizationFactory, TerritoryFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def png_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 90)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def owner(db):
    return UserFactory(full_name="Lucía Hernández", preferred_language="es")


@pytest.fixture
def draft(owner, territory):
    project = services.project_create(owner=owner, title="Mezcal cooperative")
    return project


def fill_every_step(client, project: Project, territory, language: str = "en") -> None:
    base = f"/{language}/projects/{project.slug}/edit"
    assert (
        client.post(
            f"{base}/story/",
            {
                "title": project.title,
                "summary": "Agave spirits made by returnees and neighbours.",
                "story": "We came back from Texas with savings and a plan.",
                "sector": "agriculture",
                "sdgs": ["1", "8"],
                "territory": str(territory.pk),
            },
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"{base}/team/",
            {
                "led_by_returnee": "on",
                "led_by_woman": "on",
                "team-TOTAL_FORMS": "1",
                "team-INITIAL_FORMS": "0",
                "team-0-name": "Lucía",
                "team-0-role": "Director",
                "team-0-is_returnee": "on",
            },
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"{base}/money/",
            {
                "currency": "MXN",
                "funding_sought": "250000",
                "instrument": "loan",
                "money-TOTAL_FORMS": "2",
                "money-INITIAL_FORMS": "0",
                "money-0-label": "Still",
                "money-0-amount": "150000",
                "money-1-label": "Agave plants",
                "money-1-amount": "100000",
            },
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"{base}/impact/",
            {
                "jobs_planned": "12",
                "beneficiaries_planned": "300",
                "community_benefit": "Half the jobs go to people who never migrated.",
                "do_no_harm": "Open hiring; local prices for agave.",
                "risks": "Drought.",
            },
        ).status_code
        == 302
    )
    upload = SimpleUploadedFile("plan.pdf", PDF, content_type="application/pdf")
    assert (
        client.post(f"{base}/documents/", {"kind": "business_plan", "file": upload}).status_code
        == 302
    )


def test_owner_fills_steps_and_completeness_grows(client, owner, draft, territory):
    client.force_login(owner)
    assert draft.completeness() < 20
    fill_every_step(client, draft, territory)
    draft.refresh_from_db()
    assert draft.completeness() == 100
    assert draft.budget_lines.count() == 2 and draft.team_members.count() == 1
    assert draft.sdgs == [1, 8]
    page = client.get(f"/en/projects/{draft.slug}/edit/submit/").content.decode()
    assert "100% complete" in page


def test_a_budget_short_of_the_funding_asked_for_is_pointed_out(client, owner, draft):
    client.force_login(owner)
    money = {
        "currency": "MXN",
        "funding_sought": "5000",
        "instrument": "loan",
        "money-TOTAL_FORMS": "1",
        "money-INITIAL_FORMS": "0",
        "money-0-label": "Still",
        "money-0-amount": "2000",
    }
    page = client.post(f"/en/projects/{draft.slug}/edit/money/", money, follow=True)
    html = page.content.decode()
    assert "You ask for 5,000 MXN, but your budget lines add up to 2,000 MXN." in html
    assert "add up to" in client.get(f"/en/projects/{draft.slug}/edit/submit/").content.decode()
    assert "add up to" not in client.get(f"/en/projects/{draft.slug}/edit/story/").content.decode()
    line = draft.budget_lines.get()
    line.amount = 5000
    line.save()
    assert "add up to" not in client.get(f"/en/projects/{draft.slug}/edit/money/").content.decode()


def test_the_steps_are_numbered_once_and_the_current_one_is_marked(client, owner, draft):
    client.force_login(owner)
    html = client.get(f"/en/projects/{draft.slug}/edit/money/").content.decode()
    steps = html.split('<nav class="tabs steps"')[1].split("</nav>")[0]
    assert "<ol>" in steps  # numbered by its labels (the stylesheet hides the markers)
    links = re.findall(r'<a href="[^"]+"( aria-current="step")?>(\d+)\. ([^<]+)', steps)
    assert [int(number) for _current, number, _label in links] == [1, 2, 3, 4, 5, 6]
    assert [label.strip() for current, _number, label in links if current] == ["Money"]


def test_reviewers_comments_keep_the_direction_they_were_written_in(client, owner, draft, reviewer):
    draft.comments.create(author=reviewer, body="Name the buyers.\nAnd their prices.")
    client.force_login(owner)
    html = client.get(f"/ar/projects/{draft.slug}/edit/submit/").content.decode()
    assert '<span dir="auto">Name the buyers.<br>And their prices.</span>' in html
    assert '<dd dir="auto">' in html  # the summary, as the team wrote it


def test_submit_refuses_incomplete_project_and_says_what_is_missing(client, owner, draft):
    client.force_login(owner)
    response = client.post(f"/en/projects/{draft.slug}/edit/submit/", follow=True)
    assert "Complete every step before submitting" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Project.Status.DRAFT


def test_submit_freezes_a_version_and_notifies_reviewers(client, owner, draft, territory, reviewer):
    client.force_login(owner)
    fill_every_step(client, draft, territory)
    response = client.post(f"/en/projects/{draft.slug}/edit/submit/")
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Project.Status.SUBMITTED
    version = draft.versions.get()
    assert version.data["funding_sought"] == "250000.00"
    assert Notification.objects.filter(recipient=reviewer, verb="project.submitted").exists()
    assert AuditEntry.objects.filter(
        action="project.submit", to_state="submitted", actor=owner
    ).exists()
    # Later edits are visible to the reviewer as changes.
    client.post(
        f"/en/projects/{draft.slug}/edit/impact/",
        {
            "jobs_planned": "15",
            "beneficiaries_planned": "300",
            "community_benefit": "Half the jobs go to people who never migrated.",
            "do_no_harm": "Open hiring; local prices for agave.",
            "risks": "Drought.",
        },
    )
    draft.refresh_from_db()
    changes = services.project_changes_since_submission(draft)
    assert changes == {"jobs_planned": (12, 15)}


def test_nothing_typed_is_lost_when_the_session_expires(client, owner, draft):
    url = f"/en/projects/{draft.slug}/edit/story/"
    response = client.post(url, {"title": draft.title, "story": "A long story I typed."})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.post("/en/accounts/login/", {"login": owner.email, "password": "correct-horse-battery"})
    page = client.get(url).content.decode()
    assert "A long story I typed." in page
    assert "We kept what you typed" in page


def test_every_goal_ticked_survives_an_expired_session(client, owner, draft, territory):
    url = f"/en/projects/{draft.slug}/edit/story/"
    typed = {
        "title": draft.title,
        "summary": "Agave spirits made by returnees and neighbours.",
        "story": "A long story I typed.",
        "sector": "agriculture",
        "sdgs": ["1", "5", "8", "12"],
        "territory": str(territory.pk),
    }
    response = client.post(url, typed)
    assert "/accounts/login/" in response["Location"]
    client.post("/en/accounts/login/", {"login": owner.email, "password": "correct-horse-battery"})
    response = client.get(url)
    form = response.context["form"]
    assert form.data.getlist("sdgs") == ["1", "5", "8", "12"]
    page = response.content.decode()
    for number in ("1", "5", "8", "12"):
        assert re.search(rf'<input[^>]*value="{number}"[^>]*checked', page), number
    # Saved as it was typed, all four goals with it.
    assert client.post(url, typed).status_code == 302
    draft.refresh_from_db()
    assert draft.sdgs == [1, 5, 8, 12]


def test_a_form_kept_before_fields_kept_every_value_is_still_offered(client, owner, draft):
    url = f"/en/projects/{draft.slug}/edit/story/"
    client.force_login(owner)
    session = client.session
    session["projects.unsaved_step"] = {
        "path": url,
        "data": {"title": draft.title, "story": "Typed before the update.", "sdgs": "8"},
    }
    session.save()
    form = client.get(url).context["form"]
    assert form.data.getlist("story") == ["Typed before the update."]
    assert form.data.getlist("sdgs") == ["8"]


def test_other_people_cannot_edit_or_see_a_draft(client, draft):
    client.force_login(UserFactory())
    for step in ["story", "documents", "submit"]:
        assert client.get(f"/en/projects/{draft.slug}/edit/{step}/").status_code == 404
    assert (
        client.post(f"/en/projects/{draft.slug}/edit/story/", {"title": "Hijacked"}).status_code
        == 404
    )
    draft.refresh_from_db()
    assert draft.title == "Mezcal cooperative"


def test_organization_members_can_edit_their_organizations_project(client, territory):
    org = OrganizationFactory(kind="enterprise")
    owner = MembershipFactory(organization=org).user
    colleague = MembershipFactory(organization=org).user
    project = services.project_create(owner=owner, title="Bakery", organization=org)
    client.force_login(colleague)
    assert client.get(f"/en/projects/{project.slug}/edit/story/").status_code == 200


@pytest.mark.parametrize(
    "name, content, kind, accepted",
    [
        ("plan.pdf", PDF, "business_plan", True),
        ("photo.pdf", None, "permit", True),  # a PNG named .pdf is judged a PNG
        ("plan.pdf", b"MZ\x90\x00 not really a pdf", "business_plan", False),
        ("page.html", b"<html><script>alert(1)</script>", "quote", False),
        ("video.mp4", PDF, "video", False),  # right name, wrong content
        ("empty.pdf", b"", "business_plan", False),
    ],
)
def test_uploads_are_checked_by_content(client, owner, draft, name, content, kind, accepted):
    client.force_login(owner)
    data = png_bytes() if content is None else content
    response = client.post(
        f"/en/projects/{draft.slug}/edit/documents/",
        {"kind": kind, "file": SimpleUploadedFile(name, data, content_type="application/pdf")},
    )
    assert (response.status_code == 302) is accepted
    assert draft.documents.exists() is accepted


def test_oversized_upload_is_refused_with_a_clear_message(client, owner, draft, settings):
    settings.PUENTE_MAX_DOCUMENT_BYTES = 1000
    client.force_login(owner)
    big = SimpleUploadedFile("plan.pdf", PDF + b"0" * 2000, content_type="application/pdf")
    response = client.post(
        f"/en/projects/{draft.slug}/edit/documents/", {"kind": "business_plan", "file": big}
    )
    assert response.status_code == 200
    assert "too large" in response.content.decode()
    assert not draft.documents.exists()


def test_photos_become_wagtail_images_with_renditions(client, owner, draft):
    client.force_login(owner)
    client.post(
        f"/en/projects/{draft.slug}/edit/documents/",
        {
            "kind": "photo",
            "caption": "The still",
            "file": SimpleUploadedFile(
                "still.png", png_bytes((800, 600)), content_type="image/png"
            ),
        },
    )
    draft.refresh_from_db()
    assert draft.cover_image is not None
    rendition = draft.cover_image.get_rendition("fill-200x150")
    assert (rendition.width, rendition.height) == (200, 150)
    # Public media URLs that give away neither the uploaded name nor a guessable one.
    for url in (draft.cover_image.file.url, rendition.url):
        name = url.rsplit("/", 1)[1]
        assert "still" not in url and len(name.split(".")[0]) >= 22, url
    assert draft.cover_image.file.name.endswith(".png")


def make_document(project, *, kind="permit", public=False, user=None):
    client_upload = SimpleUploadedFile("permit.pdf", PDF)
    document = Document(
        project=project,
        kind=kind,
        original_name="permit.pdf",
        content_type="application/pdf",
        size=len(PDF),
        is_public=public,
        uploaded_by=user or project.owner,
    )
    document.file.save("permit.pdf", client_upload, save=False)
    document.save()
    return document


def test_documents_are_stored_outside_public_media(draft):
    document = make_document(draft)
    path = Path(document.file.path).resolve()
    assert str(path).startswith(str(Path(settings.PRIVATE_MEDIA_ROOT).resolve()))
    assert not str(path).startswith(str(Path(settings.MEDIA_ROOT).resolve()))
    assert "permit" not in path.name  # random names


def test_private_document_permission_matrix(client, draft, territory, reviewer):
    permit, identity = make_document(draft), make_document(draft, kind="identity")
    urls = {
        kind: f"/en/projects/{draft.slug}/documents/{document.pk}/"
        for kind, document in (("permit", permit), ("identity", identity))
    }
    government = MembershipFactory(
        organization=OrganizationFactory(kind="local_government", territory=territory)
    ).user
    elsewhere = TerritoryFactory(name="Senegal", slug="sn", country="SN")
    other_government = MembershipFactory(
        organization=OrganizationFactory(kind="local_government", territory=elsewhere, country="SN")
    ).user
    draft.territory = territory
    draft.save()
    # The local government sees the plan, permits and quotes of a project in its
    # territory, never the entrepreneur's identity document.
    for person, permit_status, identity_status in [
        (None, 404, 404),
        (UserFactory(), 404, 404),
        (other_government, 404, 404),
        (draft.owner, 200, 200),
        (reviewer, 200, 200),
        (government, 200, 404),
    ]:
        client.logout()
        if person is not None:
            enable_totp(person)
            client.force_login(person)
        assert client.get(urls["identity"]).status_code == identity_status, person
        response = client.get(urls["permit"])
        assert response.status_code == permit_status, (person, response.status_code)
        expected = permit_status
        if expected == 200:
            assert response["Content-Disposition"].startswith("attachment")
            assert response["X-Content-Type-Options"] == "nosniff"
            assert b"".join(response.streaming_content) == PDF


def test_public_document_of_a_published_project_is_downloadable_by_anyone(client, draft):
    document = make_document(draft, public=True)
    url = f"/en/projects/{draft.slug}/documents/{document.pk}/"
    assert client.get(url).status_code == 404  # not published yet
    Project.objects.filter(pk=draft.pk).update(status=Project.Status.APPROVED)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")


def test_identity_documents_can_never_be_public(client, owner, draft):
    client.force_login(owner)
    response = client.post(
        f"/en/projects/{draft.slug}/edit/documents/",
        {
            "kind": "identity",
            "is_public": "on",
            "file": SimpleUploadedFile("id.pdf", PDF, content_type="application/pdf"),
        },
    )
    assert response.status_code == 200
    assert "never shown publicly" in response.content.decode()


def test_document_of_another_project_cannot_be_fetched_through_mine(client, owner, draft):
    other = services.project_create(owner=UserFactory(), title="Other")
    secret = make_document(other)
    client.force_login(owner)
    assert client.get(f"/en/projects/{draft.slug}/documents/{secret.pk}/").status_code == 404


def test_local_government_endorses_only_in_its_territory(client, draft, territory):
    draft.territory = territory
    draft.status = Project.Status.SUBMITTED
    draft.save()
    government = MembershipFactory(
        organization=OrganizationFactory(kind="local_government", territory=territory.parent)
    ).user  # the region contains it
    client.force_login(government)
    # Endorsing is a back-office page: not without two-factor authentication.
    response = client.post(f"/en/projects/{draft.slug}/endorse/", {"decision": "decline"})
    assert response["Location"].startswith("/en/accounts/2fa/totp/activate/")
    draft.refresh_from_db()
    assert draft.endorsement == Project.Endorsement.NONE
    enable_totp(government)
    response = client.post(
        f"/en/projects/{draft.slug}/endorse/",
        {"decision": "endorse", "note": "Fits our development plan."},
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.endorsement == Project.Endorsement.ENDORSED
    assert Notification.objects.filter(recipient=draft.owner, verb="project.endorsement").exists()

    elsewhere = TerritoryFactory(name="Senegal", slug="sn", country="SN")
    outsider = MembershipFactory(
        organization=OrganizationFactory(kind="local_government", territory=elsewhere, country="SN")
    ).user
    enable_totp(outsider)
    client.force_login(outsider)
    assert (
        client.post(f"/en/projects/{draft.slug}/endorse/", {"decision": "decline"}).status_code
        == 404
    )
    draft.refresh_from_db()
    assert draft.endorsement == Project.Endorsement.ENDORSED


def test_local_government_creates_an_opportunity_in_its_territory(client, territory):
    government_org = OrganizationFactory(kind="local_government", territory=territory)
    member = MembershipFactory(organization=government_org).user
    client.force_login(member)
    response = client.post(
        "/en/my-projects/new/",
        {"title": "Water tank for the market", "organization": str(government_org.pk)},
    )
    assert response.status_code == 302
    project = Project.objects.get(title="Water tank for the market")
    assert project.origin == Project.Origin.MUNICIPAL
    assert project.territory == territory
    assert project.endorsement == Project.Endorsement.ENDORSED


def test_cannot_create_a_project_for_someone_elses_organization(client, user):
    foreign = OrganizationFactory(kind="enterprise")
    client.force_login(user)
    response = client.post(
        "/en/my-projects/new/", {"title": "Mine", "organization": str(foreign.pk)}
    )
    assert response.status_code == 200
    assert not Project.objects.filter(title="Mine").exists()


def published(project: Project, territory) -> Project:
    Project.objects.filter(pk=project.pk).update(
        status=Project.Status.APPROVED, territory=territory
    )
    project.refresh_from_db()
    return project


def test_updates_notify_followers_in_their_language(
    client, owner, draft, territory, django_capture_on_commit_callbacks
):
    project = published(draft, territory)
    follower = UserFactory(preferred_language="es")
    services.follow(user=follower, project=project)
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/en/projects/{project.slug}/updates/new/",
            {"title": "First harvest", "body": "We harvested 2 tonnes."},
        )
    assert response.status_code == 302
    note = Notification.objects.get(recipient=follower)
    assert note.message.startswith("Novedades de")
    assert any(follower.email in m.to for m in mail.outbox)


def test_territory_followers_hear_of_new_projects(territory, reviewer):

    follower = UserFactory()
    services.follow(user=follower, territory=territory.parent.parent)  # the whole country
    project = services.project_create(owner=UserFactory(), title="Solar dryer")
    project.territory = territory
    project.save()
    services._announce_publication(project)
    assert Notification.objects.filter(recipient=follower, verb="territory.new_project").exists()


def test_impact_report_refuses_negative_values_and_needs_another_person_to_verify(
    client, owner, draft, territory, reviewer
):
    project = published(draft, territory)
    client.force_login(owner)
    data = {"period_start": "2026-01-01", "period_end": "2026-06-30"}
    from projects.vetting import STANDARD_IMPACT_INDICATORS

    for key, _label, _unit in STANDARD_IMPACT_INDICATORS:
        data[f"indicator_{key}"] = "3"
    data["indicator_jobs_created"] = "6"  # returnees and non-migrants hold 3 each
    bad = dict(data, **{f"indicator_{STANDARD_IMPACT_INDICATORS[0][0]}": "-1"})
    response = client.post(f"/en/projects/{project.slug}/impact/", bad)
    assert response.status_code == 200 and not ImpactReport.objects.exists()
    missing = {
        k: v for k, v in data.items() if k != f"indicator_{STANDARD_IMPACT_INDICATORS[0][0]}"
    }
    assert client.post(f"/en/projects/{project.slug}/impact/", missing).status_code == 200
    assert client.post(f"/en/projects/{project.slug}/impact/", data).status_code == 302
    report = ImpactReport.objects.get()
    assert report.values.count() == len(STANDARD_IMPACT_INDICATORS)
    services.impact_report_verify(report=report, by=reviewer)
    report.refresh_from_db()
    assert report.verified_by == reviewer and report.verified_at


def impact_figures(**figures) -> dict:
    from projects.vetting import STANDARD_IMPACT_INDICATORS

    data = {"period_start": "2026-01-01", "period_end": "2026-06-30"}
    for key, _label, _unit in STANDARD_IMPACT_INDICATORS:
        data[f"indicator_{key}"] = str(figures.get(key, 1))
    return data


def test_impact_figures_of_which_cannot_exceed_the_jobs_they_are_part_of(
    client, owner, draft, territory
):
    project = published(draft, territory)
    client.force_login(owner)
    url = f"/en/projects/{project.slug}/impact/"
    figures = impact_figures(jobs_created=2, jobs_returnees=3, jobs_women=4, jobs_non_migrants=5)
    response = client.post(url, figures)
    assert response.status_code == 200 and not ImpactReport.objects.exists()
    errors = response.context["form"].errors
    assert errors["indicator_jobs_returnees"] == ["This cannot be more than the jobs created (2)."]
    assert errors["indicator_jobs_women"] == ["This cannot be more than the jobs created (2)."]
    assert errors["indicator_jobs_non_migrants"] == [
        "This cannot be more than the jobs created (2)."
    ]
    assert "indicator_jobs_created" not in errors
    assert "This cannot be more than the jobs created (2)." in response.content.decode()

    # Returnees and people who never migrated are different people: together
    # they hold no more jobs than there are.
    figures = impact_figures(jobs_created=6, jobs_returnees=3, jobs_women=6, jobs_non_migrants=4)
    errors = client.post(url, figures).context["form"].errors
    assert list(errors) == ["indicator_jobs_non_migrants"]
    assert errors["indicator_jobs_non_migrants"] == [
        "Returnees and non-migrant residents together cannot hold more than the jobs created (6)."
    ]

    figures = impact_figures(
        jobs_created="6.5", jobs_returnees="2.5", jobs_women="6.5", jobs_non_migrants=4
    )
    assert client.post(url, figures).status_code == 302
    assert ImpactReport.objects.get().values.get(indicator="jobs_women").value == Decimal("6.5")


def test_follow_is_idempotent_and_unpublished_projects_cannot_be_followed(draft, user):
    with pytest.raises(services.ProjectPermissionDenied):
        services.follow(user=user, project=draft)
    Project.objects.filter(pk=draft.pk).update(status=Project.Status.APPROVED)
    draft.refresh_from_db()
    services.follow(user=user, project=draft)
    services.follow(user=user, project=draft)
    assert Follow.objects.filter(user=user).count() == 1


def test_milestones_can_be_reached_and_followers_hear(client, owner, draft, territory):
    project = published(draft, territory)
    follower = UserFactory()
    services.follow(user=follower, project=project)
    client.force_login(owner)
    client.post(
        f"/en/projects/{project.slug}/milestones/",
        {"title": "Still installed", "due_on": "2026-12-01"},
    )
    milestone = project.milestones.get()
    client.post(f"/en/projects/{project.slug}/milestones/{milestone.pk}/reached/")
    milestone.refresh_from_db()
    assert milestone.status == "done"
    assert Notification.objects.filter(recipient=follower, verb="project.milestone").exists()


def test_funding_sought_must_be_positive(client, owner, draft):
    client.force_login(owner)
    response = client.post(
        f"/en/projects/{draft.slug}/edit/money/",
        {
            "currency": "USD",
            "funding_sought": "-5",
            "instrument": "loan",
            "money-TOTAL_FORMS": "0",
            "money-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.funding_sought is None
    assert re.search(r"greater than or equal to 1", response.content.decode())
