"""The app added to a chat (remember how to reach the user, say hello) or removed (stop messaging them).

Teams says so twice on install, as ``conversationUpdate`` (members added) and ``installationUpdate``
(``add``); both are handled, and storing the person twice is harmless.
"""

from __future__ import annotations

import structlog
from microsoft_agents.activity import Activity

from handlers.teams.context import TeamsContext
from handlers.teams.outbox import Part
from handlers.teams.people import is_personal
from workflows.replies import Reply

log = structlog.get_logger(__name__)

WELCOME_PERSONAL = (
    "Hello! I'm the Commissioning Assistant. Ask me anything about the commissioning guidance, "
    "for example “Who approves sourcing decisions?”, and I'll quote the passage I'm relying on.\n"
    "Type “new review” to set up a commissioning review, “my reviews” to see yours, or “help” for everything I can do."
)
WELCOME_TEAM = (
    "Hello! I'm the Commissioning Assistant. @mention me with a question about the commissioning guidance, "
    "or with “help” to see what I can do. For reminders and forms, chat with me directly."
)


def on_conversation_update(teams: TeamsContext, activity: Activity) -> list[Part]:
    bot_id = activity.recipient.id if activity.recipient else None
    added = [m.id for m in activity.members_added or []]
    removed = [m.id for m in activity.members_removed or []]
    if bot_id and bot_id in added:
        teams.people.identify(activity)
        log.info("teams_app_installed", personal=is_personal(activity))
        welcome = Reply(WELCOME_PERSONAL if is_personal(activity) else WELCOME_TEAM)
        return teams.reply_parts(activity, [welcome], None, thread=False)
    if bot_id and bot_id in removed and is_personal(activity):
        teams.mark_sender_unreachable(activity)
    return []


def on_installation_update(teams: TeamsContext, activity: Activity) -> list[Part]:
    action = (activity.action or "").lower()
    if action.startswith("add"):
        teams.people.identify(activity)
        log.info("teams_app_installed", personal=is_personal(activity), via="installationUpdate")
    elif action.startswith("remove") and is_personal(activity):
        teams.mark_sender_unreachable(activity)
    return []
