"""A core :class:`Reply` as a Bot Framework message activity (JSON for the Connector)."""

from __future__ import annotations

from typing import Any

from handlers.teams.ai_messages import has_native_form, render_ai_answer
from handlers.teams.cards import (
    ActionMode,
    attachment,
    button_action,
    render_answer_card,
    render_form_card,
    render_reply_card,
)
from workflows.replies import Reply, ReplyKind


def reply_activity(
    reply: Reply, *, question: str | None = None, mode: ActionMode = "execute", ai_message: bool = False
) -> dict[str, Any]:
    """Plain text when the reply is only words; an Adaptive Card when it quotes, offers buttons or is a form.
    ``ai_message``: a rated guidance answer goes as Teams' AI message (citations, feedback loop), where Teams
    shows one (personal and group chats)."""
    summary = reply.text.split("\n", 1)[0][:250]
    if ai_message and has_native_form(reply):
        return render_ai_answer(reply)
    if reply.form is not None:
        content = render_form_card(reply.form, mode=mode)
        if reply.buttons:
            content["actions"] = [*content.get("actions", []), *(button_action(b, mode) for b in reply.buttons)]
    elif reply.kind is ReplyKind.ANSWER and question:
        content = render_answer_card(reply, question, mode)
    elif reply.citations or reply.buttons or reply.kind is ReplyKind.PROBLEM:
        content = render_reply_card(reply, mode)
    else:
        # Teams' markdown joins single line breaks, so each line becomes its own paragraph.
        text = "\n\n".join(line for line in reply.text.split("\n") if line.strip())
        return {"type": "message", "text": text, "textFormat": "markdown"}
    # The summary is what a notification or the chat list shows for a card.
    return {"type": "message", "summary": summary, "attachments": [attachment(content)]}
