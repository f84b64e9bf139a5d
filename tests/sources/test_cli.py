"""`sources add sharepoint|web`, `sources list`, `sources remove` and `ask` as an operator runs them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.knowledge.documents import write_pdf
from tests.sources.conftest import CLIENT_ID, CLIENT_SECRET, SITE_URL, TENANT_ID, word_file
from tests.sources.fake_site import FakeSite, page_path


@pytest.fixture
def run(tmp_path, monkeypatch):
    for name, value in {
        "DATA_DIR": str(tmp_path / "data"),
        "EMBEDDING_MODEL_DIR": str(tmp_path / "no-model"),
        "STARTER_PACK": "off",
        "WEB_DELAY_SECONDS": "0",
        "LOG_LEVEL": "ERROR",
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture
def site(tmp_path):
    fake = FakeSite(write_pdf(tmp_path / "p.pdf", ["Procedure", "", "Waivers need consent."]).read_bytes())
    yield fake
    fake.close()


def test_a_web_site_is_added_listed_answered_with_its_link_and_removed(run, site):
    start = f"{site.base_url}/guidance/"

    added = run("sources", "add", "web", start, "--max-pages", "40")
    assert added.exit_code == 0, added.output
    assert f"{start}: 32 new" in added.output  # 30 pages, the index page and the PDF

    listed = run("sources", "list")
    assert f"{start}  (web)" in listed.output and "; ok, with files skipped" in listed.output
    assert "application/zip is not a supported type" in listed.output

    answer = run("ask", "Who reviews the street lighting contract?")
    assert f"Open: {site.base_url}{page_path(4)}" in answer.output

    removed = run("sources", "remove", start)
    assert removed.exit_code == 0 and f"Removed {start}" in removed.output
    assert json.loads(run("sources", "list", "--json").output) == []


def test_sharepoint_needs_the_app_registration(run):
    result = run("sources", "add", "sharepoint", "--site", SITE_URL)
    assert result.exit_code == 1
    assert "GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET and GRAPH_TENANT_ID" in result.output
    assert "Nothing is indexed yet" in run("sources", "list").output  # nothing was stored


def test_a_sharepoint_library_is_added_and_a_refused_grant_shows_in_the_list(
    run, monkeypatch, graph, entra, source_pki, tmp_path
):
    for name, value in {
        "GRAPH_CLIENT_ID": CLIENT_ID,
        "GRAPH_CLIENT_SECRET": CLIENT_SECRET,
        "GRAPH_TENANT_ID": TENANT_ID,
        "GRAPH_AUTHORITY_URL": entra.base_url,
        "GRAPH_API_URL": f"{graph.base_url}/v1.0",
        "SOURCES_CA_BUNDLE": str(source_pki.ca_file),
    }.items():
        monkeypatch.setenv(name, value)
    drive = graph.add_drive("Documents", "Shared Documents")
    graph.add_file(drive, "Fleet.docx", word_file(tmp_path / "f.docx", "Fleet", ["The fleet manager owns reviews."]))

    added = run("sources", "add", "sharepoint", "--site", SITE_URL, "--json")
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["added"] == ["Documents/Fleet.docx"]

    graph.granted.clear()
    refreshed = run("index")
    assert (
        refreshed.exit_code == 0
        and "could not be refreshed" in refreshed.output
        and "Sites.Selected" in refreshed.output
    )
    assert run("index", "--strict").exit_code == 1
    listed = run("sources", "list")
    assert f"{SITE_URL}  (sharepoint)" in listed.output and "; failed" in listed.output
    assert "Sites.Selected" in listed.output and "still answered from" in listed.output
