"""localstripe, the stateful fake Stripe, served inside the test process.

Its aiohttp app runs on 127.0.0.1 (a free port) in a background thread with
its own event loop, once per test session; each test that asks for the
`localstripe` fixture gets STRIPE_API_BASE pointed at it and an empty store.
localstripe pickles its store to a fixed file in the system temp folder on
every write; here that goes to a temporary directory of this session, so two
test runs on one machine never share (or clobber) a store.

Use it from a test module with `from tests.finance.localstripe_server import
localstripe, localstripe_server` (tests/finance/conftest.py does). A browser
test can also load localstripe's fake Stripe.js: set STRIPE_JS_URL to
f"{localstripe}/js.stripe.com/v3/"."""

from __future__ import annotations

import asyncio
import pickle
import socket
import threading
import time
import urllib.request
import warnings
from collections.abc import Iterator

import pytest


class LocalStripe(str):
    """A running localstripe: the string is its base URL (what STRIPE_API_BASE
    is set to), with helpers to configure it and to look into its store."""

    @property
    def base_url(self) -> str:
        return str(self)

    def request(self, method: str, path: str, data: bytes | None = None) -> int:
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - local URL
            return response.status

    def clear(self) -> None:
        from localstripe import webhooks

        self.request("DELETE", "/_config/data")
        # Registered webhook endpoints live outside the store; a test that
        # registered one must not receive the next test's events.
        webhooks._webhooks.clear()

    def register_webhook(self, url: str, secret: str, events: list[str] | None = None) -> None:
        from urllib.parse import urlencode

        fields = [("url", url), ("secret", secret)]
        fields += [("events[]", name) for name in events or []]
        self.request("POST", "/_config/webhooks/puente", urlencode(fields).encode())

    def stored(self, kind: str, object_id: str):
        """An object as localstripe holds it (e.g. ("payment_intent", "pi_...")),
        read in-process: what Stripe would have recorded."""
        from localstripe.resources import store

        return store[f"{kind}:{object_id}"]


def _free_port() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory) -> Iterator[LocalStripe]:
    from aiohttp import web

    with warnings.catch_warnings():
        # localstripe registers plain functions as handlers, which aiohttp deprecates.
        warnings.simplefilter("ignore", DeprecationWarning)
        from localstripe.resources import Store
        from localstripe.server import app

    pickle_path = tmp_path_factory.mktemp("localstripe") / "localstripe.pickle"

    def dump_to_disk(self):
        with open(pickle_path, "wb") as file:
            pickle.dump(self, file, protocol=pickle.HIGHEST_PROTOCOL)

    def try_load_from_disk(self):
        try:
            with open(pickle_path, "rb") as file:
                old = pickle.load(file)  # noqa: S301 - our own file
        except FileNotFoundError:
            return
        self.clear()
        self.update(old)

    patch = pytest.MonkeyPatch()
    patch.setattr(Store, "dump_to_disk", dump_to_disk)
    patch.setattr(Store, "try_load_from_disk", try_load_from_disk)

    sock = _free_port()
    port = sock.getsockname()[1]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.SockSite(runner, sock).start())
        started.set()
        loop.run_forever()
        # Webhooks still waiting out their 1 s delay are dropped, quietly.
        pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="localstripe", daemon=True)
    thread.start()
    started.wait(10)
    server = LocalStripe(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 10
    while True:
        try:
            if server.request("GET", "/js.stripe.com/v3/") == 200:
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield server
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    patch.undo()


@pytest.fixture
def localstripe(localstripe_server, settings) -> Iterator[LocalStripe]:
    """localstripe with an empty store, and the site's Stripe calls pointed at it."""
    localstripe_server.clear()
    settings.STRIPE_API_BASE = localstripe_server.base_url
    yield localstripe_server
    localstripe_server.clear()
