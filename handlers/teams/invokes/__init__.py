"""Invokes, answered in the HTTP response: a card's ``adaptiveCard/action`` (``card_action.py``) and the review
form as a dialog, ``task/fetch`` and ``task/submit`` (``task_module.py``). Anything slower follows through the
Connector once Teams has its answer: the follow-up's parts are stored in the work queue before the answer is
returned, and sent by a queue worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from handlers.teams.outbox import Part

__all__ = ["FollowUp", "InvokeResult"]

# What follows once the invoke has been answered (further replies, new cards, slow work); empty for nothing.
FollowUp = list[Part]


@dataclass
class InvokeResult:
    """The HTTP answer to an invoke: Teams reads ``body`` as the invoke response."""

    status: int
    body: dict[str, Any] | None
