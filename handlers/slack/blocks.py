"""Every Block Kit layout the Slack adapter sends, built from the chat core's platform-neutral replies.

Slack refuses a message or view that breaks its limits (and the fake Slack in
the tests refuses the same), so every builder here keeps within them: 50
blocks a message, 100 a modal or Home tab, 3,000 characters a section, 75 a
button label, 2,000 a button value, 25 elements an actions block, 3,000
characters of ``private_metadata``. A long answer becomes several messages
rather than a refused one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.slack import constants as C
from workflows.actions import Actions
from workflows.conversation import FormField
from workflows.replies import Button, FormSpec, Reply, ReplyKind

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_CHARS = 3000
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTIONS_ELEMENTS = 25
MAX_PRIVATE_METADATA = 3000
MAX_FALLBACK_TEXT = 3000
MAX_MODAL_TITLE = 24
MAX_INPUT_CHARS = 3000
MAX_LABEL = 2000
MAX_OPTION_TEXT = 75
QUOTE_CHARS = 600

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """One chat.postMessage worth: the notification text and the blocks."""

    text: str
    blocks: list[Block]


# --- text ----------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters; everything else is shown as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Pieces of at most ``limit`` characters, broken at paragraph, then line, then word boundaries."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), 0) or max(window.rfind("\n"), 0) or max(window.rfind(" "), 0)
        if cut < limit // 3:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces or [""]


def plain(text: str, limit: int = MAX_LABEL) -> dict[str, Any]:
    return {"type": "plain_text", "text": shorten(text, limit) or " ", "emoji": True}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": shorten(text, MAX_SECTION_CHARS) or " "}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": shorten(text, MAX_SECTION_CHARS)}]}


# --- buttons -------------------------------------------------------------------------


def button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "text": plain(label, MAX_BUTTON_LABEL), "action_id": action_id}
    if value:  # Slack refuses an empty value; a button that needs none simply has no value
        element["value"] = value[:MAX_BUTTON_VALUE]
    if style in ("primary", "danger"):
        element["style"] = style
    return element


def render_buttons(buttons: Sequence[Button], block_id: str | None = None) -> list[Block]:
    """Actions blocks for the core's buttons; each action id gets a ``:<n>`` suffix to stay unique."""
    blocks: list[Block] = []
    for start in range(0, len(buttons), MAX_ACTIONS_ELEMENTS):
        elements = [
            button(b.label, f"{b.action_id}:{start + i}", b.value, b.style)
            for i, b in enumerate(buttons[start : start + MAX_ACTIONS_ELEMENTS])
        ]
        block: Block = {"type": "actions", "elements": elements}
        if block_id:
            block["block_id"] = f"{block_id}:{start}"
        blocks.append(block)
    return blocks


# --- replies -------------------------------------------------------------------------


def render_answer_blocks(reply: Reply) -> list[Block]:
    """The reply's text, then each quoted passage with its source, then its buttons (unbounded; see
    :func:`render_reply_messages` for splitting)."""
    blocks = [section(piece) for piece in split_text(escape(reply.text))]
    for number, citation in enumerate(reply.citations, 1):
        where = escape(citation.source + (f" — {citation.section}" if citation.section else ""))
        quote = escape(shorten(" ".join(citation.text.split()), QUOTE_CHARS))
        blocks.append(section(f"> {quote}"))
        if citation.link:  # guidance from the web or SharePoint: the officer opens it from here
            where = f"<{escape(citation.link)}|{where}>"
        blocks.append(context(f":page_facing_up: [{number}] {where}"))
    if reply.kind is ReplyKind.PROBLEM:
        blocks.insert(0, context(":warning: Something needs your attention"))
    return blocks


def feedback_buttons_block(ref: str) -> Block:
    """Slack's own thumbs up / down for AI answers (the assistant panel), carrying the answer's ref."""

    def side(label: str, action: str, spoken: str) -> dict[str, Any]:
        return {"text": plain(label, MAX_BUTTON_LABEL), "accessibility_label": spoken, "value": f"{action}:{ref}"}

    return {
        "type": "context_actions",
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": C.ANSWER_FEEDBACK,
                "positive_button": side("Helpful", Actions.HELPFUL, "Mark this answer as helpful"),
                "negative_button": side("Not helpful", Actions.NOT_HELPFUL, "Mark this answer as not helpful"),
            }
        ],
    }


def render_reply_messages(reply: Reply, *, native_feedback: bool = False) -> list[SlackMessage]:
    """A reply as one or more messages, each within Slack's 50-block limit; buttons go on the last one.

    ``native_feedback``: a rated answer gets Slack's own feedback buttons (the assistant panel) instead of the
    Helpful / Not helpful buttons that work in every workspace."""
    content = render_answer_blocks(reply)
    buttons = reply.buttons
    if native_feedback and reply.answer_ref and any(b.action_id in C.RATING_ACTIONS for b in buttons):
        buttons = [b for b in buttons if b.action_id not in C.RATING_ACTIONS]
        content = [*content, feedback_buttons_block(reply.answer_ref)]
    actions = render_buttons(buttons)
    if reply.form is not None and not any(b.action_id == Actions.OPEN_REVIEW_FORM for b in reply.buttons):
        actions = render_buttons([Button("Open the form", "", Actions.OPEN_REVIEW_FORM, "primary")]) + actions
    blocks = content + actions
    messages: list[SlackMessage] = []
    for start in range(0, len(blocks), MAX_MESSAGE_BLOCKS):
        chunk = blocks[start : start + MAX_MESSAGE_BLOCKS]
        texts = [b["text"]["text"] for b in chunk if b["type"] == "section"]
        fallback = shorten(" ".join(texts) or reply.text, MAX_FALLBACK_TEXT)
        messages.append(SlackMessage(fallback or "Commissioning Assistant", chunk))
    return messages


def render_rated_blocks(blocks: Sequence[Block], helpful: bool) -> list[Block]:
    """The answer as it was, with the rating buttons replaced by a thank-you."""
    kept: list[Block] = []
    for block in blocks:
        if block.get("type") == "context_actions":
            continue  # Slack's own feedback buttons: pressed, so gone
        if block.get("type") == "actions":
            elements = [
                e for e in block.get("elements", []) if C.core_action_id(e.get("action_id", "")) not in C.RATING_ACTIONS
            ]
            if elements:
                kept.append({**block, "elements": elements})
            continue
        kept.append(dict(block))
    kept.append(
        context(
            "Thanks: marked as helpful."
            if helpful
            else "Thanks: marked as not helpful. We'll use this to improve the guidance."
        )
    )
    return kept[:MAX_MESSAGE_BLOCKS]


# --- the review wizard ----------------------------------------------------------------


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label, MAX_OPTION_TEXT), "value": value[:150]}


def _choice_element(field: FormField, initial: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "static_select",
        "options": [_option(o.value, o.label) for o in field.options[:100]],
    }
    chosen = next((o for o in field.options if o.value == initial), None)
    if chosen is not None:
        element["initial_option"] = _option(chosen.value, chosen.label)
    return element


def _person_element(field: FormField, initial: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "users_select"}
    if initial and initial.startswith(("U", "W")):
        element["initial_user"] = initial
    return element


def _people_element(field: FormField, initial: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "multi_users_select"}
    users = [u for u in (initial or "").replace(",", " ").split() if u.startswith(("U", "W"))]
    if users:
        element["initial_users"] = users
    return element


def _date_element(field: FormField, initial: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "datepicker"}
    if initial and len(initial) == 10:
        element["initial_date"] = initial
    return element


def _text_element(field: FormField, initial: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "multiline": field.multiline or field.kind == "list",
        "max_length": min(field.max_chars, MAX_INPUT_CHARS),
    }
    if initial:
        element["initial_value"] = initial[:MAX_INPUT_CHARS]
    return element


# The input element for each kind of form field; any other kind is typed as text.
_ELEMENTS: dict[str, Callable[[FormField, str | None], dict[str, Any]]] = {
    "choice": _choice_element,
    "person": _person_element,
    "people": _people_element,
    "date": _date_element,
}


def _element(field: FormField, value: str | None) -> dict[str, Any]:
    """The input element for a form field, with the officer's earlier value (or the suggestion) filled in."""
    initial = value if value not in (None, "") else field.initial
    element = _ELEMENTS.get(field.kind, _text_element)(field, initial)
    return {"type": element.pop("type"), "action_id": C.INPUT_ACTION, **element}


def render_review_modal(
    form: FormSpec,
    private_metadata: str,
    values: Mapping[str, str] | None = None,
    warnings: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The wizard as a modal; with ``warnings``, the same form plus a box to confirm them (the confirmation step)."""
    values = values or {}
    blocks: list[Block] = []
    if warnings:
        lines = "\n".join(f"• {escape(text)}" for text in warnings.values())
        blocks.append(section(f":warning: *Please check before creating this review:*\n{lines}"))
        blocks.append(
            {
                "type": "input",
                "block_id": C.CONFIRM_WARNINGS_BLOCK,
                "optional": False,
                "label": plain("Create it anyway?"),
                "element": {
                    "type": "checkboxes",
                    "action_id": C.INPUT_ACTION,
                    "options": [_option(C.CONFIRM_WARNINGS_VALUE, "Yes, I've checked: create it anyway")],
                },
            }
        )
    for field in form.fields:
        block: Block = {
            "type": "input",
            "block_id": field.id,
            "optional": not field.required,
            "label": plain(field.label),
            "element": _element(field, values.get(field.id)),
        }
        hint = field.help + (" One per line." if field.kind == "list" else "")
        if hint:
            block["hint"] = plain(hint)
        blocks.append(block)
    return {
        "type": "modal",
        "callback_id": C.REVIEW_WIZARD_CALLBACK,
        "title": plain(form.title, MAX_MODAL_TITLE),
        "submit": plain(form.submit_label, MAX_MODAL_TITLE),
        "close": plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": fit_metadata(private_metadata),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }


# How each kind of input element's submitted state reads as the plain text the chat core takes as an answer.
_READERS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "plain_text_input": lambda element: element.get("value") or "",
    "static_select": lambda element: (element.get("selected_option") or {}).get("value", ""),
    "users_select": lambda element: element.get("selected_user") or "",
    "multi_users_select": lambda element: ", ".join(element.get("selected_users") or []),
    "datepicker": lambda element: element.get("selected_date") or "",
    "checkboxes": lambda element: ",".join(o.get("value", "") for o in element.get("selected_options") or []),
}


def read_modal_values(state_values: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The submitted ``view.state.values`` as plain text per field id, the way the chat core reads answers."""
    values: dict[str, str] = {}
    for block_id, actions in state_values.items():
        element = actions.get(C.INPUT_ACTION) or {}
        reader = _READERS.get(element.get("type", ""))
        if reader is not None:
            values[block_id] = reader(element)
    return values


def fit_metadata(data: str) -> str:
    if len(data) > MAX_PRIVATE_METADATA:
        raise ValueError("private_metadata would be longer than Slack allows; keep only ids in it")
    return data


def metadata(**fields: Any) -> str:
    return fit_metadata(json.dumps(fields, separators=(",", ":")))


def render_advance_reason_modal(review_id: int, stage_name: str, private_metadata: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": C.ADVANCE_REASON_CALLBACK,
        "title": plain("Finish a stage", MAX_MODAL_TITLE),
        "submit": plain("Mark done", MAX_MODAL_TITLE),
        "close": plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": fit_metadata(private_metadata),
        "blocks": [
            section(
                escape(
                    f"Review #{review_id}: {stage_name} still has checklist items open. "
                    "Say why it can be finished without them; the reason is kept with the review."
                )
            ),
            {
                "type": "input",
                "block_id": C.ADVANCE_REASON_BLOCK,
                "label": plain("Reason"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": C.INPUT_ACTION,
                    "multiline": True,
                    "max_length": 2000,
                },
            },
        ],
    }
