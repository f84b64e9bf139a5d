"""Stakeholder feedback in Teams: the request and answer forms as Adaptive Cards, and the chart.

Typed ``feedback 12`` goes through the shared command (``workflows/feedback.py``),
which answers with a "Choose stakeholders" button; the buttons and cards here:

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
import re
import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import structlog

from handlers.services import ChatServices
from handlers.teams import cards
from handlers.teams.cards import ActionMode
from handlers.teams.constants import DATA_VALUE, DATA_VERB
from workflows.feedback import (
    ANONYMOUS_FIELD,
    RATING_LABELS,
    FeedbackActions,
    FeedbackError,
    FeedbackService,
    RequestFields,
    ResponseForm,
)
from workflows.people import Resolved
from workflows.replies import ReplyKind

if TYPE_CHECKING:
    from handlers.teams.activities import CardOutcome, TeamsBot
    from workflows.dialogue import UserContext

log = structlog.get_logger(__name__)

VERB_REQUEST_SUBMIT = "feedback_request_submit"
VERB_RESPONSE_SUBMIT = "feedback_response_submit"
DATA_ROUND = "round"
DATA_TOKEN = "token"
# Teams refuses messages over about 28 KB; base64 adds a third, and the card's text needs room too.
MAX_CHART_BYTES = 18_000
_SEPARATORS = re.compile(r"[\n;,]+")


def _outcome(**fields: Any) -> CardOutcome:
    from handlers.teams.activities import CardOutcome

    return CardOutcome(**fields)


def _error(text: str) -> dict[str, Any]:
    return cards.text_block(text, color="Attention", size="Small", spacing="None")


def _notice_card(text: str, kind: ReplyKind = ReplyKind.INFO) -> dict[str, Any]:
    return cards.render_notice_card(text, kind)


# --- asking ------------------------------------------------------------------------------------------


def request_card(
    feedback: FeedbackService,
    review_id: int,
    mode: ActionMode,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    review = feedback.reviews.get(review_id)
    values, errors = values or {}, errors or {}
    sets = feedback.question_sets.latest()
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
                "value": values.get(RequestFields.CLOSES_ON) or feedback.default_closing_date().isoformat(),
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
    data = {DATA_VERB: VERB_REQUEST_SUBMIT, DATA_VALUE: str(review_id)}
    return cards.card(body, [cards.action("Send", data, mode, "positive")])


def submit_request(services: ChatServices, user: UserContext, data: Mapping[str, Any], mode: ActionMode) -> CardOutcome:
    feedback = services.feedback
    review_id = int(str(data.get(DATA_VALUE) or "0") or 0)
    values = {
        key: str(data.get(key) or "")
        for key in (RequestFields.PEOPLE, RequestFields.QUESTION_SET, RequestFields.CLOSES_ON)
    }
    refusal = feedback.request_refusal(user.person.id if user.person else None, review_id)
    if refusal:
        return _outcome(card=_notice_card(refusal, ReplyKind.PROBLEM))
    person_ids: list[int] = []
    unresolved: list[str] = []
    for name in (part.strip() for part in _SEPARATORS.split(values[RequestFields.PEOPLE])):
        if not name:
            continue
        found = user.people.resolve(name)
        if isinstance(found, Resolved):
            person_ids.append(found.person.id)
        else:
            unresolved.append(name)
    errors, chosen, closes_on = feedback.check_request(
        question_set=values[RequestFields.QUESTION_SET],
        closes_on=values[RequestFields.CLOSES_ON],
        stakeholder_count=len(set(person_ids)),
        unresolved=unresolved,
    )
    if errors:
        log.info("teams_feedback_request_invalid", errors=sorted(errors))
        return _outcome(card=request_card(feedback, review_id, mode, values, errors), form_open=True)
    try:
        created = feedback.create_request(user.person, review_id, person_ids, chosen, closes_on)  # type: ignore[arg-type]
    except FeedbackError as error:
        return _outcome(
            card=request_card(feedback, review_id, mode, values, {RequestFields.PEOPLE: str(error)}), form_open=True
        )
    invited = len(feedback.repository.invited(created.id))
    # Messages go out after the answer to this button (an invoke must be answered within seconds); the
    # notification ledger keeps them to one each, and the hourly job retries any that fail.
    threading.Thread(
        target=feedback.deliver, args=(created, services.messengers), name="feedback-invitations", daemon=True
    ).start()
    done = feedback.request_confirmation(created, invited, 0)
    return _outcome(card=cards.render_reply_card(done, mode), message=done.text.split("\n", 1)[0])


# --- answering -----------------------------------------------------------------------------------------


def response_card(form: ResponseForm, mode: ActionMode, errors: Mapping[str, str] | None = None) -> dict[str, Any]:
    if form.refusal:
        return _notice_card(form.refusal)
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
    data = {DATA_VERB: VERB_RESPONSE_SUBMIT, DATA_ROUND: str(form.round_id), DATA_TOKEN: form.token}
    return cards.card(body, [cards.action("Send", data, mode, "positive")])


def submit_response(
    services: ChatServices, user: UserContext, data: Mapping[str, Any], mode: ActionMode
) -> CardOutcome:
    feedback = services.feedback
    round_id = int(str(data.get(DATA_ROUND) or "0") or 0)
    token = str(data.get(DATA_TOKEN) or "")
    values = {key: value for key, value in data.items() if isinstance(value, str)}
    outcome = feedback.submit(user.person, round_id, token, values)
    if outcome.errors:
        form = feedback.response_form(user.person, str(round_id), token=token or None)
        if form.refusal:
            return _outcome(card=_notice_card(form.refusal))
        shown = replace(form, values={k: v for k, v in values.items() if k != DATA_TOKEN})
        return _outcome(card=response_card(shown, mode, outcome.errors), form_open=True)
    if outcome.refusal:
        return _outcome(card=_notice_card(outcome.refusal))
    assert outcome.done is not None
    # The thank-you replaces the form, and its "Change my answer" keeps the secret in the person's own chat.
    return _outcome(card=cards.render_reply_card(outcome.done, mode), message=outcome.done.text, done=outcome.done)


# --- the chart -------------------------------------------------------------------------------------------


def chart_card(feedback: FeedbackService, review_id: int) -> dict[str, Any]:
    from workflows.charts import render_summary_chart

    summary = feedback.summary(review_id)
    text = feedback.summary_text(summary)
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


# --- wiring ------------------------------------------------------------------------------------------------


def register(bot: TeamsBot, services: ChatServices) -> None:
    """Give the Teams bot the feedback buttons and forms."""

    def press(user: UserContext, action_id: str, value: str, mode: ActionMode) -> CardOutcome:
        feedback = services.feedback
        if action_id == FeedbackActions.OPEN_REQUEST_FORM:
            try:
                review_id = feedback.find_review(value)
            except FeedbackError as error:
                return _outcome(message=str(error))
            refusal = feedback.request_refusal(user.person.id if user.person else None, review_id)
            if refusal:
                return _outcome(card=_notice_card(refusal, ReplyKind.PROBLEM))
            return _outcome(card=request_card(feedback, review_id, mode), form_open=True)
        if action_id == FeedbackActions.SHOW_CHART:
            try:
                review_id = feedback.find_review(value)
            except FeedbackError as error:
                return _outcome(message=str(error))
            refusal = feedback.summary_refusal(user.person.id if user.person else None, review_id)
            if refusal:
                return _outcome(message=refusal)
            return _outcome(card=chart_card(feedback, review_id))
        if action_id == FeedbackActions.CHANGE:
            round_id, token = FeedbackService.parse_change_value(value)
            form = feedback.response_form(user.person, round_id, token=token)
        else:
            form = feedback.response_form(user.person, value)
        return _outcome(card=response_card(form, mode), form_open=form.refusal is None)

    bot.register_card_press(
        [FeedbackActions.OPEN_REQUEST_FORM, FeedbackActions.GIVE, FeedbackActions.CHANGE, FeedbackActions.SHOW_CHART],
        press,
    )
    bot.register_verb(VERB_REQUEST_SUBMIT, lambda user, data, mode: submit_request(services, user, data, mode))
    bot.register_verb(VERB_RESPONSE_SUBMIT, lambda user, data, mode: submit_response(services, user, data, mode))
