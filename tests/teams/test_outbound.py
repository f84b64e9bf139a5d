"""Messages the bot sends first, and the Connector's bad days: throttling, blocked users, gateways that
time out. A message is never posted twice; a user who blocked the app is marked unreachable."""

from __future__ import annotations

import logging
import socket
import time
from urllib.parse import quote

import pytest

from handlers.teams.connector import ConnectorClient
from handlers.teams.notify import TeamsNotifier
from handlers.teams.proactive import DeliveryStatus, TeamsMessenger
from handlers.teams.token import BotTokenError, BotTokenProvider
from tests.teams import activities as A
from tests.teams.fakes import Answer
from tests.teams.ids import APP_PASSWORD
from workflows.messaging import SendStatus
from workflows.replies import Button, Reply

REMINDER = Reply(
    "The Analyse stage of #12 “Home care review” is due on Friday.", buttons=[Button("Open review", "status 12")]
)


def _installed(teams, member):
    teams.post(A.install(teams.connector.service_url, member))
    teams.connector.wait_for(1, A.personal(member)["id"])
    return teams.people.find_by_teams_id(member.aad_object_id)


def _posts(teams, conversation: str) -> list[tuple[str, str, int]]:
    path = f"/amer/v3/conversations/{quote(conversation, safe='')}/activities"
    return [r for r in teams.connector.requests if r[0] == "POST" and r[1] == path]


def test_a_proactive_reminder_reaches_the_user(teams, member) -> None:
    person = _installed(teams, member)
    tokens_before = teams.entra.token_requests
    result = teams.services.teams.messenger.send_proactive(person, REMINDER)
    assert result.status is DeliveryStatus.SENT and result.activity_id
    reminder = teams.connector.wait_for(2, A.personal(member)["id"])[1]
    assert "Analyse stage of #12" in reminder.all_text
    assert reminder.card["actions"][0]["title"] == "Open review"
    # By id too, and the bot's token came from msal's cache, not a new request to Entra.
    assert teams.services.teams.messenger.send_proactive(person.id, REMINDER).sent
    assert teams.entra.token_requests == tokens_before


def test_someone_met_in_a_channel_gets_a_new_one_to_one_chat(teams, member) -> None:
    mention = A.mention(teams.connector.service_url, member, "help", thread="1700000000555")
    teams.post(mention)
    teams.connector.wait_for(1, mention["conversation"]["id"])
    person = teams.people.find_by_teams_id(member.aad_object_id)
    assert "conversation_id" not in person.teams_conversation_ref

    result = teams.services.teams.messenger.send_proactive(person, REMINDER)
    assert result.sent
    chat = teams.connector.personal_chats[member.id]
    assert teams.connector.wait_for(1, chat)[0].body["summary"].startswith("The Analyse stage")
    assert teams.people.get(person.id).teams_conversation_ref["conversation_id"] == chat


def test_throttling_is_retried_and_the_message_posted_once(teams, member) -> None:
    person = _installed(teams, member)
    chat = A.personal(member)["id"]
    teams.connector.fail_next(
        Answer(429, {"error": {"code": "Throttled", "message": "slow down"}}, {"Retry-After": "0"}),
        Answer(412, {"error": {"code": "PreconditionFailed", "message": "conversation busy"}}),
    )
    assert teams.services.teams.messenger.send_proactive(person, REMINDER).sent
    assert [status for *_, status in _posts(teams, chat)][-3:] == [429, 412, 201]
    assert len(teams.connector.posted_to(chat)) == 2  # the welcome and one reminder


@pytest.mark.parametrize("status", [502, 504])
def test_an_ambiguous_gateway_error_is_not_posted_again(teams, member, status) -> None:
    person = _installed(teams, member)
    chat = A.personal(member)["id"]
    before = len(_posts(teams, chat))
    teams.connector.fail_next(Answer(status, {"error": {"code": "BadGateway", "message": "upstream"}}))
    result = teams.services.teams.messenger.send_proactive(person, REMINDER)
    # The gateway may have delivered it: the caller is told, and nothing is sent a second time.
    assert result.status is DeliveryStatus.UNCERTAIN and not result.status.retryable
    assert len(_posts(teams, chat)) == before + 1
    assert teams.people.get(person.id).reachable is True


def test_opening_a_chat_is_retried_through_a_gateway_timeout(teams, member) -> None:
    mention = A.mention(teams.connector.service_url, member, "help", thread="1700000000666")
    teams.post(mention)
    teams.connector.wait_for(1, mention["conversation"]["id"])
    person = teams.people.find_by_teams_id(member.aad_object_id)
    # Opening a 1:1 chat is idempotent (Teams returns the same chat), so a 504 there is retried.
    teams.connector.fail_next(Answer(504, {"error": {"code": "GatewayTimeout", "message": "upstream"}}))
    assert teams.services.teams.messenger.send_proactive(person, REMINDER).sent
    opens = [r for r in teams.connector.requests if r[0] == "POST" and r[1] == "/amer/v3/conversations"]
    assert [status for *_, status in opens][-2:] == [504, 201]


def test_a_user_who_blocked_the_app_is_marked_unreachable(teams, member) -> None:
    person = _installed(teams, member)
    chat = A.personal(member)["id"]
    teams.connector.blocked_users.add(member.id)
    teams.connector.personal_chats[member.id] = chat
    result = teams.services.teams.messenger.send_proactive(person, REMINDER)
    assert result.status is DeliveryStatus.UNREACHABLE
    assert teams.people.get(person.id).reachable is False
    # No more attempts until they write to the bot again.
    requests_before = len(teams.connector.requests)
    assert teams.services.teams.messenger.send_proactive(person.id, REMINDER).status is DeliveryStatus.UNREACHABLE
    assert len(teams.connector.requests) == requests_before

    teams.connector.blocked_users.discard(member.id)
    teams.post(A.message(teams.connector.service_url, member, "hello again"))
    teams.connector.wait_for(2, chat)
    assert teams.people.get(person.id).reachable is True


def test_a_reply_refused_with_403_marks_the_sender_unreachable(teams, member) -> None:
    person = _installed(teams, member)
    teams.connector.fail_next(Answer(403, {"error": {"code": "ConversationBlockedByUser", "message": "blocked"}}))
    # The 403 answers the reply to this message (the member lookup is skipped: the person is known).
    teams.post(A.message(teams.connector.service_url, member, "help"))
    deadline = time.monotonic() + 10
    while teams.people.get(person.id).reachable and time.monotonic() < deadline:
        time.sleep(0.05)
    assert teams.people.get(person.id).reachable is False


def test_no_conversation_yet(teams) -> None:
    stranger = teams.people.upsert(name="Never Met", email="never.met@council.gov.uk")
    result = teams.services.teams.messenger.send_proactive(stranger, REMINDER)
    assert result.status is DeliveryStatus.NO_CONVERSATION


def test_a_refused_token_is_fetched_again_once(teams, member) -> None:
    person = _installed(teams, member)
    teams.entra.revoke_all()  # as when the client secret is rotated: the cached token stops working
    tokens_before = teams.entra.token_requests
    assert teams.services.teams.messenger.send_proactive(person, REMINDER).sent
    assert teams.entra.token_requests == tokens_before + 1


def test_sends_to_one_conversation_are_paced(teams, member) -> None:
    person = _installed(teams, member)
    messenger = teams.services.teams.messenger
    started = time.monotonic()
    for number in range(8):
        assert messenger.send_proactive(person, Reply(f"Digest part {number}")).sent
    # Teams allows about 7 a second in one conversation: 8 sends span at least 7 intervals.
    assert time.monotonic() - started >= 7 / 7.0 * 0.95


def test_a_wrong_client_secret_fails_without_leaking_it(teams, member, caplog) -> None:
    person = _installed(teams, member)
    settings = teams.settings.model_copy(
        update={"teams_app_password": type(teams.settings.teams_app_password)("wrong-secret-value")}
    ).for_teams()
    tokens = BotTokenProvider(settings)
    try:
        with pytest.raises(BotTokenError, match="invalid_client"):
            tokens.token()
        messenger = TeamsMessenger(teams.people, ConnectorClient(settings, tokens))
        result = messenger.send_proactive(person, REMINDER)
        assert result.status is DeliveryStatus.FAILED and result.status.retryable
        assert "wrong-secret-value" not in result.detail
        assert "wrong-secret-value" not in caplog.text
    finally:
        tokens.close()


def test_secrets_never_reach_the_logs(teams, member, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    person = _installed(teams, member)
    teams.entra.revoke_all()  # forces a fresh client-credentials request while we listen
    channel_token = teams.token()
    teams.post(A.message(teams.connector.service_url, member, "help"), token=channel_token)
    teams.connector.wait_for(2, A.personal(member)["id"])
    assert teams.services.teams.messenger.send_proactive(person, REMINDER).sent
    issued = set(teams.entra.issued)
    assert issued
    for secret in (APP_PASSWORD, channel_token, *issued):
        assert secret not in caplog.text


def test_entra_out_of_reach_is_a_retryable_failure(teams, member) -> None:
    person = _installed(teams, member)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    settings = teams.settings.model_copy(update={"teams_authority_url": f"https://127.0.0.1:{port}"}).for_teams()
    tokens = BotTokenProvider(settings)  # builds without reaching Entra, so the server still starts
    try:
        result = TeamsMessenger(teams.people, ConnectorClient(settings, tokens)).send_proactive(person, REMINDER)
        assert result.status is DeliveryStatus.FAILED and result.status.retryable
    finally:
        tokens.close()


def test_throttling_that_outlasts_the_retries_is_reported_with_its_wait(teams, member) -> None:
    person = _installed(teams, member)
    throttled = Answer(429, {"error": {"code": "Throttled", "message": "slow down"}}, {"Retry-After": "120"})
    teams.connector.fail_next(throttled)
    result = TeamsNotifier(teams.services.teams.messenger).send(teams.people.get(person.id), REMINDER)
    # Two minutes is longer than a request should wait: nothing was posted, and the sweep is told how long to hold off.
    assert result.status is SendStatus.FAILED and result.retry_after == 120.0
    assert len(teams.connector.posted_to(A.personal(member)["id"])) == 1  # the welcome only
