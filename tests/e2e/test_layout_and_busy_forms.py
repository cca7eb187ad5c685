"""What the stylesheet and portal/submitting.js do in a real browser: secondary
buttons look secondary, the submission steps are one row with the current step
marked, wide tables scroll in their own box on a phone-sized Arabic page, and a
long form submission disables its buttons and says it is working, while forms
that scripts send themselves (catalogue filters) are left alone."""

from __future__ import annotations

import datetime

import pytest

from tests.e2e.test_accounts_flow import PASSWORD, log_in, path_of
from tests.e2e.test_card_payment_flow import DEMO_PASSWORD, INVESTOR
from tests.e2e.test_project_vetting_flow import make_entrepreneur

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 375, "height": 812}}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
BRAND = "rgb(11, 93, 75)"  # --brand
PAPER = "rgb(255, 255, 255)"  # --paper


def style(locator, prop: str) -> str:
    return locator.evaluate("(element, prop) => getComputedStyle(element)[prop]", prop)


def overflows(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


def ready_statement(email: str) -> None:
    from finance.statements import statement_build, statement_request
    from portal.models import User

    today = datetime.date.today()
    statement = statement_request(
        investor=User.objects.get(email=email),
        period_kind="custom",
        start=today.replace(day=1),
        end=today,
        language="ar",
        request_key="layout-e2e",
    )
    statement_build(statement_id=statement.pk)


def test_secondary_buttons_and_submission_steps(new_page, live_site):
    from projects import services

    user, _organization = make_entrepreneur()
    project = services.project_create(owner=user, title="Solar dryer for Vélingara")
    page = new_page(**DESKTOP)
    log_in(page, user.email, PASSWORD)
    page.goto(f"/en/projects/{project.slug}/edit/team/")

    save = page.locator("main form button[name=save]")
    save_next = page.locator("main form button[name=save_next]")
    assert "button-secondary" in save.get_attribute("class")
    assert style(save_next, "backgroundColor") == BRAND
    assert style(save, "backgroundColor") == PAPER
    assert style(save, "borderTopColor") == BRAND

    steps = page.locator("nav.steps ol")
    assert style(steps, "listStyleType") == "none" and style(steps, "display") == "flex"
    items = steps.locator("li")
    assert items.count() >= 5
    tops = {round(box["y"]) for box in (items.nth(i).bounding_box() for i in range(items.count()))}
    assert len(tops) == 1, "the steps sit side by side on a wide screen"
    assert items.first.inner_text().startswith("1. ") and "1. 1." not in steps.inner_text()
    current = steps.locator("a[aria-current=step]")
    other = steps.locator("a:not([aria-current])").first
    assert current.count() == 1 and "2. " in current.inner_text()
    assert style(current, "fontWeight") == "700" and style(other, "fontWeight") != "700"
    assert style(current, "borderBottomWidth") == "3px"
    assert style(other, "borderBottomWidth") == "0px"


def test_wide_tables_and_a_statement_request_on_a_phone(new_page, live_site):
    ready_statement(INVESTOR)
    page = new_page(**PHONE)
    log_in(page, INVESTOR, DEMO_PASSWORD)

    page.goto("/ar/statements/")
    assert page.locator("table.statements tbody tr").count() == 1
    assert page.locator(".table-scroll > table.statements").count() == 1
    assert not overflows(page), "the statements table widens the page"
    for path in ("/ar/portfolio/", "/ar/pledges/", "/ar/wallet/"):
        page.goto(path)
        assert not overflows(page), path

    page.goto("/en/statements/")
    form = page.locator("form.statement-request")
    button = form.locator("button[type=submit]")
    posts = []
    page.on("request", lambda request: posts.append(request) if request.method == "POST" else None)
    # The answer goes to a frame, so the page stays to be looked at as it is
    # while a statement is being prepared.
    page.evaluate(
        "() => document.body.insertAdjacentHTML('beforeend', '<iframe name=sink hidden></iframe>')"
    )
    form.evaluate("form => { form.target = 'sink'; form.setAttribute('data-no-busy', ''); }")
    button.click()
    page.wait_for_timeout(300)
    assert len(posts) == 1
    assert not button.is_disabled() and button.get_attribute("aria-busy") is None

    form.evaluate("form => form.removeAttribute('data-no-busy')")
    button.evaluate("button => { button.click(); button.click(); }")
    page.wait_for_function(
        "() => document.querySelector('form.statement-request [type=submit]')"
        ".getAttribute('aria-busy') === 'true'"
    )
    assert button.is_disabled()
    assert button.inner_text().strip() == "Preparing the statement…"
    assert style(button, "cursor") == "progress"
    button.evaluate("button => button.click()")
    page.wait_for_timeout(300)
    assert len(posts) == 2, "one request, however impatient the clicks"

    # Without the frame, the form leads to the statement as before.
    page.goto("/en/statements/")
    with page.expect_navigation(wait_until="load"):
        page.locator("form.statement-request button[type=submit]").click()
    assert path_of(page).startswith("/en/statements/") and path_of(page) != "/en/statements/"


def test_catalogue_filters_stay_usable(new_page, live_site):
    page = new_page(**DESKTOP)
    page.goto("/en/projects/")
    button = page.locator("#catalogue-filters [type=submit]").first
    for _ in range(2):
        with page.expect_response(lambda response: "/en/projects/" in response.url):
            button.click()
        page.wait_for_timeout(100)
        assert not button.is_disabled() and button.get_attribute("aria-busy") is None
    assert path_of(page) == "/en/projects/"
