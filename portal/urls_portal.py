from django.urls import path

from . import views, views_notifications

app_name = "portal"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/investor/", views.dashboard_investor, name="dashboard_investor"),
    path("dashboard/entrepreneur/", views.dashboard_entrepreneur, name="dashboard_entrepreneur"),
    path("dashboard/government/", views.dashboard_government, name="dashboard_government"),
    path("dashboard/review/", views.dashboard_reviewer, name="dashboard_reviewer"),
    path("profile/", views.profile, name="profile"),
    path("organizations/", views.my_organizations, name="organizations"),
    path("organizations/<slug:slug>/", views.organization_detail, name="organization_detail"),
    path("notifications/", views_notifications.notification_list, name="notifications"),
    path(
        "notifications/read/",
        views_notifications.notifications_mark_read,
        name="notifications_mark_read",
    ),
    path(
        "notifications/<int:pk>/",
        views_notifications.notification_open,
        name="notification_open",
    ),
]

from . import views_kyc  # noqa: E402

urlpatterns += [
    path("verification/", views_kyc.verification, name="verification"),
    path(
        "verification/documents/",
        views_kyc.verification_document_upload,
        name="verification_document_upload",
    ),
    path(
        "verification/documents/<int:pk>/",
        views_kyc.verification_document_download,
        name="verification_document",
    ),
    path("verification/request/", views_kyc.verification_request, name="verification_request"),
]
