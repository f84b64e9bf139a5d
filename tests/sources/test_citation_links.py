"""A citation from a web page or SharePoint file links to it wherever answers are shown."""

from __future__ import annotations

import json

from handlers.slack import blocks
from handlers.teams.cards import render_reply_card
from knowledge.models import Citation
from tests.slack.fake_slack import check_blocks
from workflows.replies import Reply, ReplyKind, render_text

LINK = "https://anytown.sharepoint.com/sites/Commissioning/Shared%20Documents/Fleet%20reviews.docx?web=1&a=b"
LINKED = Citation(
    source="Documents/Fleet reviews.docx", section="Fleet reviews", text="The fleet manager…", score=1.0, link=LINK
)
LOCAL = Citation(source="guide.md", section="Roles", text="Cabinet decides.", score=0.5)


def _reply() -> Reply:
    return Reply("The fleet manager owns vehicle replacement reviews.", ReplyKind.ANSWER, citations=[LINKED, LOCAL])


def test_slack_shows_the_source_as_a_link() -> None:
    content = blocks.render_answer_blocks(_reply())
    check_blocks(content, 50)
    contexts = [b["elements"][0]["text"] for b in content if b["type"] == "context"]
    assert (
        contexts[0]
        == f":page_facing_up: [1] <{LINK.replace('&', '&amp;')}|Documents/Fleet reviews.docx — Fleet reviews>"
    )
    assert contexts[1] == ":page_facing_up: [2] guide.md — Roles"  # a local file has no link


def test_teams_shows_the_source_as_a_link() -> None:
    card = json.dumps(render_reply_card(_reply()))
    assert f"[1] Source: [Documents/Fleet reviews.docx, Fleet reviews]({LINK})" in card
    assert "[2] Source: guide.md, Roles" in card


def test_the_terminal_prints_the_address() -> None:
    lines = render_text(_reply()).splitlines()
    assert lines[1].startswith("  [1] Documents/Fleet reviews.docx, Fleet reviews:")
    assert lines[2].strip() == LINK
    assert lines[3].startswith("  [2] guide.md, Roles:")
