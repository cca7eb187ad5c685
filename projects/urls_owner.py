from django.urls import path

from . import views_owner as views

urlpatterns = [
    path("my-projects/", views.my_projects, name="my_projects"),
    path("my-projects/new/", views.project_new, name="new"),
    path("projects/<slug:slug>/edit/<slug:step>/", views.edit_step, name="edit"),
    path("projects/<slug:slug>/documents/<int:pk>/", views.document_download, name="document"),
    path(
        "projects/<slug:slug>/documents/<int:pk>/delete/",
        views.document_delete,
        name="document_delete",
    ),
    path("projects/<slug:slug>/endorse/", views.endorse, name="endorse"),
    path("projects/<slug:slug>/updates/new/", views.post_update, name="post_update"),
    path("projects/<slug:slug>/milestones/", views.add_milestone, name="milestones"),
    path(
        "projects/<slug:slug>/milestones/<int:pk>/reached/",
        views.reach_milestone,
        name="reach_milestone",
    ),
    path("projects/<slug:slug>/impact/", views.report_impact, name="report_impact"),
]
