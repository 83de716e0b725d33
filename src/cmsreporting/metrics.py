"""Prometheus metrics (prometheus-client), served at /metrics to the allowed client networks.

With several worker processes each writes its samples to files in PROMETHEUS_MULTIPROC_DIR and
/metrics adds them up (prometheus-client's multiprocess mode); `cmsreporting serve --workers N`
makes that folder when it is not set. Gauges count live processes only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any
from weakref import WeakKeyDictionary

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from cmsreporting.core.memo import Memo, memos

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "(unmatched)"

REQUESTS = Counter(
    "cmsreporting_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "cmsreporting_http_request_duration_seconds",
    "Time to answer an HTTP request (to the end of its body), by method, route template and status",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
POOL_IN_USE = Gauge(
    "cmsreporting_db_pool_in_use",
    "Database connections checked out of the pools",
    multiprocess_mode="livesum",
)
POOL_WAITING = Gauge(
    "cmsreporting_db_pool_waiting",
    "Requests waiting for a database connection",
    multiprocess_mode="livesum",
)
SAVES = Counter(
    "cmsreporting_saves",
    "Answer save requests (PATCH …/answers), by status (200 saved; 409 a stale revision)",
    ["status"],
)
SUBMISSIONS = Counter(
    "cmsreporting_submissions",
    "Submit requests (POST …/submit), by status (201 submitted)",
    ["status"],
)
EXPORTS = Counter(
    "cmsreporting_exports",
    "Export requests, by kind (submission, cycle), format and status",
    ["kind", "format", "status"],
)
CACHE_HITS = Counter(
    "cmsreporting_cache_hits", "Lookups answered by a per-process cache", ["cache"]
)
CACHE_MISSES = Counter(
    "cmsreporting_cache_misses", "Lookups a per-process cache could not answer", ["cache"]
)

API = "/api/v1"
_SAVE = ("PATCH", API + "/workspaces/{workspace_id}/answers")
_SUBMIT = ("POST", API + "/workspaces/{workspace_id}/submit")
_EXPORTS = {
    ("GET", API + "/submissions/{submission_id}/export"): "submission",
    ("GET", API + "/cycles/{ref}/export"): "cycle",
}
_CACHE_SYNC_SECONDS = 1.0
# the labelled children by (method, route, status): labels() costs more than the count itself;
# bounded as the labels are (route templates, methods and statuses)
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_synced: WeakKeyDictionary[Memo[Any, Any], tuple[int, int]] = WeakKeyDictionary()
_next_sync = 0.0


def observe_request(
    method: str, route: str, status: int, seconds: float, query: bytes = b""
) -> None:
    """Count one answered request (and the save, submission or export it was)."""
    children = _children.get((method, route, status))
    if children is None:
        code = str(status)
        children = (REQUESTS.labels(method, route, code), LATENCY.labels(method, route, code))
        _children[(method, route, status)] = children
    children[0].inc()
    children[1].observe(seconds)
    code = str(status)
    key = (method, route)
    if key == _SAVE:
        SAVES.labels(code).inc()
    elif key == _SUBMIT:
        SUBMISSIONS.labels(code).inc()
    elif key in _EXPORTS:
        EXPORTS.labels(_EXPORTS[key], _format(query), code).inc()
    if time.monotonic() >= _next_sync:
        sync_caches()


def _format(query: bytes) -> str:
    for part in query.split(b"&"):
        name, _, value = part.partition(b"=")
        if name == b"format":
            return value.decode("latin-1") if value in _FORMATS else "other"
    return "default"


_FORMATS = frozenset({b"json", b"csv", b"xlsx", b"html", b"jsonl"})


def sync_caches() -> None:
    """Add the per-process caches' hits and misses since the last call to the counters."""
    global _next_sync
    _next_sync = time.monotonic() + _CACHE_SYNC_SECONDS
    for memo in memos():
        hits, misses = memo.hits, memo.misses
        seen_hits, seen_misses = _synced.get(memo, (0, 0))
        if hits > seen_hits:
            CACHE_HITS.labels(memo.name).inc(hits - seen_hits)
        if misses > seen_misses:
            CACHE_MISSES.labels(memo.name).inc(misses - seen_misses)
        _synced[memo] = (hits, misses)


def instrument_pool(engine: AsyncEngine) -> None:
    """Keep the pool gauges current: connections checked out, callers waiting for one."""
    pool: Any = engine.sync_engine.pool
    inner_get = pool._do_get

    def _do_get() -> Any:
        POOL_WAITING.inc()
        try:
            return inner_get()
        finally:
            POOL_WAITING.dec()

    pool._do_get = _do_get

    @event.listens_for(pool, "checkout")
    def _checkout(*_: Any) -> None:
        POOL_IN_USE.inc()

    @event.listens_for(pool, "checkin")
    def _checkin(*_: Any) -> None:
        POOL_IN_USE.dec()


def allowed(client: tuple[str, int] | None, networks: list[IPv4Network | IPv6Network]) -> bool:
    """Whether a client address lies in one of the networks (no address: not allowed)."""
    if client is None:
        return False
    try:
        address: IPv4Address | IPv6Address = ip_address(client[0])
    except ValueError:
        return False
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # an IPv4 client of a server listening on ::
    return any(address in network for network in networks)


def _queue_families(queues: list[tuple[str, int, float]]) -> bytes:
    """Gauges of the job queues, read from the database at each scrape (not per process)."""
    depth = GaugeMetricFamily(
        "cmsreporting_jobs_queued", "Jobs waiting to start, by queue", labels=["queue"]
    )
    age = GaugeMetricFamily(
        "cmsreporting_jobs_oldest_queued_seconds",
        "Age of the oldest job waiting to start, by queue (0: none waiting)",
        labels=["queue"],
    )
    for queue, count, oldest in queues:
        depth.add_metric([queue], count)
        age.add_metric([queue], oldest)

    class _Queues(Collector):
        def collect(self) -> Iterable[Metric]:
            return [depth, age]

    registry = CollectorRegistry()
    registry.register(_Queues())
    return generate_latest(registry)


def exposition(queues: list[tuple[str, int, float]] | None = None) -> tuple[bytes, str]:
    """The metrics in the text format, all worker processes' when there are several, and the
    job queues' depth and age when given."""
    sync_caches()
    extra = _queue_families(queues) if queues else b""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry) + extra, CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY) + extra, CONTENT_TYPE_LATEST


def process_exited() -> None:
    """Drop this process's live gauges from the shared files (at its shutdown)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
