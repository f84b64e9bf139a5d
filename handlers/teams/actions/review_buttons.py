"""Buttons from command replies and the App Home (status, mark a stage done) and the reason card for finishing a
stage whose checklist still has items open. The rules are in ``workflows/reviews.py``; ``workflows/commands.py``
turns them into replies."""

from __future__ import annotations

from handlers.teams import cards
from handlers.teams.constants import REASON_INPUT_ID, VERB_ADVANCE_WITH_REASON
from handlers.teams.context import TeamsContext
from handlers.teams.registry import STALE_BUTTON, CardHandlers, CardOutcome, CardPress
from workflows.actions import CommandActions, parse_stage_value


def register(cards_: CardHandlers, teams: TeamsContext) -> None:
    def review_button(press: CardPress) -> CardOutcome:
        try:
            replies = teams.commands.press(press.user, press.action_id, press.value)
        except ValueError:
            return CardOutcome(message=STALE_BUTTON)
        return CardOutcome(message="Here you are.", replies=replies)

    def ask_for_reason(press: CardPress) -> CardOutcome:
        return CardOutcome(card=cards.render_reason_card(press.value, press.mode))

    def finish_with_reason(press: CardPress) -> CardOutcome:
        reason = str(press.data.get(REASON_INPUT_ID) or "").strip()
        try:
            review_id, stage = parse_stage_value(press.value or "0")
        except ValueError:
            return CardOutcome(message=STALE_BUTTON)
        if not reason:
            error = "Please say why the stage is finished."
            return CardOutcome(card=cards.render_reason_card(press.value, press.mode, error=error))
        replies = teams.commands.advance(press.user, review_id, stage_name=stage or None, reason=reason)
        return teams.as_card(replies, press.mode)

    cards_.on_press([CommandActions.REVIEW_STATUS, CommandActions.REVIEW_ADVANCE], review_button)
    cards_.on_press([CommandActions.REVIEW_ADVANCE_WITH_REASON], ask_for_reason)
    cards_.on_verb(VERB_ADVANCE_WITH_REASON, finish_with_reason)
