"""`commissioning-bot teams package`: a zip Teams accepts (manifest, command menu, icons)."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from bot.cli import cli
from handlers.teams.manifest import AppDetails, build_manifest
from handlers.teams.messages.text import teams_command
from tests.teams.ids import APP_ID

SCHEMAS = Path(__file__).resolve().parent / "schemas"
# The schema says draft-04 but uses "const" (draft-06), as Microsoft's own validator (ajv) accepts.
ManifestValidator = jsonschema.validators.extend(
    jsonschema.Draft4Validator, {"const": jsonschema.Draft6Validator.VALIDATORS["const"]}
)


def _png(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert (depth, colour) == (8, 6)  # 8-bit RGBA
    idat = b""
    position = 8
    while position < len(data):
        length = struct.unpack(">I", data[position : position + 4])[0]
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        assert (
            zlib.crc32(kind + body) & 0xFFFFFFFF
            == struct.unpack(">I", data[position + 8 + length : position + 12 + length])[0]
        )
        if kind == b"IDAT":
            idat += body
        position += 12 + length
    return width, height, zlib.decompress(idat)


def test_package_writes_manifest_and_icons(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    output = tmp_path / "out" / "teams.zip"
    result = CliRunner().invoke(
        cli, ["teams", "package", "-o", str(output), "--version", "1.2.3", "--developer", "Anytown Borough Council"]
    )
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(output) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color = _png(archive.read("color.png"))
        outline = _png(archive.read("outline.png"))

    assert manifest["manifestVersion"] == "1.30" and manifest["version"] == "1.2.3"
    # Microsoft's own schema for that version (vendored from the @microsoft/app-manifest npm package).
    schema = json.loads((SCHEMAS / "MicrosoftTeams.v1.30.schema.json").read_text())
    ManifestValidator(schema).validate(manifest)
    assert manifest["$schema"].endswith("/v1.30/MicrosoftTeams.schema.json")
    assert manifest["id"] == APP_ID
    assert manifest["developer"]["name"] == "Anytown Borough Council"
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID and set(bot["scopes"]) == {"personal", "team", "groupChat"}
    commands = bot["commandLists"][0]["commands"]
    titles = [c["title"] for c in commands]
    assert titles == ["new review", "my reviews", "status", "feedback", "roles", "insights", "help"]
    assert all(len(c["title"]) <= 32 and len(c["description"]) <= 128 for c in commands)
    # Every menu entry is a command the bot understands when picked (Teams sends the title as text).
    assert all(teams_command(title) is not None for title in titles)

    assert color[:2] == (192, 192)
    width, height, raw = outline
    assert (width, height) == (32, 32)
    # The outline icon is white on transparent, nothing else.
    stride = 1 + width * 4
    pixels = [
        raw[row * stride + 1 + i * 4 : row * stride + 1 + i * 4 + 4] for row in range(height) for i in range(width)
    ]
    assert all(p[:3] == b"\xff\xff\xff" for p in pixels)
    assert any(p[3] == 0 for p in pixels) and any(p[3] == 255 for p in pixels)


def test_package_needs_a_bot_id(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["teams", "package", "-o", str(tmp_path / "x.zip")])
    assert result.exit_code != 0 and "TEAMS_APP_ID" in result.output
    result = CliRunner().invoke(cli, ["teams", "package", "-o", str(tmp_path / "x.zip"), "--bot-id", "not-a-guid"])
    assert result.exit_code != 0 and "GUID" in result.output


def test_the_schema_refuses_what_teams_refuses() -> None:
    """The vendored schema is really checking: a manifest Teams would reject fails validation."""
    schema = json.loads((SCHEMAS / "MicrosoftTeams.v1.30.schema.json").read_text())
    manifest = build_manifest(AppDetails(bot_id=APP_ID))
    ManifestValidator(schema).validate(manifest)
    for broken in (
        {**manifest, "manifestVersion": "1.17"},
        {**manifest, "bots": [{**manifest["bots"][0], "scopes": ["everywhere"]}]},
        {key: value for key, value in manifest.items() if key != "developer"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            ManifestValidator(schema).validate(broken)


def test_serve_with_a_plain_http_metadata_url_says_which_setting_to_fix(tmp_path: Path, monkeypatch) -> None:
    """A setting mistake stops `serve` with one line naming the setting, not a traceback."""
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATA_DIR": str(tmp_path / "data"),
        "TEAMS_APP_ID": APP_ID,
        "TEAMS_APP_PASSWORD": "not-a-real-secret",
        "TEAMS_TENANT_ID": "8c1f4a52-3b0e-4d5e-9f6a-2b8c1d4e7a91",
        "TEAMS_OPENID_METADATA_URL": "http://login.botframework.com/v1/.well-known/openidconfiguration",
        "LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["serve", "--no-scheduler", "--port", "0"])
    assert result.exit_code == 1
    assert "TEAMS_OPENID_METADATA_URL must be an https:// URL" in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, ValueError)
