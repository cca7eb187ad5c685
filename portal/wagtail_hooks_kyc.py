"""The identity-verification queue in the staff back office (Wagtail's
admin): reviewers see pending requests with the person's documents and
approve or reject them. Decisions go through the workflows in `portal.kyc`."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .errors import permission_denied
from .kyc import (
    VerificationError,
    VerificationRequest,
    verification_request_approve,
    verification_request_reject,
)
from .permissions import Role, has_role

QUEUE_URL_NAME = "portal_verification_queue"
APPROVE_URL_NAME = "portal_verification_approve"
REJECT_URL_NAME = "portal_verification_reject"


class ReviewerRequiredMixin:
    """Wagtail lets in anyone with `wagtailadmin.access_admin`; identity
    verification also needs the reviewer role. Anyone else gets 403 (raising
    PermissionDenied inside Wagtail's admin would redirect to its dashboard)."""

    def dispatch(self, request, *args, **kwargs):
        if not has_role(request.user, Role.REVIEWER):
            return permission_denied(request, PermissionDenied())
        return super().dispatch(request, *args, **kwargs)


class VerificationQueueView(ReviewerRequiredMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "portal/kyc/review_queue.html"
    page_title = _("Identity verification")
    header_icon = "user"
    paginate_by = 30

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pending = (
            VerificationRequest.objects.pending()
            .select_related("user")
            .prefetch_related("user__identity_documents")
            .order_by("created_at", "pk")
        )
        page = Paginator(pending, self.paginate_by).get_page(self.request.GET.get("p"))
        context.update(
            page_obj=page,
            rows=[
                {
                    "request": item,
                    "documents": item.user.identity_documents.all(),
                    "own": item.user_id == self.request.user.pk,
                    "approve_url": reverse(APPROVE_URL_NAME, args=[item.pk]),
                    "reject_url": reverse(REJECT_URL_NAME, args=[item.pk]),
                }
                for item in page.object_list
            ],
        )
        return context


class VerificationDecisionView(ReviewerRequiredMixin, View):
    approve = True

    def post(self, request, pk):
        item = get_object_or_404(VerificationRequest.objects.select_related("user"), pk=pk)
        try:
            if self.approve:
                verification_request_approve(request=item, by=request.user)
            else:
                verification_request_reject(
                    request=item, by=request.user, reason=request.POST.get("reason", "")[:2000]
                )
        except VerificationError as error:
            messages.error(request, error.message)
        else:
            message = (
                _("%(person)s is now verified.")
                if self.approve
                else _("The request of %(person)s was rejected.")
            )
            messages.success(request, message % {"person": item.user})
        return redirect(QUEUE_URL_NAME)


class ReviewerMenuItem(MenuItem):
    def is_shown(self, request):
        return has_role(request.user, Role.REVIEWER)


@hooks.register("register_admin_urls")
def register_verification_urls():
    return [
        path("verification/", VerificationQueueView.as_view(), name=QUEUE_URL_NAME),
        path(
            "verification/<int:pk>/approve/",
            VerificationDecisionView.as_view(approve=True),
            name=APPROVE_URL_NAME,
        ),
        path(
            "verification/<int:pk>/reject/",
            VerificationDecisionView.as_view(approve=False),
            name=REJECT_URL_NAME,
        ),
    ]


@hooks.register("register_admin_menu_item")
def register_verification_menu_item():
    return ReviewerMenuItem(
        _("Identity verification"),
        reverse(QUEUE_URL_NAME),
        name="identity-verification",
        icon_name="user",
        order=152,
    )
