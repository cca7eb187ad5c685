from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Projects")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from portal.permissions import Role, register_role_grant

        from . import dashboards  # noqa: F401  (registers dashboard panels)
        from .caching import pages_changed
        from .permissions import forget_owner_roles, owns_a_project

        # Whoever owns a project is an entrepreneur: the dashboard with its loans
        # and revenue shares, and "My projects" in the menu.
        register_role_grant("projects.owner", Role.ENTREPRENEUR, owns_a_project)
        project = self.get_model("Project")
        post_save.connect(forget_owner_roles, sender=project, dispatch_uid="roles:Project:save")
        post_delete.connect(forget_owner_roles, sender=project, dispatch_uid="roles:Project:delete")

        # Anything a public project page or card shows: a change makes the
        # anonymous page cache out of date (projects/caching.py). Follows and
        # review work are not shown to anonymous visitors.
        for name in (
            "Project",
            "ProjectPhoto",
            "Document",
            "BudgetLine",
            "TeamMember",
            "ProjectUpdate",
            "Milestone",
            "ImpactReport",
            "ImpactValue",
        ):
            model = self.get_model(name)
            post_save.connect(pages_changed, sender=model, dispatch_uid=f"pages:{name}:save")
            post_delete.connect(pages_changed, sender=model, dispatch_uid=f"pages:{name}:delete")
