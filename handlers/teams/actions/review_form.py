"""The review wizard as one card (in the chat, or as a dialog from the command menu): opening it and submitting
it. The rules, and the messages next to each field, are the chat core's (``workflows/dialogue.py``)."""

from __future__ import annotations

from dataclasses import replace

import structlog

from handlers.teams import cards
from handlers.teams.constants import DATA_CONFIRMED, VERB_OPEN_REVIEW_FORM, VERB_REVIEW_FORM_SUBMIT
from handlers.teams.context import SOMETHING_WENT_WRONG, TeamsContext
from handlers.teams.registry import CardHandlers, CardOutcome, CardPress
from workflows.actions import Actions
from workflows.replies import Reply, ReplyKind

log = structlog.get_logger(__name__)


def register(cards_: CardHandlers, teams: TeamsContext) -> None:
    def open_form(press: CardPress) -> CardOutcome:
        form = teams.services.dialogue.review_form(press.user)
        return CardOutcome(card=cards.render_form_card(form, mode=press.mode), form_open=True)

    def submit_form(press: CardPress) -> CardOutcome:
        dialogue = teams.services.dialogue
        spec = dialogue.review_form(press.user)
        values = cards.form_values(press.data, spec.fields)
        confirmed = [str(item) for item in press.data.get(DATA_CONFIRMED) or [] if isinstance(item, str)]
        result = dialogue.submit_review_form(press.user, values, confirmed)
        if result.errors or result.warnings:
            log.info("teams_review_form_invalid", errors=sorted(result.errors), warnings=sorted(result.warnings))
            shown = replace(spec, errors=dict(result.errors), warnings=dict(result.warnings))
            return CardOutcome(card=cards.render_form_card(shown, values, press.mode), form_open=True)
        if result.created is None:
            # The review could not be saved (a rule the form could not check): say so above the form.
            problem = result.replies[0].text if result.replies else SOMETHING_WENT_WRONG
            content = cards.render_form_card(spec, values, press.mode)
            content["body"].insert(1, cards.text_block(problem, color="Attention", weight="Bolder"))
            return CardOutcome(card=content, form_open=True)
        done = result.replies[0] if result.replies else Reply("Your review is set up.", ReplyKind.DONE)
        log.info("teams_review_created", via=press.mode)
        card = cards.render_reply_card(done, press.mode)
        return CardOutcome(card=card, message=done.text.split("\n", 1)[0], done=done)

    cards_.on_press([Actions.OPEN_REVIEW_FORM], open_form)
    # The command menu's dialog (task/fetch) opens the same form by this verb.
    cards_.on_verb(VERB_OPEN_REVIEW_FORM, open_form)
    cards_.on_verb(VERB_REVIEW_FORM_SUBMIT, submit_form)
