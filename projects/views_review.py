"""The reviewers' side of vetting, inside Wagtail's admin: the review queue,
one page per project to vet it, and the impact reports waiting for
verification. Every decision goes through a workflow in `services`; these
views only collect what the reviewer entered and show what the services say."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, Value, When
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import NoReverseMatch, get_resolver, get_urlconf, reverse
from django.utils import translation
from django.utils.functional import cached_property
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView
from django_countries import countries
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn, TitleColumn
from wagtail.admin.views.generic import IndexView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from portal.amounts import amount_text
from portal.models import AuditEntry, Territory
from portal.permissions import Role, has_role

from . import services
from .exceptions import ProjectError
from .models import (
    Approval,
    Document,
    ImpactReport,
    Instrument,
    Project,
    Review,
    risk_choices,
    sector_choices,
)
from .vetting import (
    DO_NO_HARM_QUESTIONS,
    DUE_DILIGENCE_CHECKLIST,
    RISK_RATINGS,
    SDGS,
    SECTORS,
    STANDARD_IMPACT_INDICATORS,
)
from .views_owner import STEPS

QUEUE_URL_NAME = "project_review:index"
QUEUE_RESULTS_URL_NAME = "project_review:index_results"
REVIEW_URL_NAME = "projects_review"
IMPACT_REPORTS_URL_NAME = "projects_impact_reports"
IMPACT_VERIFY_URL_NAME = "projects_impact_report_verify"

# The order a submitted version is shown in: JSON objects keep no key order on
# PostgreSQL (jsonb), so it cannot come from the stored data itself.
SNAPSHOT_ORDER = (
    "title",
    "summary",
    "story",
    "sector",
    "sdgs",
    "territory",
    "led_by_returnee",
    "led_by_woman",
    "currency",
    "funding_sought",
    "instrument",
    "jobs_planned",
    "beneficiaries_planned",
    "community_benefit",
    "do_no_harm",
    "risks",
    "team",
    "budget",
    "documents",
)
SNAPSHOT_LABELS = {
    "team": _("Team"),
    "budget": _("Budget"),
    "documents": _("Documents"),
}

ANSWER_CHOICES = [
    ("yes", _("Yes")),
    ("no", _("No")),
    ("not_applicable", _("Not applicable")),
]


def review_url(project: Project) -> str:
    return reverse(REVIEW_URL_NAME, args=[project.pk])


def forbidden(request):
    """The site's 403 page. Raising PermissionDenied inside Wagtail's admin
    would be turned into a redirect to its dashboard instead."""
    handler = get_resolver(get_urlconf()).resolve_error_handler(403)
    return handler(request, exception=PermissionDenied())


class ReviewerRequiredMixin:
    """Wagtail lets in anyone with `wagtailadmin.access_admin`; vetting also
    needs the reviewer role. Anyone else gets 403."""

    def dispatch(self, request, *args, **kwargs):
        if not has_role(request.user, Role.REVIEWER):
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)


# --- Review queue ---------------------------------------------------------------------------


def _country_choices():
    codes = Territory.objects.order_by().values_list("country", flat=True).distinct()
    return sorted(((code, countries.name(code)) for code in codes if code), key=lambda c: c[1])


class ReviewQueueFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=Project.Status.choices,
        empty_label=_("All"),
        widget=forms.RadioSelect,
    )
    risk_rating = django_filters.ChoiceFilter(
        label=_("Risk rating"), choices=risk_choices, empty_label=_("All"), widget=forms.RadioSelect
    )
    sector = django_filters.ChoiceFilter(
        label=_("Sector"), choices=sector_choices, empty_label=_("All")
    )
    country = django_filters.ChoiceFilter(
        label=_("Country"),
        field_name="territory__country",
        choices=_country_choices,
        empty_label=_("All"),
    )
    instrument = django_filters.ChoiceFilter(
        label=_("Instrument"),
        choices=Instrument.choices,
        empty_label=_("All"),
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Project
        fields: list[str] = []


class ReviewQueueView(ReviewerRequiredMixin, IndexView):
    """Every project a reviewer may vet, those waiting for review first."""

    model = Project
    page_title = _("Project review")
    header_icon = "clipboard-list"
    index_url_name = QUEUE_URL_NAME
    index_results_url_name = QUEUE_RESULTS_URL_NAME
    # Reviewers hold no Django model permission on Project: the role decides.
    any_permission_required = None
    filterset_class = ReviewQueueFilterSet
    search_fields = ["title"]
    search_backend_name = None
    paginate_by = 30
    verbose_name = _("project")
    verbose_name_plural = _("projects")

    def get_base_queryset(self):
        # One query for the page whatever the number of rows: the owner and
        # territory come in the same join, the approvals as a count.
        return Project.objects.select_related("owner", "territory").annotate(
            approvals_count=Count("approvals"),
            queue_position=Case(
                When(status=Project.Status.SUBMITTED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
        )

    def order_queryset(self, queryset):
        if self.ordering:
            return super().order_queryset(queryset)
        # Waiting projects first, the longest waiting at the top.
        return queryset.order_by("queue_position", F("submitted_at").asc(nulls_last=True), "-pk")

    @cached_property
    def columns(self):
        return [
            TitleColumn(
                "title",
                label=_("Title"),
                sort_key="title",
                get_url=review_url,
            ),
            Column("owner", label=_("Owner"), sort_key="owner__full_name"),
            Column("territory", label=_("Territory"), sort_key="territory__name"),
            StatusTagColumn(
                "get_status_display",
                label=_("Status"),
                sort_key="status",
                primary=lambda project: project.status == Project.Status.SUBMITTED,
            ),
            DateColumn("submitted_at", label=_("Submitted"), sort_key="submitted_at"),
            Column("approvals_count", label=_("Approvals"), sort_key="approvals_count"),
            Column("get_risk_rating_display", label=_("Risk rating"), sort_key="risk_rating"),
        ]

    def get_edit_url(self, instance):
        return review_url(instance)

    def get_list_more_buttons(self, instance):
        return []


# --- One project's review page --------------------------------------------------------------


def _checklist_name(key: str, part: str) -> str:
    return f"checklist__{key}__{part}"


def _do_no_harm_name(key: str, part: str) -> str:
    return f"do_no_harm__{key}__{part}"


class ReviewForm(forms.Form):
    """The due-diligence checklist, the do-no-harm assessment, the risk rating
    and what the reviewer tells the owner. Whether the answers are enough to
    approve is for `services.project_approve` to say."""

    risk_rating = forms.ChoiceField(
        label=_("Risk rating"),
        required=False,
        choices=lambda: [("", _("Not rated yet")), *risk_choices()],
    )
    risk_reason = forms.CharField(
        label=_("Reason for the risk rating"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required with a rating: name the weakest factor and any mitigation."),
    )
    comment = forms.CharField(
        label=_("What needs to change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to request changes. The owner reads it."),
    )
    rejection_reason = forms.CharField(
        label=_("Reason for rejection"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to reject. The owner reads it."),
    )

    REVIEW_FIELDS = ("risk_rating", "risk_reason")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for criterion in DUE_DILIGENCE_CHECKLIST:
            self.fields[_checklist_name(criterion.key, "passed")] = forms.BooleanField(
                label=criterion.label, help_text=criterion.guidance, required=False
            )
            self.fields[_checklist_name(criterion.key, "note")] = forms.CharField(
                label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
            )
        for question in DO_NO_HARM_QUESTIONS:
            self.fields[_do_no_harm_name(question.key, "answer")] = forms.ChoiceField(
                label=question.label,
                help_text=question.guidance,
                choices=ANSWER_CHOICES,
                required=False,
                widget=forms.RadioSelect,
            )
            self.fields[_do_no_harm_name(question.key, "note")] = forms.CharField(
                label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
            )

    @classmethod
    def initial_for(cls, project: Project, review: Review | None) -> dict:
        initial = {"risk_rating": project.risk_rating, "risk_reason": project.risk_reason}
        checklist = review.checklist if review else {}
        do_no_harm = review.do_no_harm if review else {}
        for criterion in DUE_DILIGENCE_CHECKLIST:
            entry = checklist.get(criterion.key) or {}
            initial[_checklist_name(criterion.key, "passed")] = bool(entry.get("passed"))
            initial[_checklist_name(criterion.key, "note")] = entry.get("note", "")
        for question in DO_NO_HARM_QUESTIONS:
            entry = do_no_harm.get(question.key) or {}
            initial[_do_no_harm_name(question.key, "answer")] = entry.get("answer", "")
            initial[_do_no_harm_name(question.key, "note")] = entry.get("note", "")
        return initial

    def checklist_rows(self):
        for criterion in DUE_DILIGENCE_CHECKLIST:
            yield (
                criterion,
                self[_checklist_name(criterion.key, "passed")],
                self[_checklist_name(criterion.key, "note")],
            )

    def do_no_harm_rows(self):
        for question in DO_NO_HARM_QUESTIONS:
            yield (
                question,
                self[_do_no_harm_name(question.key, "answer")],
                self[_do_no_harm_name(question.key, "note")],
            )

    def checklist_data(self) -> dict:
        data = self.cleaned_data
        return {
            c.key: {
                "passed": bool(data[_checklist_name(c.key, "passed")]),
                "note": data[_checklist_name(c.key, "note")].strip(),
            }
            for c in DUE_DILIGENCE_CHECKLIST
        }

    def do_no_harm_data(self) -> dict:
        data = self.cleaned_data
        return {
            q.key: {
                "answer": data[_do_no_harm_name(q.key, "answer")],
                "note": data[_do_no_harm_name(q.key, "note")].strip(),
            }
            for q in DO_NO_HARM_QUESTIONS
        }

    def review_changed(self) -> bool:
        """Whether the checklist, assessment or rating differ from what is saved."""
        return any(
            name in self.REVIEW_FIELDS or name.startswith(("checklist__", "do_no_harm__"))
            for name in self.changed_data
        )


def _label_for(key: str):
    if key in SNAPSHOT_LABELS:
        return SNAPSHOT_LABELS[key]
    try:
        return capfirst(Project._meta.get_field(key).verbose_name)
    except Exception:  # a key a later snapshot added: show it as it is stored
        return key


def _amount(amount: str, currency: str) -> str:
    """A canonical amount of a snapshot ("14000.00") as the portal writes money."""
    if not currency:
        return amount
    return amount_text(Decimal(amount), currency)


def _budget_line(line, currency: str) -> str:
    if isinstance(line, dict):
        return f"{line['label']}: {_amount(line['amount'], currency)}"
    return line  # not in the shape a snapshot takes: show it as it is stored


def _document(document) -> str:
    if isinstance(document, dict):
        kind = dict(Document.Kind.choices).get(document["kind"], document["kind"])
        return f"{kind}: {document['name']}"
    return document  # not in the shape a snapshot takes: show it as it is stored


def _display(key: str, value, currency: str = ""):
    """A stored snapshot value as the reviewer reads it: labels instead of
    codes, amounts written in the reviewer's language, lists kept as lists.
    `currency` is the snapshot's own, for its amounts."""
    if value in (None, "", []):
        return "—"
    if key == "sector":
        return dict(SECTORS).get(value, value)
    if key == "instrument":
        return dict(Instrument.choices).get(value, value)
    if key == "sdgs":
        names = dict(SDGS)
        return [f"{number}. {names.get(number, '')}" for number in value]
    if key == "funding_sought":
        return _amount(value, currency)
    if key == "budget":
        return [_budget_line(line, currency) for line in value]
    if key == "documents":
        return [_document(document) for document in value]
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return value


def _snapshot_rows(data: dict) -> list[dict]:
    keys = [k for k in SNAPSHOT_ORDER if k in data] + sorted(set(data) - set(SNAPSHOT_ORDER))
    currency = data.get("currency", "")
    rows = []
    for key in keys:
        value = _display(key, data[key], currency)
        rows.append(
            {
                "key": key,
                "label": _label_for(key),
                "value": value,
                "is_list": isinstance(value, list),
            }
        )
    return rows


def _change_rows(changes: dict, *, currencies: tuple[str, str]) -> list[dict]:
    """The fields `changes` holds, old and new as the reviewer reads them; the
    amounts of each side in that side's currency, (submitted, current)."""
    old_currency, new_currency = currencies
    rows = []
    for key in [k for k in SNAPSHOT_ORDER if k in changes] + sorted(
        set(changes) - set(SNAPSHOT_ORDER)
    ):
        old, new = changes[key]
        old, new = _display(key, old, old_currency), _display(key, new, new_currency)
        row = {"key": key, "label": _label_for(key), "old": old, "new": new}
        if isinstance(old, list) or isinstance(new, list):
            old_items = old if isinstance(old, list) else []
            new_items = new if isinstance(new, list) else []
            row["removed"] = [item for item in old_items if item not in new_items]
            row["added"] = [item for item in new_items if item not in old_items]
            row["is_list"] = True
        rows.append(row)
    return rows


def document_url(project: Project, document) -> str | None:
    """The permission-checked download link; it lives inside the language
    prefix, so it is reversed in a language the portal serves."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    try:
        with translation.override(language):
            return reverse("projects:document", kwargs={"slug": project.slug, "pk": document.pk})
    except NoReverseMatch:
        return None


class ProjectReviewView(ReviewerRequiredMixin, WagtailAdminTemplateMixin, View):
    template_name = "projects/admin/review.html"
    header_icon = "clipboard-list"
    ACTIONS = ("save", "approve", "request_changes", "reject")

    @cached_property
    def project(self) -> Project:
        # Read after the role check in dispatch: a non-reviewer learns nothing.
        return get_object_or_404(
            Project.objects.select_related("owner", "territory", "organization"),
            pk=self.kwargs["pk"],
        )

    def get_page_title(self):
        return _("Review")

    def get_page_subtitle(self):
        return self.project.title

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse(QUEUE_URL_NAME), "label": _("Project review")},
            {"url": "", "label": self.project.title},
        ]

    @cached_property
    def review(self) -> Review | None:
        return Review.objects.filter(project=self.project).first()

    def get_form(self, data=None) -> ReviewForm:
        form = ReviewForm(data, initial=ReviewForm.initial_for(self.project, self.review))
        if self.project.status != Project.Status.SUBMITTED:
            # Shown for the record; only a submitted project takes a review.
            for field in form.fields.values():
                field.disabled = True
        return form

    def get(self, request, *args, **kwargs):
        return self.render(self.get_form())

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action")
        if action not in self.ACTIONS:
            return HttpResponseBadRequest()
        form = self.get_form(request.POST)
        if not form.is_valid():
            messages.validation_error(
                request, _("The review could not be saved: correct the errors below."), form
            )
            return self.render(form)
        user, project = request.user, self.project
        try:
            # What the reviewer entered and the decision stand or fall together.
            with transaction.atomic():
                if action == "save" or form.review_changed():
                    services.review_save(
                        project=self.project,
                        by=user,
                        checklist=form.checklist_data(),
                        do_no_harm=form.do_no_harm_data(),
                        risk_rating=form.cleaned_data["risk_rating"],
                        risk_reason=form.cleaned_data["risk_reason"],
                    )
                if action == "approve":
                    project = services.project_approve(project=self.project, by=user)
                elif action == "request_changes":
                    project = services.project_request_changes(
                        project=self.project, by=user, comment=form.cleaned_data["comment"]
                    )
                elif action == "reject":
                    project = services.project_reject(
                        project=self.project, by=user, reason=form.cleaned_data["rejection_reason"]
                    )
        except ProjectError as error:
            messages.error(request, error.message)
            return self.render(form)
        messages.success(request, self.success_message(action, project))
        return redirect(review_url(project))

    def success_message(self, action: str, project: Project):
        if action == "save":
            return _("Review saved.")
        if action == "request_changes":
            return _("Changes requested. The owner has been told what to change.")
        if action == "reject":
            return _("Project rejected. The owner has been told why.")
        if project.status == Project.Status.APPROVED:
            return _("Approved by a second reviewer: the project is published.")
        latest = project.versions.order_by("-number").first()
        count = Approval.objects.filter(version=latest).count()
        return _("%(count)s of %(needed)s approvals; a second reviewer must approve.") % {
            "count": count,
            "needed": services.APPROVALS_NEEDED,
        }

    def render(self, form: ReviewForm):
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        project = self.project
        versions = list(project.versions.select_related("created_by").order_by("-number"))
        latest = versions[0] if versions else None
        changes = services.project_changes_since_submission(project) if latest else {}
        documents = list(project.documents.select_related("uploaded_by"))
        budget_lines = list(project.budget_lines.all())
        approvals = list(
            project.approvals.select_related("reviewer", "version").order_by("created_at", "pk")
        )
        latest_approvals = [a for a in approvals if latest and a.version_id == latest.pk]
        context.update(
            project=project,
            form=context.get("form") or self.get_form(),
            is_submitted=project.status == Project.Status.SUBMITTED,
            latest_version=latest,
            versions=versions,
            snapshot_rows=_snapshot_rows(latest.data) if latest else [],
            change_rows=_change_rows(
                changes, currencies=(latest.data.get("currency", ""), project.currency)
            )
            if latest
            else [],
            documents=[(document, document_url(project, document)) for document in documents],
            team=list(project.team_members.all()),
            budget_lines=budget_lines,
            budget_total=sum((line.amount for line in budget_lines), start=0),
            risk_ratings=RISK_RATINGS,
            comments=list(project.comments.select_related("author")),
            audit_entries=self.audit_entries(),
            approvals=approvals,
            approvals_count=len({a.reviewer_id for a in latest_approvals}),
            approvals_needed=services.APPROVALS_NEEDED,
            queue_url=reverse(QUEUE_URL_NAME),
        )
        return context

    #: What each action of a project's audit trail means, for the reviewer reading it.
    ACTION_LABELS = {
        "project.create": _("Created"),
        "project.demo_seed": _("Created as demo data"),
        "project.submit": _("Submitted for vetting"),
        "project.review_saved": _("Review saved"),
        "project.request_changes": _("Changes requested"),
        "project.approval": _("Approved by a reviewer"),
        "project.publish": _("Published"),
        "project.reject": _("Rejected"),
        "project.endorsement": _("Endorsed by a local government"),
        "project.photo": _("Photo added"),
        "project.document": _("Document added"),
        "project.document_deleted": _("Document deleted"),
    }

    def action_label(self, action: str) -> str:
        """The action in words; an edit names the step of the form (an unknown code is
        shown as it is)."""
        if action.startswith("project.edit."):
            step = dict(STEPS).get(action.removeprefix("project.edit."))
            if step is not None:
                return _("Edited: %(step)s") % {"step": step}
        return self.ACTION_LABELS.get(action, action)

    def audit_entries(self) -> list[AuditEntry]:
        entries = list(
            AuditEntry.objects.filter(
                object_type="projects.project", object_id=str(self.project.pk)
            )
            .select_related("actor")
            .order_by("-at", "-pk")[:200]
        )
        labels = dict(Project.Status.choices)
        for entry in entries:
            entry.action_label = self.action_label(entry.action)
            entry.from_label = labels.get(entry.from_state, entry.from_state)
            entry.to_label = labels.get(entry.to_state, entry.to_state)
        return entries


# --- Impact reports ---------------------------------------------------------------------------


class ImpactReportListView(ReviewerRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    """Impact reports that do not count yet because nobody has checked them."""

    template_name = "projects/admin/impact_reports.html"
    page_title = _("Impact reports to verify")
    header_icon = "success"
    paginate_by = 30

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        reports = (
            ImpactReport.objects.filter(verified_at__isnull=True)
            .select_related("project", "submitted_by")
            .prefetch_related("values")
            .order_by("submitted_at", "pk")
        )
        page = Paginator(reports, self.paginate_by).get_page(self.request.GET.get("p"))
        labels = {key: (label, unit) for key, label, unit in STANDARD_IMPACT_INDICATORS}
        rows = []
        for report in page.object_list:
            values = []
            for value in report.values.all():
                label, unit = labels.get(value.indicator, (value.label or value.indicator, ""))
                values.append({"label": label, "unit": unit, "value": value.value})
            rows.append(
                {
                    "report": report,
                    "values": values,
                    "project_url": review_url(report.project),
                    "verify_url": reverse(IMPACT_VERIFY_URL_NAME, args=[report.pk]),
                }
            )
        context.update(rows=rows, page_obj=page)
        return context


class ImpactReportVerifyView(ReviewerRequiredMixin, View):
    def post(self, request, pk):
        report = get_object_or_404(ImpactReport.objects.select_related("project"), pk=pk)
        try:
            services.impact_report_verify(report=report, by=request.user)
        except ProjectError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Impact report for %(project)s verified.") % {"project": report.project.title},
            )
        return redirect(IMPACT_REPORTS_URL_NAME)
