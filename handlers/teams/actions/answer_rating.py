""" "Helpful" / "Not helpful" buttons under a guidance answer card (channels, where Teams has no feedback loop):
store the rating against the answer's ref (the button's value) without identity, thank the officer, and leave
the answer card as it was."""

from __future__ import annotations

from handlers.teams.constants import PLATFORM
from handlers.teams.context import TeamsContext
from handlers.teams.registry import CardHandlers, CardOutcome, CardPress
from workflows.actions import Actions
from workflows.answer_ratings import THANKS_HELPFUL, THANKS_NOT_HELPFUL, rate_answer


def register(cards: CardHandlers, teams: TeamsContext) -> None:
    def rate(press: CardPress) -> CardOutcome:
        helpful = press.action_id == Actions.HELPFUL
        rate_answer(teams.services.dialogue.answer_log, PLATFORM, press.value, helpful)
        return CardOutcome(message=THANKS_HELPFUL if helpful else THANKS_NOT_HELPFUL)

    cards.on_press([Actions.HELPFUL, Actions.NOT_HELPFUL], rate)
