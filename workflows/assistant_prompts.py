"""Suggested prompts for an assistant panel (Slack's side panel): drawn from the guidance itself.

The prompts come from what the indexed guidance contains, never from a list written here: the roles it
describes (those with most duties first), and the sections officers' questions have been answered from most
often (the answer log). The last prompt starts the review set-up, which is the assistant's own feature.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.models import Role
from storage.answer_log import AnswerRecord

__all__ = ["MAX_PROMPTS", "SuggestedPrompt", "suggested_prompts"]

# Slack shows at most four suggested prompts.
MAX_PROMPTS = 4
MAX_TITLE = 75
START_REVIEW = "start a review"


@dataclass(frozen=True)
class SuggestedPrompt:
    title: str  # what the button says
    message: str  # what is sent as the officer's message when pressed


def _shorten(text: str, limit: int = MAX_TITLE) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _in_a_sentence(name: str) -> str:
    """A heading-style name inside a sentence: "Lead commissioner" -> "lead commissioner"; "COG" stays."""
    return name[0].lower() + name[1:] if len(name) > 1 and name[1].islower() else name


def suggested_prompts(
    roles: Sequence[Role], recent_answers: Sequence[AnswerRecord] = (), limit: int = MAX_PROMPTS
) -> list[SuggestedPrompt]:
    """Up to ``limit`` prompts: the most-cited sections, then roles, then setting up a review."""
    found: list[SuggestedPrompt] = []
    sections = Counter(
        c.section.split(" > ")[-1]
        for entry in recent_answers
        if entry.kind == "answered"
        for c in entry.citations[:1]
        if c.section
    )
    for section, _ in sections.most_common(1):
        question = f"What does the guidance say about {section}?"
        found.append(SuggestedPrompt(_shorten(section), question))
    ranked = sorted(roles, key=lambda role: (-len(role.responsibilities), role.name.casefold()))
    for role in ranked:
        if len(found) >= limit - 1:
            break
        question = f"What does the {_in_a_sentence(role.name)} do?"
        found.append(SuggestedPrompt(_shorten(question), question))
    found.append(SuggestedPrompt("Set up a commissioning review", START_REVIEW))
    return found[:limit]
