"""A wide table whose last header is read only by screen readers ("Actions"), on a 375 px
phone in Spanish and Arabic: the hidden header stays inside the table's own scrolling box,
so the page itself never scrolls sideways."""

from __future__ import annotations

import pytest

from tests.conftest import enable_totp
from tests.e2e.conftest import submit, wait_for_fresh_totp_window
from tests.e2e.test_accounts_flow import log_in, path_of, totp
from tests.e2e.test_card_payment_flow import DEMO_PASSWORD
from tests.e2e.test_layout_and_busy_forms import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GOVERNMENT = "government@puente.example"

PAGE_WIDER_THAN_WINDOW = (
    "() => document.documentElement.scrollWidth > window.innerWidth"
    " ? [document.documentElement.scrollWidth, window.innerWidth] : null"
)


def test_the_bond_series_table_scrolls_in_its_own_box_in_spanish_and_arabic(new_page, live_site):
    from portal.models import User

    # The bond series are a back-office page: the government's administrator signs in
    # with a second factor.
    secret = enable_totp(User.objects.get(email=GOVERNMENT))
    page = new_page(**PHONE)
    log_in(page, GOVERNMENT, DEMO_PASSWORD)
    assert path_of(page) == "/en/accounts/2fa/authenticate/", page.url
    wait_for_fresh_totp_window()
    page.fill("#id_code", totp(secret))
    submit(page)
    for language in ("es", "ar"):
        path = f"/{language}/bonds/series/"
        page.goto(path)
        assert path_of(page) == path, page.url
        box = page.locator(".table-scroll:has(th .visually-hidden)")
        assert box.locator("tbody tr").count() >= 1
        assert box.evaluate("box => box.scrollWidth > box.clientWidth"), (
            "the table is wider than the phone and scrolls inside its box"
        )
        assert page.evaluate(PAGE_WIDER_THAN_WINDOW) is None, f"{path} scrolls sideways"
