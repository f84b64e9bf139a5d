"""Stakeholder feedback's buttons and forms in Teams: asking (the request card), answering (the answer card,
"Change my answer") and the summary as a chart. The rules are in ``workflows/feedback/``; the cards in
``handlers/teams/feedback_cards.py``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import structlog

from handlers.teams import cards
from handlers.teams.constants import DATA_ROUND, DATA_TOKEN, VERB_FEEDBACK_REQUEST, VERB_FEEDBACK_RESPONSE
from handlers.teams.context import TeamsContext
from handlers.teams.feedback_cards import chart_card, request_card, response_card
from handlers.teams.registry import CardHandlers, CardOutcome, CardPress, Job
from workflows.actions import FeedbackActions
from workflows.feedback import FeedbackError, RequestFields, RequestForm, parse_change_value
from workflows.people import Resolved
from workflows.replies import ReplyKind

log = structlog.get_logger(__name__)

_SEPARATORS = re.compile(r"[\n;,]+")
JOB_SEND_INVITATIONS = "feedback.send_invitations"


def register(cards_: CardHandlers, teams: TeamsContext) -> None:
    def person_id(press: CardPress) -> int | None:
        return press.user.person.id if press.user.person else None

    def open_request_form(press: CardPress) -> CardOutcome:
        feedback = teams.services.feedback
        try:
            review_id = feedback.rules.find_review(press.value)
        except FeedbackError as error:
            return CardOutcome(message=str(error))
        refusal = feedback.rules.request_refusal(person_id(press), review_id)
        if refusal:
            return CardOutcome(card=cards.render_notice_card(refusal, ReplyKind.PROBLEM))
        return CardOutcome(card=request_card(feedback, review_id, press.mode), form_open=True)

    def ask(press: CardPress) -> CardOutcome:
        """The request card was sent: the core's one use case, then the invitations once Teams has its answer."""
        feedback = teams.services.feedback
        review_id = int(press.value) if press.value.isdigit() else 0
        values = {
            key: str(press.data.get(key) or "")
            for key in (RequestFields.PEOPLE, RequestFields.QUESTION_SET, RequestFields.CLOSES_ON)
        }
        person_ids: list[int] = []
        unresolved: list[str] = []
        for name in (part.strip() for part in _SEPARATORS.split(values[RequestFields.PEOPLE])):
            if not name:
                continue
            found = press.user.people.resolve(name)
            if isinstance(found, Resolved):
                person_ids.append(found.person.id)
            else:
                unresolved.append(name)
        form = RequestForm(
            person_ids=person_ids,
            question_set=values[RequestFields.QUESTION_SET],
            closes_on=values[RequestFields.CLOSES_ON],
            unresolved=unresolved,
        )
        outcome = feedback.requests.ask(press.user.person, review_id, form)
        if outcome.refusal:
            return CardOutcome(card=cards.render_notice_card(outcome.refusal, ReplyKind.PROBLEM))
        if outcome.round is None or outcome.confirmation is None:
            log.info("teams_feedback_request_invalid", errors=sorted(outcome.errors))
            card = request_card(feedback, review_id, press.mode, values, outcome.errors)
            return CardOutcome(card=card, form_open=True)
        created, done = outcome.round, outcome.confirmation

        # The invitations go out after the answer to this button: an invoke must be answered within seconds.
        return CardOutcome(
            card=cards.render_reply_card(done, press.mode),
            message=done.text.split("\n", 1)[0],
            after=Job(JOB_SEND_INVITATIONS, {"round_id": created.id}),
        )

    def send_invitations(args: Mapping[str, Any]) -> None:
        """The round's invitations, each once (the notification ledger), so doing it again sends nothing twice."""
        feedback = teams.services.feedback
        round_record = feedback.rules.repository.get_round(int(args["round_id"]))
        if round_record is None:
            log.warning("teams_feedback_round_gone", round_id=args.get("round_id"))
            return
        feedback.requests.send_invitations(round_record)

    def open_answer_form(press: CardPress) -> CardOutcome:
        answers = teams.services.feedback.answers
        if press.action_id == FeedbackActions.CHANGE:
            round_id, token = parse_change_value(press.value)
            form = answers.form(press.user.person, round_id, token=token)
        else:
            form = answers.form(press.user.person, press.value)
        return CardOutcome(card=response_card(form, press.mode), form_open=form.refusal is None)

    def answer(press: CardPress) -> CardOutcome:
        answers = teams.services.feedback.answers
        round_id = int(str(press.data.get(DATA_ROUND) or "0") or 0)
        token = str(press.data.get(DATA_TOKEN) or "")
        values = {key: value for key, value in press.data.items() if isinstance(value, str)}
        outcome = answers.submit(press.user.person, round_id, token, values)
        if outcome.errors:
            form = answers.form(press.user.person, str(round_id), token=token or None)
            if form.refusal:
                return CardOutcome(card=cards.render_notice_card(form.refusal))
            shown = replace(form, values={k: v for k, v in values.items() if k != DATA_TOKEN})
            return CardOutcome(card=response_card(shown, press.mode, outcome.errors), form_open=True)
        if outcome.refusal:
            return CardOutcome(card=cards.render_notice_card(outcome.refusal))
        assert outcome.done is not None
        # The thank-you replaces the form, and its "Change my answer" keeps the secret in the person's own chat.
        done = outcome.done
        return CardOutcome(card=cards.render_reply_card(done, press.mode), message=done.text, done=done)

    def show_chart(press: CardPress) -> CardOutcome:
        feedback = teams.services.feedback
        try:
            review_id = feedback.rules.find_review(press.value)
        except FeedbackError as error:
            return CardOutcome(message=str(error))
        refusal = feedback.rules.summary_refusal(person_id(press), review_id)
        if refusal:
            return CardOutcome(message=refusal)
        return CardOutcome(card=chart_card(feedback, review_id))

    cards_.on_press([FeedbackActions.OPEN_REQUEST_FORM], open_request_form)
    cards_.on_verb(VERB_FEEDBACK_REQUEST, ask)
    cards_.on_press([FeedbackActions.GIVE, FeedbackActions.CHANGE], open_answer_form)
    cards_.on_verb(VERB_FEEDBACK_RESPONSE, answer)
    cards_.on_press([FeedbackActions.SHOW_CHART], show_chart)
    cards_.on_job(JOB_SEND_INVITATIONS, send_invitations)
