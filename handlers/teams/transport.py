"""HTTPS for every outbound Teams call (token service, OpenID metadata, Connector).

One TLS context trusts the usual public CAs plus, when ``TEAMS_CA_BUNDLE`` is
set, the council's own (a TLS-inspecting proxy) or a test CA. Plain HTTP is
refused: a bot token or a channel key fetched over HTTP could be read or forged.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import certifi
import httpx

from handlers.teams.settings import TeamsSettings

USER_AGENT = "CommissioningAssistant-Teams/1.0"


class InsecureUrlError(ValueError):
    """A Teams endpoint was configured or received without HTTPS."""


def require_https(url: str, what: str) -> str:
    if urlsplit(url).scheme != "https":
        raise InsecureUrlError(f"{what} must be an https:// URL, not {url!r}")
    return url


def tls_context(settings: TeamsSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certifi.where())
    if settings.ca_bundle is not None:
        context.load_verify_locations(cafile=str(settings.ca_bundle))
    return context


def http_client(settings: TeamsSettings, *, timeout: float = 15.0) -> httpx.Client:
    return httpx.Client(
        verify=tls_context(settings),
        timeout=httpx.Timeout(timeout, connect=5.0),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )
