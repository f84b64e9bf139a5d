"""The feedback modals on Slack: the request and answer forms as Block Kit views, and their values read back.

``handlers/slack/feedback.py`` decides when to open them and does the work behind them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from handlers.slack import blocks
from handlers.slack import constants as C
from workflows.feedback import ANONYMOUS_FIELD, RATING_LABELS, FeedbackService, RequestFields, ResponseForm

__all__ = ["notice_modal", "parse_metadata", "read_request", "read_response", "request_modal", "response_modal"]


def _modal(
    title: str, callback_id: str, blocks_: list[dict[str, Any]], metadata: str, submit: str | None
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": blocks.plain(title, 24),
        "close": blocks.plain("Close" if submit is None else "Cancel", 24),
        "private_metadata": blocks.fit_metadata(metadata),
        "blocks": blocks_,
    }
    if submit:
        view["submit"] = blocks.plain(submit, 24)
    return view


def notice_modal(text: str, title: str = "Feedback") -> dict[str, Any]:
    """A modal that only says something (a refusal, a closed request, a thank-you)."""
    return _modal(title, C.FEEDBACK_NOTICE_CALLBACK, [blocks.section(blocks.escape(text))], "{}", None)


def _input(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str | None = None
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": blocks.plain(label, 2000),
        "element": {**element, "action_id": C.INPUT_ACTION},
        "optional": optional,
    }
    if hint:
        block["hint"] = blocks.plain(hint, 2000)
    return block


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": blocks.plain(label, 75), "value": value}


def request_modal(
    feedback: FeedbackService, review_id: int, review_title: str, channel_id: str | None
) -> dict[str, Any]:
    sets = feedback.rules.question_sets.latest()
    options = [_option(s.id, s.title) for s in sets]
    default_set = options[0]
    elements = [
        blocks.section(
            blocks.escape(
                f"Ask stakeholders for feedback on #{review_id} “{review_title}”. Each gets a "
                "direct message with a form; they can answer anonymously."
            )
        ),
        _input(
            RequestFields.PEOPLE,
            "People",
            {"type": "multi_users_select", "placeholder": blocks.plain("Choose people")},
            optional=True,
        ),
        _input(
            RequestFields.CHANNEL,
            "Everyone in a channel",
            {
                "type": "conversations_select",
                "placeholder": blocks.plain("Choose a channel"),
                "filter": {"include": ["public", "private"]},
            },
            optional=True,
        ),
        _input(
            RequestFields.USERGROUP,
            "A user group",
            {"type": "plain_text_input", "max_length": 80, "placeholder": blocks.plain("e.g. @housing-team")},
            optional=True,
            hint="Its handle, as you would @mention it.",
        ),
        _input(
            RequestFields.QUESTION_SET,
            "Questions",
            {"type": "static_select", "options": options, "initial_option": default_set},
        ),
        _input(
            RequestFields.CLOSES_ON,
            "Closing date",
            {"type": "datepicker", "initial_date": feedback.requests.default_closing_date().isoformat()},
            hint="The last day answers are taken. People who haven't answered get a reminder before then.",
        ),
    ]
    metadata = blocks.metadata(review=review_id, channel=channel_id)
    return _modal("Ask for feedback", C.FEEDBACK_REQUEST_CALLBACK, elements, metadata, "Send")


def read_request(state_values: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    def element(block_id: str) -> Mapping[str, Any]:
        return (state_values.get(block_id) or {}).get(C.INPUT_ACTION) or {}

    return {
        RequestFields.PEOPLE: list(element(RequestFields.PEOPLE).get("selected_users") or []),
        RequestFields.CHANNEL: element(RequestFields.CHANNEL).get("selected_conversation") or "",
        RequestFields.USERGROUP: (element(RequestFields.USERGROUP).get("value") or "").strip(),
        RequestFields.QUESTION_SET: (element(RequestFields.QUESTION_SET).get("selected_option") or {}).get("value", ""),
        RequestFields.CLOSES_ON: element(RequestFields.CLOSES_ON).get("selected_date") or "",
    }


def response_modal(form: ResponseForm, errors: Mapping[str, str] | None = None) -> dict[str, Any]:
    if form.refusal:
        return notice_modal(form.refusal)
    elements: list[dict[str, Any]] = [blocks.section(blocks.escape(form.intro))]
    if form.notice:
        elements.append(blocks.context(blocks.escape(form.notice)))
    ratings = [_option(str(score), label) for score, label in RATING_LABELS.items()]
    for question in form.questions:
        value = form.values.get(question.id)
        if question.kind == "rating":
            element: dict[str, Any] = {
                "type": "static_select",
                "placeholder": blocks.plain("Choose 1 to 5"),
                "options": ratings,
            }
            if value and value.isdigit() and int(value) in RATING_LABELS:
                element["initial_option"] = _option(value, RATING_LABELS[int(value)])
            elements.append(_input(question.id, question.text, element, optional=not question.required))
        else:
            element = {"type": "plain_text_input", "multiline": True, "max_length": 3000}
            if value:
                element["initial_value"] = value
            elements.append(_input(question.id, question.text, element, optional=not question.required))
    box = _option("yes", "Answer anonymously")
    # Slack allows 75 characters in an option's description.
    box["description"] = blocks.plain("Your name isn't stored. Only my thank-you's button reopens it.", 75)
    anonymous: dict[str, Any] = {"type": "checkboxes", "options": [box]}
    if form.values.get(ANONYMOUS_FIELD) == "yes":
        anonymous["initial_options"] = [box]
    elements.append(_input(ANONYMOUS_FIELD, "Anonymity", anonymous, optional=True))
    metadata = json.dumps({"round": form.round_id, "token": form.token}, separators=(",", ":"))
    return _modal("Give feedback", C.FEEDBACK_RESPONSE_CALLBACK, elements, metadata, "Send")


def read_response(state_values: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    values = blocks.read_modal_values(state_values)
    values[ANONYMOUS_FIELD] = "yes" if "yes" in values.get(ANONYMOUS_FIELD, "").split(",") else ""
    return values


def parse_metadata(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
