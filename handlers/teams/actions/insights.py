"""The guidance insights' "Show as a chart" button: the insights card with its chart, for guidance owners only
(checked again at the press: a forwarded card shows nothing to anyone else)."""

from __future__ import annotations

from datetime import date

from handlers.teams.context import TeamsContext
from handlers.teams.insight_cards import insights_chart_card
from handlers.teams.registry import CardHandlers, CardOutcome, CardPress
from workflows.actions import InsightsActions
from workflows.guidance_insights import NOT_AN_OWNER


def register(cards: CardHandlers, teams: TeamsContext) -> None:
    def show_chart(press: CardPress) -> CardOutcome:
        insights = teams.services.insights
        if not insights.is_owner(press.user.person.id if press.user.person else None):
            return CardOutcome(message=NOT_AN_OWNER)
        try:
            since = date.fromisoformat(press.value) if press.value else None
        except ValueError:
            since = None
        return CardOutcome(card=insights_chart_card(insights.report(since)))

    cards.on_press([InsightsActions.SHOW_CHART], show_chart)
