"""Prometheus text metrics at ``/metrics``, read from the store on every scrape.

Readable with an admin session or ``Authorization: Bearer <admin.metrics_token>``, so a venue's
own Prometheus can scrape the box. Counters are totals since the store was created; the
``*_per_second`` gauges are averages over the last five minutes (Prometheus' ``rate()`` over the
counters gives the same and better).
"""

from __future__ import annotations

import hmac
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from ..config import Config
from ..store import ImportStatus, PublicationState, Store
from . import get_config, get_store
from .auth import logged_in
from .queries import card_state

bp = Blueprint("metrics", __name__)

# The classic text format: every Prometheus since 2.0 reads it.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

WINDOW = timedelta(minutes=5)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


class StoreCollector:
    """A prometheus_client collector over the store (no state of its own)."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config, self.store = config, store

    def collect(self) -> Iterator[Metric]:
        s = self.store
        n = s.metrics_counts(since=_iso(datetime.now(UTC) - WINDOW))
        yield _counter("appliance_photos_imported", "Photos imported into the buffer", n["photos"])
        yield _counter("appliance_imported_bytes", "Bytes of photos imported into the buffer",
                       n["photo_bytes"])
        yield _counter("appliance_photos_published", "Publications rendered (including later unpublished)",
                       n["published"])
        yield _counter("appliance_publish_failed", "Publications that failed to render", n["failed"])
        yield _counter("appliance_uploads", "Files uploaded to the bucket", n["uploads"])
        yield _counter("appliance_uploaded_bytes", "Bytes uploaded to the bucket", n["upload_bytes"])
        yield _counter("appliance_upload_errors", "Failed upload attempts (each is retried)",
                       n["upload_errors"])

        states = GaugeMetricFamily("appliance_publications", "Publications by state", labels=["state"])
        found = n["publications_by_state"]
        for state in PublicationState:
            states.add_metric([state], found.get(state, 0))
        yield states
        yield _gauge("appliance_photos_live", "Published photos confirmed in the bucket", n["live"])
        depth = s.queue_depth()
        yield _gauge("appliance_queue_jobs", "Outbox jobs waiting for the bucket", depth["jobs"])
        yield _gauge("appliance_queue_bytes", "Bytes waiting to be uploaded", depth["bytes"])
        yield _gauge("appliance_uploads_retrying", "Outbox jobs that failed at least once and wait",
                     n["retrying"])

        window = WINDOW.total_seconds()
        yield _gauge("appliance_import_photos_per_second", "Photos imported per second (last 5 min)",
                     n["imported_recent"] / window)
        yield _gauge("appliance_import_bytes_per_second", "Bytes imported per second (last 5 min)",
                     n["imported_recent_bytes"] / window)
        yield _gauge("appliance_upload_bytes_per_second", "Bytes uploaded per second (last 5 min)",
                     n["uploaded_recent_bytes"] / window)

        sync = s.sync_state()
        yield _gauge("appliance_online", "1 when the bucket answered the last attempt",
                     1 if sync.get("online") else 0)
        last = _epoch(sync.get("last_success_at"))
        if last is not None:
            yield _gauge("appliance_last_upload_timestamp_seconds", "Time of the last upload", last)
        card = card_state(s)
        yield _gauge("appliance_card_importing", "1 while a card is being imported",
                     1 if card["state"] == ImportStatus.IMPORTING else 0)

        free = GaugeMetricFamily("appliance_disk_free_bytes", "Free bytes per data folder", labels=["folder"])
        total = GaugeMetricFamily("appliance_disk_total_bytes", "Size of the filesystem per data folder",
                                  labels=["folder"])
        for name in ("buffer", "web", "state"):
            try:
                usage = shutil.disk_usage(self.config.folder(name))
            except OSError:
                continue
            free.add_metric([name], usage.free)
            total.add_metric([name], usage.total)
        yield free
        yield total
        pending = GaugeMetricFamily("appliance_second_copy_pending", "Originals the second copy still lacks",
                                    labels=["target"])
        usable = GaugeMetricFamily("appliance_second_copy_available",
                                   "1 when the second drive / bucket prefix takes copies", labels=["target"])
        for row in s.second_copy_targets():
            pending.add_metric([row["target"]], row["pending"])
            usable.add_metric([row["target"]], 1 if row["available"] else 0)
        yield pending
        yield usable
        yield _gauge("appliance_scrape_timestamp_seconds", "When these figures were read", time.time())


def _counter(name: str, doc: str, value: Any) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=float(value or 0))


def _gauge(name: str, doc: str, value: Any) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=float(value or 0))


def _token_ok() -> bool:
    token = get_config().admin.metrics_token
    header = request.headers.get("Authorization", "")
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer "):].encode(), token.encode())


def render(config: Config, store: Store) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(config, store))
    return generate_latest(registry)


@bp.get("/metrics")
def metrics() -> Any:
    if not (logged_in() or _token_ok()):
        return jsonify(error="login or the metrics bearer token required"), 401, {
            "WWW-Authenticate": 'Bearer realm="appliance"'}
    return Response(render(get_config(), get_store()), content_type=CONTENT_TYPE,
                    headers={"Cache-Control": "no-store"})
