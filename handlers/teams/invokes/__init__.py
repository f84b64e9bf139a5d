"""Invokes, answered in the HTTP response: a card's ``adaptiveCard/action`` (``card_action.py``) and the review
form as a dialog, ``task/fetch`` and ``task/submit`` (``task_module.py``). Anything slower follows through the
Connector once Teams has its answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["FollowUp", "InvokeResult"]

# Work to do once the invoke has been answered (further replies, slow work).
FollowUp = Callable[[], None]


@dataclass
class InvokeResult:
    """The HTTP answer to an invoke: Teams reads ``body`` as the invoke response."""

    status: int
    body: dict[str, Any] | None
