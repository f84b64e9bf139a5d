"""Bot Framework activities as Teams sends them (the shapes in Microsoft's protocol documentation)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.teams.fakes import Member
from tests.teams.ids import BOT_ID, TENANT_ID

BOT_NAME = "Commissioning"


def _base(kind: str, service_url: str, conversation: dict[str, Any], sender: Member | None) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": kind,
        "id": f"f:{uuid.uuid4().hex}",
        "timestamp": "2026-11-23T09:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "conversation": {"tenantId": TENANT_ID, **conversation},
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "channelData": {"tenant": {"id": TENANT_ID}},
        "locale": "en-GB",
    }
    if sender is not None:
        activity["from"] = {"id": sender.id, "name": sender.name, "aadObjectId": sender.aad_object_id}
    return activity


def personal(member: Member) -> dict[str, Any]:
    return {"conversationType": "personal", "id": f"a:{member.aad_object_id}-chat"}


def channel_thread(thread: str = "1700000000000") -> dict[str, Any]:
    return {
        "conversationType": "channel",
        "isGroup": True,
        "id": f"19:commissioning-team@thread.tacv2;messageid={thread}",
    }


def install(service_url: str, member: Member) -> dict[str, Any]:
    activity = _base("conversationUpdate", service_url, personal(member), member)
    activity["membersAdded"] = [{"id": BOT_ID}]
    return activity


def installation_update(service_url: str, member: Member, action: str = "add") -> dict[str, Any]:
    activity = _base("installationUpdate", service_url, personal(member), member)
    activity["action"] = action
    return activity


def message(service_url: str, member: Member, text: str, conversation: dict[str, Any] | None = None) -> dict[str, Any]:
    activity = _base("message", service_url, conversation or personal(member), member)
    activity["text"] = text
    activity["textFormat"] = "plain"
    return activity


def mention(
    service_url: str, member: Member, text: str, thread: str = "1700000000000", others: list[Member] | None = None
) -> dict[str, Any]:
    """A channel post that @mentions the bot (and maybe colleagues), as Teams writes it."""
    activity = message(service_url, member, f"<at>{BOT_NAME}</at> {text}", channel_thread(thread))
    entities = [{"type": "mention", "text": f"<at>{BOT_NAME}</at>", "mentioned": {"id": BOT_ID, "name": BOT_NAME}}]
    for other in others or []:
        entities.append(
            {"type": "mention", "text": f"<at>{other.name}</at>", "mentioned": {"id": other.id, "name": other.name}}
        )
    activity["entities"] = entities
    activity["channelData"] = {
        "tenant": {"id": TENANT_ID},
        "teamsChannelId": "19:commissioning-team@thread.tacv2",
        "teamsTeamId": "19:team@thread.tacv2",
        "channel": {"id": "19:commissioning-team@thread.tacv2"},
    }
    return activity


def card_submit(service_url: str, member: Member, data: dict[str, Any], reply_to: str) -> dict[str, Any]:
    """An Action.Submit press: a message with the card's data as its value and no text."""
    activity = _base("message", service_url, personal(member), member)
    activity["value"] = data
    activity["replyToId"] = reply_to
    return activity


def card_action(service_url: str, member: Member, data: dict[str, Any], reply_to: str | None = None) -> dict[str, Any]:
    """An Action.Execute press: the adaptiveCard/action invoke; Teams merges the inputs into data."""
    activity = _base("invoke", service_url, personal(member), member)
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {
        "action": {"type": "Action.Execute", "verb": data.get("verb"), "data": data},
        "trigger": "manual",
    }
    if reply_to:
        activity["replyToId"] = reply_to
    return activity


def task_fetch(service_url: str, member: Member, data: dict[str, Any]) -> dict[str, Any]:
    activity = _base("invoke", service_url, personal(member), member)
    activity["name"] = "task/fetch"
    activity["value"] = {"type": "task/fetch", "data": data, "context": {"theme": "default"}}
    return activity


def task_submit(service_url: str, member: Member, data: dict[str, Any]) -> dict[str, Any]:
    activity = _base("invoke", service_url, personal(member), member)
    activity["name"] = "task/submit"
    activity["value"] = {"type": "task/submit", "data": data, "context": {"theme": "default"}}
    return activity
