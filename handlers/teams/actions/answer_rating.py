""" "Helpful" / "Not helpful" under a guidance answer: thank the officer, leave the answer card as it was, and log
the rating (ratings are counted from these log events, the same ones Slack writes)."""

from __future__ import annotations

import structlog

from handlers.teams.constants import PLATFORM
from handlers.teams.context import TeamsContext
from handlers.teams.registry import CardHandlers, CardOutcome, CardPress
from workflows.actions import Actions

log = structlog.get_logger(__name__)

THANKS_HELPFUL = "Thanks, glad it helped."
THANKS_NOT_HELPFUL = "Thanks for telling us. We use this to improve the answers."


def register(cards: CardHandlers, teams: TeamsContext) -> None:
    def rate_answer(press: CardPress) -> CardOutcome:
        helpful = press.action_id == Actions.HELPFUL
        log.info("answer_rated", platform=PLATFORM, helpful=helpful, question_chars=len(press.value))
        return CardOutcome(message=THANKS_HELPFUL if helpful else THANKS_NOT_HELPFUL)

    cards.on_press([Actions.HELPFUL, Actions.NOT_HELPFUL], rate_answer)
