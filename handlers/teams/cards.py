"""Adaptive Cards (version 1.5, what Teams renders) built from the core's platform-neutral replies.

Small typed builders, one per layout:

- :func:`render_reply_card`   any :class:`Reply`: its text, quoted passages with sources, and buttons
- :func:`render_answer_card`  a guidance answer, with Helpful / Not helpful
- :func:`render_form_card`    the review wizard as one form, with per-field errors and warnings
- :func:`render_notice_card`  a one-line outcome shown in place of a card after a press

Buttons in chats are ``Action.Execute`` (Teams answers them with an
``adaptiveCard/action`` invoke, and the card can be replaced in place), each with
an ``Action.Submit`` fallback for clients without Universal Actions; in a
dialog (task module) they must be ``Action.Submit``, which Teams turns into
``task/submit``. All carry the same data, so one handler serves them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from handlers.teams.constants import (
    CARD_CONTENT_TYPE,
    CARD_SCHEMA,
    CARD_VERSION,
    DATA_ACTION_ID,
    DATA_CONFIRMED,
    DATA_FLOW,
    DATA_VALUE,
    DATA_VERB,
    REASON_INPUT_ID,
    VERB_ADVANCE_WITH_REASON,
    VERB_PRESS,
    VERB_REVIEW_FORM_SUBMIT,
)
from knowledge.models import Citation
from workflows.actions import Actions
from workflows.replies import Button, FormSpec, Reply, ReplyKind

ActionMode = Literal["execute", "submit"]

MAX_QUOTE_CHARS = 600
# Teams shows at most six actions in a row; longer lists go into further rows.
BUTTONS_PER_ROW = 5


def card(body: list[dict[str, Any]], actions: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    content: dict[str, Any] = {"type": "AdaptiveCard", "$schema": CARD_SCHEMA, "version": CARD_VERSION, "body": body}
    if actions:
        content["actions"] = list(actions)
    # Cards fill the chat's width in Teams rather than a narrow bubble.
    content["msteams"] = {"width": "Full"}
    return content


def attachment(content: Mapping[str, Any]) -> dict[str, Any]:
    return {"contentType": CARD_CONTENT_TYPE, "content": dict(content)}


def text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def paragraphs(text: str, **style: Any) -> list[dict[str, Any]]:
    """One TextBlock per paragraph: a TextBlock's markdown drops single line breaks."""
    blocks = [text_block(part.strip(), **style) for part in text.split("\n") if part.strip()]
    return blocks or [text_block(" ")]


def action(
    title: str, data: Mapping[str, Any], mode: ActionMode = "execute", style: str | None = None
) -> dict[str, Any]:
    if mode == "execute":
        result: dict[str, Any] = {
            "type": "Action.Execute",
            "title": title,
            "verb": str(data[DATA_VERB]),
            "data": dict(data),
            # Clients without Universal Actions show this instead; its data carries the same verb, so the press
            # reaches the same handler as a message (messages/card_submit.py).
            "fallback": {"type": "Action.Submit", "title": title, "data": dict(data)},
        }
    else:
        result = {"type": "Action.Submit", "title": title, "data": dict(data)}
    if style in {"positive", "destructive"}:
        result["style"] = style
    return result


def button_action(button: Button, mode: ActionMode = "execute") -> dict[str, Any]:
    style = {"primary": "positive", "danger": "destructive"}.get(button.style or "")
    data = {DATA_VERB: VERB_PRESS, DATA_ACTION_ID: button.action_id, DATA_VALUE: button.value}
    return action(button.label[:80], data, mode, style)


def action_rows(actions: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"type": "ActionSet", "actions": list(actions[i : i + BUTTONS_PER_ROW])}
        for i in range(0, len(actions), BUTTONS_PER_ROW)
    ]


def citation_block(number: int, citation: Citation) -> dict[str, Any]:
    quote = " ".join(citation.text.split())
    if len(quote) > MAX_QUOTE_CHARS:
        quote = quote[: MAX_QUOTE_CHARS - 1].rstrip() + "…"
    where = citation.source + (f", {citation.section}" if citation.section else "")
    if citation.link:  # guidance from the web or SharePoint: a markdown link the officer can open
        where = f"[{where.replace('[', '(').replace(']', ')')}]({citation.link.replace(')', '%29')})"
    return {
        "type": "Container",
        "style": "emphasis",
        "spacing": "Medium",
        "items": [
            text_block(f"“{quote}”", isSubtle=True),
            text_block(f"[{number}] Source: {where}", size="Small", weight="Bolder", spacing="Small"),
        ],
    }


def render_reply_card(reply: Reply, mode: ActionMode = "execute") -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    colour = {ReplyKind.PROBLEM: "Attention", ReplyKind.DONE: "Good"}.get(reply.kind)
    body += paragraphs(reply.text, **({"color": colour} if colour else {}))
    body += [citation_block(n, c) for n, c in enumerate(reply.citations, 1)]
    asks = [b for b in reply.buttons if b.action_id == Actions.ASK]
    others = [b for b in reply.buttons if b.action_id != Actions.ASK]
    if asks:
        body.append(text_block("You could also ask:", size="Small", isSubtle=True, spacing="Medium"))
        body += action_rows([button_action(b, mode) for b in asks])
    actions = [button_action(b, mode) for b in others]
    if len(actions) <= BUTTONS_PER_ROW:
        return card(body, actions)
    return card(body + action_rows(actions))


def render_answer_card(reply: Reply, question: str, mode: ActionMode = "execute") -> dict[str, Any]:
    """A guidance answer, always with Helpful / Not helpful (carrying the question answered)."""
    buttons = list(reply.buttons)
    if not any(b.action_id in (Actions.HELPFUL, Actions.NOT_HELPFUL) for b in buttons):
        buttons += [
            Button("Helpful", question[:500], Actions.HELPFUL, style="primary"),
            Button("Not helpful", question[:500], Actions.NOT_HELPFUL),
        ]
    return render_reply_card(
        Reply(reply.text, reply.kind, reply.citations, buttons, reply.prompt, reply.form, reply.answer), mode
    )


def render_notice_card(text: str, kind: ReplyKind = ReplyKind.INFO) -> dict[str, Any]:
    return render_reply_card(Reply(text, kind))


# --- the review wizard as one form --------------------------------------------------------


def _input(field: Any, value: str | None) -> dict[str, Any]:
    common: dict[str, Any] = {
        "id": field.id,
        "label": field.label,
        "isRequired": bool(field.required),
        "errorMessage": f"Please fill in “{field.label}”.",
    }
    if field.kind == "date":
        return {"type": "Input.Date", **common, **({"value": value} if value else {})}
    if field.kind in {"choice", "yes_no"} and field.options:
        return {
            "type": "Input.ChoiceSet",
            **common,
            "style": "compact",
            "placeholder": "Choose one",
            "choices": [{"title": option.label, "value": option.value} for option in field.options],
            **({"value": value} if value else {}),
        }
    placeholder = {
        "person": "A name, an email or @mention",
        "people": "Names or emails, one per line",
        "list": "One per line",
    }.get(field.kind, "")
    return {
        "type": "Input.Text",
        **common,
        "isMultiline": bool(field.multiline),
        "maxLength": int(field.max_chars),
        **({"placeholder": placeholder} if placeholder else {}),
        **({"value": value} if value else {}),
    }


def render_form_card(
    spec: FormSpec,
    values: Mapping[str, str] | None = None,
    mode: ActionMode = "execute",
    verb: str = VERB_REVIEW_FORM_SUBMIT,
) -> dict[str, Any]:
    """The form, keeping what the officer typed; each error or warning sits right under its field.

    Another feature's form passes its own ``verb`` and registers a handler for it (``handlers/teams/registry.py``)."""
    values = values or {}
    body: list[dict[str, Any]] = [text_block(spec.title, size="Large", weight="Bolder")]
    if spec.errors:
        count = len(spec.errors)
        body.append(
            text_block(
                f"Please check the {count} highlighted answer{'s' if count > 1 else ''} below.",
                color="Attention",
                weight="Bolder",
            )
        )
    elif spec.warnings:
        body.append(
            text_block(
                "Please read the notes below. Press the button again to go ahead anyway.",
                color="Warning",
                weight="Bolder",
            )
        )
    for field in spec.fields:
        value = values.get(field.id) if field.id in values else field.initial
        items: list[dict[str, Any]] = [_input(field, value)]
        if field.id in spec.errors:
            items.append(text_block(spec.errors[field.id], color="Attention", size="Small", spacing="None"))
        elif field.id in spec.warnings:
            items.append(text_block(spec.warnings[field.id], color="Warning", size="Small", spacing="None"))
        elif field.help:
            items.append(text_block(field.help, isSubtle=True, size="Small", spacing="None"))
        body.append({"type": "Container", "spacing": "Medium", "items": items})
    data = {DATA_VERB: verb, DATA_FLOW: spec.flow, DATA_CONFIRMED: sorted(spec.warnings)}
    return card(body, [action(spec.submit_label, data, mode, "positive")])


def form_values(data: Mapping[str, Any], spec_fields: Iterable[Any]) -> dict[str, str]:
    """The inputs' values out of submitted card data (Teams sends them beside our own keys)."""
    values: dict[str, str] = {}
    for field in spec_fields:
        raw = data.get(field.id)
        if raw is None:
            continue
        values[field.id] = raw if isinstance(raw, str) else str(raw)
    return values


def render_text_input_card(
    title: str,
    label: str,
    *,
    input_id: str,
    verb: str,
    value: str,
    submit_label: str,
    mode: ActionMode = "execute",
    error: str | None = None,
    placeholder: str | None = None,
) -> dict[str, Any]:
    """One required text box and a button: a reason, a person to hand a stage to. ``value`` rides along."""
    field: dict[str, Any] = {
        "type": "Input.Text",
        "id": input_id,
        "label": label,
        "isMultiline": True,
        "isRequired": True,
        "maxLength": 2000,
        "errorMessage": f"Please fill in “{label}”.",
    }
    if placeholder:
        field["placeholder"] = placeholder
    body: list[dict[str, Any]] = [text_block(title, weight="Bolder"), field]
    if error:
        body.append(text_block(error, color="Attention", size="Small", spacing="None"))
    return card(body, [action(submit_label, {DATA_VERB: verb, DATA_VALUE: value}, mode, "positive")])


def render_reason_card(stage_value: str, mode: ActionMode = "execute", error: str | None = None) -> dict[str, Any]:
    """Finishing a stage whose checklist still has open items: the officer says why, for the audit trail."""
    return render_text_input_card(
        "Finish the stage with items still open",
        "Why is the stage finished?",
        input_id=REASON_INPUT_ID,
        verb=VERB_ADVANCE_WITH_REASON,
        value=stage_value,
        submit_label="Finish the stage",
        mode=mode,
        error=error,
    )
