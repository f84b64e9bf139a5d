"""SharePoint is read with the Teams bot's app registration unless GRAPH_* names another."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from tests.sources.conftest import source_settings


def test_the_teams_registration_is_used_when_no_graph_one_is_set(tmp_path: Path) -> None:
    settings = source_settings(
        tmp_path,
        teams_app_id="bot-app",
        teams_app_password=SecretStr("bot-secret"),
        teams_tenant_id="tenant",
        teams_ca_bundle=tmp_path / "proxy.pem",
    ).for_knowledge()
    sources = settings.sources
    assert (sources.graph_client_id, sources.graph_client_secret, sources.graph_tenant_id) == (
        "bot-app",
        "bot-secret",
        "tenant",
    )
    assert sources.ca_bundle == tmp_path / "proxy.pem"
    assert "bot-secret" not in repr(settings)  # settings may be logged; the secret never is


def test_a_graph_registration_of_its_own_wins(tmp_path: Path) -> None:
    sources = source_settings(
        tmp_path,
        teams_app_id="bot-app",
        teams_app_password=SecretStr("bot-secret"),
        teams_tenant_id="tenant",
        graph_client_id="reader-app",
        graph_client_secret=SecretStr("reader-secret"),
        graph_tenant_id="tenant",
    ).for_sources()
    assert (sources.graph_client_id, sources.graph_client_secret) == ("reader-app", "reader-secret")
