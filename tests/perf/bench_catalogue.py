"""Catalogue benchmark: 5,000 projects in PostgreSQL, the portal under gunicorn
with production settings, and a bounded load generator.

Measures, alternately in one run so that drift hits all of them alike:
  (a) the catalogue with two filters and a search word,
  (c) a minimal Django view returning as many bytes as (a),
  (b) a project page (photos, budget, updates, impact),
  (d) the minimal view returning as many bytes as (b),
each page's ratios taken against its own minimal view. Those run with the
anonymous page cache off (PUENTE_ANONYMOUS_PAGE_SECONDS=0). Then the server is
restarted with the cache on (its default TTL) and all four are measured again: anonymous visitors without cookies, so every
request after the first one per worker and per TTL is served from the cache.

It prints figures and asserts only that every response was a 200: wall-clock
times depend on the machine. Run it with

  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    .venv/bin/python -m pytest tests/perf/bench_catalogue.py -q -s -p no:cacheprovider
"""

from __future__ import annotations

import datetime
import http.client
import itertools
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

pytestmark = pytest.mark.perf

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))
BENCH_DATABASE = "puente_bench"

PROJECTS = 5_000
WORKERS = 4
CONCURRENCY = 16
ROUNDS = 4
SECONDS_PER_BATCH = 2.0

CATALOGUE = "/en/projects/?q=agave&country=MX&sector=agriculture"
PROJECT_PAGE = "/en/projects/mezcal-ageing-cellar-jerez/"

SEARCH_WORDS = (
    "agave water solar school market clinic bakery cooperative harvest irrigation "
    "training women youth returnee remittance savings village road bridge warehouse "
    "coffee cocoa fish vegetables millet garlic tourism homestay craft weaving pottery "
    "workshop repair transport tricycle battery panel pump borehole kiosk nursery forest"
).split()


def _syllable_words(rng: random.Random, count: int) -> list[str]:
    syllables = "ka lo mi ne ra su te vi do pa ze gu ri ma no li bo sa fe tu".split()
    return ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(count)]


def seed(count: int = PROJECTS) -> None:
    """Runs inside Django (manage.py shell) against the benchmark database."""
    from decimal import Decimal

    from django.core.management import call_command
    from django.utils import timezone

    from portal.models import Territory, User
    from projects.demo import _picture, seed_projects
    from projects.models import Project
    from projects.vetting import SECTORS

    call_command("seed_demo", verbosity=0)
    seed_projects()
    rng = random.Random(2026)
    towns = list(Territory.objects.filter(level=Territory.Level.MUNICIPALITY))
    owner = User.objects.get(email="entrepreneur@puente.example")
    covers = [
        _picture(f"bench-{i}", f"Benchmark cover {i}", ("#9ad0f5", "#f9e79f", "#6a994e"), f"{i}")
        for i in range(24)
    ]
    vocabulary = SEARCH_WORDS * 3 + _syllable_words(rng, 500)
    sectors = [key for key, _label in SECTORS]
    now = timezone.now()
    statuses = [Project.Status.APPROVED] * 16 + [
        Project.Status.FUNDED,
        Project.Status.CLOSED,
        Project.Status.DRAFT,
        Project.Status.SUBMITTED,
    ]
    rows = []
    for i in range(count):
        words = rng.sample(vocabulary, 120)
        status = rng.choice(statuses)
        funded = rng.randint(0, 100) if status != Project.Status.FUNDED else 100
        sought = Decimal(rng.randrange(5_000, 90_000, 500))
        rows.append(
            Project(
                slug=f"bench-{i}",
                title=" ".join(rng.sample(vocabulary, 4)).capitalize(),
                summary=" ".join(rng.sample(vocabulary, 18)).capitalize() + ".",
                story=" ".join(words).capitalize() + ".",
                owner=owner,
                status=status,
                territory=rng.choice(towns),
                sector=rng.choice(sectors),
                sdgs=rng.sample(range(1, 18), rng.randint(1, 3)),
                instrument=rng.choice(["loan", "revenue_share", "donation_matching"]),
                currency="USD",
                funding_sought=sought,
                funded_percent=funded,
                amount_raised=sought * funded / 100,
                risk_rating=rng.choice("ABCDE"),
                risk_reason="Benchmark data.",
                led_by_returnee=rng.random() < 0.4,
                led_by_woman=rng.random() < 0.4,
                endorsement=rng.choice(["none", "endorsed", "declined"]),
                cover_image=rng.choice(covers),
                published_at=now - datetime.timedelta(minutes=i)
                if status in Project.PUBLIC_STATUSES
                else None,
                closes_at=now + datetime.timedelta(days=rng.randint(-30, 120))
                if rng.random() < 0.9
                else None,
            )
        )
    Project.objects.bulk_create(rows, batch_size=1000)


def search_plan() -> None:
    """Says whether PostgreSQL answers the catalogue's search from the GIN
    index on the stored search column (projects migration 0003)."""
    from django.db import connection

    from projects.selectors import catalogue_queryset

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE projects_project")
    plan = catalogue_queryset({"q": "agave"}, user=None).explain()
    print("uses project_search" if "project_search" in plan else "plan:\n" + plan)


def _database_url(name: str) -> str:
    parts = urlsplit(DATABASE_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_sql(*statements: str) -> None:
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"Accept-Language": "en"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@dataclass
class Batch:
    latencies: list[float]
    statuses: Counter
    seconds: float


def _load(
    port: int,
    path: str,
    total: int | None = None,
    concurrency: int = CONCURRENCY,
    seconds: float = SECONDS_PER_BATCH,
) -> Batch:
    """GETs of `path` from `concurrency` threads, a new connection each
    (gunicorn's sync workers close the connection after each response):
    `total` of them, or as many as start within `seconds`. A batch of fixed
    length measures a fast page and a slow one alike; a fixed count of 80
    lasts 50 ms for a page served at 1,600 a second, too short to tell it
    from the threads' start and stop."""
    tickets = itertools.count()
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()

    def more() -> bool:
        if total is not None:
            return next(tickets) < total
        return time.perf_counter() < deadline

    def client():
        while more():
            started = time.perf_counter()
            try:
                status, _body = _get(port, path)
            except OSError as error:
                status = type(error).__name__
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] += 1

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Batch(latencies, statuses, time.perf_counter() - started)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


@dataclass
class Result:
    label: str
    latencies: list[float]
    seconds: float
    statuses: Counter

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def p(self, fraction: float) -> float:
        return _percentile(self.latencies, fraction) * 1000


def _measure(port: int, targets: dict[str, str], order: list[str]) -> dict[str, Result]:
    results = {key: Result(key, [], 0.0, Counter()) for key in targets}
    for _round in range(ROUNDS):
        for key in order:
            batch = _load(port, targets[key])
            result = results[key]
            result.latencies += batch.latencies
            result.seconds += batch.seconds
            result.statuses.update(batch.statuses)
    return results


def _table(rows: list[tuple[str, Result, Result]]) -> str:
    """One line per (label, result, baseline): the ratios are to the baseline."""
    lines = [
        f"{'page':<48} {'requests':>8} {'rps':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'rps/min':>8} {'p99/min':>8}",
    ]
    for label, r, baseline in rows:
        lines.append(
            f"{label:<48} {len(r.latencies):>8} {r.rps:>8.1f} {r.p(0.5):>8.1f} {r.p(0.99):>8.1f} "
            f"{r.rps / baseline.rps:>8.2f} {r.p(0.99) / baseline.p(0.99):>8.2f}"
        )
    return "\n".join(lines)


def _django(env: dict, *args: str, timeout: int = 300) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="the catalogue benchmark needs PostgreSQL: set DATABASE_URL=postgres://...",
)
def test_catalogue_benchmark():
    started = time.perf_counter()
    media = Path(tempfile.mkdtemp(prefix="puente-bench-media-"))
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(BENCH_DATABASE),
        "DJANGO_SETTINGS_MODULE": "tests.perf.settings_bench",
        "SECRET_KEY": "bench-" + "0123456789abcdef" * 4,
        "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "MEDIA_ROOT": str(media),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)  # the cache is per process, as in the embedded setup
    drop = f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)'
    _admin_sql(drop, f'CREATE DATABASE "{BENCH_DATABASE}"')
    server = None
    log = open(media / "gunicorn.log", "w")  # noqa: SIM115  (closed in the finally clause)
    try:
        _django(env, "migrate", "--noinput", "-v", "0")
        _django(
            env,
            "shell",
            "-v",
            "0",
            "-c",
            "from tests.perf.bench_catalogue import seed; seed()",
        )
        _admin_sql_on_bench("ANALYZE")
        prepared = time.perf_counter() - started

        port = _free_port()
        server = _start(port, {**env, "PUENTE_ANONYMOUS_PAGE_SECONDS": "0"}, log)
        _wait_until_up(port, server)

        # Warm up: open a connection per worker, make the image renditions.
        for path in (CATALOGUE, PROJECT_PAGE) * 3:
            status, _body = _get(port, path)
            assert status == 200, path
        status, catalogue_body = _get(port, CATALOGUE)
        status_b, page_body = _get(port, PROJECT_PAGE)
        assert status == status_b == 200
        minimal = f"/bench/bytes/{len(catalogue_body)}/"
        minimal_page = f"/bench/bytes/{len(page_body)}/"
        _load(port, minimal, 50)
        targets = {"a": CATALOGUE, "b": PROJECT_PAGE, "c": minimal, "d": minimal_page}
        results = _measure(port, targets, ["a", "c", "b", "d"])

        index_note = _django(
            env,
            "shell",
            "-v",
            "0",
            "-c",
            "from tests.perf.bench_catalogue import search_plan; search_plan()",
        ).strip()

        # The same pages with the anonymous page cache on (the settings' TTL).
        _stop(server)
        server = None
        port = _free_port()
        server = _start(port, env, log)
        _wait_until_up(port, server)
        # Concurrent warm-up, so that every worker (each has its own memory
        # cache) holds both pages before the measurement.
        for path in (CATALOGUE, PROJECT_PAGE, minimal, minimal_page):
            assert set(_load(port, path, 64).statuses) == {200}, path
        cached = _measure(port, targets, ["a", "c", "b", "d"])

        for result in [*results.values(), *cached.values()]:
            assert set(result.statuses) == {200}, result.statuses

        cache_note = _cache_facts(port, env)
        print()
        print(
            f"Catalogue benchmark: {PROJECTS:,} projects on PostgreSQL, gunicorn "
            f"{WORKERS} sync workers, {CONCURRENCY} concurrent clients, {ROUNDS} rounds of "
            f"{SECONDS_PER_BATCH:.0f} s per page, {os.cpu_count()} CPUs shared with the "
            f"load generator; prepared in {prepared:.0f} s."
        )
        print(f"(a) {CATALOGUE}  [{len(catalogue_body):,} bytes]")
        print(f"(b) {PROJECT_PAGE}  [{len(page_body):,} bytes]")
        print(f"(c) {minimal}  (minimal view, same bytes as (a))")
        print(f"(d) {minimal_page}  (minimal view, same bytes as (b))")
        print(
            _table(
                [
                    ("(a) catalogue: 2 filters + search word", results["a"], results["c"]),
                    ("(c) minimal view, bytes of (a)", results["c"], results["c"]),
                    ("(b) project page", results["b"], results["d"]),
                    ("(d) minimal view, bytes of (b)", results["d"], results["d"]),
                ]
            )
        )
        print("With the anonymous page cache (restarted server):")
        print(
            _table(
                [
                    ("(a) catalogue, anonymous, cached", cached["a"], cached["c"]),
                    ("(c) minimal view, bytes of (a)", cached["c"], cached["c"]),
                    ("(b) project page, anonymous, cached", cached["b"], cached["d"]),
                    ("(d) minimal view, bytes of (b)", cached["d"], cached["d"]),
                ]
            )
        )
        print(f"Search index project_search: {index_note}")
        print(cache_note)
        print(f"Total time {time.perf_counter() - started:.0f} s.")
    finally:
        if server is not None:
            _stop(server)
        log.close()
        _admin_sql(drop)
        shutil.rmtree(media, ignore_errors=True)


def _admin_sql_on_bench(statement: str) -> None:
    import psycopg

    with psycopg.connect(_database_url(BENCH_DATABASE), autocommit=True) as connection:
        connection.execute(statement)


def _start(port: int, env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi:application",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--chdir",
            str(ROOT),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_until_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn stopped; see its log"
        try:
            if _get(port, "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("gunicorn did not answer within 60 s")


def _stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)


def _cache_facts(port: int, env: dict) -> str:
    """Whether anonymous pages could be served from a cache: a cache middleware
    in the server's settings, or a response a shared cache may keep."""
    middleware = _django(
        env,
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings; "
        "print(','.join(m for m in settings.MIDDLEWARE if 'cache' in m.lower()))",
    ).strip()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", CATALOGUE)
    response = connection.getresponse()
    response.read()
    cache_control = response.getheader("Cache-Control") or ""
    connection.close()
    if middleware or "max-age" in cache_control or "s-maxage" in cache_control:
        return f"Page cache: middleware [{middleware}], Cache-Control {cache_control!r}."
    return (
        "No page cache: MIDDLEWARE has no cache middleware and the catalogue answers with "
        f"Cache-Control {cache_control!r}, so every anonymous request renders the page; "
        "there is no cached variant to measure."
    )
