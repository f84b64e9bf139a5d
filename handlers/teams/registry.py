"""One mapping from what a Teams card sends to the handler of its feature.

Every card button is an ``Action.Execute`` (or, in a dialog and in older clients, an
``Action.Submit``) whose data carries a *verb*:

- ``press`` for a button the core put on a reply (:mod:`workflows.actions`): the data's
  ``action_id`` names the button and ``value`` carries its value;
- a form's own verb (the review form, the reason card, the feedback forms) for its submit.

Each feature module under ``handlers/teams/actions/`` registers its handlers with
:meth:`CardHandlers.on_press` and :meth:`CardHandlers.on_verb`, the way each Slack listener
registers with Bolt. An action id or verb has exactly one handler: a second registration is
refused, so which handler answers never depends on the order anything was registered in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from handlers.teams.cards import ActionMode
from handlers.teams.constants import DATA_ACTION_ID, DATA_VALUE, DATA_VERB, VERB_PRESS
from workflows.dialogue import UserContext
from workflows.replies import Reply

__all__ = ["STALE_BUTTON", "CardHandler", "CardHandlers", "CardOutcome", "CardPress", "Job", "JobHandler"]

STALE_BUTTON = "That button is from an older message and no longer does anything. Type “help” to see what I can do."


@dataclass(frozen=True)
class Job:
    """Slow work to do once the platform has its answer, by name, so it can be stored and done by any process."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


JobHandler = Callable[[Mapping[str, Any]], None]


@dataclass
class CardOutcome:
    """What pressing a card's button led to, before choosing how Teams gets it."""

    card: dict[str, Any] | None = None  # shown in place of the pressed card
    message: str | None = None  # a short notice, leaving the card as it was
    replies: list[Reply] = field(default_factory=list)  # further messages, sent through the Connector
    question: str | None = None  # the question the replies answer, for Helpful / Not helpful
    form_open: bool = False  # the card is (still) the form: a dialog stays open
    done: Reply | None = None  # the form was accepted; a dialog closes and this goes into the chat
    new_cards: list[dict[str, Any]] = field(default_factory=list)  # cards to post as new messages
    after: Job | None = None  # slow work once Teams has its answer (e.g. sending invitations)


@dataclass(frozen=True)
class CardPress:
    """One press of a card's button, or one submitted card form: who, the card's data, and how it was sent."""

    user: UserContext
    data: Mapping[str, Any]
    mode: ActionMode  # "execute" (Action.Execute in a chat) or "submit" (a dialog, an older client)

    @property
    def action_id(self) -> str:
        return str(self.data.get(DATA_ACTION_ID) or "")

    @property
    def value(self) -> str:
        return str(self.data.get(DATA_VALUE) or "")


CardHandler = Callable[[CardPress], CardOutcome]


class CardHandlers:
    def __init__(self) -> None:
        self._presses: dict[str, CardHandler] = {}
        self._verbs: dict[str, CardHandler] = {}
        self._jobs: dict[str, JobHandler] = {}

    def on_press(self, action_ids: Iterable[str], handler: CardHandler) -> None:
        """``handler`` answers presses of the core's buttons with these action ids."""
        for action_id in action_ids:
            if action_id in self._presses:
                raise ValueError(f"the Teams button {action_id!r} already has a handler")
            self._presses[action_id] = handler

    def on_verb(self, verb: str, handler: CardHandler) -> None:
        """``handler`` answers a card whose action carries ``verb`` (a form's submit)."""
        if verb == VERB_PRESS or verb in self._verbs:
            raise ValueError(f"the Teams card verb {verb!r} already has a handler")
        self._verbs[verb] = handler

    def on_job(self, name: str, handler: JobHandler) -> None:
        """``handler`` does the job ``name`` (with its stored arguments) after an answer has gone."""
        if name in self._jobs:
            raise ValueError(f"the Teams job {name!r} already has a handler")
        self._jobs[name] = handler

    def run_job(self, name: str, args: Mapping[str, Any]) -> None:
        handler = self._jobs.get(name)
        if handler is None:
            raise ValueError(f"no Teams job {name!r}")
        handler(args)

    def handler_for(self, data: Mapping[str, Any]) -> CardHandler | None:
        verb = data.get(DATA_VERB)
        if verb == VERB_PRESS:
            return self._presses.get(str(data.get(DATA_ACTION_ID) or ""))
        return self._verbs.get(verb) if isinstance(verb, str) else None

    def handle(self, press: CardPress) -> CardOutcome:
        handler = self.handler_for(press.data)
        return handler(press) if handler is not None else CardOutcome(message=STALE_BUTTON)
