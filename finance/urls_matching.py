"""Local governments' matching pools; included by finance/urls.py (names in
the "finance" namespace)."""

from django.urls import path

from . import views_matching as views

urlpatterns = [
    path("matching/", views.matching_offerings, name="matching_offerings"),
    path("matching/offerings/<int:pk>/new/", views.matching_pool_new, name="matching_pool_new"),
]
