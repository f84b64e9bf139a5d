"""The guidance insights as Block Kit: the App Home section shown to the people in GUIDANCE_OWNERS.

A compact view of ``workflows/insights.py``'s report: the totals, the questions the guidance answered least
well (grouped, with counts), the latest answers rated not helpful with their comments, and documents never
cited. The full report is ``/commissioning insights`` (with a chart) or ``commissioning-bot insights``.
"""

from __future__ import annotations

from handlers.slack import blocks
from handlers.slack.blocks import Block
from workflows.insights import GuidanceInsights

__all__ = ["render_insights_blocks"]

SHOWN = 5


def render_insights_blocks(insights: GuidanceInsights, command: str) -> list[Block]:
    esc = blocks.escape
    found: list[Block] = [
        {"type": "divider"},
        {"type": "header", "text": blocks.plain("Guidance insights", 150)},
        blocks.context(f"Since {insights.since}" if insights.since else "All logged answers"),
        blocks.context(
            f"{insights.answers} questions answered from the guidance · {insights.by_kind.get('not_covered', 0)} not "
            f"covered · {insights.by_kind.get('unsure', 0)} unsure · rated helpful {insights.helpful}, "
            f"not helpful {insights.not_helpful}"
        ),
    ]
    if insights.gaps:
        lines = [f"• {g.count}× “{esc(blocks.shorten(g.example, 150))}”" for g in insights.gaps[:SHOWN]]
        found.append(blocks.section("*Questions the guidance did not answer well*\n" + "\n".join(lines)))
    if insights.unhelpful:
        lines = []
        for item in insights.unhelpful[:SHOWN]:
            comment = f" — _{esc(blocks.shorten(item.comment, 200))}_" if item.comment else ""
            lines.append(f"• “{esc(blocks.shorten(item.question, 150))}”{comment}")
        found.append(blocks.section("*Answers rated not helpful*\n" + "\n".join(lines)))
    if insights.documents_never_cited:
        names = ", ".join(esc(d) for d in insights.documents_never_cited[:SHOWN])
        more = len(insights.documents_never_cited) - SHOWN
        found.append(blocks.section(f"*Never cited:* {names}" + (f" and {more} more" if more > 0 else "")))
    found.append(blocks.context(f"The full report with a chart: `{esc(command)} insights`."))
    return found
