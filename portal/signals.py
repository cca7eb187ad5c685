from allauth.account.internal.flows.login import record_authentication
from allauth.account.signals import user_logged_in
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Membership, Organization
from .permissions import forget_memberships, memberships_cache_key


@receiver(user_logged_in)
def reset_cached_roles(sender, request, user, **kwargs):
    forget_memberships(user)


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def forget_cached_roles(sender, instance, **kwargs):
    cache.delete(memberships_cache_key(instance.user_id))


@receiver(post_save, sender=Organization)
def forget_cached_roles_of_members(sender, instance, **kwargs):
    # The organization's kind or territory decides its members' roles.
    cache.delete_many(
        [memberships_cache_key(pk) for pk in instance.memberships.values_list("user_id", flat=True)]
    )


@receiver(authenticator_added)
def count_turning_totp_on_as_passing_it(sender, request, user, authenticator, **kwargs):
    # Turning TOTP on takes a code from the app, checked against the new secret:
    # this session has proved the second factor, as a sign-in with it would.
    if request is not None and authenticator.type == Authenticator.Type.TOTP:
        record_authentication(
            request, user, "mfa", id=authenticator.pk, type=authenticator.type, activated=True
        )
