"""The Slack tests' fake Web API, plus the Slack methods the feedback feature uses.

Added the way Slack serves them, as a subclass so the other tests' fake is untouched:

- ``files.getUploadURLExternal`` (``filename``, ``length``) answers an ``upload_url`` on this
  server and a ``file_id``; a POST of the bytes to that URL answers ``OK - <length>``, and Slack's
  rule that the bytes match the announced length is checked;
- ``files.completeUploadExternal`` (``files`` as JSON ``[{"id", "title"}]``, ``channel_id``) shares
  only files whose bytes arrived, and refuses a channel the bot cannot post in;
- ``conversations.members`` (``channel``, ``cursor``, ``limit``): a channel's members, paged;
- ``usergroups.list`` and ``usergroups.users.list`` (``usergroup``): user groups and their members.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from tests.slack.fake_slack import BOT_TOKEN, Call, FakeSlack, SlackRefusal

FEEDBACK_METHODS = {
    "files.getUploadURLExternal",
    "files.completeUploadExternal",
    "conversations.members",
    "usergroups.list",
    "usergroups.users.list",
}


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    initial_comment: str | None = None
    shared: bool = False


@dataclass
class UserGroup:
    id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)


class FakeSlackWithFiles(FakeSlack):
    def __init__(self) -> None:
        self.files: dict[str, UploadedFile] = {}
        self.channels: dict[str, list[str]] = {}
        self.usergroups: dict[str, UserGroup] = {}
        self._file_ids = itertools.count(1)
        super().__init__()

    # --- arranging -------------------------------------------------------------------------

    def add_channel(self, channel_id: str, members: list[str]) -> None:
        self.channels[channel_id] = list(members)

    def add_usergroup(self, group_id: str, handle: str, members: list[str]) -> None:
        self.usergroups[group_id] = UserGroup(group_id, handle, handle.title(), list(members))

    def shared_files(self) -> list[UploadedFile]:
        return [f for f in self.files.values() if f.shared]

    # --- the API -----------------------------------------------------------------------------

    def handle(
        self, method: str, args: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method not in FEEDBACK_METHODS:
            return super().handle(method, args, token)

        if token != BOT_TOKEN:
            self._record(Call(method, args, time.monotonic(), ok=False, error="invalid_auth"))
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        try:
            result = getattr(self, "_" + method.replace(".", "_"))(args)
        except SlackRefusal as refusal:
            self._record(Call(method, args, time.monotonic(), ok=False, error=refusal.error))
            return 200, {"ok": False, "error": refusal.error}, {}
        self._record(Call(method, args, time.monotonic()))
        return 200, {"ok": True, **result}, {}

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        filename, length = args.get("filename"), str(args.get("length", ""))
        if not filename or not length.isdigit() or int(length) <= 0:
            raise SlackRefusal("invalid_arguments")
        file_id = f"F0FEED{next(self._file_ids):04d}"
        self.files[file_id] = UploadedFile(file_id, str(filename), int(length))
        return {"upload_url": f"{self.url}/upload/v1/{file_id}", "file_id": file_id}

    def receive_upload(self, path: str, data: bytes) -> tuple[int, bytes]:
        file_id = path.rsplit("/", 1)[-1]
        found = self.files.get(file_id)
        self._record(
            Call("upload_url", {"file_id": file_id, "bytes": len(data)}, time.monotonic(), ok=found is not None)
        )
        if found is None:
            return 404, b"not found"
        found.data = data
        return 200, f"OK - {len(data)}".encode()

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        files = json.loads(files) if isinstance(files, str) else files
        if not files:
            raise SlackRefusal("invalid_arguments")
        channel = args.get("channel_id")
        if channel and not str(channel).startswith("D") and channel not in self.channels:
            raise SlackRefusal("not_in_channel")
        done = []
        for item in files:
            found = self.files.get(item.get("id"))
            if found is None or found.data is None:
                raise SlackRefusal("file_not_found")
            if len(found.data) != found.length:
                raise SlackRefusal("file_size_mismatch")
            found.title, found.channel_id, found.initial_comment = (
                item.get("title"),
                channel,
                args.get("initial_comment"),
            )
            found.shared = bool(channel)
            done.append({"id": found.id, "name": found.filename, "title": found.title})
        return {"files": done}

    def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        members = self.channels.get(str(args.get("channel")))
        if members is None:
            raise SlackRefusal("channel_not_found")
        limit = int(args.get("limit") or 100)
        start = int(args.get("cursor") or 0)
        page = members[start : start + limit]
        following = str(start + limit) if start + limit < len(members) else ""
        return {"members": page, "response_metadata": {"next_cursor": following}}

    def _usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"usergroups": [{"id": g.id, "handle": g.handle, "name": g.name} for g in self.usergroups.values()]}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = self.usergroups.get(str(args.get("usergroup")))
        if group is None:
            raise SlackRefusal("no_such_subteam")
        return {"users": list(group.users)}

    # --- HTTP: the upload URL takes raw bytes, not form fields ----------------------------------

    def _handler_class(self):  # type: ignore[no-untyped-def]
        base = super()._handler_class()
        fake = self

        class Handler(base):  # type: ignore[misc,valid-type]
            def _serve(self) -> None:
                path = urlparse(self.path).path
                if not path.startswith("/upload/"):
                    return super()._serve()
                length = int(self.headers.get("Content-Length") or 0)
                status, payload = fake.receive_upload(path, self.rfile.read(length) if length else b"")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = _serve
            do_GET = _serve

        return Handler
