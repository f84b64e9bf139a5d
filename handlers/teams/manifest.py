"""The Teams app package: ``manifest.json`` plus the two icons, zipped ready to upload.

The manifest is built in code rather than kept as a template file, so the
installed ``commissioning-bot`` can write it anywhere without the source tree,
and its command menu cannot drift from the commands the bot understands. The
icons are drawn here too (a ring of four arcs, the four stages of the cycle)
as PNGs written with zlib: Teams wants a 192x192 colour icon and a 32x32
outline icon that is white on transparent.
"""

from __future__ import annotations

import json
import math
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The newest schema Microsoft publishes (the app manifest change log); the tests validate the manifest against
# this version's own JSON schema (tests/teams/schemas). Citations, the feedback loop and the AI label need no
# manifest property: they are parts of each message.
MANIFEST_VERSION = "1.30"
MANIFEST_SCHEMA = (
    f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
)
ACCENT = (0x1B, 0x5E, 0x7A)  # a deep teal that reads well in light and dark themes

# The command menu: what officers pick or type. Titles are what the bot parses (see activities.teams_command).
COMMANDS: list[tuple[str, str]] = [
    ("new review", "Set up a new commissioning review with a form"),
    ("my reviews", "Your open reviews, their stages and due dates"),
    ("status", "Where a review stands, e.g. status 12"),
    ("feedback", "Ask stakeholders for feedback on a review, e.g. feedback 12"),
    ("roles", "Who does what in commissioning, from the guidance"),
    ("insights", "Where the guidance falls short (for the people who look after it)"),
    ("help", "Everything the assistant can do"),
]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


class ManifestError(ValueError):
    """The package can't be built as asked; the message says what to change."""


@dataclass(frozen=True)
class AppDetails:
    bot_id: str  # the Microsoft App ID of the bot registration
    version: str = "1.0.0"
    app_id: str | None = None  # the Teams app's own id; the bot id unless given
    short_name: str = "Commissioning"
    full_name: str = "Commissioning Assistant"
    developer_name: str = "Your council"
    website_url: str = "https://www.gov.uk/"
    privacy_url: str = "https://www.gov.uk/help/privacy-notice"
    terms_url: str = "https://www.gov.uk/help/terms-conditions"


def build_manifest(details: AppDetails) -> dict[str, Any]:
    for label, value in (("bot id (TEAMS_APP_ID)", details.bot_id), ("app id", details.app_id or details.bot_id)):
        if not _GUID.match(value or ""):
            raise ManifestError(f"The {label} must be a GUID like 00000000-0000-0000-0000-000000000000, not {value!r}.")
    if not _VERSION.match(details.version):
        raise ManifestError(f"The version must look like 1.0.0, not {details.version!r}.")
    if len(details.short_name) > 30 or len(details.full_name) > 100:
        raise ManifestError("Teams allows a short name of up to 30 characters and a full name of up to 100.")
    for label, url in (
        ("website", details.website_url),
        ("privacy", details.privacy_url),
        ("terms", details.terms_url),
    ):
        if not url.startswith("https://"):
            raise ManifestError(f"The {label} URL must start with https://.")
    commands = [{"title": title, "description": description} for title, description in COMMANDS]
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": details.version,
        "id": details.app_id or details.bot_id,
        "developer": {
            "name": details.developer_name,
            "websiteUrl": details.website_url,
            "privacyUrl": details.privacy_url,
            "termsOfUseUrl": details.terms_url,
        },
        "name": {"short": details.short_name, "full": details.full_name},
        "description": {
            "short": "Commissioning guidance, reviews, reminders and feedback",
            "full": (
                "Ask questions about the council's commissioning guidance and get answers that quote their source; "
                "set up commissioning reviews through the Analyse, Plan, Do and Review stages; get reminders when a "
                "stage you own is due; and give or request feedback on services."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*ACCENT),
        "bots": [
            {
                "botId": details.bot_id,
                "scopes": ["personal", "team", "groupChat"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [{"scopes": ["personal", "team", "groupChat"], "commands": commands}],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


# --- icons ----------------------------------------------------------------------------------------


def _png(width: int, height: int, rows: list[bytes]) -> bytes:
    """An 8-bit RGBA PNG from raw rows (each row is width*4 bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 on every row
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _cycle_coverage(size: int, x: float, y: float) -> bool:
    """Is (x, y) on the cycle mark: a ring broken into four arcs, with a dot in the middle?"""
    centre = size / 2
    dx, dy = x - centre, y - centre
    radius = math.hypot(dx, dy)
    outer, inner = size * 0.36, size * 0.25
    if radius <= size * 0.08:
        return True
    if not inner <= radius <= outer:
        return False
    angle = (math.degrees(math.atan2(dy, dx)) + 45.0 + 360.0) % 90.0
    return 10.0 <= angle <= 80.0  # a gap between each stage's arc


def _draw(size: int, background: tuple[int, int, int, int], mark: tuple[int, int, int]) -> bytes:
    samples = 4  # supersampling smooths the edges
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            hits = sum(
                _cycle_coverage(size, px + (sx + 0.5) / samples, py + (sy + 0.5) / samples)
                for sx in range(samples)
                for sy in range(samples)
            )
            cover = hits / (samples * samples)
            r, g, b, a = background
            if a == 0:
                row += bytes((*mark, round(255 * cover)))
            else:
                row += bytes(
                    (
                        round(r + (mark[0] - r) * cover),
                        round(g + (mark[1] - g) * cover),
                        round(b + (mark[2] - b) * cover),
                        255,
                    )
                )
        rows.append(bytes(row))
    return _png(size, size, rows)


def color_icon() -> bytes:
    """192x192: the white cycle mark on the accent colour."""
    return _draw(192, (*ACCENT, 255), (255, 255, 255))


def outline_icon() -> bytes:
    """32x32: the cycle mark in white on transparent, as Teams requires."""
    return _draw(32, (0, 0, 0, 0), (255, 255, 255))


def write_package(path: Path, details: AppDetails) -> Path:
    manifest = build_manifest(details)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        # Teams wants the three files at the root of the zip, not in a folder.
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        archive.writestr("color.png", color_icon())
        archive.writestr("outline.png", outline_icon())
    return path
