"""Demo data, production settings and the Celery wiring."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from portal.models import Membership, Organization, Territory, User

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def counts():
    from wagtail.models import Page

    return (
        User.objects.count(),
        Organization.objects.count(),
        Territory.objects.count(),
        Membership.objects.count(),
        Page.objects.count(),
    )


def test_seed_demo_is_idempotent_and_covers_every_role(client):
    from finance.models import Leg, Offering, Pledge
    from finance.reconciliation import reconcile_ledger
    from projects.models import Project

    call_command("seed_demo", verbosity=0)
    first = counts() + (
        Project.objects.count(),
        Offering.objects.count(),
        Pledge.objects.count(),
        Leg.objects.count(),
    )
    call_command("seed_demo", verbosity=0)
    assert (
        counts()
        + (
            Project.objects.count(),
            Offering.objects.count(),
            Pledge.objects.count(),
            Leg.objects.count(),
        )
        == first
    )
    assert Project.objects.published().values("territory__country").distinct().count() >= 3
    assert Offering.objects.filter(status="open").count() >= 5
    assert reconcile_ledger() == []
    governments = Organization.objects.filter(kind="local_government")
    assert governments.values("country").distinct().count() >= 3
    for email in ["investor", "entrepreneur", "government", "reviewer", "admin"]:
        user = User.objects.get(email=f"{email}@puente.example")
        assert user.check_password("puente-demo-2026")
    assert client.login(email="investor@puente.example", password="puente-demo-2026")


def test_production_settings_pass_the_deploy_check():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "SECRET_KEY": "k" * 20 + "Zx9#-production-secret-for-the-check-only-0123456789",
        "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 32,
        "ALLOWED_HOSTS": "puente.example",
    }
    # The browser tests allow async-unsafe calls in this process; production does not.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


@pytest.mark.parametrize(
    "missing, secrets",
    [
        ("SECRET_KEY", {"SECRET_KEY": "", "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 32}),
        (
            "STRIPE_WEBHOOK_SECRET",
            {"SECRET_KEY": "k" * 60, "STRIPE_WEBHOOK_SECRET": "whsec_puente"},  # the demo's
        ),
        ("STRIPE_WEBHOOK_SECRET", {"SECRET_KEY": "k" * 60, "STRIPE_WEBHOOK_SECRET": ""}),
    ],
)
def test_production_refuses_to_start_without_its_secrets(missing, secrets):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "ALLOWED_HOSTS": "puente.example",
        **secrets,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert f"Set {missing}" in result.stderr


def test_celery_has_the_four_queues():
    from portal.celery import app

    assert {q.name for q in app.conf.task_queues} == {"payments", "statements", "mail", "default"}


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis: set REDIS_URL (CI does)")
def test_task_round_trip_through_redis_with_a_real_worker():
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app
    from portal.tasks import ping

    broker = os.environ.get("CELERY_BROKER_URL", os.environ["REDIS_URL"])
    previous = (app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend)
    app.conf.task_always_eager = False
    app.conf.broker_url = broker
    app.conf.result_backend = os.environ["REDIS_URL"]
    try:
        with start_worker(
            app, pool="solo", queues=["default"], perform_ping_check=False, shutdown_timeout=10
        ):
            result = ping.apply_async(args=["puente"], queue="default")
            assert result.get(timeout=20) == "pong:puente"
    finally:
        app.conf.task_always_eager, app.conf.broker_url, app.conf.result_backend = previous
