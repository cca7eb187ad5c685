"""The authentication backends, reading the signed-in person with a prepared
statement (portal/prepared.py): every signed-in request does, right after
its session."""

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends, get_user_model

from portal.prepared import Prepared

_USER_WITH_PK = Prepared(lambda pk: get_user_model()._default_manager.filter(pk=pk), int)


class _PreparedGetUser:
    def get_user(self, user_id):
        """As Django's ModelBackend.get_user: the active user with that key, or None."""
        try:
            user = _USER_WITH_PK.get(user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


class ModelBackend(_PreparedGetUser, backends.ModelBackend):
    pass


class AuthenticationBackend(_PreparedGetUser, allauth_backends.AuthenticationBackend):
    """allauth's backend (sign-in by email), which allauth finds by its class."""
