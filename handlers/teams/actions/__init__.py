"""Card buttons and card forms, one module per feature, each with ``register(cards, teams)``.

Every module says which of the core's buttons (by action id) and which card verbs it answers; see
``handlers/teams/registry.py``. The rules themselves live in ``workflows/``.
"""

from handlers.teams.actions import (
    answer_rating,
    conversation_buttons,
    feedback,
    insights,
    nudges,
    review_buttons,
    review_form,
)
from handlers.teams.context import TeamsContext
from handlers.teams.registry import CardHandlers

FEATURES = (answer_rating, conversation_buttons, review_form, review_buttons, nudges, feedback, insights)


def register(cards: CardHandlers, teams: TeamsContext) -> None:
    for feature in FEATURES:
        feature.register(cards, teams)
