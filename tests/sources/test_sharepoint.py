"""A SharePoint document library as a guidance source, against a loopback Microsoft Graph and Entra ID."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from knowledge.models import AnswerKind
from knowledge.service import KnowledgeBase
from knowledge.sources.sharepoint import sharepoint_location
from tests.knowledge.documents import write_levels_pdf
from tests.sources.conftest import SITE_URL, word_file
from tests.sources.fake_graph import FakeGraph

LOCATION = sharepoint_location(SITE_URL, "Documents", "Guidance")
OPTIONS = {"site": SITE_URL, "library": "Documents", "folder": "Guidance"}


def _library(graph: FakeGraph, tmp_path: Path) -> dict[str, object]:
    """A library with a Guidance folder (Word and PDF files, one too big, one of a type not read) and others."""
    drive = graph.add_drive("Documents", "Shared Documents")
    graph.add_drive("Site Assets", "SiteAssets")
    guidance = graph.add_folder(drive, "Guidance")
    policies = graph.add_folder(drive, "Policies", guidance.id)
    archive = graph.add_folder(drive, "Archive")
    fleet = graph.add_file(
        drive,
        "Fleet reviews.docx",
        word_file(
            tmp_path / "fleet.docx",
            "Fleet reviews",
            ["The fleet manager owns every vehicle replacement review and reports to the transport board."],
        ),
        guidance.id,
    )
    parks = graph.add_file(
        drive,
        "Parks.docx",
        word_file(tmp_path / "parks.docx", "Parks", ["The parks team leads the tree survey each spring."]),
        policies.id,
    )
    libraries = graph.add_file(
        drive,
        "Libraries.docx",
        word_file(
            tmp_path / "lib.docx", "Libraries", ["The libraries manager signs off the mobile library timetable."]
        ),
        guidance.id,
    )
    levels = graph.add_file(drive, "Levels.pdf", write_levels_pdf(tmp_path / "levels.pdf").read_bytes(), guidance.id)
    graph.add_file(drive, "Budget.xlsx", b"PK\x03\x04 not read", guidance.id)
    graph.add_file(drive, "Scanned minutes.pdf", b"%PDF-1.4 " + b"0" * 300_000, guidance.id)
    graph.add_file(
        drive,
        "Old fleet.docx",
        word_file(tmp_path / "old.docx", "Old", ["The archivist keeps the superseded fleet policy."]),
        archive.id,
    )
    return {
        "drive": drive,
        "fleet": fleet,
        "parks": parks,
        "libraries": libraries,
        "levels": levels,
        "archive": archive,
        "policies": policies,
    }


def test_a_library_is_indexed_and_answers_cite_the_sharepoint_file(graph: FakeGraph, graph_kb: KnowledgeBase, tmp_path):
    _library(graph, tmp_path)

    report = graph_kb.add_source("sharepoint", LOCATION, OPTIONS)

    assert sorted(report.added) == [
        "Documents/Guidance/Fleet reviews.docx",
        "Documents/Guidance/Levels.pdf",
        "Documents/Guidance/Libraries.docx",
        "Documents/Guidance/Policies/Parks.docx",
    ], report.to_json()
    reasons = {s.display: s.reason for s in report.skipped}
    assert "MAX_FILE_MB" in reasons["Documents/Guidance/Scanned minutes.pdf"]
    assert "not a supported type" in reasons["Documents/Guidance/Budget.xlsx"]
    # Only files in the chosen folder, within the size limit and of a readable type were downloaded.
    assert sorted(graph.downloads) == ["Fleet reviews.docx", "Levels.pdf", "Libraries.docx", "Parks.docx"]
    # The walk went through several delta pages.
    assert sum(1 for path, _ in graph.log if path.endswith("/root/delta")) > 2

    answer = graph_kb.ask("Who owns vehicle replacement reviews?")
    assert answer.kind is AnswerKind.ANSWERED, answer
    assert "fleet manager" in answer.text
    top = answer.citations[0]
    assert top.source == "Documents/Guidance/Fleet reviews.docx"
    assert top.link == f"{SITE_URL}/Shared%20Documents/Guidance/Fleet%20reviews.docx"
    assert answer.to_json()["citations"][0]["link"] == top.link


def test_the_next_refresh_downloads_only_what_changed_and_survives_throttling(graph, graph_kb, tmp_path):
    library = _library(graph, tmp_path)
    drive = library["drive"]
    graph_kb.add_source("sharepoint", LOCATION, OPTIONS)
    graph.downloads.clear()

    graph.edit(
        drive,
        library["parks"],
        word_file(tmp_path / "parks2.docx", "Parks", ["The parks team leads the tree survey each autumn."]),
    )
    graph.move(drive, library["fleet"], parent=library["policies"].id, name="Fleet reviews 2026.docx")
    graph.delete(drive, library["libraries"])
    graph.move(drive, library["levels"], parent=library["archive"].id)  # out of the chosen folder
    graph.throttle(2, status=429)
    graph.throttle(1, status=503)

    report = graph_kb.index()

    assert report.errors == [], report.to_json()
    assert graph.downloads == ["Parks.docx"]  # the edited file only: a move or a rename downloads nothing
    assert report.updated == ["Documents/Guidance/Policies/Parks.docx"]
    assert report.moved == ["Documents/Guidance/Policies/Fleet reviews 2026.docx"]
    assert sorted(report.removed) == ["Documents/Guidance/Levels.pdf", "Documents/Guidance/Libraries.docx"]
    assert [status for _, status in graph.log].count(429) == 2
    assert [status for _, status in graph.log].count(503) == 1

    assert "autumn" in graph_kb.ask("When does the parks team lead the tree survey?").text
    moved = graph_kb.ask("Who owns vehicle replacement reviews?").citations[0]
    assert moved.source == "Documents/Guidance/Policies/Fleet reviews 2026.docx"
    assert moved.link == f"{SITE_URL}/Shared%20Documents/Guidance/Policies/Fleet%20reviews%202026.docx"
    gone = graph_kb.ask("Who signs off the mobile library timetable?")
    assert all("Libraries" not in c.source for c in gone.citations)

    # Nothing changed since: nothing is downloaded, and the delta link is all that is asked for.
    graph.log.clear()
    quiet = graph_kb.index()
    assert graph.downloads == ["Parks.docx"] and not quiet.changed
    assert sum(1 for path, _ in graph.log if path.endswith("/root/delta")) == 1


def test_a_delta_link_graph_no_longer_honours_starts_a_full_walk_without_downloading_again(graph, graph_kb, tmp_path):
    _library(graph, tmp_path)
    graph_kb.add_source("sharepoint", LOCATION, OPTIONS)
    downloaded = list(graph.downloads)
    graph.forget_tokens()

    report = graph_kb.index()

    assert (f"/v1.0/drives/{next(iter(graph.drives))}/root/delta", 410) in graph.log
    assert graph.downloads == downloaded
    assert len(report.unchanged) == 4 and not report.changed


def test_removing_the_library_removes_its_passages(graph, graph_kb, tmp_path):
    _library(graph, tmp_path)
    graph_kb.add_source("sharepoint", LOCATION, OPTIONS)
    assert graph_kb.ask("Who owns vehicle replacement reviews?").citations

    removed, unknown = graph_kb.remove([LOCATION])

    assert removed == [LOCATION] and unknown == []
    assert graph_kb.stats()["passages"] == 0
    assert graph_kb.ask("Who owns vehicle replacement reviews?").kind is AnswerKind.NOT_FOUND


def test_a_site_not_granted_to_the_app_is_reported_and_keeps_what_was_indexed(graph, graph_kb, tmp_path):
    _library(graph, tmp_path)
    graph_kb.add_source("sharepoint", LOCATION, OPTIONS)
    graph.granted.clear()  # the administrator withdrew the Sites.Selected grant

    report = graph_kb.index()

    assert len(report.errors) == 1 and "Sites.Selected" in report.errors[0]
    assert not report.removed
    assert "fleet manager" in graph_kb.ask("Who owns vehicle replacement reviews?").text
    root = next(r for r in graph_kb.sources() if r.location == LOCATION)
    assert root.kind == "sharepoint" and root.last_report and root.last_report["errors"]


def test_a_wrong_client_secret_is_named_without_revealing_it(graph, graph_settings, database, caplog):
    wrong = graph_settings.model_copy(update={"graph_client_secret": SecretStr("not-the-secret")})
    kb = KnowledgeBase(wrong.for_knowledge(), database=database)
    try:
        report = kb.add_source("sharepoint", LOCATION, OPTIONS)
    finally:
        kb.close()
    assert "invalid_client" in report.errors[0] and "GRAPH_CLIENT_SECRET" in report.errors[0]
    assert "not-the-secret" not in caplog.text and "not-the-secret" not in report.errors[0]


def test_a_renamed_folder_renames_the_files_below_it_without_downloading_them(graph, graph_kb, tmp_path):
    library = _library(graph, tmp_path)
    graph_kb.add_source("sharepoint", LOCATION, OPTIONS)
    graph.downloads.clear()

    graph.move(library["drive"], library["policies"], name="Policy documents")
    report = graph_kb.index()

    assert report.moved == ["Documents/Guidance/Policy documents/Parks.docx"] and graph.downloads == []
    citation = graph_kb.ask("Who leads the tree survey?").citations[0]
    assert citation.link == f"{SITE_URL}/Shared%20Documents/Guidance/Policy%20documents/Parks.docx"

    graph.move(library["drive"], library["policies"], parent=library["archive"].id)  # out of the chosen folder
    assert graph_kb.index().removed == ["Documents/Guidance/Policy documents/Parks.docx"]
