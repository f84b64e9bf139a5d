"""The feedback summary as a small PNG chart (matplotlib, drawn off-screen).

One horizontal bar per rating question, split into how many people gave each
rating from 1 to 5, with the average and spread written beside it. The figure
is built with matplotlib's object API on the Agg canvas rather than pyplot:
pyplot keeps global state that is not safe across the server's worker threads,
and Agg needs no display.

The image is kept small (a few tens of kilobytes) because Teams carries it
inside the message itself (see ``handlers/teams/feedback_cards.py``).
"""

from __future__ import annotations

import io
import textwrap

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image  # a dependency of matplotlib

from workflows.feedback.summaries import FeedbackSummary

__all__ = ["render_summary_chart"]

# Very poor to very good: a red-to-green scale that still reads in greyscale and for red-green colour blindness
# (the light middle separates the ends).
RATING_COLOURS = ("#b2182b", "#ef8a62", "#e0e0e0", "#67a9cf", "#2166ac")
DPI = 80


def render_summary_chart(summary: FeedbackSummary) -> bytes | None:
    """PNG bytes, or None when there is nothing to draw (too few answers, or no rating questions)."""
    if not summary.enough or not summary.ratings:
        return None
    rows = list(reversed(summary.ratings))  # the first question at the top
    height = 1.1 + 0.75 * len(rows)
    figure = Figure(figsize=(7.5, height), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.33, 0.6 / height, 0.5, 1 - (1.0 / height)))
    for index, stats in enumerate(rows):
        left = 0.0
        for score in range(1, 6):
            share = stats.distribution.get(score, 0) / stats.count if stats.count else 0.0
            if share:
                axes.barh(index, share, left=left, color=RATING_COLOURS[score - 1], edgecolor="white", height=0.6)
                if share >= 0.08:
                    axes.text(
                        left + share / 2,
                        index,
                        str(score),
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="black" if score == 3 else "white",
                    )
            left += share
        axes.text(1.02, index, f"avg {stats.mean:.1f}\n±{stats.spread:.1f}", va="center", fontsize=8)
    axes.set_yticks(range(len(rows)), ["\n".join(textwrap.wrap(s.text, 34)) for s in rows], fontsize=8)
    axes.set_xlim(0, 1)
    axes.set_xticks([0, 0.5, 1], ["0%", "50%", "100%"], fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    if summary.round is not None and summary.round.is_requested and summary.invited:
        answered = f"{summary.answered} of {summary.invited} answered ({summary.response_rate or 0:.0%})"
    else:
        answered = f"{summary.responses} answers"
    title = textwrap.shorten(f"#{summary.review_id} {summary.review_title}", 60, placeholder="…")
    figure.suptitle(f"{title}: {answered}", fontsize=9, x=0.02, ha="left")
    figure.text(0.02, 0.02, "Share of ratings 1 (very poor) to 5 (very good)", fontsize=7, color="#555555")
    buffer = io.BytesIO()
    # A palette image is a third the size of full colour, and the chart uses a handful of colours.
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, pil_kwargs={"optimize": True})
    return _quantise(buffer.getvalue())


def _quantise(png: bytes) -> bytes:
    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() < len(png) else png
