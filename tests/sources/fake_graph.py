"""A loopback Microsoft Graph for one tenant's SharePoint, over HTTPS with the test CA.

It behaves as Graph does for what the product uses, and refuses what Graph refuses:

- every call needs a bearer token the fake Entra ID issued (401 otherwise);
- ``Sites.Selected``: only sites granted to the app can be read (403 otherwise);
- ``GET /sites/{host}:/{path}``, ``/sites/{id}/drive``, ``/sites/{id}/drives``, ``/drives/{id}/root:/{path}``;
- ``GET /drives/{id}/root/delta``: every item (root and folders before what is in them) in pages of
  ``page_size`` joined by ``@odata.nextLink``, the last page with an ``@odata.deltaLink`` whose token
  later returns only what changed since (latest state of each item, deleted items with a ``deleted``
  facet and no path, as Graph sends them); a token older than :meth:`forget_tokens` answers 410;
- ``GET /drives/{id}/items/{id}/content``: 302 to a pre-authenticated download address, which
  refuses a bearer token (as SharePoint's download host does);
- :meth:`throttle` answers the next requests 429 or 503 with ``Retry-After``.

``downloads`` and ``log`` record what was asked for, so tests can count what was downloaded.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tests.loopback import LoopbackServer, Reply, Request
from tests.teams.fakes import FakeEntra
from tests.teams.pki import TestPKI

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Item:
    id: str
    name: str
    parent: str | None
    folder: bool = False
    content: bytes = b""
    content_version: int = 1
    version: int = 1
    changed: int = 0  # the change sequence number of its last change
    deleted: bool = False
    modified: str = "2026-11-30T09:00:00Z"


@dataclass
class Drive:
    id: str
    name: str
    url_name: str  # how the library appears in its address, e.g. "Shared Documents"
    items: dict[str, Item] = field(default_factory=dict)
    root_id: str = ""


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})})


def _error(status: int, code: str, message: str) -> Reply:
    return _json(status, {"error": {"code": code, "message": message}})


class FakeGraph(LoopbackServer):
    def __init__(self, pki: TestPKI, entra: FakeEntra, *, host: str, site_path: str, page_size: int = 3) -> None:
        super().__init__(pki)
        self.entra = entra
        self.host, self.site_path = host, site_path
        self.site_id = f"{host},{secrets.token_hex(4)},{secrets.token_hex(4)}"
        self.granted = {self.site_id}  # Sites.Selected: the sites an administrator granted the app
        self.page_size = page_size
        self.drives: dict[str, Drive] = {}
        self.sequence = 0
        self.oldest_token = 0
        self.downloads: list[str] = []  # names of the files whose content was downloaded
        self.log: list[tuple[str, int]] = []  # (path, status) of every request
        self._throttled: list[tuple[int, int]] = []
        self._download_tokens: dict[str, str] = {}
        self.lock = threading.RLock()

    # ------------------------------------------------------------ the library
    def add_drive(self, name: str, url_name: str) -> Drive:
        drive = Drive(f"b!{secrets.token_hex(6)}", name, url_name)
        root = Item(f"root-{drive.id[-4:]}", "root", None, folder=True)
        drive.items[root.id] = root
        drive.root_id = root.id
        self.drives[drive.id] = drive
        self._touch(root)
        return drive

    def _touch(self, item: Item) -> None:
        self.sequence += 1
        item.changed = self.sequence

    def add_folder(self, drive: Drive, name: str, parent: str | None = None) -> Item:
        with self.lock:
            item = Item(secrets.token_hex(8).upper(), name, parent or drive.root_id, folder=True)
            drive.items[item.id] = item
            self._touch(item)
            return item

    def add_file(self, drive: Drive, name: str, content: bytes, parent: str | None = None) -> Item:
        with self.lock:
            item = Item(secrets.token_hex(8).upper(), name, parent or drive.root_id, content=content)
            drive.items[item.id] = item
            self._touch(item)
            return item

    def edit(self, drive: Drive, item: Item, content: bytes) -> None:
        with self.lock:
            item.content = content
            item.content_version += 1
            item.version += 1
            item.modified = "2026-12-01T10:00:00Z"
            self._touch(item)

    def move(self, drive: Drive, item: Item, *, parent: str | None = None, name: str | None = None) -> None:
        with self.lock:  # a move or rename changes the eTag, not the cTag (the content is the same)
            item.parent = parent or item.parent
            item.name = name or item.name
            item.version += 1
            self._touch(item)

    def delete(self, drive: Drive, item: Item) -> None:
        with self.lock:
            item.deleted = True
            self._touch(item)

    def throttle(self, count: int, *, status: int = 429, retry_after: int = 1) -> None:
        with self.lock:
            self._throttled.extend([(status, retry_after)] * count)

    def forget_tokens(self) -> None:
        """Delta tokens issued so far are no longer honoured (Graph's resyncRequired)."""
        with self.lock:
            self.oldest_token = self.sequence + 1

    def path_of(self, drive: Drive, item: Item) -> str:
        names: list[str] = []
        current: Item | None = item
        while current is not None and current.id != drive.root_id:
            names.append(current.name)
            current = drive.items.get(current.parent or "")
        return "/".join(reversed(names))

    # ----------------------------------------------------------- wire format
    def _resource(self, drive: Drive, item: Item) -> dict[str, Any]:
        parent = {"driveId": drive.id, "driveType": "documentLibrary"}
        if item.parent:
            parent["id"] = item.parent
        if item.deleted:
            return {"id": item.id, "deleted": {"state": "deleted"}, "parentReference": parent}
        web = f"https://{self.host}{self.site_path}/{quote(drive.url_name)}"
        data: dict[str, Any] = {
            "id": item.id,
            "name": item.name,
            "eTag": f'"{{{item.id}}},{item.version}"',
            "cTag": f'"c:{{{item.id}}},{item.content_version}"',
            "lastModifiedDateTime": item.modified,
            "webUrl": f"{web}/{quote(self.path_of(drive, item))}" if item.id != drive.root_id else web,
            "parentReference": parent,
        }
        if item.id == drive.root_id:
            data["root"] = {}
            data["folder"] = {"childCount": 0}
        elif item.folder:
            data["folder"] = {"childCount": sum(1 for i in drive.items.values() if i.parent == item.id)}
        else:
            data["size"] = len(item.content)
            mime = DOCX if item.name.endswith(".docx") else "application/pdf"
            data["file"] = {"mimeType": mime}
        return data

    def route(self, request: Request) -> Reply:
        reply = self._route(request)
        with self.lock:
            self.log.append((urlsplit(request.path).path, reply.status))
        return reply

    def _route(self, request: Request) -> Reply:
        parts = urlsplit(request.path)
        path = unquote(parts.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if path.startswith("/download/"):
            return self._download(request, path, query)
        with self.lock:
            if self._throttled:
                status, wait = self._throttled.pop(0)
                code = "activityLimitReached" if status == 429 else "serviceNotAvailable"
                reply = _error(status, code, "Too many requests")
                reply.headers["Retry-After"] = str(wait)
                return reply
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.entra.issued:
            return _error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        if not path.startswith("/v1.0/"):
            return _error(400, "BadRequest", "Invalid version.")
        path = path.removeprefix("/v1.0")
        if path.startswith("/sites/"):
            return self._sites(path)
        if path.startswith("/drives/"):
            return self._drives(path, query)
        return _error(400, "BadRequest", f"Resource not found for the segment '{path}'.")

    def _sites(self, path: str) -> Reply:
        rest = path.removeprefix("/sites/")
        if ":" in rest:
            host, site_path = rest.split(":", 1)
            if host != self.host or site_path.rstrip("/") != self.site_path:
                return _error(404, "itemNotFound", "Requested site could not be found")
            site_id = self.site_id
            if site_id not in self.granted:
                return _error(403, "accessDenied", "Access denied")
            return _json(200, {"id": site_id, "webUrl": f"https://{self.host}{self.site_path}"})
        site_id, _, what = rest.partition("/")
        if site_id != self.site_id:
            return _error(404, "itemNotFound", "Requested site could not be found")
        if site_id not in self.granted:
            return _error(403, "accessDenied", "Access denied")
        drives = [self._drive_json(d) for d in self.drives.values()]
        if what == "drive":
            return _json(200, drives[0])
        if what == "drives":
            return _json(200, {"value": drives})
        return _error(400, "BadRequest", "Unsupported segment")

    def _drive_json(self, drive: Drive) -> dict[str, Any]:
        return {
            "id": drive.id,
            "name": drive.name,
            "driveType": "documentLibrary",
            "webUrl": f"https://{self.host}{self.site_path}/{quote(drive.url_name)}",
        }

    def _drives(self, path: str, query: dict[str, str]) -> Reply:
        drive_id, _, rest = path.removeprefix("/drives/").partition("/")
        drive = self.drives.get(drive_id)
        if drive is None:
            return _error(404, "itemNotFound", "The drive could not be found")
        if rest == "root/delta":
            return self._delta(drive, query)
        if rest.startswith("root:/"):
            wanted = rest.removeprefix("root:/").strip("/")
            with self.lock:
                for item in drive.items.values():
                    if not item.deleted and item.id != drive.root_id and self.path_of(drive, item) == wanted:
                        return _json(200, self._resource(drive, item))
            return _error(404, "itemNotFound", "The resource could not be found.")
        if rest.startswith("items/") and rest.endswith("/content"):
            item = drive.items.get(rest.split("/")[1])
            if item is None or item.deleted or item.folder:
                return _error(404, "itemNotFound", "The resource could not be found.")
            ticket = secrets.token_urlsafe(16)
            with self.lock:
                self._download_tokens[ticket] = f"{drive.id}/{item.id}"
            return Reply(302, b"", {"Location": f"{self.base_url}/download/{drive.id}/{item.id}?tempauth={ticket}"})
        return _error(400, "BadRequest", "Unsupported segment")

    def _delta(self, drive: Drive, query: dict[str, str]) -> Reply:
        if "$skiptoken" in query:
            since, until, offset = json.loads(base64.urlsafe_b64decode(query["$skiptoken"]))
        else:
            since = int(query.get("token", "0"))
            if "token" in query and since < self.oldest_token:
                return _error(410, "resyncRequired", "Resync required. Replace any local items with the server's.")
            until, offset = self.sequence, 0
        with self.lock:
            changed = [i for i in drive.items.values() if since < i.changed <= until and not (since == 0 and i.deleted)]
            # Parents before what they hold, as Graph lists them.
            changed.sort(key=lambda i: (self._depth(drive, i), i.changed))
            page = changed[offset : offset + self.page_size]
            body: dict[str, Any] = {"value": [self._resource(drive, i) for i in page]}
        base = f"{self.base_url}/v1.0/drives/{drive.id}/root/delta"
        if offset + self.page_size < len(changed):
            skip = base64.urlsafe_b64encode(json.dumps([since, until, offset + self.page_size]).encode()).decode()
            body["@odata.nextLink"] = f"{base}?$skiptoken={skip}"
        else:
            body["@odata.deltaLink"] = f"{base}?token={until}"
        return _json(200, body)

    def _depth(self, drive: Drive, item: Item) -> int:
        depth, current = 0, item
        while current.parent and current.parent in drive.items and depth < 50:
            depth += 1
            current = drive.items[current.parent]
        return depth

    def _download(self, request: Request, path: str, query: dict[str, str]) -> Reply:
        if "authorization" in request.headers:
            return _error(401, "InvalidAuthenticationToken", "A pre-authenticated download takes no token.")
        with self.lock:
            target = self._download_tokens.pop(query.get("tempauth", ""), None)
        if target is None or path != f"/download/{target}":
            return _error(401, "Unauthenticated", "The download address has expired.")
        drive_id, item_id = target.split("/")
        item = self.drives[drive_id].items[item_id]
        with self.lock:
            self.downloads.append(item.name)
        return Reply(200, item.content, {"Content-Type": "application/octet-stream"})
