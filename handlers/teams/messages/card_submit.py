"""A card's ``Action.Submit`` that arrives as a message (clients without Universal Actions): the same card
handlers as an invoke, with the outcome delivered by updating the card in place."""

from __future__ import annotations

from microsoft_agents.activity import Activity

from handlers.teams.context import TeamsContext
from handlers.teams.outbox import Part
from handlers.teams.registry import CardPress


def is_card_submit(activity: Activity) -> bool:
    return isinstance(activity.value, dict) and not (activity.text or "").strip()


def answer_card_submit(teams: TeamsContext, activity: Activity) -> list[Part]:
    data = activity.value if isinstance(activity.value, dict) else {}
    outcome = teams.cards.handle(CardPress(teams.user(activity), data, "submit"))
    return teams.card_update_parts(activity, outcome)
