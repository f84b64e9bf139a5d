"""The files an IT team deploys from: compose.yaml, the Dockerfile and the dependency lock.

`docker compose config` is not available where the tests run, so compose.yaml is checked here as YAML against
what the assistant needs: the three services, health checks that gate start-up, and settings the bot reads."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_runs_the_bot_with_postgresql_and_a_chroma_server_behind_health_checks() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"bot", "db", "chroma"}
    for name, service in services.items():
        check = service["healthcheck"]
        assert check["test"][0] in {"CMD", "CMD-SHELL"} and check["retries"] >= 1, name
        assert service["restart"] == "unless-stopped"
    bot = services["bot"]
    assert bot["depends_on"] == {name: {"condition": "service_healthy"} for name in ("db", "chroma")}
    assert any("/healthz" in part for part in bot["healthcheck"]["test"])
    env = bot["environment"]
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://") and "@db:5432/" in env["DATABASE_URL"]
    assert env["CHROMA_HOST"] == "chroma" and env["CHROMA_PORT"] == "8000"
    unknown = {name.lower() for name in env} - set(Settings.model_fields)
    assert not unknown, f"compose.yaml sets settings the bot does not read: {unknown}"
    assert services["db"]["environment"]["POSTGRES_USER"] in env["DATABASE_URL"]


def test_compose_volumes_are_declared_and_the_chroma_image_matches_the_locked_client() -> None:
    compose = _compose()
    declared = set(compose["volumes"])
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith(("$", ".", "/")):
                assert source in declared, source
    chroma_tag = compose["services"]["chroma"]["image"].rsplit(":", 1)[1]
    locked = re.search(r"^chromadb==(\S+)", (ROOT / "requirements.lock").read_text(encoding="utf-8"), re.M)
    assert locked is not None and locked.group(1) == chroma_tag


def test_the_lock_pins_every_dependency_with_hashes_and_the_dockerfile_installs_from_it() -> None:
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+) \\$", lock, re.M | re.I))
    blocks = [block for block in re.split(r"\n(?=[a-z0-9][a-z0-9._-]*==)", lock, flags=re.I) if "==" in block]
    assert len(blocks) == len(pins) > 50
    assert all("--hash=sha256:" in block for block in blocks)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    locked = {re.sub(r"[-_.]+", "-", name).lower() for name in pins}
    for requirement in project["dependencies"]:
        name = re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]
        assert re.sub(r"[-_.]+", "-", name).lower() in locked, f"{name} is not in requirements.lock"
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --require-hashes --no-deps -r requirements.lock" in dockerfile
    assert "pip install --no-deps ." in dockerfile
