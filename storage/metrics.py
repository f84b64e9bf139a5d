"""The process's Prometheus metrics, in one registry that ``GET /metrics`` serves (see ``bot/server.py``).

It sits in the lowest package so that every layer can record what it sees without importing the wiring: the
chat core counts answers, the wiring counts messages sent and scheduler runs. Values read at scrape time (the
index version, a queue's depth) are registered with :func:`register_gauge`, by whoever builds the thing measured:

    register_gauge("commissioning_index_version", "The index version served.", lambda: knowledge.version)
    register_gauge("commissioning_work_items", "Work items by state.", lambda: work_queue_depth(db), label="state")

Each process (a server replica, a scheduler) serves its own figures; Prometheus adds them up across replicas.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = [
    "ANSWERS",
    "ANSWER_SECONDS",
    "MESSAGES_SENT",
    "REGISTRY",
    "SCHEDULER_RUNS",
    "register_gauge",
    "set_release",
]

log = structlog.get_logger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # memory, CPU and open files: what sizing and alerts need first

ANSWERS = Counter(
    "commissioning_answers", "Guidance questions answered, by kind of answer.", ["kind"], registry=REGISTRY
)
# From a keyword-only answer on a warm server (tens of ms) to a written answer from a slow model (seconds).
ANSWER_SECONDS = Histogram(
    "commissioning_answer_seconds",
    "Time to answer a guidance question.",
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
MESSAGES_SENT = Counter(
    "commissioning_messages_sent",
    "Direct messages (reminders, feedback requests) by platform and result.",
    ["platform", "status"],
    registry=REGISTRY,
)
SCHEDULER_RUNS = Counter(
    "commissioning_scheduler_runs", "Scheduled job runs, by job and outcome.", ["job", "outcome"], registry=REGISTRY
)
_RELEASE = Gauge("commissioning_release", "Always 1; the release's version is a label.", ["version"], registry=REGISTRY)


def set_release(version: str) -> None:
    _RELEASE.clear()
    _RELEASE.labels(version=version).set(1)


Reader = Callable[[], float] | Callable[[], Mapping[str, float]]


class _CallbackGauges(Collector):
    """Gauges whose value is read when Prometheus scrapes; a failing reader leaves its gauge out, not the scrape."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._readers: dict[str, tuple[str, Reader, str | None]] = {}

    def register(self, name: str, help_text: str, read: Reader, label: str | None) -> None:
        with self._lock:
            self._readers[name] = (help_text, read, label)

    def unregister(self, name: str) -> None:
        with self._lock:
            self._readers.pop(name, None)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            readers = dict(self._readers)
        for name, (help_text, read, label) in sorted(readers.items()):
            try:
                value = read()
                if label is None:
                    family = GaugeMetricFamily(name, help_text, value=float(value))  # type: ignore[arg-type]
                else:
                    family = GaugeMetricFamily(name, help_text, labels=[label])
                    for key, number in sorted(value.items()):  # type: ignore[union-attr]
                        family.add_metric([key], float(number))
            except Exception as error:  # noqa: BLE001 - one broken reader must not break the whole scrape
                log.warning("metric_read_failed", metric=name, error=type(error).__name__)
                continue
            yield family


_GAUGES = _CallbackGauges()
REGISTRY.register(_GAUGES)


def register_gauge(name: str, help_text: str, read: Reader, *, label: str | None = None) -> Callable[[], None]:
    """Serve ``read()`` as the gauge ``name`` on every scrape (registering a name again replaces its reader).

    With ``label``, ``read()`` returns a value per label value (e.g. work items per state). Returns a function
    that removes the gauge, for a part that stops (a closed knowledge base)."""
    _GAUGES.register(name, help_text, read, label)
    return lambda: _GAUGES.unregister(name)
