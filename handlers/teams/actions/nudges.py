"""A nudge's Snooze and Reassign buttons, and the box for naming a stage's new owner.

"Mark <stage> done" and "Open review" on a nudge are the command buttons (``review_buttons.py``).
The rules are in ``workflows/nudge_actions.py``.
"""

from __future__ import annotations

from handlers.teams import cards
from handlers.teams.constants import NEW_OWNER_INPUT_ID, VERB_REASSIGN_STAGE
from handlers.teams.context import TeamsContext
from handlers.teams.registry import STALE_BUTTON, CardHandlers, CardOutcome, CardPress
from workflows.actions import NudgeActions, parse_stage_value
from workflows.replies import ReplyKind


def _new_owner_box(title: str, value: str, press: CardPress, error: str | None = None) -> dict[str, object]:
    return cards.render_text_input_card(
        title,
        "New owner",
        input_id=NEW_OWNER_INPUT_ID,
        verb=VERB_REASSIGN_STAGE,
        value=value,
        submit_label="Hand it over",
        mode=press.mode,
        placeholder=None if error else "An @mention, an email or a name",
        error=error,
    )


def register(cards_: CardHandlers, teams: TeamsContext) -> None:
    def snooze(press: CardPress) -> CardOutcome:
        replies = teams.nudge_buttons.press(press.user, press.action_id, press.value)
        return CardOutcome(message=replies[0].text.split("\n", 1)[0][:200] if replies else "Done.", replies=replies)

    def reassign(press: CardPress) -> CardOutcome:
        replies = teams.nudge_buttons.press(press.user, press.action_id, press.value)
        if replies and replies[0].kind is ReplyKind.QUESTION:
            # The lead may hand the stage on: a box to name the new owner, as a new message so the
            # reminder (and its checklist) stays where it was.
            box = _new_owner_box(replies[0].text, press.value, press)
            return CardOutcome(message="Who should take it on? Fill in the box below.", new_cards=[box])
        return CardOutcome(message=replies[0].text.split("\n", 1)[0][:200] if replies else "Done.", replies=replies)

    def hand_over(press: CardPress) -> CardOutcome:
        new_owner = str(press.data.get(NEW_OWNER_INPUT_ID) or "").strip()
        try:
            review_id, stage_name = parse_stage_value(press.value)
        except ValueError:
            return CardOutcome(message=STALE_BUTTON)
        if not new_owner:
            title = f"Who should take on {stage_name} of #{review_id}?"
            error = "Please name the person who should take it on."
            return CardOutcome(card=_new_owner_box(title, press.value, press, error))
        reply = teams.nudge_buttons.reassign(press.user, review_id, stage_name, new_owner)
        return CardOutcome(card=cards.render_reply_card(reply, press.mode))

    cards_.on_press([NudgeActions.SNOOZE], snooze)
    cards_.on_press([NudgeActions.REASSIGN], reassign)
    cards_.on_verb(VERB_REASSIGN_STAGE, hand_over)
