"""Settings the remote sources read: the app registration for Microsoft Graph, and how a web crawl behaves.

Built in ``bot/config.py`` from ``GRAPH_*`` and ``WEB_*`` environment settings. The
client secret is kept out of ``repr`` so it never reaches a log line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_USER_AGENT = "CommissioningAssistant/1.0 (guidance indexer for council officers)"


@dataclass(frozen=True)
class SourceSettings:
    graph_client_id: str | None = None
    graph_client_secret: str | None = field(default=None, repr=False)
    graph_tenant_id: str | None = None
    graph_authority_url: str = "https://login.microsoftonline.com"
    graph_api_url: str = "https://graph.microsoft.com/v1.0"
    graph_scope: str = "https://graph.microsoft.com/.default"
    ca_bundle: Path | None = None  # extra CA certificates (a TLS-inspecting proxy) for Graph and web pages
    user_agent: str = DEFAULT_USER_AGENT
    web_delay_seconds: float = 1.0  # between two requests to one web site (or its robots.txt Crawl-delay, if longer)
    web_max_pages: int = 500
