"""The guidance insights as a small PNG chart (matplotlib off-screen, as the feedback summary chart is drawn).

Two panels: questions asked each week, and the questions the guidance answered least well (groups of similar
questions, with how often each was asked). Built with matplotlib's object API on the Agg canvas, not pyplot,
for the same reasons as ``workflows/charts.py``: no global state across the server's threads, no display.
"""

from __future__ import annotations

import io
import textwrap

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from workflows.charts import DPI, _quantise
from workflows.insights import GuidanceInsights

__all__ = ["render_insights_chart"]

GAPS_SHOWN = 6
WEEK_COLOUR = "#2166ac"
GAP_COLOUR = "#b2182b"


def render_insights_chart(insights: GuidanceInsights) -> bytes | None:
    """PNG bytes, or None when no question has been logged in the period."""
    if not insights.answers:
        return None
    gaps = list(reversed(insights.gaps[:GAPS_SHOWN]))
    height = 2.6 + (0.45 * len(gaps) + 0.6 if gaps else 0)
    figure = Figure(figsize=(7.5, height), dpi=DPI)
    FigureCanvasAgg(figure)
    weeks = list(insights.per_week.items())
    top = figure.add_axes((0.1, 1 - 2.0 / height, 0.85, 1.4 / height))
    top.bar(range(len(weeks)), [n for _, n in weeks], color=WEEK_COLOUR)
    top.set_xticks(range(len(weeks)), [w[5:] for w, _ in weeks], fontsize=7, rotation=45 if len(weeks) > 8 else 0)
    top.set_title("Questions per week (week starting)", fontsize=9, loc="left")
    top.spines[["top", "right"]].set_visible(False)
    top.tick_params(axis="y", labelsize=7)
    if gaps:
        bottom = figure.add_axes((0.45, 0.35 / height, 0.5, (0.45 * len(gaps)) / height))
        bottom.barh(range(len(gaps)), [g.count for g in gaps], color=GAP_COLOUR, height=0.6)
        labels = ["\n".join(textwrap.wrap(textwrap.shorten(g.example, 80, placeholder="…"), 45)) for g in gaps]
        bottom.set_yticks(range(len(gaps)), labels, fontsize=7)
        bottom.set_title("Not covered or unsure: times asked", fontsize=9, loc="left")
        bottom.spines[["top", "right"]].set_visible(False)
        bottom.tick_params(axis="x", labelsize=7)
    period = f"since {insights.since}" if insights.since else "all logged answers"
    figure.suptitle(
        f"Guidance insights, {period}: {insights.answers} questions, {insights.not_helpful} rated not helpful",
        fontsize=9,
        x=0.02,
        ha="left",
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, pil_kwargs={"optimize": True})
    return _quantise(buffer.getvalue())
