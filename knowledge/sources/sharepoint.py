"""A SharePoint (or OneDrive) document library through Microsoft Graph, refreshed with the drive's delta query.

The app signs in as itself (msal, client credentials) with ``Sites.Selected``, so it
can read only the sites an administrator has granted it. The site is looked up from
its address (``/sites/{host}:/{path}``), the library by name among the site's drives
(the site's default library otherwise), and the optional folder by its path.

The first refresh walks the whole library with ``/drives/{id}/root/delta``, following
``@odata.nextLink`` pages, and keeps the ``@odata.deltaLink`` it ends with; every later
refresh asks that link for only what changed since. Items are tracked by id, as Graph
asks: a file whose ``cTag`` (content tag) is unchanged is not downloaded again, even
when it was renamed or moved (its name and link are updated); a deleted file, or one
moved out of the folder, is removed. Delta reports no paths, so the folders seen are
remembered (id, name, parent) in the source's state to name files and to tell whether
a file is inside the chosen folder. A delta link Graph no longer honours (410) starts
a full walk again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import msal
import structlog

from knowledge.ingest import Skipped, supported_list
from knowledge.sources.base import (
    Change,
    Fetched,
    Moved,
    Removed,
    SourceDocument,
    SourceUnavailable,
    Unchanged,
    kind_for_suffix,
)
from knowledge.sources.http import Fetch, TooLarge, make_client, send
from knowledge.sources.settings import SourceSettings
from storage.guidance import SourceRow

log = structlog.get_logger(__name__)

PAGE_SIZE = 200


def sharepoint_location(site: str, library: str | None, folder: str | None) -> str:
    """The name ``sources list`` shows and ``sources remove`` takes: the site, library and folder as a path."""
    parts = [site.rstrip("/")]
    if library:
        parts.append(library.strip("/"))
    if folder:
        parts.append(folder.strip("/"))
    return "/".join(parts)


class SharePointSource:
    kind = "sharepoint"

    def __init__(
        self,
        location: str,
        options: Mapping[str, Any],
        settings: SourceSettings,
        *,
        max_bytes: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not (settings.graph_client_id and settings.graph_client_secret and settings.graph_tenant_id):
            raise SourceUnavailable(
                "SharePoint needs the app registration's details: set GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET and "
                "GRAPH_TENANT_ID (or the Teams bot's TEAMS_APP_ID, TEAMS_APP_PASSWORD and TEAMS_TENANT_ID)"
            )
        self.location = location
        self.site = str(options["site"])
        self.library = options.get("library") or None
        self.folder = (options.get("folder") or "").strip("/") or None
        self._settings = settings
        self._api = settings.graph_api_url.rstrip("/")
        self._max_bytes = max_bytes
        self._sleep = sleep
        self._client = make_client(user_agent=settings.user_agent, ca_bundle=settings.ca_bundle)
        self._app: msal.ConfidentialClientApplication | None = None
        self._token: str | None = None
        self._state: dict[str, Any] = {}

    @property
    def state(self) -> dict[str, Any]:
        return self._state

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------ Graph calls
    def _access_token(self, *, renew: bool = False) -> str:
        if self._token is not None and not renew:
            return self._token
        if self._app is None:
            authority = f"{self._settings.graph_authority_url.rstrip('/')}/{self._settings.graph_tenant_id}"
            self._app = msal.ConfidentialClientApplication(
                self._settings.graph_client_id,
                client_credential=self._settings.graph_client_secret,
                authority=authority,
                # Discovery asks login.microsoftonline.com about the authority, which a government cloud's
                # own authority (and a test token service) would fail.
                validate_authority=False,
                instance_discovery=False,
                http_client=self._client,
            )
        try:
            result = self._app.acquire_token_for_client(scopes=[self._settings.graph_scope])
        except (httpx.HTTPError, ValueError) as exc:
            raise SourceUnavailable(f"Entra ID could not be reached for a Microsoft Graph token ({exc})") from exc
        if "access_token" not in result:
            code = str(result.get("error") or "unknown_error")
            log.error("graph_token_refused", error=code, correlation_id=result.get("correlation_id"))
            raise SourceUnavailable(
                f"Entra ID refused the app's sign-in ({code}): check GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET "
                "and GRAPH_TENANT_ID"
            )
        self._token = str(result["access_token"])
        return self._token

    def _get(self, url: str, *, max_bytes: int | None = None, auth: bool = True) -> Fetch:
        fetched: Fetch | None = None
        for renew in (False, True):
            headers = {"Authorization": f"Bearer {self._access_token(renew=renew)}"} if auth else {}
            try:
                fetched = send(self._client, "GET", url, headers=headers, max_bytes=max_bytes, sleep=self._sleep)
            except httpx.HTTPError as exc:
                raise SourceUnavailable(f"Microsoft Graph could not be reached ({type(exc).__name__}: {exc})") from exc
            if fetched.status == 401 and auth and not renew:
                continue  # an expired or revoked token: ask Entra ID for a new one, once
            return fetched
        assert fetched is not None
        return fetched

    def _json(self, url: str, *, what: str) -> dict[str, Any]:
        fetched = self._get(url)
        if fetched.status == 200:
            data: dict[str, Any] = json.loads(fetched.body)
            return data
        if fetched.status == 403:
            raise SourceUnavailable(
                f"Microsoft Graph refused to read {what}: an administrator must grant the app access to this site "
                "(Sites.Selected; see 'SharePoint and web pages' in the README)"
            )
        if fetched.status == 404:
            raise SourceUnavailable(f"{what} was not found: check the address and names given to `sources add`")
        raise SourceUnavailable(f"Microsoft Graph answered {fetched.status} when reading {what}; try again later")

    # ------------------------------------------------------------- look-ups
    def _site_id(self) -> str:
        parts = urlsplit(self.site)
        path = parts.path.rstrip("/")
        url = f"{self._api}/sites/{parts.hostname}:{quote(path)}" if path else f"{self._api}/sites/{parts.hostname}"
        return str(self._json(url, what=f"the site {self.site}")["id"])

    def _drive(self, site_id: str) -> dict[str, Any]:
        if not self.library:
            return self._json(f"{self._api}/sites/{site_id}/drive", what=f"the default library of {self.site}")
        drives = self._json(f"{self._api}/sites/{site_id}/drives", what=f"the libraries of {self.site}")
        wanted = self.library.casefold()
        for drive in drives.get("value", []):
            address = urlsplit(str(drive.get("webUrl") or "")).path.rstrip("/").rsplit("/", 1)[-1]
            if wanted in (str(drive.get("name", "")).casefold(), address.casefold().replace("%20", " ")):
                return dict(drive)
        names = ", ".join(sorted(str(d.get("name")) for d in drives.get("value", []))) or "none"
        raise SourceUnavailable(f"the site {self.site} has no library called {self.library!r} (it has: {names})")

    def _folder_id(self, drive_id: str) -> str | None:
        if not self.folder:
            return None
        item = self._json(
            f"{self._api}/drives/{drive_id}/root:/{quote(self.folder)}", what=f"the folder {self.folder!r}"
        )
        if "folder" not in item:
            raise SourceUnavailable(f"{self.folder!r} in {self.site} is a file, not a folder")
        return str(item["id"])

    # --------------------------------------------------------------- changes
    def changes(self, known: Mapping[str, SourceRow], state: Mapping[str, Any]) -> Iterator[Change]:
        site_id = self._site_id()
        drive = self._drive(site_id)
        drive_id = str(drive["id"])
        folder_id = self._folder_id(drive_id)
        library = str(drive.get("name") or self.library or "Documents")
        carry_on = state.get("drive_id") == drive_id and state.get("folder_id") == folder_id and state.get("delta_link")
        url = str(state["delta_link"]) if carry_on else self._first_page(drive_id)
        folders: dict[str, list[str | None]] = dict(state.get("folders") or {}) if carry_on else {}
        full = not carry_on
        seen: set[str] = set()
        while True:
            fetched = self._get(url)
            if fetched.status == 410 and not full:
                # Graph no longer honours the delta link (resyncRequired): walk the whole library again.
                log.info("sharepoint_delta_resync", location=self.location)
                url, folders, full = self._first_page(drive_id), {}, True
                continue
            if fetched.status != 200:
                self._json(url, what=f"the changes in {self.location}")  # raises with the reason
            page = json.loads(fetched.body)
            for item in page.get("value", []):
                yield from self._item(item, drive_id, library, folder_id, folders, known, seen)
            if page.get("@odata.nextLink"):
                url = str(page["@odata.nextLink"])
                continue
            delta_link = str(page.get("@odata.deltaLink") or "")
            break
        if full:
            # A full walk lists everything there is: what it did not list has gone.
            yield from (Removed(key) for key in known if key not in seen)
        self._state = {"drive_id": drive_id, "folder_id": folder_id, "delta_link": delta_link, "folders": folders}

    def _first_page(self, drive_id: str) -> str:
        # In SharePoint, delta works on the library's root only; a chosen folder is filtered here.
        return f"{self._api}/drives/{drive_id}/root/delta?$top={PAGE_SIZE}"

    def _item(
        self,
        item: Mapping[str, Any],
        drive_id: str,
        library: str,
        folder_id: str | None,
        folders: dict[str, list[str | None]],
        known: Mapping[str, SourceRow],
        seen: set[str],
    ) -> Iterator[Change]:
        item_id = str(item["id"])
        parent = (item.get("parentReference") or {}).get("id")
        if "folder" in item or "root" in item:
            if "deleted" in item:
                folders.pop(item_id, None)  # the files it held are listed as deleted themselves
                return
            entry: list[str | None] = ["" if "root" in item else str(item.get("name", "")), parent]
            before = folders.get(item_id)
            folders[item_id] = entry
            if before is not None and list(before) != entry:
                # Renamed or moved: delta lists the folder alone, not the files below it.
                folders[item_id] = list(before)
                _, old_path = self._place(item_id, folder_id, folders)
                folders[item_id] = entry
                inside, new_path = self._place(item_id, folder_id, folders)
                yield from _folder_moved(drive_id, library, old_path, new_path, inside, known)
            return
        key = f"sharepoint:{drive_id}:{item_id}"
        if "deleted" in item:
            if key in known:
                yield Removed(key)
            return
        if "file" not in item:
            return  # OneNote notebooks and other packages: nothing a reader can use
        inside, path = self._place(parent, folder_id, folders)
        if not inside:
            if key in known:
                yield Removed(key)  # moved out of the chosen folder
            return
        name = str(item.get("name", ""))
        display = "/".join(part for part in (library, path, name) if part)
        seen.add(key)
        suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if kind_for_suffix(suffix) is None:
            if key in known:
                yield Removed(key)
            yield Skipped(
                display, f"{suffix or 'a file with no extension'} is not a supported type ({supported_list()})"
            )
            return
        size = int(item.get("size") or 0)
        if size > self._max_bytes:
            yield Skipped(
                display,
                f"it is {size / 1_048_576:.1f} MB, larger than the {self._max_bytes / 1_048_576:g} MB allowed "
                "(MAX_FILE_MB)",
            )
            return
        marker = str(item.get("cTag") or item.get("eTag") or "")
        link = str(item.get("webUrl") or "")
        record = known.get(key)
        if record is not None and marker and record.marker == marker:
            if record.display != display or record.link != link:
                yield Moved(key, display, link, marker)
            else:
                yield Unchanged(key, display)
            return
        data = self._download(drive_id, item_id, display)
        if data is None:
            yield Skipped(display, "it could not be downloaded from SharePoint; it will be tried again next refresh")
            return
        yield Fetched(SourceDocument(key, display, link, marker, suffix, data, _modified_ns(item)))

    @staticmethod
    def _place(parent: str | None, folder_id: str | None, folders: Mapping[str, list[str | None]]) -> tuple[bool, str]:
        """Whether a file under ``parent`` is inside the chosen folder, and its folder path from the library's root."""
        names: list[str] = []
        inside = folder_id is None
        hops = 0
        while parent is not None and parent in folders and hops < 100:
            if parent == folder_id:
                inside = True
            name, parent = folders[parent]
            if name:
                names.append(str(name))
            hops += 1
        return inside, "/".join(reversed(names))

    def _download(self, drive_id: str, item_id: str, display: str) -> bytes | None:
        # Graph answers 302 with a pre-authenticated address, which must be fetched without our token.
        try:
            fetched = self._get(f"{self._api}/drives/{drive_id}/items/{item_id}/content", max_bytes=self._max_bytes)
            if fetched.status in (301, 302, 303, 307, 308) and fetched.headers.get("Location"):
                fetched = self._get(str(fetched.headers["Location"]), max_bytes=self._max_bytes, auth=False)
        except TooLarge:
            return None
        if fetched.status != 200:
            log.warning("sharepoint_download_failed", file=display, status=fetched.status)
            return None
        return bytes(fetched.body)


def _folder_moved(
    drive_id: str, library: str, old_path: str, new_path: str, inside: bool, known: Mapping[str, SourceRow]
) -> Iterator[Change]:
    """The files indexed from below a renamed or moved folder: their new names and links, or removed when
    the folder left the chosen one. Nothing is downloaded: their content did not change."""
    old_prefix, new_prefix = f"{library}/{old_path}/", f"{library}/{new_path}/"
    for key, record in known.items():
        if not key.startswith(f"sharepoint:{drive_id}:") or not record.display.startswith(old_prefix):
            continue
        if not inside:
            yield Removed(key)
            continue
        link = (record.link or "").replace(f"/{quote(old_path)}/", f"/{quote(new_path)}/", 1)
        yield Moved(key, new_prefix + record.display[len(old_prefix) :], link, record.marker or "")


def _modified_ns(item: Mapping[str, Any]) -> int:
    value = str(item.get("lastModifiedDateTime") or "")
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1_000_000_000)
    except ValueError:
        return 0
