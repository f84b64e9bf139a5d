"""A small council web site on loopback (plain HTTP): guidance pages, robots.txt, a sitemap, redirects, a 404
and files that are not HTML.

Pages answer conditional requests as a real server does: half carry an ``ETag`` (``If-None-Match``
gets 304), half only ``Last-Modified`` (``If-Modified-Since`` gets 304). ``log`` records every request
(path, status, User-Agent) so tests can count what was sent in full.
"""

from __future__ import annotations

import hashlib
import html
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from tests.loopback import LoopbackServer, Reply, Request

SERVICES = [
    "parks", "libraries", "leisure centres", "street lighting", "school transport", "home care",
    "day services", "meals at home", "supported housing", "homelessness", "waste collection", "recycling",
    "highways maintenance", "winter gritting", "museums", "theatres", "youth services", "adult learning",
    "careers advice", "advocacy", "carers support", "domestic abuse support", "substance misuse",
    "sexual health", "health visiting", "school nursing", "community transport", "pest control",
    "public toilets", "markets",
]  # fmt: skip
OFFICERS = ["head of service", "contracts manager", "portfolio holder", "procurement lead", "finance partner"]


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    etag: bool = True
    modified: datetime = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    @property
    def tag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


def page_path(number: int) -> str:
    return f"/guidance/{SERVICES[number - 1].replace(' ', '-')}.html"


def fact(number: int, *, months: int | None = None) -> str:
    service = SERVICES[number - 1]
    officer = OFFICERS[number % len(OFFICERS)]
    return f"The {officer} reviews the {service} contract every {months or 12 + number} months."


def layout(title: str, content: str, links: list[str]) -> bytes:
    nav = " ".join(f"<a href='{html.escape(href)}'>{html.escape(href)}</a>" for href in links)
    return (
        "<!doctype html><html><head>"
        f"<title>{html.escape(title)} | Anytown Council</title></head><body>"
        "<header><a href='/'>Anytown Council</a> Search the site</header>"
        f"<nav>{nav}</nav>"
        f"<main><h1>{html.escape(title)}</h1>{content}</main>"
        "<footer>Cookies | Accessibility | Contact us</footer></body></html>"
    ).encode()


class FakeSite(LoopbackServer):
    """Pages 1-20 are linked from the guidance index; 21-30 are found only through the sitemap."""

    def __init__(self, pdf: bytes) -> None:
        super().__init__()
        self.pages: dict[str, Page] = {}
        self.redirects: dict[str, str] = {"/old-guidance": page_path(25), "/elsewhere": "http://example.invalid/"}
        self.log: list[tuple[str, int, str]] = []
        self.lock = threading.Lock()
        self.robots = "User-agent: *\nDisallow: /private/\nSitemap: {base}/sitemap.xml\n"
        links = [page_path(n) for n in range(1, 21)]
        extras = [
            "/old-guidance",
            "/guidance/withdrawn.html",
            "/private/staff.html",
            "/files/procedure.pdf",
            "/files/forms.zip",
            "/guidance/draft.html",
            "/elsewhere",
            "https://www.gov.uk/guidance",
            "mailto:contracts@anytown.gov.uk",
        ]
        self.pages["/guidance/"] = Page(
            layout("Commissioning guidance", "<p>Guidance for officers.</p>", links + extras)
        )
        for number in range(1, 31):
            self.set_page(number)
        draft = layout("Draft", "<p>The draft says the parks contract is reviewed daily.</p>", [])
        self.pages["/guidance/draft.html"] = Page(
            draft.replace(b"<head>", b"<head><meta name='robots' content='noindex'>")
        )
        self.pages["/private/staff.html"] = Page(layout("Staff", "<p>The staff rota is private.</p>", []))
        self.pages["/files/procedure.pdf"] = Page(pdf, "application/pdf", etag=False)
        self.pages["/files/forms.zip"] = Page(b"PK\x03\x04" + b"0" * 1000, "application/zip")

    def set_page(self, number: int, *, months: int | None = None) -> None:
        with self.lock:
            old = self.pages.get(page_path(number))
            self.pages[page_path(number)] = Page(
                layout(
                    f"Commissioning {SERVICES[number - 1]}",
                    f"<h2>Contract reviews</h2><p>{html.escape(fact(number, months=months))}</p>",
                    ["/guidance/"],
                ),
                etag=number % 2 == 0,
                modified=(old.modified + timedelta(days=1)) if old else datetime(2026, 11, 1, 9, 0, tzinfo=UTC),
            )

    def remove_page(self, number: int) -> None:
        with self.lock:
            del self.pages[page_path(number)]

    def sitemap(self) -> bytes:
        urls = "".join(f"<url><loc>{self.base_url}{page_path(n)}</loc></url>" for n in range(1, 31))
        return (
            f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'.encode()
        )

    def full_bodies(self, prefix: str = "/guidance/") -> list[str]:
        """Pages sent in full (200) under ``prefix``, as the log recorded them."""
        return [path for path, status, _ in self.log if status == 200 and path.startswith(prefix)]

    def route(self, request: Request) -> Reply:
        reply = self._route(request)
        with self.lock:
            self.log.append((urlsplit(request.path).path, reply.status, request.headers.get("user-agent", "")))
        return reply

    def _route(self, request: Request) -> Reply:
        path = urlsplit(request.path).path
        if path == "/robots.txt":
            return Reply(200, self.robots.format(base=self.base_url).encode(), {"Content-Type": "text/plain"})
        if path == "/sitemap.xml":
            return Reply(200, self.sitemap(), {"Content-Type": "application/xml"})
        if path in self.redirects:
            target = self.redirects[path]
            return Reply(301, b"", {"Location": target})
        with self.lock:
            page = self.pages.get(path)
        if page is None:
            return Reply(404, layout("Page not found", "<p>Sorry.</p>", ["/"]), {"Content-Type": "text/html"})
        headers = {"Content-Type": page.content_type, "Last-Modified": format_datetime(page.modified, usegmt=True)}
        if page.etag:
            headers["ETag"] = page.tag
            if request.headers.get("if-none-match") == page.tag:
                return Reply(304, b"", headers)
        elif request.headers.get("if-modified-since"):
            since = parsedate_to_datetime(request.headers["if-modified-since"])
            if page.modified <= since:
                return Reply(304, b"", headers)
        return Reply(200, page.body, headers)
