"""The assistant's commands, for every platform that has them.

Slack's slash command (``/commissioning list``) and Teams' typed commands
(``list``, ``status 12``) both come here: :func:`parse_command` splits the text
into a :class:`Command`, and :meth:`CommandRunner.run` answers it with the
same platform-neutral :class:`~workflows.replies.Reply` objects the chat core
produces. Nothing here knows about Slack or Teams.

Commands::

    ask <question>      a question for the guidance
    new                 the review wizard, as one form
    list                the officer's open reviews
    status <review>     where one review stands
    advance <review> [reason]
                        mark the review's current stage done
    feedback <review>   ask stakeholders for feedback (workflows/feedback.py)
    feedback summary <review>
                        response rate, ratings and comments
    roles               who does what, from the guidance
    whois <role>        a role's responsibilities and who holds it here
    help                this list

A review is named by its number (``12`` or ``#12``) or by words from its title.
Buttons on the replies carry action ids from :class:`CommandActions`; an
adapter sends a press back through :meth:`CommandRunner.press`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import structlog

from storage.review_snapshots import ReviewSummary
from workflows.actions import Actions, CommandActions, InsightsActions, parse_stage_value, stage_value
from workflows.command_parsing import Command, parse_command
from workflows.dates import format_date
from workflows.dialogue import Dialogue, UserContext, describe_review
from workflows.feedback import FeedbackService, give_feedback_button
from workflows.guidance_insights import NOT_AN_OWNER, InsightsService
from workflows.insights import insights_text
from workflows.replies import Button, Reply, ReplyKind, shorten
from workflows.review_reference import matching_reviews, parse_review_reference
from workflows.reviews import Actor, ReviewError, ReviewService
from workflows.role_commands import RoleCommands, RoleSource

__all__ = ["CommandRunner"]

log = structlog.get_logger(__name__)

FEEDBACK_NOT_SET_UP = (
    "Feedback requests aren't set up here, so I can't send them for you. "
    "You can still see where a review stands with “status” and its number."
)
SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on my side. Please try again in a minute; "
    "if it keeps happening, let your system administrator know."
)


class CommandRunner:
    """Runs commands against the chat core, the review service and the guidance.

    ``command_prefix`` is how this platform writes a command in help text ("/commissioning " on Slack,
    "" on Teams). ``roles`` may be a factory, so a platform can start before the index is loaded.
    ``feedback`` answers ``feedback <review>``; without it the command says feedback isn't set up here.
    """

    def __init__(
        self,
        dialogue: Dialogue,
        *,
        roles: RoleSource | Callable[[], RoleSource] | None = None,
        feedback: FeedbackService | Callable[[], FeedbackService] | None = None,
        insights: InsightsService | Callable[[], InsightsService] | None = None,
        command_prefix: str = "",
    ) -> None:
        self.dialogue = dialogue
        self._roles = RoleCommands(roles, dialogue.people, command_prefix)
        self._feedback_source = feedback
        self._insights_source = insights
        self.command_prefix = command_prefix
        self._commands: dict[str, Callable[[UserContext, str], list[Reply]]] = {
            "ask": self._cmd_ask,
            "new": self._cmd_new,
            "list": self._cmd_list,
            "status": self._cmd_status,
            "advance": self._cmd_advance,
            "feedback": self._cmd_feedback,
            "roles": self._cmd_roles,
            "whois": self._cmd_whois,
            "insights": self._cmd_insights,
            "help": self._cmd_help,
        }

    # --- entry points -------------------------------------------------------------------

    def run(self, user: UserContext, text: str) -> list[Reply]:
        return self.run_command(user, parse_command(text))

    def run_command(self, user: UserContext, command: Command) -> list[Reply]:
        log.info("command_received", platform=user.platform, command=command.name, unknown=command.unknown is not None)
        if command.unknown is not None:
            return self._help(command.unknown)
        try:
            return self._commands[command.name](user, command.argument)
        except ReviewError as error:  # refused, or no such review: written for the officer
            return [Reply(str(error), ReplyKind.PROBLEM)]
        except Exception as error:  # noqa: BLE001 - the officer gets a plain message; operators get the log
            log.error(
                "command_failed",
                platform=user.platform,
                command=command.name,
                error=type(error).__name__,
                detail=str(error)[:300],
            )
            return [Reply(SOMETHING_WENT_WRONG, ReplyKind.PROBLEM)]

    def press(self, user: UserContext, action_id: str, value: str) -> list[Reply]:
        """A button from a command's reply was pressed."""
        if action_id == CommandActions.REVIEW_STATUS:
            return self.run_command(user, Command("status", value))
        if action_id in (CommandActions.REVIEW_ADVANCE, CommandActions.REVIEW_ADVANCE_WITH_REASON):
            review_id, stage = parse_stage_value(value)
            return self.advance(user, review_id, stage_name=stage or None)
        raise ValueError(f"commands have no button {action_id!r}")

    def help_text(self) -> str:
        p = self.command_prefix
        return "\n".join(
            [
                "Here's what I can do:",
                f"• `{p}ask <question>`: a question about the commissioning guidance",
                f"• `{p}new`: set up a new commissioning review",
                f"• `{p}list`: your open reviews",
                f"• `{p}status <review>`: where a review stands (its number, e.g. `{p}status 12`)",
                f"• `{p}advance <review> [reason]`: mark the current stage of a review done",
                f"• `{p}feedback <review>`: ask stakeholders for feedback on a review; "
                f"`{p}feedback summary <review>` shows what they said",
                f"• `{p}roles`: who does what in commissioning",
                f"• `{p}whois <role>`: what a role does and who holds it here, e.g. `{p}whois portfolio holder`",
                f"• `{p}insights [since date]`: where the guidance falls short (for the guidance's owners)",
                f"• `{p}help`: this list",
            ]
        )

    # --- the commands -----------------------------------------------------------------

    def _help(self, unknown: str | None = None) -> list[Reply]:
        text = self.help_text()
        if unknown:
            text = f"I don't know the command “{shorten(unknown, 40)}”.\n\n{text}"
        return [Reply(text, ReplyKind.INFO)]

    def _cmd_help(self, user: UserContext, argument: str) -> list[Reply]:
        return self._help()

    def _cmd_ask(self, user: UserContext, argument: str) -> list[Reply]:
        if not argument:
            return [
                Reply(
                    f"What would you like to know? For example: `{self.command_prefix}ask who approves "
                    "sourcing decisions?`",
                    ReplyKind.INFO,
                )
            ]
        # The chat core's "suggested question" path: always a guidance question, even mid-review.
        return self.dialogue.press(user, Actions.ASK, argument)

    def _cmd_new(self, user: UserContext, argument: str) -> list[Reply]:
        """The wizard as one form; platforms without forms can offer the step-by-step conversation instead."""
        return [
            Reply(
                "Fill in the form to set up a review.",
                ReplyKind.QUESTION,
                form=self.dialogue.review_form(user),
                buttons=[Button("Answer one question at a time instead", "start a review")],
            )
        ]

    def _cmd_list(self, user: UserContext, argument: str) -> list[Reply]:
        reviews = self._review_service()
        if user.person is None:
            return [self._unknown_person()]
        mine = reviews.list_mine(user.person.id)
        if not mine:
            return [
                Reply(
                    f"You have no open reviews. Use `{self.command_prefix}new` to set one up.",
                    ReplyKind.INFO,
                    buttons=[Button("Set up a review", "", Actions.OPEN_REVIEW_FORM, style="primary")],
                )
            ]
        today = reviews.today()
        lines = [f"Your open reviews ({len(mine)}):"]
        for review in mine:
            lines.append(f"• {describe_review(review, today)}")
        lines.append(f"Use `{self.command_prefix}status` and a number for the detail.")
        buttons = [Button(f"Status #{review.id}", str(review.id), CommandActions.REVIEW_STATUS) for review in mine[:5]]
        return [Reply("\n".join(lines), ReplyKind.INFO, buttons=buttons)]

    def _cmd_status(self, user: UserContext, argument: str) -> list[Reply]:
        reviews = self._review_service()
        found = self._find_review(user, argument, "status")
        if isinstance(found, Reply):
            return [found]
        review_id = found
        text = reviews.status_summary(review_id)
        review = reviews.get(review_id)
        buttons: list[Button] = []
        current = review.current_stage
        if (
            review.is_open
            and current is not None
            and user.person is not None
            and user.person.id in (current.owner.id, review.lead_commissioner.id)
        ):
            buttons.append(
                Button(
                    f"Mark {current.name} done",
                    stage_value(review.id, current.name),
                    CommandActions.REVIEW_ADVANCE,
                    style="primary",
                )
            )
        if review.is_open:
            # Anyone may give feedback on a review nobody asked them about (workflows/feedback/).
            buttons.append(give_feedback_button(review.id))
        return [Reply(text, ReplyKind.INFO, buttons=buttons)]

    def _cmd_advance(self, user: UserContext, argument: str) -> list[Reply]:
        self._review_service()
        review_id, reason = parse_review_reference(argument)
        if review_id is None:
            found = self._find_review(user, argument, "advance")
            if isinstance(found, Reply):
                return [found]
            review_id, reason = found, ""
        return self.advance(user, review_id, reason=reason or None)

    def _cmd_feedback(self, user: UserContext, argument: str) -> list[Reply]:
        source = self._feedback_source
        if source is None:
            log.info("feedback_command_not_set_up", platform=user.platform)
            return [Reply(FEEDBACK_NOT_SET_UP, ReplyKind.INFO)]
        feedback = source if isinstance(source, FeedbackService) else source()
        return feedback.command(user, argument)

    def _cmd_insights(self, user: UserContext, argument: str) -> list[Reply]:
        source = self._insights_source
        insights = source if isinstance(source, InsightsService) or source is None else source()
        if insights is None or not insights.is_owner(user.person.id if user.person else None):
            return [Reply(NOT_AN_OWNER, ReplyKind.INFO)]
        since = None
        if argument.strip():
            try:
                since = date.fromisoformat(argument.strip().removeprefix("since").strip())
            except ValueError:
                return [
                    Reply(
                        f"I couldn't read “{shorten(argument, 40)}” as a date. Try "
                        f"`{self.command_prefix}insights 2026-01-31` or just `{self.command_prefix}insights`.",
                        ReplyKind.PROBLEM,
                    )
                ]
        report = insights.report(since)
        return [
            Reply(
                insights_text(report),
                ReplyKind.INFO,
                buttons=[Button("Show as a chart", argument.strip(), InsightsActions.SHOW_CHART)],
            )
        ]

    def _cmd_roles(self, user: UserContext, argument: str) -> list[Reply]:
        return self._roles.roles()

    def _cmd_whois(self, user: UserContext, argument: str) -> list[Reply]:
        return self._roles.whois(argument)

    # --- advancing, shared by the command and its buttons -------------------------------

    def advance(
        self, user: UserContext, review_id: int, *, stage_name: str | None = None, reason: str | None = None
    ) -> list[Reply]:
        """Mark the current stage done. When checklist items are open and no reason is given, say which and
        offer a button for finishing with a reason (the adapter asks for it and calls back here)."""
        reviews = self._review_service()
        if user.person is None:
            return [self._unknown_person()]
        try:
            review = reviews.get(review_id)
        except ReviewError as error:  # no such review: written for the officer
            return [Reply(f"{error} Use `{self.command_prefix}list` to see yours.", ReplyKind.PROBLEM)]
        current = review.current_stage
        if current is not None and current.open_items and not reason:
            stage = stage_name or current.name
            items = "\n".join(f"• {item.text}" for item in current.open_items)
            return [
                Reply(
                    f"{current.name} of #{review.id} “{review.title}” still has checklist items open:\n{items}\n"
                    "Tick them off first, or finish the stage now and say why.",
                    ReplyKind.QUESTION,
                    buttons=[
                        Button(
                            "Finish with a reason",
                            stage_value(review.id, stage),
                            CommandActions.REVIEW_ADVANCE_WITH_REASON,
                        )
                    ],
                )
            ]
        try:
            updated = reviews.advance_stage(
                review_id, Actor.person(user.person.id, user.person.name), stage_name=stage_name, reason=reason
            )
        except ReviewError as error:  # refused (not the owner, wrong stage, a bad reason): written for the officer
            return [Reply(str(error), ReplyKind.PROBLEM)]
        log.info("stage_advanced_by_command", platform=user.platform, review_id=review_id)
        following = updated.current_stage
        if following is None:
            text = f"Done: every stage of #{updated.id} “{updated.title}” is complete, so the review can be closed."
        else:
            text = (
                f"Done: #{updated.id} “{updated.title}” has moved on to {following.name} "
                f"(owner {following.owner.name}, due {format_date(following.due_date)})."
            )
        return [Reply(text, ReplyKind.DONE, buttons=[Button("Status", str(updated.id), CommandActions.REVIEW_STATUS)])]

    # --- helpers ---------------------------------------------------------------------

    def _review_service(self) -> ReviewService:
        if self.dialogue.reviews is None:
            raise RuntimeError("the chat core was built without a review service")
        return self.dialogue.reviews

    def _unknown_person(self) -> Reply:
        return Reply(
            "I don't know who you are in the council's people list, so I can't find your reviews. "
            "Ask an administrator to add you.",
            ReplyKind.PROBLEM,
        )

    def _find_review(self, user: UserContext, argument: str, command: str) -> int | Reply:
        """A review number from what the officer typed: a number, or title words matching one review."""
        review_id, _ = parse_review_reference(argument)
        if review_id is not None:
            return review_id
        if not argument.strip():
            return Reply(
                f"Which review? Give its number, e.g. `{self.command_prefix}{command} 12`, or use "
                f"`{self.command_prefix}list` to see yours.",
                ReplyKind.INFO,
            )
        reviews = self._review_service()
        candidates: Sequence[ReviewSummary] = reviews.list_mine(user.person.id) if user.person else []
        matches = matching_reviews(candidates, argument) or matching_reviews(reviews.list_all(), argument)
        if len(matches) == 1:
            return matches[0].id
        if not matches:
            return Reply(
                f"I couldn't find an open review matching “{shorten(argument, 80)}”. Use "
                f"`{self.command_prefix}list` to see yours.",
                ReplyKind.INFO,
            )
        lines = [f"More than one review matches “{shorten(argument, 80)}”:"]
        lines += [f"• #{r.id} “{r.title}” ({r.service})" for r in matches[:10]]
        return Reply(
            "\n".join(lines),
            ReplyKind.QUESTION,
            buttons=[
                Button(f"#{r.id} {shorten(r.title, 60)}", str(r.id), CommandActions.REVIEW_STATUS) for r in matches[:5]
            ],
        )
