"""Every check on the channel's bearer token, through the real endpoint: a refused request
gets 401/403 and leaves no trace (nothing sent, nobody stored, the activity id not used up)."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from handlers.teams.auth import ChannelAuthenticator, ChannelAuthError, ChannelKeySet
from handlers.teams.settings import TeamsSettings
from tests.teams import activities as A
from tests.teams.fakes import FakeChannel
from tests.teams.ids import APP_ID


def _assert_no_side_effect(teams, member, activity) -> None:
    # Nobody stored, nothing sent ...
    time.sleep(0.2)
    assert teams.people.find_by_teams_id(member.aad_object_id) is None
    assert teams.connector.posted_to(activity["conversation"]["id"]) == []
    # ... and the activity id was not used up: the genuine delivery is handled.
    response = teams.post(activity)
    assert response.status_code == 200
    teams.connector.wait_for(1, activity["conversation"]["id"])
    assert teams.people.find_by_teams_id(member.aad_object_id) is not None


def _other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


CASES = {
    "bad signature": (401, lambda t: t.token(signer=_other_key())),
    "wrong issuer": (401, lambda t: t.token(issuer="https://sts.windows.net/someone-else/")),
    "wrong audience": (401, lambda t: t.token(audience="11111111-2222-3333-4444-555555555555")),
    "expired": (401, lambda t: t.token(expires_in=-400)),  # beyond the five minutes' skew
    "not yet valid": (401, lambda t: t.token(not_before=int(time.time()) + 600)),
    "serviceurl claim mismatch": (403, lambda t: t.token(service_url="https://127.0.0.1:1/evil/")),
    "serviceurl claim missing": (403, lambda t: t.token(service_url=None)),
    "key not endorsed for msteams": (403, lambda t: t.token(kid="webchat-only")),
    "unknown key id": (401, lambda t: _forged(t.connector.service_url, kid="no-such-key")),
}


def _forged(service_url: str, kid: str) -> str:
    claims = {
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "exp": int(time.time()) + 600,
        "serviceurl": service_url,
    }
    return jwt.encode(claims, _other_key(), algorithm="RS256", headers={"kid": kid})


@pytest.mark.parametrize("case", list(CASES))
def test_refused_tokens_leave_no_trace(teams, member, case) -> None:
    status, make_token = CASES[case]
    activity = A.install(teams.connector.service_url, member)
    response = teams.post(activity, token=make_token(teams))
    assert response.status_code == status, case
    _assert_no_side_effect(teams, member, activity)


def test_missing_or_malformed_authorization_is_401(teams, member) -> None:
    activity = A.install(teams.connector.service_url, member)
    assert teams.post(activity, auth=False).status_code == 401
    assert teams.post(activity, headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401
    assert teams.post(activity, headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401
    _assert_no_side_effect(teams, member, activity)


def test_unsigned_and_symmetric_tokens_are_401(teams, member) -> None:
    activity = A.install(teams.connector.service_url, member)
    claims = {
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "exp": int(time.time()) + 600,
        "serviceurl": teams.connector.service_url,
    }
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "teams-key"})
    # HS256 "signed" with the public key: the classic algorithm-confusion attack.
    symmetric = jwt.encode(
        claims, "a-shared-secret-anyone-could-guess-0123456789", algorithm="HS256", headers={"kid": "teams-key"}
    )
    assert teams.post(activity, token=unsigned).status_code == 401
    assert teams.post(activity, token=symmetric).status_code == 401
    _assert_no_side_effect(teams, member, activity)


def test_service_url_host_not_allowed_is_403(teams, member) -> None:
    # A validly signed token for a service URL outside the allow-list: the bot must not send its token there.
    elsewhere = "https://connector.example.org/amer/"
    activity = A.install(elsewhere, member)
    assert teams.post(activity, token=teams.token(service_url=elsewhere)).status_code == 403
    plain_http = teams.connector.service_url.replace("https://", "http://")
    activity_http = A.install(plain_http, member)
    assert teams.post(activity_http, token=teams.token(service_url=plain_http)).status_code == 403
    time.sleep(0.2)
    assert teams.people.find_by_teams_id(member.aad_object_id) is None
    assert teams.connector.posted_to(activity["conversation"]["id"]) == []


def test_not_an_activity_is_400(teams) -> None:
    response = teams.http.post(
        f"{teams.base_url}/api/messages", content=b"{not json", headers={"Authorization": f"Bearer {teams.token()}"}
    )
    assert response.status_code == 400


def test_only_post_is_served(teams) -> None:
    assert teams.http.get(f"{teams.base_url}/api/messages").status_code == 405


# --- the key cache, against the fake channel's real metadata and JWKS --------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_keys_are_cached_and_refetched_for_an_unknown_kid(pki) -> None:
    channel = FakeChannel(pki)
    try:
        settings = TeamsSettings(
            app_id=APP_ID,
            openid_metadata_url=channel.metadata_url,
            allowed_service_url_hosts=("127.0.0.1",),
            ca_bundle=pki.ca_file,
        )
        clock = _Clock()
        keys = ChannelKeySet(settings, clock=clock)
        authenticator = ChannelAuthenticator(settings, keys)
        service_url = "https://127.0.0.1:9/amer/"

        def check(token: str) -> None:
            authenticator.authenticate(f"Bearer {token}", service_url, "msteams")

        check(channel.mint(audience=APP_ID, service_url=service_url))
        check(channel.mint(audience=APP_ID, service_url=service_url))
        assert channel.key_requests == 1  # cached

        # The channel rotates in a new key: a token signed with it makes us look again.
        channel.add_key("rotated-key", ["msteams"])
        clock.now += 11
        check(channel.mint(audience=APP_ID, service_url=service_url, kid="rotated-key"))
        assert channel.key_requests == 2

        # Junk kids straight after cannot make us fetch again and again.
        for number in range(5):
            with pytest.raises(ChannelAuthError) as refused:
                check(_forged(service_url, kid=f"junk-{number}"))
            assert refused.value.status == 401
        assert channel.key_requests == 2

        # After a day the keys are fetched again even when every kid is known.
        clock.now += 24 * 3600 + 1
        check(channel.mint(audience=APP_ID, service_url=service_url))
        assert channel.key_requests == 3
    finally:
        channel.close()


def test_metadata_must_be_https(pki) -> None:
    settings = TeamsSettings(app_id=APP_ID, openid_metadata_url="http://127.0.0.1/meta")
    with pytest.raises(ValueError, match="https"):
        ChannelKeySet(settings)
