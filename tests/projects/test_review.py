"""Vetting in Wagtail's admin: the review queue, the review page and its four
buttons, the audit trail, and impact-report verification."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse

from portal.models import AuditEntry, Notification
from projects import services
from projects.models import (
    Approval,
    BudgetLine,
    Document,
    ImpactReport,
    Instrument,
    Project,
    ProjectVersion,
    Review,
    ReviewComment,
    TeamMember,
)
from projects.vetting import DO_NO_HARM_QUESTIONS, DUE_DILIGENCE_CHECKLIST, RISK_RATINGS
from tests.conftest import enable_totp
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

QUEUE = "/admin/projects/review/"
IMPACT = "/admin/projects/impact-reports/"


def review_page(project) -> str:
    return f"/admin/projects/review/{project.pk}/"


@pytest.fixture
def staff_without_role(db):
    """Someone who may open Wagtail's admin (to edit pages) but is no reviewer."""
    person = UserFactory(is_staff=True)
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(Permission.objects.get(codename="access_admin"))
    person.groups.add(editors)
    return person


def sign_in(client, user):
    if not user.authenticator_set.exists():
        enable_totp(user)
    client.force_login(user)
    return client


def build_submitted_project(owner, territory, title="Mezcal cooperative of Jerez") -> Project:
    """A project whose owner filled in every step, then submitted it."""
    project = Project.objects.create(
        owner=owner,
        title=title,
        summary="A cooperative still for agave growers",
        story="Twelve families who grow agave want to distil it themselves.",
        sector="agriculture",
        sdgs=[8, 12],
        territory=territory,
        led_by_returnee=True,
        currency="USD",
        funding_sought=Decimal("25000.00"),
        instrument=Instrument.LOAN,
        jobs_planned=6,
        beneficiaries_planned=40,
        community_benefit="Growers who never migrated sell at a fair price.",
        do_no_harm="Hiring is open to every resident.",
        risks="A poor harvest; we keep three months of stock.",
    )
    TeamMember.objects.create(
        project=project, name="Ana Robles", role="Master distiller", is_returnee=True, is_woman=True
    )
    BudgetLine.objects.create(project=project, label="Copper still", amount=Decimal("15000"))
    BudgetLine.objects.create(project=project, label="Working capital", amount=Decimal("10000"))
    content = b"%PDF-1.4 test"
    Document.objects.create(
        project=project,
        kind=Document.Kind.BUSINESS_PLAN,
        file=ContentFile(content, name="plan.pdf"),
        original_name="business-plan.pdf",
        content_type="application/pdf",
        size=len(content),
        uploaded_by=owner,
    )
    services.project_submit(project=project, by=owner)
    project.refresh_from_db()
    return project


@pytest.fixture
def submitted(entrepreneur, territory):
    return build_submitted_project(entrepreneur, territory)


def complete_review(**overrides) -> dict:
    """What a reviewer posts when every check passed and every question is answered."""
    data = {"risk_rating": "B", "risk_reason": "A year of regular sales; a signed buyer."}
    for criterion in DUE_DILIGENCE_CHECKLIST:
        data[f"checklist__{criterion.key}__passed"] = "on"
        data[f"checklist__{criterion.key}__note"] = f"Checked {criterion.key}."
    for question in DO_NO_HARM_QUESTIONS:
        data[f"do_no_harm__{question.key}__answer"] = "no"
        data[f"do_no_harm__{question.key}__note"] = f"Asked about {question.key}."
    data.update(overrides)
    return data


def messages_of(response) -> list[str]:
    return [str(message).strip() for message in response.context["messages"]]


# --- Access -------------------------------------------------------------------------------


def test_queue_lists_submitted_projects_first(client, reviewer, submitted, entrepreneur):
    draft = Project.objects.create(owner=entrepreneur, title="Solar dryer (draft)")
    sign_in(client, reviewer)
    response = client.get(QUEUE)
    assert response.status_code == 200
    page = response.content.decode()
    assert submitted.title in page and draft.title in page
    assert page.index(submitted.title) < page.index(draft.title)
    assert str(entrepreneur) in page  # owner column
    assert "Jerez" in page  # territory column
    assert "Submitted for review" in page
    assert review_page(submitted) in page  # the title links to the review page
    assert "Project review" in page


def test_queue_filters_and_search(client, reviewer, submitted, entrepreneur):
    other = Project.objects.create(owner=entrepreneur, title="Bakery in Fresnillo")
    sign_in(client, reviewer)

    def titles(query):
        page = client.get(QUEUE + "results/" + query).content.decode()
        return {p.title for p in (submitted, other) if p.title in page}

    assert titles("?status=submitted") == {submitted.title}
    assert titles("?status=draft") == {other.title}
    assert titles("?sector=agriculture") == {submitted.title}
    assert titles("?instrument=loan") == {submitted.title}
    assert titles("?country=MX") == {submitted.title}
    assert titles("?q=bakery") == {other.title}
    Project.objects.filter(pk=submitted.pk).update(risk_rating="D")
    assert titles("?risk_rating=D") == {submitted.title}
    assert titles("?risk_rating=A") == set()


def test_staff_without_the_reviewer_role_gets_403(client, staff_without_role, reviewer, submitted):
    sign_in(client, staff_without_role)
    assert client.get("/admin/").status_code == 200  # they do reach Wagtail's admin
    assert "Project review" not in client.get("/admin/").content.decode()
    assert client.get(QUEUE).status_code == 403
    assert client.get(review_page(submitted)).status_code == 403
    response = client.post(review_page(submitted), complete_review(action="approve"))
    assert response.status_code == 403
    assert not Approval.objects.exists()
    assert client.get(IMPACT).status_code == 403
    sign_in(client, reviewer)
    assert "Project review" in client.get("/admin/").content.decode()


def test_the_link_in_the_submission_notification_opens_the_review_page(client, reviewer, submitted):
    notification = Notification.objects.get(recipient=reviewer, verb="project.submitted")
    assert notification.url == review_page(submitted)
    assert resolve(notification.url).url_name == "projects_review"
    sign_in(client, reviewer)
    assert client.get(notification.url).status_code == 200
    assert client.get("/admin/projects/review/999999/", follow=True).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, submitted):
    response = client.get(review_page(submitted))
    assert response.status_code == 302
    assert "login" in response["Location"]


# --- The review page ------------------------------------------------------------------------


def test_review_page_shows_what_was_submitted(client, reviewer, submitted):
    sign_in(client, reviewer)
    response = client.get(review_page(submitted))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Twelve families who grow agave" in page  # the submitted story
    assert "Agriculture and agro-processing" in page  # sector by its label
    assert "Ana Robles" in page and "Master distiller" in page  # team
    assert "Copper still: $15,000.00" in page and "$25,000.00" in page  # budget
    assert "business-plan.pdf" in page
    document = submitted.documents.get()
    link = reverse("projects:document", kwargs={"slug": submitted.slug, "pk": document.pk})
    assert f'href="{link}"' in page
    # the checklist with its guidance, the do-no-harm questions, the risk scale
    for criterion in DUE_DILIGENCE_CHECKLIST:
        assert f'name="checklist__{criterion.key}__passed"' in page
    assert str(DUE_DILIGENCE_CHECKLIST[0].guidance) in page
    for question in DO_NO_HARM_QUESTIONS:
        assert f'name="do_no_harm__{question.key}__answer"' in page
    for _letter, label, description in RISK_RATINGS:
        assert str(label) in page and str(description) in page
    for action in ("save", "approve", "request_changes", "reject"):
        assert f'value="{action}"' in page
    assert "csrfmiddlewaretoken" in page
    assert "project.submit" in page  # the audit trail


def test_saving_the_checklist(client, reviewer, submitted):
    sign_in(client, reviewer)
    response = client.post(review_page(submitted), complete_review(action="save"))
    assert response.status_code == 302
    assert response["Location"] == review_page(submitted)

    review = Review.objects.get(project=submitted)
    assert review.checklist["identity"] == {"passed": True, "note": "Checked identity."}
    assert review.do_no_harm["fair_access"] == {"answer": "no", "note": "Asked about fair_access."}
    assert review.checklist_complete()
    submitted.refresh_from_db()
    assert submitted.risk_rating == "B"
    assert submitted.risk_reason == "A year of regular sales; a signed buyer."
    assert submitted.status == Project.Status.SUBMITTED

    response = client.get(review_page(submitted))
    assert "Review saved." in messages_of(response)
    form = response.context["form"]
    assert form["checklist__identity__passed"].value() is True
    assert form["do_no_harm__fair_access__answer"].value() == "no"
    entry = AuditEntry.objects.get(action="project.review_saved")
    assert entry.actor == reviewer and entry.data == {"risk_rating": "B"}


def test_a_rating_without_a_reason_is_refused_and_the_form_kept(client, reviewer, submitted):
    sign_in(client, reviewer)
    data = complete_review(action="save", risk_rating="C", risk_reason="")
    data["checklist__permits__note"] = "Land-use permit still pending."
    response = client.post(review_page(submitted), data)
    assert response.status_code == 200
    assert "A risk rating needs a letter from A to E and a written reason." in messages_of(response)
    assert "Land-use permit still pending." in response.content.decode()
    assert not Review.objects.get(project=submitted).checklist  # nothing half-saved
    submitted.refresh_from_db()
    assert submitted.risk_rating == ""


def test_approving_without_a_complete_checklist_is_refused(client, reviewer, submitted):
    sign_in(client, reviewer)
    data = complete_review(action="approve")
    del data["checklist__permits__passed"]
    response = client.post(review_page(submitted), data)
    assert response.status_code == 200
    assert (
        "Complete the due-diligence checklist and the do-no-harm assessment before approving."
        in messages_of(response)
    )
    assert "Checked permits." in response.content.decode()  # what was typed is still there
    assert not Approval.objects.exists()
    submitted.refresh_from_db()
    assert submitted.status == Project.Status.SUBMITTED


def test_the_same_reviewer_approving_twice_does_not_publish(client, reviewer, submitted):
    sign_in(client, reviewer)
    response = client.post(review_page(submitted), complete_review(action="approve"), follow=True)
    assert "1 of 2 approvals; a second reviewer must approve." in messages_of(response)

    response = client.post(review_page(submitted), complete_review(action="approve"))
    assert response.status_code == 200
    assert (
        "You have already approved this version; a second reviewer must approve it."
        in messages_of(response)
    )
    submitted.refresh_from_db()
    assert submitted.status == Project.Status.SUBMITTED
    assert submitted.published_at is None
    assert Approval.objects.filter(project=submitted).count() == 1


def test_two_different_reviewers_publish_and_the_owner_is_told(
    client, reviewer, second_reviewer, submitted, entrepreneur, django_capture_on_commit_callbacks
):
    sign_in(client, reviewer)
    client.post(review_page(submitted), complete_review(action="approve"))
    mail.outbox.clear()

    sign_in(client, second_reviewer)
    page = client.get(review_page(submitted)).content.decode()
    assert str(reviewer) in page  # who approved so far
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            review_page(submitted), complete_review(action="approve"), follow=True
        )
    assert "Approved by a second reviewer: the project is published." in messages_of(response)

    submitted.refresh_from_db()
    assert submitted.status == Project.Status.APPROVED
    assert submitted.published_at is not None
    version = submitted.versions.get()
    assert set(version.approvals.values_list("reviewer", flat=True)) == {
        reviewer.pk,
        second_reviewer.pk,
    }
    assert Notification.objects.filter(recipient=entrepreneur, verb="project.approved").exists()
    assert [m.to for m in mail.outbox] == [[entrepreneur.email]]
    assert submitted.title in mail.outbox[0].subject

    publish = AuditEntry.objects.get(action="project.publish", object_id=str(submitted.pk))
    assert publish.actor == second_reviewer
    assert (publish.from_state, publish.to_state) == ("submitted", "approved")
    assert publish.object_type == "projects.project"


def test_request_changes_needs_a_comment_and_tells_the_owner(
    client, reviewer, submitted, entrepreneur, django_capture_on_commit_callbacks
):
    sign_in(client, reviewer)
    response = client.post(review_page(submitted), {"action": "request_changes", "comment": " "})
    assert response.status_code == 200
    assert "Say what needs to change." in messages_of(response)
    submitted.refresh_from_db()
    assert submitted.status == Project.Status.SUBMITTED

    comment = "Add two supplier quotes for the still."
    data = complete_review(action="request_changes", comment=comment)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(review_page(submitted), data)
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Project.Status.CHANGES_REQUESTED
    assert ReviewComment.objects.get(project=submitted).body == comment
    notification = Notification.objects.get(
        recipient=entrepreneur, verb="project.changes_requested"
    )
    assert comment in notification.message
    assert [m.to for m in mail.outbox] == [[entrepreneur.email]]

    page = client.get(review_page(submitted)).content.decode()
    assert comment in page  # in the comment history
    assert "Changes requested. The owner has been told what to change." in page


def test_reject_needs_a_reason(client, reviewer, submitted, entrepreneur):
    sign_in(client, reviewer)
    response = client.post(review_page(submitted), {"action": "reject", "rejection_reason": ""})
    assert response.status_code == 200
    assert "A rejection needs a reason for the owner." in messages_of(response)
    submitted.refresh_from_db()
    assert submitted.status == Project.Status.SUBMITTED

    reason = "The land title is disputed."
    response = client.post(review_page(submitted), {"action": "reject", "rejection_reason": reason})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == Project.Status.REJECTED
    assert submitted.rejection_reason == reason
    assert Notification.objects.filter(recipient=entrepreneur, verb="project.rejected").exists()
    # A rejected project takes no more decisions: no buttons, and the workflow refuses.
    page = client.get(review_page(submitted)).content.decode()
    assert 'value="approve"' not in page and reason in page
    response = client.post(review_page(submitted), complete_review(action="approve"))
    assert "Only a submitted project can be approved." in messages_of(response)


def test_every_transition_is_in_the_audit_trail(client, reviewer, submitted, entrepreneur):
    sign_in(client, reviewer)
    client.post(review_page(submitted), {"action": "request_changes", "comment": "More quotes."})
    services.project_submit(project=submitted, by=entrepreneur)
    client.post(review_page(submitted), {"action": "reject", "rejection_reason": "Disputed land."})

    entries = list(
        AuditEntry.objects.filter(object_type="projects.project", object_id=str(submitted.pk))
        .exclude(from_state="", to_state="")
        .order_by("at", "pk")
        .values_list("action", "actor", "from_state", "to_state", "reason")
    )
    assert entries == [
        ("project.submit", entrepreneur.pk, "draft", "submitted", ""),
        ("project.request_changes", reviewer.pk, "submitted", "changes_requested", "More quotes."),
        ("project.submit", entrepreneur.pk, "changes_requested", "submitted", ""),
        ("project.reject", reviewer.pk, "submitted", "rejected", "Disputed land."),
    ]
    page = client.get(review_page(submitted)).content.decode()
    trail = page[page.index('id="audit-trail"') : page.index("</table>", page.index("audit-trail"))]
    # Each action in words, its code kept in the cell's title.
    for action, label in (
        ("project.submit", "Submitted for vetting"),
        ("project.request_changes", "Changes requested"),
        ("project.reject", "Rejected"),
    ):
        assert f'<td title="{action}">{label}</td>' in trail
    assert "Disputed land." in trail and "More quotes." in trail
    page = client.get(review_page(submitted), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<td title="project.request_changes">Cambios solicitados</td>' in page


def test_changes_since_submission_are_shown_field_by_field(client, reviewer, submitted):
    submitted.summary = "A cooperative still and a tasting room"
    submitted.save()
    BudgetLine.objects.create(project=submitted, label="Tasting room", amount=Decimal("3000"))

    sign_in(client, reviewer)
    response = client.get(review_page(submitted))
    rows = {row["key"]: row for row in response.context["change_rows"]}
    assert set(rows) == {"summary", "budget"}
    assert rows["summary"]["old"] == "A cooperative still for agave growers"
    assert rows["summary"]["new"] == "A cooperative still and a tasting room"
    assert rows["budget"]["added"] == ["Tasting room: $3,000.00"]
    page = response.content.decode()
    assert 'data-field="summary"' in page
    assert "<del>A cooperative still for agave growers</del>" in page
    assert "<ins>A cooperative still and a tasting room</ins>" in page

    # Approving what the owner has since changed is refused by the workflow.
    response = client.post(review_page(submitted), complete_review(action="approve"))
    assert any("changed the project after submitting" in m for m in messages_of(response))
    assert not Approval.objects.exists()


# --- Query counts ---------------------------------------------------------------------------


def make_queue(count, territory, reviewer):
    for number in range(count):
        owner = UserFactory()
        project = Project.objects.create(
            owner=owner,
            title=f"Project {number}",
            territory=territory,
            status=Project.Status.SUBMITTED if number % 2 else Project.Status.DRAFT,
            risk_rating="C",
            sector="tourism",
        )
        version = ProjectVersion.objects.create(
            project=project, number=1, data={}, created_by=owner
        )
        Approval.objects.create(project=project, version=version, reviewer=reviewer)


def test_the_queue_costs_the_same_for_5_or_30_projects(
    client, reviewer, territory, django_assert_max_num_queries
):
    sign_in(client, reviewer)
    client.get(QUEUE)  # warm Wagtail's per-process caches

    make_queue(5, territory, reviewer)
    with CaptureQueriesContext(connection) as five:
        response = client.get(QUEUE)
    assert response.content.decode().count("/admin/projects/review/") >= 5

    make_queue(25, territory, reviewer)
    with django_assert_max_num_queries(len(five.captured_queries)):
        response = client.get(QUEUE)
    assert len(response.context["object_list"]) == 30
    assert all(p.approvals_count == 1 for p in response.context["object_list"])


# --- Impact reports ------------------------------------------------------------------------


def published_with_report(owner, territory, submitted_by=None) -> ImpactReport:
    project = build_submitted_project(owner, territory, title=f"Bakery of {owner.pk}")
    Project.objects.filter(pk=project.pk).update(status=Project.Status.APPROVED)
    project.refresh_from_db()
    return services.impact_report_submit(
        project=project,
        by=submitted_by or owner,
        period_start=datetime.date(2025, 1, 1),
        period_end=datetime.date(2025, 6, 30),
        values={"jobs_created": Decimal("4"), "beneficiaries": Decimal("120")},
        custom={"Litres distilled": Decimal("900")},
        note="Payroll attached.",
    )


def test_impact_reports_are_listed_and_verified(client, reviewer, entrepreneur, territory):
    report = published_with_report(entrepreneur, territory)
    sign_in(client, reviewer)
    page = client.get(IMPACT).content.decode()
    assert report.project.title in page
    assert "Jobs created" in page and "Litres distilled" in page and "900" in page
    assert "Payroll attached." in page

    response = client.post(f"{IMPACT}{report.pk}/verify/", follow=True)
    assert any("verified" in m for m in messages_of(response))
    report.refresh_from_db()
    assert report.verified_by == reviewer and report.verified_at is not None
    assert f"impact-report-{report.pk}" not in response.content.decode()  # no longer waiting
    assert client.get(f"{IMPACT}{report.pk}/verify/").status_code == 405


def test_a_reviewer_cannot_verify_their_own_impact_report(client, reviewer, territory):
    report = published_with_report(reviewer, territory)
    sign_in(client, reviewer)
    response = client.post(f"{IMPACT}{report.pk}/verify/", follow=True)
    assert "You cannot verify a report you submitted." in messages_of(response)
    report.refresh_from_db()
    assert report.verified_at is None


def _also_in_the_projects_organization(person, project) -> None:
    organization = OrganizationFactory(kind="enterprise", name="Cooperativa de Jerez")
    Project.objects.filter(pk=project.pk).update(organization=organization)
    MembershipFactory(organization=organization, user=person)


def test_a_reviewer_who_belongs_to_the_projects_organization_cannot_approve_it(
    client, reviewer, submitted
):
    _also_in_the_projects_organization(reviewer, submitted)
    sign_in(client, reviewer)
    response = client.post(review_page(submitted), complete_review(action="approve"))
    assert response.status_code == 200
    assert "You cannot approve a project of an organization you belong to." in messages_of(response)
    assert not Approval.objects.filter(project=submitted).exists()


def test_a_reviewer_who_belongs_to_the_projects_organization_cannot_verify_its_report(
    client, reviewer, entrepreneur, territory
):
    report = published_with_report(entrepreneur, territory)
    _also_in_the_projects_organization(reviewer, report.project)
    sign_in(client, reviewer)
    response = client.post(f"{IMPACT}{report.pk}/verify/", follow=True)
    assert "You cannot verify a report on a project of yours or of your organization." in (
        messages_of(response)
    )
    report.refresh_from_db()
    assert report.verified_at is None
