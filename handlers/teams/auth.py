"""Is this request really from the Bot Framework channel, for this bot?

Every POST to /api/messages carries ``Authorization: Bearer <JWT>`` signed by
the channel. :class:`ChannelAuthenticator` checks, in this order, and nothing
else in the adapter runs until it has passed:

1. the activity's service URL is HTTPS on an allowed host (so a forged
   activity cannot make the bot send its own token somewhere else);
2. the token's signature, with a key from the channel's OpenID metadata and
   JWKS (cached; fetched again when a token names a key we have not seen, at
   most every ten seconds so junk tokens cannot make us hammer the metadata);
3. issuer, audience (our app id), expiry and not-before, with five minutes'
   clock skew as the Bot Framework SDKs allow;
4. the ``serviceurl`` claim equals the activity's ``serviceUrl``;
5. the signing key is endorsed for the activity's channel (``msteams``).

A failed check raises :class:`ChannelAuthError` carrying 401 (who are you?)
or 403 (you are the channel, but not allowed to do this).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import structlog

from handlers.teams.constants import CLOCK_SKEW_SECONDS
from handlers.teams.settings import TeamsSettings
from handlers.teams.transport import http_client, require_https

log = structlog.get_logger(__name__)

# Keys are fetched again after this long even when every kid is known, so a retired key stops working.
KEY_CACHE_SECONDS = 24 * 3600
# An unknown kid triggers a refresh at most this often: soon enough to pick up a rotated key on the
# channel's next redelivery, rare enough that junk tokens cannot make us hammer the metadata.
MIN_REFRESH_INTERVAL_SECONDS = 10
ALGORITHMS = ["RS256"]


class ChannelAuthError(Exception):
    """The request is refused; ``status`` is the HTTP status to answer with, ``reason`` is for the log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class MetadataUnavailableError(Exception):
    """The channel's OpenID metadata or keys could not be fetched, so no token can be checked just now."""


@dataclass(frozen=True)
class ChannelKey:
    kid: str
    key: Any  # a public key object PyJWT can verify with
    endorsements: frozenset[str]


@dataclass(frozen=True)
class ChannelIdentity:
    """What a valid token told us."""

    app_id: str
    service_url: str
    channel_id: str
    claims: Mapping[str, Any]


def host_allowed(host: str, allowed: list[str]) -> bool:
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.lower().strip()
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and host != entry[2:]:
                return True
        elif host == entry:
            return True
    return False


class ChannelKeySet:
    """The channel's signing keys, from its OpenID metadata, cached and refreshed as described above."""

    def __init__(
        self, settings: TeamsSettings, client: httpx.Client | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._metadata_url = require_https(settings.openid_metadata_url, "TEAMS_OPENID_METADATA_URL")
        self._client = client or http_client(settings, timeout=10.0)
        self._clock = clock
        self._keys: dict[str, ChannelKey] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def get(self, kid: str) -> ChannelKey | None:
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at > KEY_CACHE_SECONDS
            unknown = kid not in self._keys
            may_refresh = self._fetched_at is None or now - self._fetched_at >= MIN_REFRESH_INTERVAL_SECONDS
            if stale or (unknown and may_refresh):
                self._refresh(now)
            return self._keys.get(kid)

    def _refresh(self, now: float) -> None:
        try:
            metadata = self._fetch_json(self._metadata_url)
            jwks_uri = require_https(str(metadata.get("jwks_uri") or ""), "the metadata's jwks_uri")
            document = self._fetch_json(jwks_uri)
        except (httpx.HTTPError, ValueError) as error:
            log.error("teams_channel_keys_unavailable", error=type(error).__name__, detail=str(error)[:200])
            if not self._keys:
                raise MetadataUnavailableError(str(error)) from error
            return  # keep serving with the keys we have
        keys: dict[str, ChannelKey] = {}
        for item in document.get("keys", []):
            if not isinstance(item, dict) or not item.get("kid") or item.get("kty") != "RSA":
                continue
            try:
                public = jwt.PyJWK(item, algorithm="RS256").key
            except jwt.PyJWTError:
                continue
            endorsements = frozenset(str(e).lower() for e in item.get("endorsements") or [])
            keys[item["kid"]] = ChannelKey(item["kid"], public, endorsements)
        self._keys = keys
        self._fetched_at = now
        log.info("teams_channel_keys_loaded", keys=len(keys))

    def _fetch_json(self, url: str) -> dict[str, Any]:
        response = self._client.get(url)
        response.raise_for_status()
        data = response.json()
        if not isinstance(data, dict):
            raise ValueError(f"{url} did not return a JSON object")
        return data


class ChannelAuthenticator:
    def __init__(self, settings: TeamsSettings, keys: ChannelKeySet | None = None) -> None:
        if not settings.app_id:
            raise ValueError("TEAMS_APP_ID is not set")
        self._app_id = settings.app_id
        self._issuer = settings.token_issuer
        self._allowed_hosts = list(settings.allowed_service_url_hosts)
        self._keys = keys or ChannelKeySet(settings)

    def authenticate(
        self, authorization: str | None, service_url: str | None, channel_id: str | None
    ) -> ChannelIdentity:
        """Check the request; returns what the token proved, or raises :class:`ChannelAuthError`."""
        if not authorization or not authorization.startswith("Bearer "):
            raise ChannelAuthError(401, "no bearer token")
        token = authorization[len("Bearer ") :].strip()
        if not service_url or not channel_id:
            raise ChannelAuthError(403, "activity without serviceUrl or channelId")
        parts = urlsplit(service_url)
        if parts.scheme != "https" or not parts.hostname or not host_allowed(parts.hostname, self._allowed_hosts):
            raise ChannelAuthError(403, "service URL host not allowed")
        key = self._signing_key(token)
        claims = self._claims(token, key)
        if claims.get("serviceurl") != service_url:
            raise ChannelAuthError(403, "serviceurl claim does not match the activity")
        if channel_id.lower() not in key.endorsements:
            raise ChannelAuthError(403, "signing key not endorsed for this channel")
        return ChannelIdentity(app_id=self._app_id, service_url=service_url, channel_id=channel_id, claims=claims)

    def _signing_key(self, token: str) -> ChannelKey:
        """The channel's key the token's header names, if the algorithm is one we accept."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise ChannelAuthError(401, "malformed token") from None
        if header.get("alg") not in ALGORITHMS:
            raise ChannelAuthError(401, "token algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise ChannelAuthError(401, "token names no key")
        key = self._keys.get(kid)
        if key is None:
            raise ChannelAuthError(401, "token signed with an unknown key")
        return key

    def _claims(self, token: str, key: ChannelKey) -> dict[str, Any]:
        """The token's claims once its signature, audience, issuer and lifetime are checked."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self._app_id,
                issuer=self._issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            reason = next((text for kind, text in _TOKEN_ERRORS if isinstance(error, kind)), None)
            raise ChannelAuthError(401, reason or f"invalid token ({type(error).__name__})") from None
        return claims


# Why a token was refused, for the log; the first kind that matches wins.
_TOKEN_ERRORS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidAudienceError, "token for another audience"),
    (jwt.InvalidIssuerError, "token from another issuer"),
    (jwt.InvalidSignatureError, "bad token signature"),
)
