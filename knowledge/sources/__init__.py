"""Sources of guidance beyond the local folders: SharePoint libraries and web sites.

A local folder or file is read by :mod:`knowledge.indexer` directly; every other
kind is a :class:`~knowledge.sources.base.GuidanceSource` opened here from what
``sources add`` stored (its kind, location and options).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from knowledge.sources.base import GuidanceSource, SourceUnavailable
from knowledge.sources.settings import SourceSettings

REMOTE_KINDS = ("sharepoint", "web")


def open_source(
    kind: str,
    location: str,
    options: Mapping[str, Any],
    settings: SourceSettings,
    *,
    max_bytes: int,
    sleep: Callable[[float], None] = time.sleep,
) -> GuidanceSource:
    if kind == "sharepoint":
        # lazy: msal loads only when a SharePoint library is refreshed.
        from knowledge.sources.sharepoint import SharePointSource

        return SharePointSource(location, options, settings, max_bytes=max_bytes, sleep=sleep)
    if kind == "web":
        # lazy: kept beside the SharePoint import, so neither kind loads for the other.
        from knowledge.sources.web import WebSource

        return WebSource(location, options, settings, max_bytes=max_bytes, sleep=sleep)
    raise SourceUnavailable(f"{kind!r} is not a kind of source this version can read")
