"""Project vetting in the staff back office (Wagtail's admin): the review
queue, the review page of each project and impact-report verification."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet

from portal.permissions import Role, has_role

from . import views_review


class ReviewerMenuItem(MenuItem):
    def is_shown(self, request):
        return has_role(request.user, Role.REVIEWER)


class ProjectReviewViewSet(ViewSet):
    """The review queue at /admin/projects/review/. Not a ModelViewSet:
    reviewers vet projects, they never create, edit or delete them here."""

    name = "project_review"
    url_prefix = "projects/review"
    icon = "clipboard-list"
    menu_label = _("Project review")
    menu_order = 150
    add_to_admin_menu = True
    menu_item_class = ReviewerMenuItem

    def get_urlpatterns(self):
        view = views_review.ReviewQueueView
        return [
            path("", view.as_view(), name="index"),
            path("results/", view.as_view(results_only=True), name="index_results"),
        ]


@hooks.register("register_admin_viewset")
def register_review_queue():
    return ProjectReviewViewSet()


@hooks.register("register_admin_urls")
def register_review_urls():
    # The review page's path is written into the notifications sent by
    # projects.services.project_submit: keep it at /admin/projects/review/<pk>/.
    return [
        path(
            "projects/review/<int:pk>/",
            views_review.ProjectReviewView.as_view(),
            name=views_review.REVIEW_URL_NAME,
        ),
        path(
            "projects/impact-reports/",
            views_review.ImpactReportListView.as_view(),
            name=views_review.IMPACT_REPORTS_URL_NAME,
        ),
        path(
            "projects/impact-reports/<int:pk>/verify/",
            views_review.ImpactReportVerifyView.as_view(),
            name=views_review.IMPACT_VERIFY_URL_NAME,
        ),
    ]


@hooks.register("register_admin_menu_item")
def register_impact_reports_menu_item():
    return ReviewerMenuItem(
        _("Impact verification"),
        reverse(views_review.IMPACT_REPORTS_URL_NAME),
        name="impact-verification",
        icon_name="success",
        order=151,
    )
