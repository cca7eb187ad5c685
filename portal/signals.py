from allauth.account.signals import user_logged_in
from django.dispatch import receiver

from .permissions import forget_memberships


@receiver(user_logged_in)
def reset_cached_roles(sender, request, user, **kwargs):
    forget_memberships(user)
