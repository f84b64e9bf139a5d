"""A guidance answer as Teams' own kind of AI message: numbered citations, the feedback loop, the AI label.

The shape is Microsoft's ("Bot messages with AI-generated content"): the answer's text carries in-text markers
``[1]``, ``[2]``; one ``https://schema.org/Message`` entity lists a ``Claim`` per quoted passage, whose
``appearance`` (a ``DigitalDocument``) names the document, gives the start of the passage as its abstract and
the section as keywords; ``channelData.feedbackLoopEnabled`` adds thumbs up and down (with a box for a comment)
that come back as a ``message/submitAction`` invoke. The "AI generated" label (``additionalType``) is added only
when a language model wrote the words; a quoted extract is the guidance's own text.

Teams shows these in personal and group chats, not in channels, where answers stay Adaptive Cards.
"""

from __future__ import annotations

from typing import Any

from workflows.actions import Actions
from workflows.replies import Reply, ReplyKind

__all__ = ["has_native_form", "render_ai_answer"]

# Microsoft's limits for a citation's appearance.
MAX_NAME = 80
MAX_ABSTRACT = 160
MAX_KEYWORDS = 3
MAX_KEYWORD = 28
MAX_SUGGESTIONS = 3
EXTRACTIVE = "extractive"


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def has_native_form(reply: Reply) -> bool:
    """A rated guidance answer (it has an answer-log ref and rating buttons) can be sent as an AI message."""
    rated = any(b.action_id in (Actions.HELPFUL, Actions.NOT_HELPFUL) for b in reply.buttons)
    return reply.kind is ReplyKind.ANSWER and reply.answer_ref is not None and rated


def render_ai_answer(reply: Reply) -> dict[str, Any]:
    markers = " ".join(f"[{n}]" for n in range(1, len(reply.citations) + 1))
    text = "\n\n".join(line for line in reply.text.split("\n") if line.strip())
    if markers:
        text = f"{text} {markers}"
    citations = []
    for number, citation in enumerate(reply.citations, 1):
        sections = [part.strip() for part in citation.section.split(">") if part.strip()]
        appearance: dict[str, Any] = {
            "@type": "DigitalDocument",
            "name": _shorten(citation.source, MAX_NAME),
            "abstract": _shorten(citation.text, MAX_ABSTRACT),
        }
        if sections:
            appearance["keywords"] = [_shorten(s, MAX_KEYWORD) for s in sections[-MAX_KEYWORDS:]]
        citations.append({"@type": "Claim", "position": number, "appearance": appearance})
    entity: dict[str, Any] = {
        "type": "https://schema.org/Message",
        "@type": "Message",
        "@context": "https://schema.org",
        "@id": "",
        "citation": citations,
    }
    written_by = reply.answer.written_by if reply.answer is not None else EXTRACTIVE
    if written_by != EXTRACTIVE:
        entity["additionalType"] = ["AIGeneratedContent"]
    message: dict[str, Any] = {
        "type": "message",
        "text": text,
        "textFormat": "markdown",
        "entities": [entity],
        "channelData": {"feedbackLoopEnabled": True},
    }
    asks = [b for b in reply.buttons if b.action_id == Actions.ASK][:MAX_SUGGESTIONS]
    if asks:
        # Typed back as if the officer had asked; Teams shows these under the answer in a chat.
        message["suggestedActions"] = {
            "actions": [{"type": "imBack", "title": _shorten(b.label, 80), "value": b.value} for b in asks]
        }
    return message
