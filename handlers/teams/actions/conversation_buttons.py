"""Buttons the chat core offers (a choice in the review conversation, a suggested question): the value goes back
to the same conversation as if typed; the replies follow through the Connector."""

from __future__ import annotations

from handlers.teams.context import TeamsContext
from handlers.teams.registry import CardHandlers, CardOutcome, CardPress
from workflows.actions import Actions


def register(cards: CardHandlers, teams: TeamsContext) -> None:
    def answer(press: CardPress) -> CardOutcome:
        replies = teams.services.dialogue.press(press.user, press.action_id, press.value)
        return CardOutcome(message=f"You said: {press.value}"[:200], replies=replies)

    def ask(press: CardPress) -> CardOutcome:
        replies = teams.services.dialogue.press(press.user, press.action_id, press.value)
        return CardOutcome(message="Looking that up…", replies=replies, question=press.value)

    cards.on_press([Actions.ANSWER], answer)
    cards.on_press([Actions.ASK], ask)
