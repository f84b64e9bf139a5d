"""/healthz says whether this replica can serve (and what is only half set up); /metrics scrapes as Prometheus."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from bot.app import Services
from bot.config import Settings
from bot.server import build_server
from bot.version import VERSION
from knowledge.service import KnowledgeBase, open_knowledge
from storage.work_queue import WorkQueue
from workflows.guidance_questions import GuidanceQuestions


@pytest.fixture
def client_for():
    opened: list[tuple[TestClient, Services]] = []

    def build(services: Services) -> TestClient:
        client = TestClient(build_server(services, warm_up=False))
        client.__enter__()
        opened.append((client, services))
        return client

    yield build
    for client, services in opened:
        client.__exit__(None, None, None)
        services.close()


def test_healthz_is_ready_and_warns_when_no_chat_platform_is_configured(settings: Settings, client_for) -> None:
    response = client_for(Services(settings)).get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["version"] == VERSION == "0.2.0"
    assert any(warning.startswith("No chat platform is configured") for warning in body["warnings"])


def test_healthz_is_503_with_a_reason_when_the_database_is_unreachable(settings: Settings, client_for) -> None:
    # Nothing listens on port 1: the database cannot be reached, as when its server is down.
    unreachable = settings.model_copy(update={"database_url": "postgresql+psycopg://bot:s3cret-pw@127.0.0.1:1/none"})
    response = client_for(Services(unreachable)).get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["reason"].startswith("The database is not answering")
    assert "s3cret-pw" not in response.text


def test_healthz_warns_when_meaning_search_is_off(
    settings: Settings, guidance_settings: Settings, client_for, tmp_path
) -> None:
    keyword_only = guidance_settings.model_copy(update={"embedding_model_dir": tmp_path / "no-model-here"})
    services = Services(settings, knowledge=_open(keyword_only))
    body = client_for(services).get("/healthz").json()
    assert any(warning.startswith("Meaning search is off") for warning in body["warnings"])


def _open(settings: Settings) -> KnowledgeBase:
    knowledge = open_knowledge(settings.for_knowledge())
    knowledge.ensure_ready()
    return knowledge


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_metrics_scrape_with_answers_by_kind_latency_and_the_index_version(
    settings: Settings, shared_guidance: KnowledgeBase, client_for
) -> None:
    client = client_for(Services(settings, knowledge=shared_guidance))
    before = _samples(client.get("/metrics").text)
    answered_before = sum(
        v for labels, v in before.get("commissioning_answers_total", []) if labels["kind"] == "answered"
    )

    GuidanceQuestions(shared_guidance).ask("terminal", "metrics-test", "Who makes strategic sourcing decisions?")

    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    answered = sum(v for labels, v in samples["commissioning_answers_total"] if labels["kind"] == "answered")
    assert answered == answered_before + 1
    assert samples["commissioning_answer_seconds_count"][0][1] >= 1
    assert samples["commissioning_index_version"][0][1] == shared_guidance.version > 0
    assert samples["commissioning_release"] == [({"version": VERSION}, 1.0)]
    assert "process_resident_memory_bytes" in samples


def test_metrics_show_acknowledged_work_waiting_by_state(
    settings: Settings, shared_guidance: KnowledgeBase, client_for
):
    """An operator sees work the assistant has acknowledged but not yet done (falling behind shows as ready)."""
    services = Services(settings, knowledge=shared_guidance)
    client = client_for(services)
    before = dict(
        (labels["state"], v) for labels, v in _samples(client.get("/metrics").text)["commissioning_work_items"]
    )
    assert set(before) == {"ready", "leased", "done", "failed"}
    WorkQueue(services.database).enqueue("slack_answer", "T1:C1", {"text": "hello"}, dedup_key="metrics-test-1")
    after = dict(
        (labels["state"], v) for labels, v in _samples(client.get("/metrics").text)["commissioning_work_items"]
    )
    assert after["ready"] == before["ready"] + 1
