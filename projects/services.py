"""Workflows of the catalogue: submission, vetting, endorsement, publishing,
updates and impact. Each locks the project row, checks the move is allowed,
records an audit entry and tells the people concerned after commit."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import AuditEntry, Membership, Organization
from portal.notifications import notify
from portal.permissions import Role, governs_territory, has_role

from .exceptions import ProjectError, ProjectPermissionDenied, ProjectStateError
from .models import (
    Approval,
    Follow,
    ImpactReport,
    ImpactValue,
    Milestone,
    Project,
    ProjectUpdate,
    ProjectVersion,
    Review,
    ReviewComment,
)
from .permissions import can_edit_project
from .vetting import DO_NO_HARM_QUESTIONS, DUE_DILIGENCE_CHECKLIST, STANDARD_IMPACT_INDICATORS

User = get_user_model()

APPROVALS_NEEDED = 2


def _locked(project: Project) -> Project:
    return Project.objects.select_for_update().get(pk=project.pk)


def _reviewers():
    return User.objects.filter(
        Q(is_superuser=True)
        | Q(
            memberships__organization__kind=Organization.Kind.OPERATOR,
            memberships__role__in=[Membership.Role.REVIEWER, Membership.Role.ADMIN],
        ),
        is_active=True,
    ).distinct()


def _government_members(project: Project):
    if not project.territory_id:
        return User.objects.none()
    chain = [t.pk for t in project.territory.ancestors_and_self()]
    return User.objects.filter(
        memberships__organization__kind=Organization.Kind.LOCAL_GOVERNMENT,
        memberships__organization__territory_id__in=chain,
        is_active=True,
    ).distinct()


def _require_reviewer(user) -> None:
    if not has_role(user, Role.REVIEWER):
        raise ProjectPermissionDenied(_("Only reviewers can do this."))


def _transition(project: Project, *, actor, to: str, action: str, reason: str = "") -> None:
    from_state = project.status
    project.status = to
    AuditEntry.record(
        actor=actor, action=action, obj=project, from_state=from_state, to_state=to, reason=reason
    )


def project_create(
    *,
    owner,
    title: str,
    organization: Organization | None = None,
    origin: str = Project.Origin.ENTREPRENEUR,
) -> Project:
    if organization is not None:
        membership = organization.memberships.filter(user=owner).first()
        if membership is None:
            raise ProjectPermissionDenied(_("You are not a member of this organization."))
    if origin == Project.Origin.MUNICIPAL and (
        organization is None or organization.kind != Organization.Kind.LOCAL_GOVERNMENT
    ):
        raise ProjectPermissionDenied(_("Only a local government publishes opportunities."))
    project = Project(owner=owner, title=title, organization=organization, origin=origin)
    if origin == Project.Origin.MUNICIPAL:
        project.territory = (
            organization.territory if organization.territory.level == "municipality" else None
        )
        project.endorsement = Project.Endorsement.ENDORSED
    project.ensure_slug()
    project.full_clean()
    project.save()
    AuditEntry.record(actor=owner, action="project.create", obj=project, to_state=project.status)
    return project


@transaction.atomic
def project_submit(*, project: Project, by) -> ProjectVersion:
    """Freeze the current content as a new version and put it in the review queue."""
    project = _locked(project)
    if project.owner_id != by.pk:
        raise ProjectPermissionDenied(_("Only the owner can submit this project."))
    if project.status not in (Project.Status.DRAFT, Project.Status.CHANGES_REQUESTED):
        raise ProjectStateError(_("This project has already been submitted."))
    missing = {step: names for step, names in project.missing_by_step().items() if names}
    if missing:
        raise ProjectError(_("Complete every step before submitting."), missing=missing)
    number = (
        project.versions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    version = ProjectVersion.objects.create(
        project=project, number=number, data=project.snapshot(), created_by=by
    )
    _transition(project, actor=by, to=Project.Status.SUBMITTED, action="project.submit")
    project.submitted_at = timezone.now()
    project.save(update_fields=["status", "submitted_at", "updated_at"])
    Review.objects.get_or_create(project=project)
    notify(
        _reviewers(),
        verb="project.submitted",
        message=_("A project was submitted for review: %(title)s"),
        params={"title": project.title},
        url=f"/admin/projects/review/{project.pk}/",
    )
    return version


def project_changes_since_submission(project: Project) -> dict[str, tuple]:
    """Fields that differ between the last submitted version and now:
    reviewers see what the owner changed during review."""
    latest = project.versions.order_by("-number").first()
    if latest is None:
        return {}
    current = project.snapshot()
    return {
        key: (latest.data.get(key), value)
        for key, value in current.items()
        if latest.data.get(key) != value
    }


@transaction.atomic
def review_save(
    *, project: Project, by, checklist: dict, do_no_harm: dict, risk_rating: str, risk_reason: str
) -> Review:
    _require_reviewer(by)
    project = _locked(project)
    if project.status != Project.Status.SUBMITTED:
        raise ProjectStateError(_("Only a submitted project can be reviewed."))
    known = {c.key for c in DUE_DILIGENCE_CHECKLIST}
    questions = {q.key for q in DO_NO_HARM_QUESTIONS}
    review, _created = Review.objects.get_or_create(project=project)
    review.checklist = {k: v for k, v in checklist.items() if k in known}
    review.do_no_harm = {k: v for k, v in do_no_harm.items() if k in questions}
    review.save()
    if risk_rating:
        if risk_rating not in "ABCDE" or not risk_reason.strip():
            raise ProjectError(_("A risk rating needs a letter from A to E and a written reason."))
        project.risk_rating, project.risk_reason = risk_rating, risk_reason.strip()
        project.save(update_fields=["risk_rating", "risk_reason", "updated_at"])
    AuditEntry.record(
        actor=by, action="project.review_saved", obj=project, data={"risk_rating": risk_rating}
    )
    return review


@transaction.atomic
def project_request_changes(*, project: Project, by, comment: str) -> Project:
    _require_reviewer(by)
    if not comment.strip():
        raise ProjectError(_("Say what needs to change."))
    project = _locked(project)
    if project.status != Project.Status.SUBMITTED:
        raise ProjectStateError(_("Only a submitted project can be sent back."))
    ReviewComment.objects.create(project=project, author=by, body=comment.strip())
    _transition(
        project,
        actor=by,
        to=Project.Status.CHANGES_REQUESTED,
        action="project.request_changes",
        reason=comment.strip(),
    )
    project.save(update_fields=["status", "updated_at"])
    # Approvals were given to a version that is about to change.
    project.approvals.all().delete()
    notify(
        [project.owner],
        verb="project.changes_requested",
        message=_("Changes were requested on your project %(title)s: %(comment)s"),
        params={"title": project.title, "comment": comment.strip()[:150]},
        url=project.get_absolute_url(),
    )
    return project


@transaction.atomic
def project_approve(*, project: Project, by) -> Project:
    """Record one reviewer's approval; the second distinct reviewer publishes."""
    _require_reviewer(by)
    project = _locked(project)
    if project.status != Project.Status.SUBMITTED:
        raise ProjectStateError(_("Only a submitted project can be approved."))
    if project.owner_id == by.pk:
        raise ProjectPermissionDenied(_("You cannot approve your own project."))
    if can_edit_project(by, project):
        # A member of the project's organization is not an independent reviewer.
        raise ProjectPermissionDenied(
            _("You cannot approve a project of an organization you belong to.")
        )
    review = Review.objects.filter(project=project).first()
    if review is None or not review.checklist_complete():
        raise ProjectError(
            _(
                "Complete the due-diligence checklist and the do-no-harm "
                "assessment before approving."
            )
        )
    if not project.risk_rating or not project.risk_reason:
        raise ProjectError(_("Give a risk rating with its reason before approving."))
    version = project.versions.order_by("-number").first()
    if project_changes_since_submission(project):
        raise ProjectError(
            _(
                "The owner changed the project after submitting; request "
                "changes so that a new version is submitted."
            )
        )
    approval, created = Approval.objects.get_or_create(
        project=project, version=version, reviewer=by
    )
    if not created:
        raise ProjectError(
            _("You have already approved this version; a second reviewer must approve it.")
        )
    AuditEntry.record(
        actor=by, action="project.approval", obj=project, data={"version": version.number}
    )
    approvers = set(version.approvals.values_list("reviewer_id", flat=True))
    if len(approvers) >= APPROVALS_NEEDED:
        _transition(project, actor=by, to=Project.Status.APPROVED, action="project.publish")
        project.published_at = timezone.now()
        project.save(update_fields=["status", "published_at", "updated_at"])
        _announce_publication(project)
    return project


def _announce_publication(project: Project) -> None:
    notify(
        [project.owner],
        verb="project.approved",
        message=_("Your project %(title)s is approved and published."),
        params={"title": project.title},
        url=project.get_absolute_url(),
    )
    if project.territory_id:
        chain = [t.pk for t in project.territory.ancestors_and_self()]
        followers = User.objects.filter(follows__territory_id__in=chain).distinct()
        notify(
            followers,
            verb="territory.new_project",
            message=_("A new project was published in %(place)s: %(title)s"),
            params={"place": project.territory.name, "title": project.title},
            url=project.get_absolute_url(),
        )
        notify(
            _government_members(project),
            verb="territory.new_project",
            message=_("A new project was published in %(place)s: %(title)s"),
            params={"place": project.territory.name, "title": project.title},
            url=project.get_absolute_url(),
            email=False,
        )


@transaction.atomic
def project_reject(*, project: Project, by, reason: str) -> Project:
    _require_reviewer(by)
    if not reason.strip():
        raise ProjectError(_("A rejection needs a reason for the owner."))
    project = _locked(project)
    if project.status != Project.Status.SUBMITTED:
        raise ProjectStateError(_("Only a submitted project can be rejected."))
    project.rejection_reason = reason.strip()
    _transition(
        project,
        actor=by,
        to=Project.Status.REJECTED,
        action="project.reject",
        reason=reason.strip(),
    )
    project.save(update_fields=["status", "rejection_reason", "updated_at"])
    notify(
        [project.owner],
        verb="project.rejected",
        message=_("Your project %(title)s was not approved. Reason: %(reason)s"),
        params={"title": project.title, "reason": reason.strip()[:150]},
        url=project.get_absolute_url(),
    )
    return project


@transaction.atomic
def project_endorse(*, project: Project, by, endorse: bool, note: str = "") -> Project:
    """A local government endorses, or declines to endorse, a project in its territory."""
    project = _locked(project)
    if not project.territory_id or not governs_territory(by, project.territory):
        raise ProjectPermissionDenied(_("Only the local government of this territory can do this."))
    if project.status in (Project.Status.DRAFT, Project.Status.REJECTED):
        raise ProjectStateError(_("This project is not open for endorsement."))
    before = project.endorsement
    project.endorsement = Project.Endorsement.ENDORSED if endorse else Project.Endorsement.DECLINED
    project.endorsement_note = note.strip()
    project.save(update_fields=["endorsement", "endorsement_note", "updated_at"])
    AuditEntry.record(
        actor=by,
        action="project.endorsement",
        obj=project,
        from_state=before,
        to_state=project.endorsement,
        reason=note,
    )
    notify(
        [project.owner],
        verb="project.endorsement",
        message=_("The local government responded to %(title)s: %(decision)s"),
        params={"title": project.title, "decision": project.get_endorsement_display()},
        url=project.get_absolute_url(),
    )
    return project


def follow(*, user, project: Project | None = None, territory=None) -> Follow:
    if (project is None) == (territory is None):
        raise ProjectError(_("Follow a project or a territory."))
    if project is not None and not project.is_public:
        raise ProjectPermissionDenied(_("This project is not published."))
    lookup = {"project": project} if project is not None else {"territory": territory}
    with transaction.atomic():
        row, _created = Follow.objects.get_or_create(user=user, **lookup)
    return row


def unfollow(*, user, project: Project | None = None, territory=None) -> None:
    lookup = {"project": project} if project is not None else {"territory": territory}
    Follow.objects.filter(user=user, **lookup).delete()


@transaction.atomic
def update_post(*, project: Project, by, title: str, body: str) -> ProjectUpdate:
    if not can_edit_project(by, project):
        raise ProjectPermissionDenied(_("Only the project's team can post updates."))
    if not project.is_public:
        raise ProjectStateError(_("Updates are posted once the project is published."))
    update = ProjectUpdate.objects.create(project=project, author=by, title=title, body=body)
    followers = User.objects.filter(follows__project=project)
    notify(
        followers,
        verb="project.update",
        message=_("News from %(project)s: %(title)s"),
        params={"project": project.title, "title": title},
        url=project.get_absolute_url(),
    )
    return update


def milestone_add(*, project: Project, by, title: str, due_on: datetime.date) -> Milestone:
    if not can_edit_project(by, project):
        raise ProjectPermissionDenied(_("Only the project's team can add milestones."))
    return Milestone.objects.create(project=project, title=title, due_on=due_on)


@transaction.atomic
def milestone_reach(*, milestone: Milestone, by, reached_on: datetime.date) -> Milestone:
    if not can_edit_project(by, milestone.project):
        raise ProjectPermissionDenied(_("Only the project's team can update milestones."))
    milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
    milestone.status, milestone.reached_on = Milestone.Status.DONE, reached_on
    milestone.save(update_fields=["status", "reached_on"])
    followers = User.objects.filter(follows__project=milestone.project)
    notify(
        followers,
        verb="project.milestone",
        message=_("%(project)s reached a milestone: %(title)s"),
        params={"project": milestone.project.title, "title": milestone.title},
        url=milestone.project.get_absolute_url(),
    )
    return milestone


@transaction.atomic
def impact_report_submit(
    *,
    project: Project,
    by,
    period_start: datetime.date,
    period_end: datetime.date,
    values: dict[str, Decimal],
    custom: dict[str, Decimal] | None = None,
    note: str = "",
) -> ImpactReport:
    if not can_edit_project(by, project):
        raise ProjectPermissionDenied(_("Only the project's team can report impact."))
    if period_end < period_start:
        raise ProjectError(_("The period ends before it starts."))
    known = {key for key, _label, _unit in STANDARD_IMPACT_INDICATORS}
    rows = []
    for key, value in values.items():
        if key not in known:
            raise ProjectError(_("Unknown indicator: %(key)s") % {"key": key})
        if value is None or Decimal(value) < 0:
            raise ProjectError(_("Indicator values cannot be negative or empty."))
        rows.append(ImpactValue(indicator=key, value=Decimal(value)))
    for label, value in (custom or {}).items():
        if value is None or Decimal(value) < 0:
            raise ProjectError(_("Indicator values cannot be negative or empty."))
        rows.append(
            ImpactValue(indicator=f"custom:{label[:50]}", label=label, value=Decimal(value))
        )
    if ImpactReport.objects.filter(
        project=project, period_start=period_start, period_end=period_end
    ).exists():
        raise ProjectError(_("A report for this period already exists."))
    report = ImpactReport.objects.create(
        project=project,
        period_start=period_start,
        period_end=period_end,
        submitted_by=by,
        note=note,
    )
    for row in rows:
        row.report = report
    ImpactValue.objects.bulk_create(rows)
    AuditEntry.record(actor=by, action="impact.submit", obj=report)
    return report


@transaction.atomic
def impact_report_verify(*, report: ImpactReport, by) -> ImpactReport:
    _require_reviewer(by)
    report = ImpactReport.objects.select_for_update().select_related("project").get(pk=report.pk)
    if report.verified_at:
        return report
    if report.submitted_by_id == by.pk:
        raise ProjectPermissionDenied(_("You cannot verify a report you submitted."))
    if can_edit_project(by, report.project):
        raise ProjectPermissionDenied(
            _("You cannot verify a report on a project of yours or of your organization.")
        )
    report.verified_by, report.verified_at = by, timezone.now()
    report.save(update_fields=["verified_by", "verified_at"])
    AuditEntry.record(actor=by, action="impact.verify", obj=report)
    return report
