"""The release's version, as ``commissioning-bot --version``, ``/healthz`` and backups report it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["VERSION"]

try:
    VERSION = version("commissioning-assistant")
except PackageNotFoundError:  # running from a source folder that was never installed
    VERSION = "0.2.0"
