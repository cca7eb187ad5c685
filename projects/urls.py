from . import urls_owner, urls_public

app_name = "projects"

urlpatterns = urls_owner.urlpatterns + urls_public.urlpatterns
