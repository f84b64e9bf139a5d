"""What a nudge says: the reminder or escalation about one stage, and the portfolio holder's weekly digest.

Each is a platform-neutral :class:`~workflows.replies.Reply` with the buttons of
:class:`~workflows.actions.NudgeActions`; the policy deciding who gets which is in
``workflows/nudges.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from knowledge.models import Citation
from storage.review_snapshots import ChecklistItem, ReviewSnapshot
from workflows.actions import NudgeActions, stage_value
from workflows.nudge_types import Nudge, NudgeKind, StageStatus, format_day, plural
from workflows.replies import Button, Reply, ReplyKind

__all__ = ["Tip", "TipSource", "compose_digest_message", "compose_stage_message"]


@dataclass(frozen=True)
class Tip:
    """A short passage from the guidance about a stage, with where it comes from."""

    text: str
    source: str = ""
    section: str = ""


class TipSource(Protocol):
    def tip(self, stage_name: str) -> Tip | None: ...


def _opening(nudge: Nudge, stage_name: str) -> str:
    """What is due and when, worded for the kind of reminder."""
    title = f"#{nudge.review_id} “{nudge.review_title}”"
    due = format_day(nudge.due_date) if nudge.due_date else "no date"
    days = plural(nudge.working_days, "working day")
    if nudge.kind is NudgeKind.ESCALATION:
        return (
            f"{stage_name} of {title} is {days} overdue "
            f"(it was due {due}). {nudge.owner_name} owns it; you may want to check in with them, "
            "move the date or give the stage to someone else."
        )
    if nudge.kind is NudgeKind.OVERDUE:
        return f"{stage_name} of {title} is overdue: it was due {due}, {days} ago."
    if nudge.kind is NudgeKind.DUE_TODAY:
        if nudge.due_date and nudge.working_days == 0:
            return f"{stage_name} of {title} is due today ({due})."
        return f"{stage_name} of {title} is due {due}."
    return f"{stage_name} of {title} is due in {days}, on {due}."


def _checklist_lines(checklist: Sequence[ChecklistItem]) -> list[str]:
    if not checklist:
        return []
    done = sum(1 for item in checklist if item.done)
    return [
        f"Checklist ({done} of {len(checklist)} done):",
        *(f"{'☑' if item.done else '☐'} {item.text}" for item in checklist),
    ]


def compose_stage_message(
    nudge: Nudge, review: ReviewSnapshot | None, tip: Tip | None, checklist: Sequence[ChecklistItem] | None = None
) -> Reply:
    """The reminder as a platform-neutral reply: what is due, the stage's checklist, a tip, and four buttons.

    The checklist is the stage's in ``review`` when given, else ``checklist`` (a sweep loads only those)."""
    stage_name = nudge.stage_name or "This stage"
    lead_in = "For your attention as lead commissioner" if nudge.kind is NudgeKind.ESCALATION else "Reminder"
    stage = review.stage(stage_name) if review is not None else None
    items = stage.checklist if stage is not None else (checklist or ())
    lines = [f"{lead_in}: {_opening(nudge, stage_name)}", *_checklist_lines(items)]
    citations = []
    if tip is not None:
        # The quoted passage itself shows under the message with its source, as guidance answers do.
        lines.append("Tip from the guidance, for this stage:" if tip.source else f"Tip: {tip.text}")
        if tip.source:
            citations.append(Citation(source=tip.source, section=tip.section, text=tip.text, score=1.0))
    value = stage_value(nudge.review_id, stage_name)
    buttons = [
        Button(f"Mark {stage_name} done", value, NudgeActions.MARK_DONE, style="primary"),
        Button("Snooze 2 working days", value, NudgeActions.SNOOZE),
        Button("Reassign", value, NudgeActions.REASSIGN),
        Button("Open review", str(nudge.review_id), NudgeActions.OPEN_REVIEW),
    ]
    kind = ReplyKind.PROBLEM if nudge.kind in (NudgeKind.OVERDUE, NudgeKind.ESCALATION) else ReplyKind.INFO
    return Reply("\n".join(lines), kind, citations=citations, buttons=buttons)


def compose_digest_message(nudge: Nudge) -> Reply:
    """The portfolio holder's weekly digest: each review's stages and how they stand, and feedback waiting."""
    lines = [
        f"Hello {nudge.person_name.split()[0]}, here is your weekly commissioning digest: "
        f"{plural(len(nudge.digest), 'open review')} in your portfolio."
    ]
    marks = {
        StageStatus.DONE: "✓",
        StageStatus.ON_TRACK: "●",
        StageStatus.DUE_SOON: "◐",
        StageStatus.OVERDUE: "⚠",
        StageStatus.NOT_STARTED: "○",
    }
    for line in nudge.digest:
        lines.append(f"#{line.review_id} “{line.title}” ({line.service})")
        for name, status, due, owner in line.stages:
            lines.append(f"  {marks[status]} {name}: {status.value}, due {due.day} {due:%b %Y}, {owner}")
    if nudge.feedback_waiting:
        lines.append(f"Feedback waiting for you: {plural(nudge.feedback_waiting, 'request')}.")
    else:
        lines.append("No feedback requests are waiting for you.")
    buttons = [
        Button(f"Open #{line.review_id}", str(line.review_id), NudgeActions.OPEN_REVIEW) for line in nudge.digest[:5]
    ]
    return Reply("\n".join(lines), ReplyKind.INFO, buttons=buttons)
