"""Local governments' own diaspora bond series; included by finance/urls.py (names in the
"finance" namespace)."""

from django.urls import path

from . import views_bonds as views

urlpatterns = [
    path("bonds/series/", views.bond_series_list, name="bond_series"),
    path("bonds/series/new/", views.bond_series_new, name="bond_series_new"),
    path("bonds/series/<int:pk>/", views.bond_series_detail, name="bond_series_detail"),
    path("bonds/series/<int:pk>/edit/", views.bond_series_edit, name="bond_series_edit"),
]
