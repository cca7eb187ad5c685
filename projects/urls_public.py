from django.urls import path

from . import views_public as views

urlpatterns = [
    path("projects/", views.catalogue, name="catalogue"),
    path("projects/<slug:slug>/", views.detail, name="detail"),
    path("projects/<slug:slug>/follow/", views.follow_project, name="follow"),
    path("territories/<slug:slug>/", views.territory, name="territory"),
    path("territories/<slug:slug>/follow/", views.follow_territory, name="follow_territory"),
    path("following/", views.following, name="following"),
]
