"""What the bot says back to one activity (or after an invoke's answer), worked out before anything is sent.

A handler does the work (answers the question, applies the conversation step, records the press) and
returns its :class:`Part` list: messages to post, a card to replace, slow work to do afterwards. The list is
stored with the queued work as JSON, so each part is then sent once by whichever process holds the work
(``handlers/teams/delivery.py``), and a retry never does the work a second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Part", "PartKind"]

PartKind = Literal["post", "update", "job"]


@dataclass(frozen=True)
class Part:
    """One thing to say or do, in order:

    - ``post``: a new message (``activity``), in the thread of ``reply_to`` when set; ``answer_key`` names the
      guidance answer it carries, so its rating can find it once the Connector has given the message an id;
    - ``update``: the message ``activity_id`` replaced by ``activity`` (a card after its button was pressed);
    - ``job``: registered slow work ``job`` with ``args`` (e.g. sending a feedback round's invitations); jobs
      are safe to do twice, so a retry after a crash may repeat one.
    """

    kind: PartKind
    activity: dict[str, Any] | None = None
    reply_to: str | None = None
    activity_id: str | None = None
    answer_key: str | None = None
    job: str | None = None
    args: dict[str, Any] | None = None

    @classmethod
    def post(cls, activity: dict[str, Any], *, reply_to: str | None = None, answer_key: str | None = None) -> Part:
        return cls("post", activity=activity, reply_to=reply_to, answer_key=answer_key)

    @classmethod
    def update(cls, activity_id: str, activity: dict[str, Any]) -> Part:
        return cls("update", activity=activity, activity_id=activity_id)

    @classmethod
    def run(cls, job: str, args: Mapping[str, Any]) -> Part:
        return cls("job", job=job, args=dict(args))

    def to_json(self) -> dict[str, Any]:
        fields = {
            "kind": self.kind,
            "activity": self.activity,
            "reply_to": self.reply_to,
            "activity_id": self.activity_id,
            "answer_key": self.answer_key,
            "job": self.job,
            "args": self.args,
        }
        return {key: value for key, value in fields.items() if value is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Part:
        kind = data.get("kind")
        if kind not in ("post", "update", "job"):
            raise ValueError(f"not a stored Teams part: {kind!r}")
        return cls(
            kind,
            activity=data.get("activity"),
            reply_to=data.get("reply_to"),
            activity_id=data.get("activity_id"),
            answer_key=data.get("answer_key"),
            job=data.get("job"),
            args=data.get("args"),
        )
