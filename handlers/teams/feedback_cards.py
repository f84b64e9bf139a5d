"""Stakeholder feedback as Adaptive Cards: the request and answer forms, and the summary with its chart.

Typed ``feedback 12`` goes through the shared command (``workflows/feedback/``),
which answers with a "Choose stakeholders" button; its presses are handled in
``handlers/teams/actions/feedback.py``, with these cards:

- "Choose stakeholders" → a card with the people (names or emails, one per
  line), the question set and the closing date; errors come back in the
  refreshed card under their fields;
- "Give feedback" (a request's message, a review's status card) and "Change my
  answer" → the answer card: a 1-5 choice per rating question, the free-text
  questions and an "Answer anonymously" toggle. The secret that lets an
  anonymous answer be changed rides only in the card's own data;
- "Show as a chart" → the summary with its chart.

The chart is an Adaptive Card ``Image`` whose URL is a ``data:image/png;base64``
URI. A Teams bot cannot upload a file into a chat the way a Slack app can: its
only file route is the file consent card, which works in personal chats only,
asks the user to accept, and stores the file in their OneDrive, which is wrong
for a chart that should simply be seen. Teams renders data URIs in card images,
and the chart is drawn small (well under Teams' ~28 KB message limit once
encoded); when it would not fit, the text summary stands alone.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import structlog

from handlers.teams import cards
from handlers.teams.cards import ActionMode
from handlers.teams.constants import (
    DATA_ROUND,
    DATA_TOKEN,
    DATA_VALUE,
    DATA_VERB,
    VERB_FEEDBACK_REQUEST,
    VERB_FEEDBACK_RESPONSE,
)
from workflows.feedback import ANONYMOUS_FIELD, RATING_LABELS, FeedbackService, RequestFields, ResponseForm

__all__ = ["chart_card", "request_card", "response_card"]

log = structlog.get_logger(__name__)

# Teams refuses messages over about 28 KB; base64 adds a third, and the card's text needs room too.
MAX_CHART_BYTES = 18_000


def _error(text: str) -> dict[str, Any]:
    return cards.text_block(text, color="Attention", size="Small", spacing="None")


def request_card(
    feedback: FeedbackService,
    review_id: int,
    mode: ActionMode,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    review = feedback.rules.reviews.get(review_id)
    values, errors = values or {}, errors or {}
    sets = feedback.rules.question_sets.latest()
    fields: list[tuple[str, dict[str, Any]]] = [
        (
            RequestFields.PEOPLE,
            {
                "type": "Input.Text",
                "id": RequestFields.PEOPLE,
                "label": "Who should answer?",
                "isMultiline": True,
                "isRequired": True,
                "maxLength": 4000,
                "placeholder": "Names or emails, one per line",
                "errorMessage": "Please name at least one person.",
                **({"value": values[RequestFields.PEOPLE]} if values.get(RequestFields.PEOPLE) else {}),
            },
        ),
        (
            RequestFields.QUESTION_SET,
            {
                "type": "Input.ChoiceSet",
                "id": RequestFields.QUESTION_SET,
                "label": "Questions",
                "style": "compact",
                "isRequired": True,
                "choices": [{"title": s.title, "value": s.id} for s in sets],
                "value": values.get(RequestFields.QUESTION_SET) or sets[0].id,
            },
        ),
        (
            RequestFields.CLOSES_ON,
            {
                "type": "Input.Date",
                "id": RequestFields.CLOSES_ON,
                "label": "Closing date",
                "isRequired": True,
                "errorMessage": "Please choose the closing date.",
                "value": values.get(RequestFields.CLOSES_ON) or feedback.requests.default_closing_date().isoformat(),
            },
        ),
    ]
    body: list[dict[str, Any]] = [
        cards.text_block("Ask for feedback", size="Large", weight="Bolder"),
        cards.text_block(
            f"On #{review.id} “{review.title}”. Each person gets a message with a form; they can answer "
            "anonymously and get a reminder before the closing date if they haven't answered.",
            isSubtle=True,
        ),
    ]
    for field_id, element in fields:
        items = [element] + ([_error(errors[field_id])] if field_id in errors else [])
        body.append({"type": "Container", "spacing": "Medium", "items": items})
    data = {DATA_VERB: VERB_FEEDBACK_REQUEST, DATA_VALUE: str(review_id)}
    return cards.card(body, [cards.action("Send", data, mode, "positive")])


def response_card(form: ResponseForm, mode: ActionMode, errors: Mapping[str, str] | None = None) -> dict[str, Any]:
    if form.refusal:
        return cards.render_notice_card(form.refusal)
    errors = errors or {}
    body: list[dict[str, Any]] = [
        cards.text_block("Give feedback", size="Large", weight="Bolder"),
        cards.text_block(form.intro, isSubtle=True),
    ]
    if form.notice:
        body.append(cards.text_block(form.notice, isSubtle=True, size="Small"))
    if errors:
        count = len(errors)
        body.append(
            cards.text_block(
                f"Please check the {count} highlighted answer{'s' if count > 1 else ''} below.",
                color="Attention",
                weight="Bolder",
            )
        )
    for question in form.questions:
        value = form.values.get(question.id)
        if question.kind == "rating":
            element: dict[str, Any] = {
                "type": "Input.ChoiceSet",
                "id": question.id,
                "label": question.text,
                "style": "expanded",
                "isRequired": question.required,
                "errorMessage": "Please choose a rating from 1 to 5.",
                "choices": [{"title": label, "value": str(score)} for score, label in RATING_LABELS.items()],
            }
        else:
            element = {
                "type": "Input.Text",
                "id": question.id,
                "label": question.text,
                "isMultiline": True,
                "maxLength": 3000,
                "isRequired": question.required,
            }
        if value:
            element["value"] = value
        items = [element] + ([_error(errors[question.id])] if question.id in errors else [])
        body.append({"type": "Container", "spacing": "Medium", "items": items})
    body.append(
        {
            "type": "Input.Toggle",
            "id": ANONYMOUS_FIELD,
            "title": "Answer anonymously (your name isn't stored; "
            "only the button in my thank-you can open your answer again)",
            "valueOn": "yes",
            "valueOff": "no",
            "value": "yes" if form.values.get(ANONYMOUS_FIELD) == "yes" else "no",
        }
    )
    data = {DATA_VERB: VERB_FEEDBACK_RESPONSE, DATA_ROUND: str(form.round_id), DATA_TOKEN: form.token}
    return cards.card(body, [cards.action("Send", data, mode, "positive")])


def chart_card(feedback: FeedbackService, review_id: int) -> dict[str, Any]:
    # lazy: matplotlib takes a while to import, and most processes never draw a chart.
    from workflows.charts import render_summary_chart

    summary = feedback.summaries.summary(review_id)
    text = feedback.summaries.summary_text(summary)
    png = render_summary_chart(summary)
    body: list[dict[str, Any]] = []
    if png is not None and len(png) <= MAX_CHART_BYTES:
        alt = "; ".join(f"{s.text} average {s.mean:.1f}" for s in summary.ratings)
        body.append(
            {
                "type": "Image",
                "url": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
                "altText": alt[:500],
                "size": "Stretch",
            }
        )
    elif png is not None:
        log.info("teams_feedback_chart_too_large", bytes=len(png))
    body.extend(cards.paragraphs(text))
    return cards.card(body)
