"""Web pages from one site: the published constitution, the intranet's guidance pages.

The crawl starts at the address given, and reads the site's own pages only (same
scheme and host), as ``robots.txt`` allows (checked with :mod:`urllib.robotparser`;
its ``Crawl-delay`` is honoured when longer than ``WEB_DELAY_SECONDS``; a page's own
``<meta name="robots" content="noindex, nofollow">`` too). It finds
pages through links, the ``--sitemap`` (or the sitemaps ``robots.txt`` names) and the
pages indexed before, which are asked for again first with ``If-None-Match`` /
``If-Modified-Since``: an unchanged page answers ``304`` and costs no reading. A page
that changed brings its new links, so a page newly linked is found from the page that
links to it. ``--include`` patterns (matched against the address's path, e.g.
``/constitution/*``) limit the pages indexed and followed; ``--max-pages`` caps a run.

Redirects are followed only within the site. A page that is now missing (404, 410),
redirected off the site or no longer allowed by ``robots.txt`` is removed; one that
fails for a while (5xx, time-out) keeps what was indexed from it. Pages are read by
the same HTML reader as local files, which drops navigation, headers and footers;
linked PDF and Word files are read as such, and other types are skipped unread.
"""

from __future__ import annotations

import fnmatch
import time
import xml.etree.ElementTree as ElementTree
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx
import structlog

from knowledge.ingest import Skipped, supported_list
from knowledge.sources.base import Change, Fetched, Removed, SourceDocument, SourceUnavailable, Unchanged
from knowledge.sources.http import Fetch, TooLarge, make_client, send
from knowledge.sources.settings import SourceSettings
from storage.guidance import SourceRow

log = structlog.get_logger(__name__)

MAX_REDIRECTS = 5
MAX_SITEMAPS = 20
MAX_SITEMAP_BYTES = 10 * 1_048_576
CONTENT_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/plain": ".txt",
    "text/markdown": ".md",
}
_REDIRECTS = {301, 302, 303, 307, 308}


class _Links(HTMLParser):
    """The page's title and the addresses its links point to (cheap: no tree is built)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.title = ""
        self.noindex = self.nofollow = False  # <meta name="robots">: the page's own wishes
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)
        elif tag == "title" and not self.title:
            self._in_title = True
        elif tag == "meta" and (dict(attrs).get("name") or "").lower() == "robots":
            rules = (dict(attrs).get("content") or "").lower()
            self.noindex = self.noindex or "noindex" in rules or "none" in rules
            self.nofollow = self.nofollow or "nofollow" in rules or "none" in rules

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def _suffix_for(headers: httpx.Headers) -> str | None:
    content_type = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
    return CONTENT_TYPES.get(content_type)


class WebSource:
    kind = "web"

    def __init__(
        self,
        location: str,
        options: Mapping[str, Any],
        settings: SourceSettings,
        *,
        max_bytes: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.location = location
        self.start = urldefrag(str(options.get("url") or location))[0]
        parts = urlsplit(self.start)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceUnavailable(f"{self.start!r} is not a web address (it should start https://)")
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self.sitemap = options.get("sitemap") or None
        self.include = [str(p) for p in options.get("include") or []]
        self.max_pages = int(options.get("max_pages") or settings.web_max_pages)
        self._settings = settings
        self._agent = settings.user_agent
        self._max_bytes = max_bytes
        self._sleep = sleep
        self._client = make_client(user_agent=settings.user_agent, ca_bundle=settings.ca_bundle)
        self._delay = settings.web_delay_seconds
        self._last_request = 0.0
        self._robots = RobotFileParser()
        self._redirected_to = ""

    @property
    def state(self) -> dict[str, Any]:
        return {}  # each page's ETag or Last-Modified is kept with the page itself

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ rules
    def _same_site(self, url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" == self._origin

    def _wanted(self, url: str) -> bool:
        path = urlsplit(url).path or "/"
        return not self.include or any(fnmatch.fnmatch(path, pattern) for pattern in self.include)

    def _allowed(self, url: str) -> bool:
        return self._same_site(url) and self._robots.can_fetch(self._agent, url)

    # --------------------------------------------------------------- requests
    def _request(self, url: str, headers: Mapping[str, str] | None = None, **kwargs: Any) -> Fetch:
        wait = self._delay - (time.monotonic() - self._last_request)
        if wait > 0:
            self._sleep(wait)  # a polite pause between two requests to the site
        try:
            return send(self._client, "GET", url, headers=headers, sleep=self._sleep, **kwargs)
        finally:
            self._last_request = time.monotonic()

    def _read_robots(self) -> None:
        url = f"{self._origin}/robots.txt"
        try:
            fetched = self._request(url, max_bytes=512 * 1024)
        except (httpx.HTTPError, TooLarge) as exc:
            raise SourceUnavailable(
                f"{url} could not be read ({type(exc).__name__}); trying again next refresh"
            ) from exc
        if fetched.status == 200:
            self._robots.parse(fetched.body.decode("utf-8", errors="replace").splitlines())
        elif fetched.status in (401, 403):
            # As urllib.robotparser's own read() does: a robots.txt we may not read closes the site.
            self._robots.parse(["User-agent: *", "Disallow: /"])
        elif fetched.status >= 500:
            raise SourceUnavailable(f"{url} answered {fetched.status}; trying again next refresh")
        else:
            self._robots.parse([])  # no robots.txt: everything may be read
        delay = self._robots.crawl_delay(self._agent)
        if delay:
            self._delay = max(self._delay, float(delay))

    def _sitemap_pages(self) -> list[str]:
        queue = [self.sitemap] if self.sitemap else list(self._robots.site_maps() or [])
        pages: list[str] = []
        done = 0
        while queue and done < MAX_SITEMAPS:
            url = urljoin(self.start, queue.pop(0))
            done += 1
            if not self._allowed(url):
                continue
            try:
                fetched = self._request(url, max_bytes=MAX_SITEMAP_BYTES)
                # Size-capped above; expat refuses entity expansion attacks and never fetches external entities.
                root = ElementTree.fromstring(fetched.body) if fetched.status == 200 else None
            except (httpx.HTTPError, TooLarge, ElementTree.ParseError) as exc:
                log.warning("sitemap_unreadable", url=url, error=type(exc).__name__)
                continue
            if root is None:
                log.warning("sitemap_unreadable", url=url, status=fetched.status)
                continue
            locations = [e.text.strip() for e in root.iter() if e.tag.endswith("loc") and e.text]
            if root.tag.endswith("sitemapindex"):
                queue.extend(locations)
            else:
                pages.extend(locations)
        return pages

    def _follow(self, url: str, known: Mapping[str, SourceRow], done: set[str]) -> tuple[str, Fetch] | None:
        """Fetch ``url``, following redirects within the site; None when it leads off the site, is barred, or
        to a page already read."""
        for _ in range(MAX_REDIRECTS + 1):
            record = known.get(url)
            headers: dict[str, str] = {}
            if record is not None and record.marker:
                name, _, value = record.marker.partition(":")
                headers["If-None-Match" if name == "etag" else "If-Modified-Since"] = value
            fetched = self._request(url, headers, max_bytes=self._max_bytes, want=lambda h: _suffix_for(h) is not None)
            location = fetched.headers.get("Location")
            if fetched.status not in _REDIRECTS or not location:
                return url, fetched
            url = urldefrag(urljoin(url, location))[0]
            if not self._allowed(url):
                log.info("web_redirect_not_followed", to=url)
                self._redirected_to = url
                return None
            if url in done:
                return None
        return None

    # ---------------------------------------------------------------- changes
    def changes(self, known: Mapping[str, SourceRow], state: Mapping[str, Any]) -> Iterator[Change]:
        self._read_robots()
        if not self._allowed(self.start):
            raise SourceUnavailable(f"the site's robots.txt asks robots not to read {self.start}")
        queue: deque[str] = deque()
        queued: set[str] = set()

        def add(url: str) -> None:
            url = urldefrag(url)[0]
            if url not in queued and self._allowed(url) and (url == self.start or self._wanted(url)):
                queued.add(url)
                queue.append(url)

        add(self.start)
        for key in sorted(known):  # pages indexed before are asked about first, each with its validator
            add(key)
        for page in self._sitemap_pages():
            add(page)
        seen: set[str] = set()
        done: set[str] = set()
        requests = 0
        while queue and requests < self.max_pages:
            url = queue.popleft()
            requests += 1
            try:
                result = self._follow(url, known, done)
            except TooLarge as exc:
                seen.add(url)
                size = int(exc.args[0]) / 1_048_576
                yield Skipped(
                    url,
                    f"it is {size:.1f} MB, larger than the {self._max_bytes / 1_048_576:g} MB allowed (MAX_FILE_MB)",
                )
                continue
            except httpx.HTTPError as exc:
                if url == self.start:
                    raise SourceUnavailable(f"{url} could not be reached ({type(exc).__name__})") from exc
                seen.add(url)  # a passing failure: what was indexed from it stays
                yield Skipped(
                    url, f"it could not be fetched ({type(exc).__name__}); it will be tried again next refresh"
                )
                continue
            if url == self.start:
                self._check_start(result)
            if result is None:
                continue
            final, fetched = result
            queued.add(final)  # a redirect's target is not asked for again under its own address
            done.add(final)
            yield from self._page(final, fetched, known, seen, add)
        yield from (Removed(key) for key in known if key not in seen)

    def _check_start(self, result: tuple[str, Fetch] | None) -> None:
        """A start page that is missing, failing or sends us off the site: say so, and change nothing."""
        if result is None:
            raise SourceUnavailable(
                f"{self.start} redirects to {self._redirected_to}, another site or a page robots.txt bars: "
                "add that address instead"
            )
        status = result[1].status
        if status in (404, 410):
            raise SourceUnavailable(f"{self.start} was not found ({status}): check the address")
        if status >= 400 and status != 304:
            raise SourceUnavailable(f"{self.start} answered {status}; trying again next refresh")

    def _page(
        self,
        url: str,
        fetched: Fetch,
        known: Mapping[str, SourceRow],
        seen: set[str],
        add: Callable[[str], None],
    ) -> Iterator[Change]:
        record = known.get(url)
        if fetched.status == 304 and record is not None:
            seen.add(url)
            yield Unchanged(url, record.display)
            return
        if fetched.status in (404, 410):
            log.info("web_page_gone", url=url, status=fetched.status)
            return
        if fetched.status != 200:
            if record is not None:
                seen.add(url)
            yield Skipped(url, f"the site answered {fetched.status}; it will be tried again next refresh")
            return
        suffix = _suffix_for(fetched.headers)
        if suffix is None:
            content_type = fetched.headers.get("Content-Type") or "no type"
            yield Skipped(url, f"{content_type.split(';')[0]} is not a supported type ({supported_list()})")
            return
        title = ""
        parser = _Links()
        if suffix == ".html":
            parser.feed(fetched.body.decode("utf-8", errors="replace"))
            title = " ".join(parser.title.split())
            for href in [] if parser.nofollow else parser.links:
                target = urljoin(url, href)
                if urlsplit(target).scheme in ("http", "https"):
                    add(target)
        if not self._wanted(url) or parser.noindex:
            return  # outside --include (a start page only leads to the pages asked for), or asks not to be indexed
        seen.add(url)
        yield Fetched(
            SourceDocument(
                key=url,
                display=title or _name_of(url),
                link=url,
                marker=_marker(fetched.headers),
                suffix=suffix,
                data=fetched.body,
                modified_ns=_modified_ns(fetched.headers),
            )
        )


def _name_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


def _marker(headers: httpx.Headers) -> str:
    if headers.get("ETag"):
        return f"etag:{headers['ETag']}"
    if headers.get("Last-Modified"):
        return f"last-modified:{headers['Last-Modified']}"
    return ""


def _modified_ns(headers: httpx.Headers) -> int:
    try:
        return int(parsedate_to_datetime(headers.get("Last-Modified") or "").timestamp() * 1_000_000_000)
    except (TypeError, ValueError):
        return 0
