"""Statement pages; included by portal/urls.py under the language prefix."""

from django.urls import path

from . import views_statements as views

app_name = "statements"

urlpatterns = [
    path("statements/", views.statement_list, name="list"),
    path("statements/<int:pk>/", views.statement_detail, name="detail"),
    path("statements/<int:pk>/pdf/", views.statement_download, name="download"),
    path("verify/", views.verify_lookup, name="verify_lookup"),
    path("verify/<str:code>/", views.verify, name="verify"),
]
