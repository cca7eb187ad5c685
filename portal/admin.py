"""Django's admin is kept for superusers only; staff work in Wagtail's admin."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, ConsentRecord, Membership, Organization, Territory, User


def superuser_only(request) -> bool:
    return request.user.is_active and request.user.is_superuser


def portal_login(request, extra_context=None):
    """Everyone signs in through the portal (and its two-factor step); a
    signed-in person who is not a superuser is refused rather than looped."""
    if request.user.is_authenticated:
        raise PermissionDenied
    return redirect(f"{reverse('account_login')}?next={request.GET.get('next', '/django-admin/')}")


admin.site.has_permission = superuser_only
admin.site.login = portal_login


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "country_of_residence", "is_staff", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (
            _("Profile"),
            {
                "fields": [
                    "full_name",
                    "country_of_residence",
                    "country_of_origin",
                    "preferred_language",
                    "preferred_currency",
                    "is_returnee",
                    "verification_tier",
                ]
            },
        ),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
    ]
    add_fieldsets = [(None, {"fields": ["email", "password1", "password2"]})]


class MembershipInline(admin.TabularInline):
    model = Membership
    autocomplete_fields = ["user"]
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "country", "territory", "verified"]
    list_filter = ["kind", "verified"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ["name", "level", "country", "parent"]
    list_filter = ["level"]
    search_fields = ["name"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "granted", "version", "recorded_at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "action", "object_type", "object_id", "from_state", "to_state"]
