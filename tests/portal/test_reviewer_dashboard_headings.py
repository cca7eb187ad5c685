"""The reviewer dashboard names each of its panels once."""

import pytest

from tests.conftest import enable_totp
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


def test_the_verification_queue_is_headed_once_and_its_table_labelled_by_the_heading(
    client, reviewer
):
    OrganizationFactory(name="Cooperativa de mezcal", verified=False)
    enable_totp(reviewer)
    client.force_login(reviewer)
    html = client.get("/en/dashboard/review/").content.decode()
    assert "Cooperativa de mezcal" in html
    assert html.count("Organizations awaiting verification") == 1
    assert '<table aria-labelledby="panel-verification">' in html
