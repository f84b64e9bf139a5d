"""``task/fetch`` and ``task/submit``: the review form as a dialog, opened from the command menu.

The dialog stays open while the form has problems to show; once it is accepted it closes on a short
message and the confirmation card goes into the chat to be kept."""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity

from handlers.teams import cards
from handlers.teams.constants import DATA_VERB, VERB_OPEN_REVIEW_FORM
from handlers.teams.context import TeamsContext
from handlers.teams.invokes import FollowUp, InvokeResult
from handlers.teams.invokes.card_action import follow_up
from handlers.teams.registry import CardOutcome, CardPress


def _task_response(outcome: CardOutcome) -> dict[str, Any]:
    if outcome.card is not None and outcome.form_open:
        dialog = {"title": "New commissioning review", "height": "large", "width": "large"}
        return {"task": {"type": "continue", "value": {**dialog, "card": cards.attachment(outcome.card)}}}
    text = outcome.message or (outcome.replies[0].text.split("\n", 1)[0] if outcome.replies else "Done.")
    return {"task": {"type": "message", "value": text[:500]}}


def _answer(teams: TeamsContext, activity: Activity, data: dict[str, Any]) -> tuple[InvokeResult, FollowUp]:
    outcome = teams.cards.handle(CardPress(teams.user(activity), data, "submit"))
    if outcome.done is not None:
        # The dialog closes on a message; the confirmation card goes into the chat to be kept.
        outcome.replies = [outcome.done, *outcome.replies]
    return InvokeResult(200, _task_response(outcome)), follow_up(teams, activity, outcome)


def _data(activity: Activity) -> dict[str, Any]:
    value = activity.value if isinstance(activity.value, dict) else {}
    return dict(value.get("data") or {})


def answer_task_fetch(teams: TeamsContext, activity: Activity) -> tuple[InvokeResult, FollowUp]:
    data = _data(activity)
    data.setdefault(DATA_VERB, VERB_OPEN_REVIEW_FORM)  # the one dialog this bot opens
    return _answer(teams, activity, data)


def answer_task_submit(teams: TeamsContext, activity: Activity) -> tuple[InvokeResult, FollowUp]:
    return _answer(teams, activity, _data(activity))
