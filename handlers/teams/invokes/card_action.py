"""``adaptiveCard/action``: an ``Action.Execute`` pressed in a chat. The card handler's new card replaces the
pressed one, or its short message is shown beside it; further replies follow through the Connector."""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity

from handlers.teams.constants import CARD_RESPONSE_TYPE, DATA_VERB, MESSAGE_RESPONSE_TYPE
from handlers.teams.context import TeamsContext
from handlers.teams.invokes import FollowUp, InvokeResult
from handlers.teams.registry import CardOutcome, CardPress


def follow_up(teams: TeamsContext, activity: Activity, outcome: CardOutcome) -> FollowUp:
    return teams.follow_up_parts(activity, outcome)


def answer_card_action(teams: TeamsContext, activity: Activity) -> tuple[InvokeResult, FollowUp]:
    value: dict[str, Any] = activity.value if isinstance(activity.value, dict) else {}
    action: dict[str, Any] = value["action"] if isinstance(value.get("action"), dict) else {}
    data = dict(action.get("data") or {})
    data.setdefault(DATA_VERB, action.get("verb"))
    outcome = teams.cards.handle(CardPress(teams.user(activity), data, "execute"))
    if outcome.card is not None:
        body = {"statusCode": 200, "type": CARD_RESPONSE_TYPE, "value": outcome.card}
    else:
        body = {"statusCode": 200, "type": MESSAGE_RESPONSE_TYPE, "value": outcome.message or "Done."}
    return InvokeResult(200, body), follow_up(teams, activity, outcome)
