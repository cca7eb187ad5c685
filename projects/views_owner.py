"""The owner's side: creating a project, the step-by-step submission, documents,
updates, milestones and impact reports; and a local government's endorsement."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.files.images import ImageFile
from django.db import transaction
from django.db.models import Sum
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal.middleware import back_office, require_two_factor
from portal.models import AuditEntry, Organization
from portal.permissions import (
    enterprises_of,
    governments_of,
    governs_territory,
)

from . import services
from .exceptions import ProjectError
from .forms import (
    BudgetLineFormSet,
    DocumentForm,
    EndorsementForm,
    ImpactForm,
    ImpactReportForm,
    MilestoneForm,
    MoneyForm,
    StoryForm,
    TeamForm,
    TeamMemberFormSet,
    UpdateForm,
)
from .models import Document, Milestone, Project, ProjectPhoto
from .permissions import can_download_document, can_edit_project

STEPS = [
    ("story", gettext_lazy("Story")),
    ("team", gettext_lazy("Team")),
    ("money", gettext_lazy("Money")),
    ("impact", gettext_lazy("Impact and do-no-harm")),
    ("documents", gettext_lazy("Photos and documents")),
    ("submit", gettext_lazy("Review and submit")),
]
STEP_FORMS = {"story": StoryForm, "team": TeamForm, "money": MoneyForm, "impact": ImpactForm}
STEP_FORMSETS = {"team": TeamMemberFormSet, "money": BudgetLineFormSet}
STASH_KEY = "projects.unsaved_step"


def _editable_project(request, slug: str) -> Project:
    project = get_object_or_404(
        Project.objects.select_related("organization", "territory"), slug=slug
    )
    # Someone who may not edit the project must not learn that it exists.
    if not can_edit_project(request.user, project):
        raise Http404
    return project


@login_required
def my_projects(request):
    projects = (
        Project.objects.filter(owner=request.user)
        .select_related("territory")
        .order_by("-updated_at")
    )
    return render(request, "projects/owner/my_projects.html", {"projects": projects})


@login_required
def project_new(request):
    enterprises = enterprises_of(request.user)
    governments = governments_of(request.user)
    organizations = enterprises + governments
    if request.method == "POST":
        title = request.POST.get("title", "").strip()
        org_id = request.POST.get("organization", "")
        organization = next((o for o in organizations if str(o.pk) == org_id), None)
        errors = []
        if not title or len(title) > 140:
            errors.append(_("Give the project a title of at most 140 characters."))
        if org_id and organization is None:
            errors.append(_("Choose one of your organizations."))
        if not errors:
            origin = (
                Project.Origin.MUNICIPAL
                if organization is not None
                and organization.kind == Organization.Kind.LOCAL_GOVERNMENT
                else Project.Origin.ENTREPRENEUR
            )
            try:
                project = services.project_create(
                    owner=request.user, title=title, organization=organization, origin=origin
                )
            except ProjectError as error:
                errors.append(str(error))
            else:
                return redirect("projects:edit", project.slug, "story")
        for error in errors:
            messages.error(request, error)
    return render(
        request,
        "projects/owner/new.html",
        {"organizations": organizations, "title": request.POST.get("title", "")},
    )


def _stashed_form_data(stashed: dict) -> QueryDict:
    """Form data kept across a login, as the form first received it. A stash
    made before each field kept its list of values holds one text per field."""
    data = QueryDict(mutable=True)
    for key, values in stashed.items():
        data.setlist(key, values if isinstance(values, list) else [values])
    return data


def edit_step(request, slug: str, step: str):
    if step not in dict(STEPS):
        raise Http404
    if not request.user.is_authenticated:
        # A session that expired while typing: keep what was typed, ask to log
        # in, and offer it again afterwards.
        if request.method == "POST":
            # Every value of each field: a field with several choices ticked
            # (the story step's goals) is sent once per choice.
            request.session[STASH_KEY] = {"path": request.path, "data": dict(request.POST.lists())}
        return redirect_to_login(request.get_full_path())
    project = _editable_project(request, slug)
    if step == "documents":
        return _documents_step(request, project)
    if step == "submit":
        return _submit_step(request, project)

    form_class, formset_class = STEP_FORMS[step], STEP_FORMSETS.get(step)
    data = request.POST if request.method == "POST" else None
    stash = request.session.pop(STASH_KEY, None) if data is None else None
    if stash and stash.get("path") == request.path:
        data = _stashed_form_data(stash["data"])
        messages.info(
            request, _("Your session had expired. We kept what you typed: check it and save.")
        )
    form = form_class(data, instance=project)
    formset = formset_class(data, instance=project, prefix=step) if formset_class else None
    if request.method == "POST":
        if not project.is_editable:
            messages.error(request, _("This project can no longer be edited."))
            return redirect("projects:edit", project.slug, step)
        if form.is_valid() and (formset is None or formset.is_valid()):
            with transaction.atomic():
                form.save()
                if formset is not None:
                    formset.save()
            AuditEntry.record(actor=request.user, action=f"project.edit.{step}", obj=project)
            messages.success(request, _("Saved."))
            if "save_next" in request.POST:
                return redirect("projects:edit", project.slug, _next_step(step))
            return redirect("projects:edit", project.slug, step)
        messages.error(request, _("Please correct the errors below; nothing was saved yet."))
    return render(
        request,
        "projects/owner/step.html",
        _step_context(project, step, form=form, formset=formset),
    )


def _next_step(step: str) -> str:
    keys = [key for key, _label in STEPS]
    return keys[min(keys.index(step) + 1, len(keys) - 1)]


def _step_context(project: Project, step: str, **extra) -> dict:
    missing = project.missing_by_step()
    steps = [
        {
            "key": key,
            "label": label,
            "current": key == step,
            "complete": not missing.get(key) if key != "submit" else None,
        }
        for key, label in STEPS
    ]
    return {
        "project": project,
        "step": step,
        "steps": steps,
        "completeness": project.completeness(),
        "missing": missing,
        "budget_gap": _budget_gap(project) if step in ("money", "submit") else None,
        **extra,
    }


def _budget_gap(project: Project) -> dict | None:
    """The funding asked for and the budget's total, when the budget does not
    cover it: the reviewers ask for a budget that accounts for all of it, so the
    team hears it before it submits."""
    if not project.funding_sought or not project.currency:
        return None
    total = project.budget_lines.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    if total >= project.funding_sought:
        return None
    return {
        "sought": f"{floatformat(project.funding_sought, '-2g')} {project.currency}",
        "total": f"{floatformat(total, '-2g')} {project.currency}",
    }


def _documents_step(request, project: Project):
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not project.is_editable and not project.is_public:
            messages.error(request, _("This project can no longer be edited."))
        elif form.is_valid():
            _store_upload(project, request.user, form.cleaned_data)
            messages.success(request, _("The file was uploaded."))
            return redirect("projects:edit", project.slug, "documents")
        else:
            messages.error(request, _("The file was not uploaded; see the message below."))
    documents = project.documents.all()
    photos = project.photos.select_related("image")
    return render(
        request,
        "projects/owner/step.html",
        _step_context(project, "documents", form=form, documents=documents, photos=photos),
    )


@transaction.atomic
def _store_upload(project: Project, user, data: dict) -> None:
    upload = data["file"]
    if data["kind"] == Document.Kind.PHOTO:
        # Public photos become Wagtail images so pages serve resized renditions.
        from wagtail.images import get_image_model

        # Wagtail serves the file and its renditions from public media URLs named
        # after the file: a random name keeps a draft's photos unguessable and the
        # uploaded name ("maria-passport.jpg") out of every URL.
        extension = Document.EXTENSIONS[data["content_type"]]
        image = get_image_model()(
            title=project.title[:200],
            file=ImageFile(upload, name=f"{secrets.token_urlsafe(16)}.{extension}"),
        )
        image.save()
        ProjectPhoto.objects.create(
            project=project,
            image=image,
            caption=data.get("caption", ""),
            position=project.photos.count(),
        )
        if project.cover_image_id is None:
            project.cover_image = image
            project.save(update_fields=["cover_image", "updated_at"])
        AuditEntry.record(actor=user, action="project.photo", obj=project)
        return
    document = Document(
        project=project,
        kind=data["kind"],
        original_name=upload.name[:200],
        content_type=data["content_type"],
        size=upload.size,
        is_public=data["is_public"] and data["kind"] != Document.Kind.IDENTITY,
        uploaded_by=user,
    )
    document.file.save(upload.name, upload, save=False)
    document.save()
    AuditEntry.record(
        actor=user,
        action="project.document",
        obj=project,
        data={"document": document.pk, "kind": document.kind},
    )


@login_required
@require_POST
def document_delete(request, slug: str, pk: int):
    project = _editable_project(request, slug)
    document = get_object_or_404(Document, pk=pk, project=project)
    if not project.is_editable:
        messages.error(request, _("This project can no longer be edited."))
    else:
        document.file.delete(save=False)
        document.delete()
        AuditEntry.record(actor=request.user, action="project.document_deleted", obj=project)
        messages.success(request, _("The file was removed."))
    return redirect("projects:edit", project.slug, "documents")


def document_download(request, slug: str, pk: int):
    """Documents are only ever served as downloads, after a permission check."""
    document = get_object_or_404(
        Document.objects.select_related("project", "project__territory", "project__organization"),
        pk=pk,
        project__slug=slug,
    )
    project = document.project
    if not can_download_document(request.user, document):
        raise Http404
    public = document.is_public and project.is_public
    if not public and not can_edit_project(request.user, project):
        require_two_factor(request)  # a reviewer's or the local government's copy
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store" if not public else "public, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _submit_step(request, project: Project):
    if request.method == "POST":
        try:
            services.project_submit(project=project, by=request.user)
        except ProjectError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _(
                    "Your project was submitted. Reviewers will look at it "
                    "and you will hear from them by email."
                ),
            )
            return redirect("projects:my_projects")
    comments = project.comments.filter(visible_to_owner=True).select_related("author")
    return render(
        request,
        "projects/owner/step.html",
        _step_context(project, "submit", comments=comments, snapshot=project.snapshot()),
    )


@back_office
@login_required
def endorse(request, slug: str):
    project = get_object_or_404(Project.objects.select_related("territory"), slug=slug)
    if not project.territory_id or not governs_territory(request.user, project.territory):
        raise Http404
    form = EndorsementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.project_endorse(
                project=project,
                by=request.user,
                endorse=form.cleaned_data["decision"] == "endorse",
                note=form.cleaned_data["note"],
            )
        except ProjectError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Your decision was recorded and the owner was told."))
            return redirect("portal:dashboard_government")
    return render(request, "projects/owner/endorse.html", {"project": project, "form": form})


@login_required
def post_update(request, slug: str):
    project = _editable_project(request, slug)
    form = UpdateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_post(project=project, by=request.user, **form.cleaned_data)
        except ProjectError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Your update was published and followers were told."))
            return redirect(project.get_absolute_url())
    return render(
        request,
        "projects/owner/form_page.html",
        {"project": project, "form": form, "heading": _("Post an update")},
    )


@login_required
def add_milestone(request, slug: str):
    project = _editable_project(request, slug)
    form = MilestoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.milestone_add(project=project, by=request.user, **form.cleaned_data)
        messages.success(request, _("The milestone was added."))
        return redirect("projects:milestones", project.slug)
    milestones = project.milestones.all()
    return render(
        request,
        "projects/owner/milestones.html",
        {"project": project, "form": form, "milestones": milestones},
    )


@login_required
@require_POST
def reach_milestone(request, slug: str, pk: int):
    project = _editable_project(request, slug)
    milestone = get_object_or_404(Milestone, pk=pk, project=project)
    from django.utils import timezone

    services.milestone_reach(milestone=milestone, by=request.user, reached_on=timezone.localdate())
    messages.success(request, _("Marked as reached; followers were told."))
    return redirect("projects:milestones", project.slug)


@login_required
def report_impact(request, slug: str):
    project = _editable_project(request, slug)
    form = ImpactReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        custom = {data["custom_label"]: data["custom_value"]} if data.get("custom_label") else None
        try:
            services.impact_report_submit(
                project=project,
                by=request.user,
                period_start=data["period_start"],
                period_end=data["period_end"],
                values=form.indicator_values(),
                custom=custom,
                note=data["note"],
            )
        except ProjectError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Your report was sent; a reviewer will verify it."))
            return redirect(project.get_absolute_url())
    reports = project.impact_reports.prefetch_related("values")
    return render(
        request,
        "projects/owner/impact.html",
        {"project": project, "form": form, "reports": reports},
    )


def edit_url(project: Project, step: str = "story") -> str:
    return reverse("projects:edit", args=[project.slug, step])
