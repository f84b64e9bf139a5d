"""The guidance insights as an Adaptive Card with its chart, for the people in GUIDANCE_OWNERS.

The ``insights`` command's reply is an ordinary card (its text and a "Show as a chart" button); this is the card
that button brings: the chart as an ``Image`` with a ``data:`` URL (as the feedback summary chart is sent) above
the same text.
"""

from __future__ import annotations

import base64
from typing import Any

import structlog

from handlers.teams import cards
from workflows.insights import GuidanceInsights, insights_text

__all__ = ["insights_chart_card"]

log = structlog.get_logger(__name__)

# Teams refuses a message over about 28 KB; the chart must leave room for the text.
MAX_CHART_BYTES = 18_000


def insights_chart_card(insights: GuidanceInsights) -> dict[str, Any]:
    # lazy: matplotlib takes a while to import, and most processes never draw a chart.
    from workflows.insight_charts import render_insights_chart

    png = render_insights_chart(insights)
    body: list[dict[str, Any]] = []
    if png is not None and len(png) <= MAX_CHART_BYTES:
        body.append(
            {
                "type": "Image",
                "url": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
                "altText": "Questions per week, and the questions the guidance answered least well",
                "size": "Stretch",
            }
        )
    elif png is not None:
        log.info("teams_insights_chart_too_large", bytes=len(png))
    body.extend(cards.paragraphs(insights_text(insights)))
    return cards.card(body)
