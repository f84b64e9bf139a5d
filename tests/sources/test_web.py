"""A council web site as a guidance source, against a loopback site with robots.txt, a sitemap and redirects."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from knowledge.models import AnswerKind
from knowledge.service import KnowledgeBase
from storage.db import Database
from tests.knowledge.documents import write_pdf
from tests.sources.conftest import source_settings
from tests.sources.fake_site import FakeSite, Page, fact, page_path


@pytest.fixture
def site(tmp_path: Path) -> Iterator[FakeSite]:
    pdf = write_pdf(
        tmp_path / "procedure.pdf",
        [
            "Contract procedure rules",
            "",
            "A waiver of the contract procedure rules needs the monitoring officer's consent.",
        ],
    )
    fake = FakeSite(pdf.read_bytes())
    yield fake
    fake.close()


@pytest.fixture
def web_kb(tmp_path: Path, database: Database) -> Iterator[KnowledgeBase]:
    kb = KnowledgeBase(source_settings(tmp_path / "data").for_knowledge(), database=database)
    yield kb
    kb.close()


def _options(site: FakeSite, **extra: object) -> dict[str, object]:
    return {"url": f"{site.base_url}/guidance/", **extra}


def test_a_thirty_page_site_is_indexed_within_its_rules_and_answers_link_to_the_page(site, web_kb):
    start = f"{site.base_url}/guidance/"

    report = web_kb.add_source("web", start, _options(site))

    pages = {
        display
        for display in report.added
        if display.startswith("Commissioning ") and display != "Commissioning guidance | Anytown Council"
    }
    assert len(pages) == 30, report.to_json()  # 20 linked, 10 only in the sitemap (one also through a redirect)
    assert "procedure.pdf" in " ".join(report.added)  # a linked PDF is read as a PDF
    assert any("application/zip is not a supported type" in s.reason for s in report.skipped)
    requested = [path for path, _, _ in site.log]
    assert "/private/staff.html" not in requested  # robots.txt says no
    assert "/guidance/withdrawn.html" in requested and "/elsewhere" in requested
    assert "/guidance/draft.html" in requested and "Draft | Anytown Council" not in report.added  # noindex
    assert requested.count(page_path(25)) == 1  # reached through the redirect and the sitemap, read once
    assert all(agent.startswith("CommissioningAssistant/") for _, _, agent in site.log)

    answer = web_kb.ask("Who reviews the street lighting contract?")
    assert answer.kind is AnswerKind.ANSWERED, answer
    assert fact(4) in answer.text or "street lighting" in answer.text
    assert answer.citations[0].link == f"{site.base_url}{page_path(4)}"
    assert answer.citations[0].source == "Commissioning street lighting | Anytown Council"
    assert "Cookies" not in answer.citations[0].text  # the footer is not guidance
    waiver = web_kb.ask("Who consents to a waiver of the contract procedure rules?")
    assert waiver.citations[0].link == f"{site.base_url}/files/procedure.pdf"


def test_a_refresh_asks_conditionally_and_reads_only_the_changed_page(site, web_kb):
    start = f"{site.base_url}/guidance/"
    web_kb.add_source("web", start, _options(site))
    site.log.clear()
    site.set_page(3, months=6)  # a page with only Last-Modified
    site.set_page(4, months=9)  # a page with an ETag
    site.remove_page(7)

    report = web_kb.index()

    assert sorted(site.full_bodies()) == sorted([page_path(3), page_path(4)])
    # The index page, the 27 unchanged pages and the PDF each answered 304: nothing sent again.
    assert sum(1 for _, status, _ in site.log if status == 304) == 29
    assert sorted(report.updated) == [
        "Commissioning leisure centres | Anytown Council",
        "Commissioning street lighting | Anytown Council",
    ]
    assert report.removed == ["Commissioning day services | Anytown Council"]
    assert "every 9 months" in web_kb.ask("Who reviews the street lighting contract?").text
    assert all(
        c.link != f"{site.base_url}{page_path(7)}"
        for c in web_kb.ask("Who reviews the day services contract?").citations
    )


def test_include_and_max_pages_limit_what_is_read(site, web_kb):
    start = f"{site.base_url}/guidance/"
    report = web_kb.add_source("web", start, _options(site, include=["/guidance/s*"], max_pages=6))

    assert 0 < len(report.added) <= 6
    assert all(" s" in display.lower() for display in report.added), report.added
    assert "/files/procedure.pdf" not in [path for path, _, _ in site.log]


def test_a_site_whose_robots_txt_closes_it_is_not_read(site, web_kb):
    site.robots = "User-agent: CommissioningAssistant\nDisallow: /\n"

    report = web_kb.add_source("web", f"{site.base_url}/guidance/", _options(site))

    assert report.errors and "robots.txt" in report.errors[0]
    assert [path for path, _, _ in site.log] == ["/robots.txt"]


def test_the_scheduled_refresh_picks_up_a_changed_page(site, web_kb):
    web_kb.add_source("web", f"{site.base_url}/guidance/", _options(site))
    site.set_page(4, months=3)

    report = web_kb.refresh_sources("replica-1", every=timedelta(minutes=60))

    assert report is not None and report.updated == ["Commissioning street lighting | Anytown Council"]
    assert "every 3 months" in web_kb.ask("Who reviews the street lighting contract?").text


def test_a_start_page_that_is_missing_or_leaves_the_site_is_reported(site, web_kb):
    site.redirects["/moved/"] = "https://www.example.invalid/guidance/"

    moved = web_kb.add_source("web", f"{site.base_url}/moved/", _options(site, url=f"{site.base_url}/moved/"))
    missing = web_kb.add_source("web", f"{site.base_url}/gone/", _options(site, url=f"{site.base_url}/gone/"))

    assert "redirects to https://www.example.invalid/guidance/" in moved.errors[0]
    assert "was not found (404)" in missing.errors[0]
    assert web_kb.stats()["passages"] == 0


def test_a_file_over_max_file_mb_is_skipped_with_the_reason(site, tmp_path, database):
    site.pages["/files/annual-report.pdf"] = Page(b"%PDF-1.4 " + b"0" * 300_000, "application/pdf")
    kb = KnowledgeBase(source_settings(tmp_path / "small", max_file_mb=0.2).for_knowledge(), database=database)
    try:
        start = f"{site.base_url}/files/annual-report.pdf"
        report = kb.add_source("web", start, {"url": start})
    finally:
        kb.close()
    reasons = {s.display: s.reason for s in report.skipped}
    assert reasons[start] == "it is 0.3 MB, larger than the 0.2 MB allowed (MAX_FILE_MB)"
    assert start not in {row.key for row in kb.repository.sources()}
