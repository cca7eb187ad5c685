"""Bank statements in the staff back office (Wagtail's admin): upload a
statement, see what matched, and work through the lines that need a person.

Only reviewers (`Role.REVIEWER`) get in; anyone else who reaches Wagtail's
admin gets 403. Every decision goes through `finance.payments.bank_transfer`
(the same matching code the import runs); these views only collect what the
staff member entered.

URLs (all under /admin/):

- finance/bank-statements/                 upload a statement; earlier imports
- finance/bank-statements/<pk>/            one import: counts and its lines
- finance/bank-statements/queue/           lines needing attention
- finance/bank-statements/lines/<pk>/      one line: assign to a pledge or resolve
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import get_resolver, get_urlconf, path, reverse
from django.utils import formats
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.views import View
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from portal.permissions import Role, has_role

from .admin_offerings import MONEY_MENU_HOOK
from .bank import BankStatementImport, BankStatementLine
from .offerings import AMOUNT, Pledge
from .payments.bank_transfer import BankMatchError, assign_line, resolve_line
from .statements_import import MAX_STATEMENT_BYTES, StatementError, import_statement

IMPORTS_URL_NAME = "finance_bank_statements"
IMPORT_URL_NAME = "finance_bank_statement"
QUEUE_URL_NAME = "finance_bank_queue"
LINE_URL_NAME = "finance_bank_line"

Status = BankStatementLine.Status
#: What became of a statement's lines, in the order they are shown. Each line is in
#: exactly one: its status, or "already imported" when an earlier file (or the same
#: entry earlier in the file) brought it. Lines "not matched yet" only exist while an
#: import runs; they are shown if any are left.
COUNTED_STATUSES = (
    Status.MATCHED,
    Status.REPAYMENT,
    Status.REVENUE_SHARE,
    Status.PARTIAL,
    Status.OVERPAID,
    Status.LATE,
    Status.UNMATCHED,
    Status.IGNORED,
    Status.RESOLVED,
    Status.NEW,
)
ALREADY_IMPORTED = "already-imported"


def forbidden(request):
    """The site's 403 page. Raising PermissionDenied inside Wagtail's admin
    would be turned into a redirect to its dashboard instead."""
    handler = get_resolver(get_urlconf()).resolve_error_handler(403)
    return handler(request, exception=PermissionDenied())


class ReviewerRequiredMixin:
    def dispatch(self, request, *args, **kwargs):
        if not has_role(request.user, Role.REVIEWER):
            return forbidden(request)
        return super().dispatch(request, *args, **kwargs)


class BankAdminView(ReviewerRequiredMixin, WagtailAdminTemplateMixin, View):
    header_icon = "doc-full"

    def get_breadcrumbs_items(self):
        items = [
            *self.breadcrumbs_items,
            {"url": reverse(IMPORTS_URL_NAME), "label": _("Bank statements")},
        ]
        return items + self.extra_breadcrumbs()

    def extra_breadcrumbs(self) -> list[dict]:
        return []

    def render(self, **context):
        return self.render_to_response(self.get_context_data(**context))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            imports_url=reverse(IMPORTS_URL_NAME),
            queue_url=reverse(QUEUE_URL_NAME),
            queue_count=BankStatementLine.objects.filter(
                status__in=BankStatementLine.NEEDS_ATTENTION
            ).count(),
        )
        return context


def line_url(line: BankStatementLine) -> str:
    return reverse(LINE_URL_NAME, args=[line.pk])


def import_url(statement: BankStatementImport) -> str:
    return reverse(IMPORT_URL_NAME, args=[statement.pk])


def _count_annotations() -> dict:
    return {
        f"count_{status}": Count("lines", filter=Q(lines__status=status))
        for status in COUNTED_STATUSES
    }


def _status_counts(counts: dict) -> list[dict]:
    labels = dict(Status.choices)
    return [
        {"status": status, "label": labels[status], "count": counts.get(status, 0)}
        for status in COUNTED_STATUSES
        if status != Status.NEW or counts.get(status)
    ]


def _outcomes(statement: BankStatementImport) -> list[dict]:
    """One entry per outcome of the statement's lines; the counts add up to the lines
    in the file."""
    return [
        *_status_counts(statement.status_counts()),
        {
            "status": ALREADY_IMPORTED,
            "label": _("Already imported"),
            "count": statement.known_line_count,
        },
    ]


def _import_summary(statement: BankStatementImport) -> str:
    """The message after an import: every line of the file counted once."""
    counts = statement.status_counts()
    summary = _(
        "Statement imported. Lines in the file: %(total)s. Matched to a pledge %(matched)s, "
        "loan repayments recorded %(repayment)s, revenue shares recorded %(revenue)s, "
        "partial %(partial)s, overpaid %(overpaid)s, late %(late)s, unmatched %(unmatched)s, "
        "debits ignored %(ignored)s, already imported %(known)s."
    ) % {
        "total": statement.line_count,
        "matched": counts[Status.MATCHED],
        "repayment": counts[Status.REPAYMENT],
        "revenue": counts[Status.REVENUE_SHARE],
        "partial": counts[Status.PARTIAL],
        "overpaid": counts[Status.OVERPAID],
        "late": counts[Status.LATE],
        "unmatched": counts[Status.UNMATCHED],
        "ignored": counts[Status.IGNORED],
        "known": statement.known_line_count,
    }
    # Matching ends inside the import, and nobody resolves a line before it commits;
    # should either ever happen, the figures above would not add up: say so.
    leftover = counts[Status.NEW] + counts[Status.RESOLVED]
    if leftover:
        summary += " " + _("Other lines: %(count)s.") % {"count": leftover}
    if statement.unbooked_count:
        summary += " " + _("Entries not booked yet, not imported: %(count)s.") % {
            "count": statement.unbooked_count
        }
    return summary


# --- Upload and the list of imports -----------------------------------------------------------


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Statement file"),
        help_text=_(
            "ISO 20022 CAMT.053 (XML, versions 02 to 08) or the bank's CSV export with the "
            "columns date, amount, currency, reference and entry id. At most 5 MB."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_STATEMENT_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB.")
                % {"mb": MAX_STATEMENT_BYTES // (1024 * 1024)}
            )
        return upload


class StatementImportsView(BankAdminView):
    template_name = "finance/admin/bank_statements.html"
    page_title = _("Bank statements")
    paginate_by = 30

    def get(self, request):
        return self.render(form=StatementUploadForm())

    def post(self, request):
        form = StatementUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render(form=form)
        upload = form.cleaned_data["file"]
        try:
            statement = import_statement(
                file_bytes=upload.read(), filename=upload.name, uploaded_by=request.user
            )
        except StatementError as error:
            form.add_error("file", error.message)
            messages.error(request, _("The statement was not imported: nothing was changed."))
            return self.render(form=form)
        if statement.already_imported:
            messages.warning(
                request,
                _("This file was already imported on %(date)s: nothing was changed.")
                % {"date": formats.date_format(statement.imported_at, "DATETIME_FORMAT")},
            )
        else:
            messages.success(request, _import_summary(statement))
        return redirect(import_url(statement))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        imports = (
            BankStatementImport.objects.select_related("uploaded_by")
            .annotate(**_count_annotations())
            .order_by("-imported_at", "-pk")
        )
        page = Paginator(imports, self.paginate_by).get_page(self.request.GET.get("p"))
        context.update(
            page_obj=page,
            rows=[
                {
                    "statement": statement,
                    "url": import_url(statement),
                    "counts": _status_counts(
                        {s: getattr(statement, f"count_{s}") for s in COUNTED_STATUSES}
                    ),
                }
                for statement in page.object_list
            ],
            max_mb=MAX_STATEMENT_BYTES // (1024 * 1024),
        )
        return context


class StatementImportView(BankAdminView):
    template_name = "finance/admin/bank_statement.html"
    page_title = _("Bank statement")
    paginate_by = 100

    @cached_property
    def statement(self) -> BankStatementImport:
        return get_object_or_404(
            BankStatementImport.objects.select_related("uploaded_by"), pk=self.kwargs["pk"]
        )

    def get_page_subtitle(self):
        return self.statement.original_name

    def extra_breadcrumbs(self):
        return [{"url": "", "label": self.statement.original_name}]

    def get(self, request, pk):
        return self.render()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        lines = self.statement.lines.select_related("pledge", "payment").order_by(
            "booking_date", "pk"
        )
        page = Paginator(lines, self.paginate_by).get_page(self.request.GET.get("p"))
        context.update(
            statement=self.statement,
            counts=_outcomes(self.statement),
            page_obj=page,
            lines=[(line, line_url(line)) for line in page.object_list],
        )
        return context


# --- The queue and one line ----------------------------------------------------------------------


class BankLineQueueView(BankAdminView):
    template_name = "finance/admin/bank_queue.html"
    page_title = _("Bank lines to review")
    paginate_by = 50

    def extra_breadcrumbs(self):
        return [{"url": "", "label": self.page_title}]

    def get(self, request):
        return self.render()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        wanted = self.request.GET.get("status")
        statuses = (
            [wanted]
            if wanted in BankStatementLine.NEEDS_ATTENTION
            else BankStatementLine.NEEDS_ATTENTION
        )
        lines = (
            BankStatementLine.objects.filter(status__in=statuses)
            .select_related("pledge", "statement_import")
            .order_by("booking_date", "pk")
        )
        page = Paginator(lines, self.paginate_by).get_page(self.request.GET.get("p"))
        labels = dict(Status.choices)
        context.update(
            page_obj=page,
            lines=[(line, line_url(line)) for line in page.object_list],
            status=wanted if wanted in BankStatementLine.NEEDS_ATTENTION else "",
            status_filters=[(s, labels[s]) for s in BankStatementLine.NEEDS_ATTENTION],
        )
        return context


class AssignLineForm(forms.Form):
    reference = forms.CharField(
        label=_("Pledge reference"),
        max_length=40,
        help_text=_(
            "The RF reference of the pledge this money pays. The amount must equal what the "
            "pledge is due, in the same currency."
        ),
    )


class ResolveLineForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: sent back to the remitter on 12 March, bank reference …"),
    )


class BankLineView(BankAdminView):
    template_name = "finance/admin/bank_line.html"
    page_title = _("Bank line")
    ACTIONS = ("assign", "resolve")

    @cached_property
    def line(self) -> BankStatementLine:
        return get_object_or_404(
            BankStatementLine.objects.select_related(
                "pledge", "pledge__investor", "payment", "statement_import", "resolved_by"
            ),
            pk=self.kwargs["pk"],
        )

    def get_page_subtitle(self):
        return f"{self.line.booking_date} {self.line.money}"

    def extra_breadcrumbs(self):
        return [
            {"url": reverse(QUEUE_URL_NAME), "label": _("Bank lines to review")},
            {"url": "", "label": self.get_page_subtitle()},
        ]

    def get(self, request, pk):
        return self.render(assign_form=AssignLineForm(), resolve_form=ResolveLineForm())

    def post(self, request, pk):
        action = request.POST.get("action")
        assign_form = AssignLineForm(request.POST if action == "assign" else None)
        resolve_form = ResolveLineForm(request.POST if action == "resolve" else None)
        form = assign_form if action == "assign" else resolve_form
        if action not in self.ACTIONS or not form.is_valid():
            if action not in self.ACTIONS:
                messages.error(request, _("Choose assign or resolve."))
            return self.render(assign_form=assign_form, resolve_form=resolve_form)
        try:
            if action == "assign":
                line = assign_line(
                    self.line, reference=form.cleaned_data["reference"], by=request.user
                )
                messages.success(
                    request,
                    _("Matched: pledge %(pledge)s is paid.") % {"pledge": line.pledge_id},
                )
            else:
                resolve_line(self.line, note=form.cleaned_data["note"], by=request.user)
                messages.success(request, _("Line resolved."))
        except BankMatchError as error:
            messages.error(request, error.message)
            return self.render(assign_form=assign_form, resolve_form=resolve_form)
        return redirect(QUEUE_URL_NAME)

    def candidates(self) -> list[Pledge]:
        """Pending pledges awaiting exactly this amount: a hint for staff when
        the remitter forgot or mistyped the reference."""
        line = self.line
        if line.direction != BankStatementLine.Direction.CREDIT:
            return []
        due = ExpressionWrapper(F("amount") + F("fee"), output_field=DecimalField(**AMOUNT))
        return list(
            Pledge.objects.filter(
                status=Pledge.Status.PENDING,
                currency=line.currency,
                method__in=[Pledge.Method.BANK_TRANSFER, Pledge.Method.REMITTANCE],
            )
            .annotate(due=due)
            .filter(due=line.amount)
            .select_related("investor", "offering")
            .order_by("created_at")[:10]
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        line = self.line
        context.update(
            line=line,
            open=line.needs_attention,
            candidates=self.candidates() if line.needs_attention else [],
            import_url=import_url(line.statement_import),
            pledge_due=line.pledge.total_due.quantize() if line.pledge else None,
        )
        return context


# --- Registration ----------------------------------------------------------------------------------
# The pages below are in the Money menu (admin_offerings.MoneyGroup), shown to reviewers.


class ReviewerMenuItem(MenuItem):
    def is_shown(self, request):
        return has_role(request.user, Role.REVIEWER)


@hooks.register("register_admin_urls")
def register_bank_statement_urls():
    return [
        path(
            "finance/bank-statements/",
            StatementImportsView.as_view(),
            name=IMPORTS_URL_NAME,
        ),
        path(
            "finance/bank-statements/queue/",
            BankLineQueueView.as_view(),
            name=QUEUE_URL_NAME,
        ),
        path(
            "finance/bank-statements/<int:pk>/",
            StatementImportView.as_view(),
            name=IMPORT_URL_NAME,
        ),
        path(
            "finance/bank-statements/lines/<int:pk>/",
            BankLineView.as_view(),
            name=LINE_URL_NAME,
        ),
    ]


@hooks.register(MONEY_MENU_HOOK)
def register_bank_statements_menu_item():
    return ReviewerMenuItem(
        _("Bank statements"),
        reverse(IMPORTS_URL_NAME),
        name="bank-statements",
        icon_name="doc-full",
        order=160,
    )


@hooks.register(MONEY_MENU_HOOK)
def register_loan_servicing_menu_item():
    from django.urls import reverse_lazy

    # A portal page: resolved when the menu is drawn, in the language of that request.
    return ReviewerMenuItem(
        _("Loans being serviced"),
        reverse_lazy("returns:loans_servicing"),
        name="loans-servicing",
        icon_name="list-ul",
        order=170,
    )


@hooks.register(MONEY_MENU_HOOK)
def register_payouts_menu_item():
    from django.urls import reverse_lazy

    return ReviewerMenuItem(
        _("Withdrawals to approve"),
        reverse_lazy("returns:payouts_review"),
        name="payouts-review",
        icon_name="tasks",
        order=171,
    )
