"""Who may edit or see a project that is not (or no longer) public. Built on
portal.permissions; every view and selector of the catalogue asks here."""

from portal.permissions import (
    Role,
    forget_granted_roles,
    governs_territory,
    has_role,
    membership_in,
)

from .models import Document, Project


def owns_a_project(user) -> bool:
    """Whether the user owns a project, in their own name or for their organization:
    that makes them an entrepreneur (registered with portal in ProjectsConfig.ready()).
    Members of a cooperative or company are entrepreneurs through their membership."""
    return Project.objects.filter(owner_id=user.pk).exists()


def forget_owner_roles(sender, instance: Project, **kwargs) -> None:
    """A project saved or deleted: its owner's roles may have changed. (A project
    given to someone else leaves the former owner's cached roles to expire: the
    pages of the role show only what the person owns.)"""
    forget_granted_roles(instance.owner_id)


def can_edit_project(user, project: Project) -> bool:
    """The owner and the members of the project's organization."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if project.owner_id == user.pk:
        return True
    return bool(project.organization_id and membership_in(user, project.organization))


def can_view_unpublished(user, project: Project) -> bool:
    """Who may see a project before (or instead of) its publication: its
    editors, reviewers and the local government of its territory. Everyone
    else is told it does not exist."""
    if can_edit_project(user, project):
        return True
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if has_role(user, Role.REVIEWER):
        return True
    return project.territory_id is not None and governs_territory(user, project.territory)


def can_download_document(user, document: Document) -> bool:
    """A document shown on a published project's page: anyone. Any other:
    who may see the unpublished project, except that a person's identity
    document goes only to the project's editors and the reviewers, never to
    a local government (which needs the plan, permits and quotes to co-fund,
    not who the entrepreneur is on paper)."""
    project = document.project
    if document.is_public and project.is_public:
        return True
    if not can_view_unpublished(user, project):
        return False
    if document.kind in Document.ALWAYS_PRIVATE:
        return can_edit_project(user, project) or has_role(user, Role.REVIEWER)
    return True
