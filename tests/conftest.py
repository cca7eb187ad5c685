import contextlib
import os
import threading

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, RequestFactory

from tests.factories import MembershipFactory, OrganizationFactory, TerritoryFactory, UserFactory

# One localstripe server for the whole session, shared by the finance and
# browser tests (its aiohttp application can be started only once).
pytest_plugins = ["tests.finance.localstripe_server"]

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
requires_postgres = pytest.mark.skipif(
    not ON_POSTGRES, reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does)"
)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate limits and TOTP replay protection live in the cache: start clean."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the default language. A request through the test
    client leaves its language active in the thread (LocaleMiddleware activates
    it and nothing resets it), so a Spanish page in one test would otherwise
    make reverse() in the next one build /es/ addresses."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def seeded(db):
    call_command("seed_demo", "--without-projects", verbosity=0)


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def territory(db):
    country = TerritoryFactory(name="México", slug="mx", country="MX")
    region = TerritoryFactory(name="Zacatecas", slug="mx-zac", level="region", parent=country)
    return TerritoryFactory(name="Jerez", slug="mx-zac-jerez", level="municipality", parent=region)


@pytest.fixture
def government_member(db, territory):
    org = OrganizationFactory(kind="local_government", territory=territory, name="Municipio")
    return MembershipFactory(organization=org, role="admin").user


@pytest.fixture
def entrepreneur(db):
    return MembershipFactory(organization=OrganizationFactory(kind="enterprise")).user


@pytest.fixture
def reviewer(db):
    from django.contrib.auth.models import Group, Permission

    org = OrganizationFactory(kind="operator", name="Operator")
    member = MembershipFactory(organization=org, role="reviewer").user
    group, _ = Group.objects.get_or_create(name="Reviewers")
    group.permissions.add(Permission.objects.get(codename="access_admin"))
    member.groups.add(group)
    return member


def enable_totp(user) -> str:
    """Turn on TOTP for a user; returns the secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_now(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


_force_login_alone = Client.force_login


def login_with_mfa(client, user, backend=None):
    """A session that has passed the password and the second factor, as after a
    real sign-in with TOTP: allauth's record of the two steps is in it."""
    from allauth.account.internal.flows.login import record_authentication

    _force_login_alone(client, user, backend)
    request = RequestFactory().get("/")
    request.session = client.session
    record_authentication(request, user, "password")
    record_authentication(request, user, "mfa", type="totp")
    request.session.save()


@pytest.fixture(autouse=True)
def _force_login_is_a_complete_sign_in(monkeypatch):
    """`client.force_login` stands for a complete sign-in, second factor
    included (`login_with_mfa`): it opens back-office pages for a user who has
    TOTP on. Tests of sessions that did not pass it sign in with the password
    alone (`client.login`, or the forms)."""
    monkeypatch.setattr(Client, "force_login", login_with_mfa)


@contextlib.contextmanager
def row_locked_elsewhere(model, pk, *, seconds: float = 10):
    """Hold `model`'s row `pk` locked (SELECT ... FOR UPDATE) from another
    connection, on another thread, until the block ends or `seconds` pass."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                model.objects.select_for_update().get(pk=pk)
                locked.set()
                release.wait(seconds)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(seconds), f"{model.__name__} {pk} was not locked"
        yield
    finally:
        release.set()
        holder.join()
