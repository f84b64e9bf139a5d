"""SharePoint and web sources against the loopback fakes: what a first index and each refresh ask for.

A SharePoint library of N Word files (default 60) behind the fake Graph, and the 30-page fake council
site. For each: the first index, a refresh with nothing changed, and a refresh after one file is edited,
one moved and one deleted (one page edited and one removed); printed with the fakes' own counts of
requests, downloads (full page bodies) and 304s, and the seconds each took. Keyword-only (no embedding
model), SQLite in a temporary folder; Graph throttles twice (429, Retry-After: 1) on the last refresh.

    .venv/bin/python bench/sources.py [--files 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.logging import configure_logging  # noqa: E402
from knowledge.service import KnowledgeBase  # noqa: E402
from knowledge.sources.sharepoint import sharepoint_location  # noqa: E402
from tests.knowledge.documents import write_pdf  # noqa: E402
from tests.sources.conftest import (  # noqa: E402
    CLIENT_ID,
    CLIENT_SECRET,
    GRAPH_SCOPE,
    SITE_HOST,
    SITE_PATH,
    SITE_URL,
    TENANT_ID,
    source_settings,
    word_file,
)
from tests.sources.fake_graph import FakeGraph  # noqa: E402
from tests.sources.fake_site import FakeSite  # noqa: E402
from tests.teams.fakes import FakeEntra  # noqa: E402
from tests.teams.pki import make_pki  # noqa: E402


def timed(label: str, run, counts) -> None:  # type: ignore[no-untyped-def]
    before = counts()
    started = time.perf_counter()
    report = run()
    seconds = time.perf_counter() - started
    after = counts()
    delta = {k: after[k] - before[k] for k in after}
    changes = f"+{len(report.added)} ~{len(report.updated)} >{len(report.moved)} -{len(report.removed)}"
    print(f"  {label:<28} {seconds:6.2f} s  {changes:<16} " + "  ".join(f"{k} {v}" for k, v in delta.items()))


def sharepoint(folder: Path, files: int) -> None:
    pki = make_pki(folder / "pki")
    entra = FakeEntra(pki, tenant_id=TENANT_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scope=GRAPH_SCOPE)
    graph = FakeGraph(pki, entra, host=SITE_HOST, site_path=SITE_PATH, page_size=50)
    drive = graph.add_drive("Documents", "Shared Documents")
    guidance = graph.add_folder(drive, "Guidance")
    items = [
        graph.add_file(
            drive,
            f"Service {n}.docx",
            word_file(folder / f"s{n}.docx", f"Service {n}", [f"Officer {n} reviews service {n} every {n} months."]),
            guidance.id,
        )
        for n in range(files)
    ]
    settings = source_settings(
        folder / "sp-data",
        graph_client_id=CLIENT_ID,
        graph_client_secret=CLIENT_SECRET,
        graph_tenant_id=TENANT_ID,
        graph_authority_url=entra.base_url,
        graph_api_url=f"{graph.base_url}/v1.0",
        sources_ca_bundle=pki.ca_file,
    )
    kb = KnowledgeBase(settings.for_knowledge())
    location = sharepoint_location(SITE_URL, "Documents", "Guidance")

    def counts() -> dict[str, int]:
        return {
            "graph requests": len(graph.log),
            "downloads": len(graph.downloads),
            "throttled": sum(1 for _, s in graph.log if s == 429),
        }

    print(f"SharePoint library, {files} Word files (delta pages of 50):")
    options = {"site": SITE_URL, "library": "Documents", "folder": "Guidance"}
    timed("first index", lambda: kb.add_source("sharepoint", location, options), counts)
    timed("refresh, nothing changed", kb.index, counts)
    graph.edit(drive, items[0], word_file(folder / "e.docx", "Service 0", ["Officer 0 reviews service 0 weekly."]))
    graph.move(drive, items[1], name="Service 1 (2026).docx")
    graph.delete(drive, items[2])
    graph.throttle(2)
    timed("refresh, 1 edit/move/delete", kb.index, counts)
    kb.close()
    for fake in (graph, entra):
        fake.close()


def web(folder: Path) -> None:
    site = FakeSite(write_pdf(folder / "p.pdf", ["Procedure", "", "Waivers need consent."]).read_bytes())
    kb = KnowledgeBase(source_settings(folder / "web-data").for_knowledge())

    def counts() -> dict[str, int]:
        return {
            "requests": len(site.log),
            "full pages": sum(1 for p, s, _ in site.log if s == 200 and p not in ("/robots.txt", "/sitemap.xml")),
            "304s": sum(1 for _, s, _ in site.log if s == 304),
        }

    print("Web site, 30 guidance pages, a PDF, robots.txt and a sitemap (WEB_DELAY_SECONDS=0):")
    start = f"{site.base_url}/guidance/"
    timed("first index", lambda: kb.add_source("web", start, {"url": start}), counts)
    timed("refresh, nothing changed", kb.index, counts)
    site.set_page(4, months=9)
    site.remove_page(7)
    timed("refresh, 1 edit/1 removed", kb.index, counts)
    kb.close()
    site.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=60)
    args = parser.parse_args()
    configure_logging("ERROR", "text")
    with tempfile.TemporaryDirectory() as folder:
        sharepoint(Path(folder), args.files)
        web(Path(folder))


if __name__ == "__main__":
    main()
