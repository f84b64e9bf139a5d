"""Typed views of the Slack payloads the listeners read, so a missing field fails in one obvious place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from handlers.slack.context import SlackContext, channel_key, command_key, thread_key
from handlers.slack.interaction_work import press_key, submission_key


class ButtonPress(BaseModel):
    """A ``block_actions`` press of one button, and where the button was (a message, an ephemeral reply, the Home
    tab)."""

    team_id: str
    user_id: str
    trigger_id: str
    action_id: str
    value: str
    channel_id: str | None = None
    message_ts: str | None = None
    thread_ts: str | None = None
    message_blocks: list[dict[str, Any]] = []
    is_ephemeral: bool = False
    from_home: bool = False
    response_url: str | None = None
    # Slack's own id of this press, the same in every delivery of it (the durable work's key).
    key: str = ""

    @classmethod
    def from_body(cls, body: dict[str, Any], action: dict[str, Any]) -> ButtonPress:
        container = body.get("container") or {}
        message = body.get("message") or {}
        view = body.get("view") or {}
        return cls(
            team_id=(body.get("team") or {}).get("id", "") or body.get("user", {}).get("team_id", ""),
            user_id=body["user"]["id"],
            trigger_id=body.get("trigger_id", ""),
            action_id=action["action_id"],
            value=action.get("value", ""),
            channel_id=container.get("channel_id") or (body.get("channel") or {}).get("id"),
            message_ts=container.get("message_ts") or message.get("ts"),
            thread_ts=message.get("thread_ts") or container.get("thread_ts"),
            message_blocks=message.get("blocks") or [],
            is_ephemeral=bool(container.get("is_ephemeral")),
            from_home=container.get("type") == "view" and view.get("type") == "home",
            response_url=body.get("response_url"),
            key=press_key(body, action),
        )

    @property
    def in_channel_message(self) -> bool:
        return bool(self.channel_id and self.message_ts and not self.is_ephemeral and not self.from_home)

    @property
    def reply_thread(self) -> str | None:
        """Where our reply goes: the pressed message's thread (top level in a direct message, as before)."""
        if self.thread_ts:
            return self.thread_ts
        if self.channel_id and self.channel_id.startswith("D"):
            return None
        return self.message_ts

    @property
    def where(self) -> str:
        """Where the reply goes, to order this press's work with the other replies there."""
        return (self.channel_id or self.user_id) if self.in_channel_message else self.user_id

    @property
    def conversation_key(self) -> str:
        """The same key the message that carried the button was answered under."""
        if not self.in_channel_message:
            return command_key(self.team_id, self.user_id)
        assert self.channel_id is not None and self.message_ts is not None
        thread = self.reply_thread
        return (
            thread_key(self.team_id, self.channel_id, thread) if thread else channel_key(self.team_id, self.channel_id)
        )


class ViewSubmission(BaseModel):
    team_id: str
    user_id: str
    private_metadata: str = ""
    state_values: dict[str, dict[str, Any]] = {}
    # Slack's own id of this submission: the view's id and hash (the durable work's key).
    key: str = ""

    @classmethod
    def from_body(cls, body: dict[str, Any], view: dict[str, Any]) -> ViewSubmission:
        return cls(
            team_id=(body.get("team") or {}).get("id", "") or body["user"].get("team_id", ""),
            user_id=body["user"]["id"],
            private_metadata=view.get("private_metadata") or "",
            state_values=(view.get("state") or {}).get("values") or {},
            key=submission_key(view),
        )


def queue_press(
    slack: SlackContext,
    task: str,
    press: ButtonPress,
    *,
    where: str | None = None,
    apology: Mapping[str, Any] | None = None,
    when_done: str | None = None,
) -> bool:
    """Store a button press's work (``task`` gets the press) before Slack is acknowledged, keyed on the press;
    ordered with the other replies in the press's conversation unless ``where`` says otherwise."""
    return slack.queue_interaction(
        task,
        {"press": press.model_dump()},
        key=press.key,
        team_id=press.team_id,
        where=where or press.where,
        apology=apology,
        when_done=when_done,
    )
