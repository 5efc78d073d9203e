"""The worker process's two Prometheus endpoints, both on `metrics_host`:

- `worker_metrics_port` (9464): prometheus_client's default registry: the activities'
  `collections_*` counters (`activities.metrics`), the daily intake's (`operations.metrics`)
  and the process's own (CPU, memory, file descriptors);
- `worker_sdk_metrics_port` (9465): the Temporal SDK's runtime metrics (`temporal_*`: workflow
  and activity task latencies, schedule-to-start, pollers, slots, sticky cache), durations in
  seconds.

Two ports because the SDK's exporter runs in its Rust core and serves only what is recorded
through its own meter: putting our counters there would split the project's metrics between
two libraries (the API has no SDK exporter), and bridging the other way means re-exporting a
buffer of the SDK's updates ourselves. Prometheus scrapes both as job `collections-worker`.

A port already taken (another worker on this machine) is logged and skipped: the worker still
works, and the scrape that fails raises the `CollectionsWorkerDown` alert (`ops/alerts.yml`).
"""

from __future__ import annotations

import logging

from prometheus_client import start_http_server
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from config.settings import Settings

log = logging.getLogger(__name__)


def serve_metrics(settings: Settings) -> None:
    """Serves the default registry on `worker_metrics_port` (from a daemon thread)."""
    host, port = settings.metrics_host, settings.worker_metrics_port
    if port <= 0:
        return
    try:
        start_http_server(port, addr=host)
    except OSError as error:
        log.error("metrics not served on %s:%d: %s", host, port, error.strerror or error)
        return
    log.info("metrics at http://%s:%d/metrics", host, port)


def sdk_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime exporting the SDK's metrics on `worker_sdk_metrics_port`; None
    (the default runtime, no export) when that is 0 or the port is taken."""
    host, port = settings.metrics_host, settings.worker_sdk_metrics_port
    if port <= 0:
        return None
    exporter = PrometheusConfig(bind_address=f"{host}:{port}", durations_as_seconds=True)
    try:
        runtime = Runtime(telemetry=TelemetryConfig(metrics=exporter))
    except ValueError as error:  # the core's "Failed starting Prometheus exporter: ..."
        log.error("Temporal SDK metrics not served on %s:%d: %s", host, port, error)
        return None
    log.info("Temporal SDK metrics at http://%s:%d/metrics", host, port)
    return runtime
