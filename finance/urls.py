from django.urls import include, path

from . import views

app_name = "finance"

urlpatterns = [
    path("offerings/<int:pk>/pledge/", views.pledge_start, name="pledge_start"),
    path("pledges/", views.my_pledges, name="my_pledges"),
    path("pledges/<int:pk>/", views.pledge_detail, name="pledge"),
    path("pledges/<int:pk>/refresh/", views.pledge_refresh, name="pledge_refresh"),
    path("pledges/<int:pk>/cancel/", views.pledge_cancel, name="pledge_cancel"),
    path("plans/<int:pk>/stop/", views.plan_stop, name="plan_stop"),
    path("knowledge-test/", views.knowledge_test, name="knowledge_test"),
    path("", include("finance.urls_matching")),
    path("", include("finance.urls_bonds")),
]
