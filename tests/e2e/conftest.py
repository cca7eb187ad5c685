"""Fixtures for the end-to-end tests: the real portal served by pytest-django's
``live_server`` and driven by headless Chromium through Playwright's sync API.

Needs /usr/bin/chromium (Debian's ``chromium`` package; Playwright never
downloads a browser here) and ``node_modules/axe-core/axe.min.js`` (``npm ci``).
When either is missing the e2e tests are skipped, unless PUENTE_REQUIRE_E2E=1
(CI sets it), in which case they fail.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the main thread; Django refuses
# ORM calls from a thread with a running loop unless told it is safe. It is:
# the loop only drives the browser, and test code stays synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("PUENTE_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
REQUIRE_E2E = os.environ.get("PUENTE_REQUIRE_E2E", "") == "1"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING_IMPACTS = ("serious", "critical")
PAGE_WEIGHT_LIMIT = 200 * 1024  # bytes, document and every subresource, no cache
DEFAULT_TIMEOUT_MS = 15_000

# "page weight <path>: <bytes> bytes" lines, repeated in the terminal summary
# so they are visible even when pytest captures output.
_page_weights: list[str] = []


def _missing_requirements() -> list[str]:
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if not AXE_JS.exists():
        missing.append(f"{AXE_JS.relative_to(REPO_ROOT)} (npm ci)")
    return missing


def _skip_or_fail(reason: str) -> None:
    if REQUIRE_E2E:
        pytest.fail(f"{reason}; PUENTE_REQUIRE_E2E=1 forbids skipping", pytrace=False)
    pytest.skip(reason)


# --- Collection ----------------------------------------------------------------


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Run the browser tests after every other test of the session.

    Once Playwright has started, an asyncio loop counts as running in the main
    thread until the session ends (the browser is session-scoped), which
    would break any later test using asyncio.run() or async_to_sync(). The
    e2e tests are transactional, so pytest-django already sorts them among the
    last; this keeps them after the other transactional tests too."""
    e2e_dir = Path(__file__).parent
    e2e, others = [], []
    for item in items:
        (e2e if Path(str(item.path)).is_relative_to(e2e_dir) else others).append(item)
    items[:] = others + e2e


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _page_weights:
        terminalreporter.section("page weights (document + subresources, no cache)")
        for line in _page_weights:
            terminalreporter.write_line(line)


# --- Browser -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session."""
    missing = _missing_requirements()
    if missing:
        _skip_or_fail("end-to-end tests need " + ", ".join(missing))
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def live_site(transactional_db, live_server):
    """The live server with the demo data loaded (home page in five languages,
    demo users and organizations) and an empty cache (rate limits, TOTP replay
    protection)."""
    from django.core.cache import cache
    from django.core.management import call_command

    _ensure_wagtail_root()
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    cache.clear()
    return live_server


def _ensure_wagtail_root() -> None:
    """Wagtail's root page and root collection come from data migrations; a
    transactional test that ran earlier flushed them, and seed_demo needs them."""
    from wagtail.models import Collection, Locale, Page

    if Page.get_first_root_node() is None:
        locale, _ = Locale.objects.get_or_create(language_code="en")
        Page.add_root(instance=Page(title="Root", slug="root", locale=locale))
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")


@pytest.fixture
def java_script_enabled() -> bool:
    """Override with @pytest.mark.parametrize("java_script_enabled", [False])."""
    return True


@pytest.fixture
def new_page(browser, live_site) -> Iterator[Callable]:
    """Factory of pages, each in a fresh browser context (no cookies, no
    cache), with the live server as base URL. Server errors (HTTP 5xx) seen
    by any of them fail the test."""
    contexts = []
    server_errors: list[str] = []

    def make(java_script_enabled: bool = True, **options):
        options.setdefault("locale", "en-GB")
        context = browser.new_context(
            base_url=live_site.url, java_script_enabled=java_script_enabled, **options
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.on(
            "response",
            lambda response: (
                server_errors.append(f"{response.status} {response.url}")
                if response.status >= 500
                else None
            ),
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    assert not server_errors, f"the server answered with errors: {server_errors}"


@pytest.fixture
def page(new_page, java_script_enabled):
    return new_page(java_script_enabled=java_script_enabled)


# --- Helpers -------------------------------------------------------------------------


def assert_accessible(page, *, label: str | None = None) -> None:
    """Run axe-core (WCAG 2.0/2.1/2.2 A and AA rules) on the current page and
    fail on any serious or critical violation. Needs JavaScript enabled."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    results = page.evaluate(
        """async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})""",
        AXE_TAGS,
    )
    blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if not blocking:
        return
    lines = [f"accessibility violations on {label or page.url}:"]
    for violation in blocking:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    {target}")
    pytest.fail("\n".join(lines), pytrace=False)


def page_weight(browser, base_url: str, path: str, *, storage_state=None) -> int:
    """Bytes of the document and all its subresources on a first load with an
    empty cache (a fresh context; cookies from storage_state, if given).
    Records and prints a "page weight <path>: N bytes" line."""
    context = browser.new_context(base_url=base_url, storage_state=storage_state)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    responses = []
    try:
        page = context.new_page()
        page.on("response", lambda response: responses.append(response))
        page.goto(path, wait_until="load")
        page.wait_for_load_state("networkidle")
        total = 0
        for response in responses:
            if 300 <= response.status < 400:
                continue  # a redirect has no body
            total += len(response.body())
    finally:
        context.close()
    line = f"page weight {path}: {total} bytes"
    print(line)
    _page_weights.append(line)
    return total


def assert_page_weight(browser, base_url: str, path: str, *, storage_state=None) -> None:
    weight = page_weight(browser, base_url, path, storage_state=storage_state)
    assert weight < PAGE_WEIGHT_LIMIT, (
        f"{path} weighs {weight} bytes, over the {PAGE_WEIGHT_LIMIT} bytes budget"
    )


def submit(page, form_selector: str = "main form[method=post]") -> None:
    """Press the first submit button of a form (the page's main form by
    default, not the header's log-out or the footer's language buttons) and
    wait for the page it leads to."""
    button = page.locator(f"{form_selector} [type=submit]:not([form])").first
    with page.expect_navigation(wait_until="load"):
        button.click()


def wait_for_fresh_totp_window(margin: float = 5.0, period: int = 30) -> None:
    """Sleep into the next TOTP window if the current one ends within `margin`
    seconds, so a code computed now is still valid when the server checks it."""
    left = period - (time.time() % period)
    if left < margin:
        time.sleep(left + 0.2)
