"""Block Kit builders stay within Slack's limits; the pre-filter answers only what it should."""

from __future__ import annotations

import pytest

from handlers.slack import blocks
from handlers.slack.context import ChannelPacer
from handlers.slack.prefilter import reason_to_ignore
from knowledge.models import Citation
from tests.slack.fake_slack import BlockKitError, FakeSlack, check_blocks
from workflows.actions import Actions
from workflows.conversation import FormField, Option
from workflows.replies import Button, FormSpec, Reply, ReplyKind


def test_split_text_breaks_at_paragraphs_then_lines_then_words() -> None:
    text = ("para one. " * 200).strip() + "\n\n" + ("line two " * 300).strip()
    pieces = blocks.split_text(text, 3000)
    assert all(len(p) <= 3000 for p in pieces) and len(pieces) >= 2
    assert pieces[0].endswith("para one.")
    assert blocks.split_text("x" * 7000, 3000) == ["x" * 3000, "x" * 3000, "x" * 1000]


def test_answers_quote_their_passages_escaped_and_within_limits() -> None:
    citation = Citation(source="guide.md", section="Roles", text="Cabinet <decides> & approves " * 100, score=1.0)
    reply = Reply(
        "Cabinet decides & approves.",
        ReplyKind.ANSWER,
        citations=[citation] * 30,
        buttons=[Button("Helpful", "q", Actions.HELPFUL), Button("Not helpful", "q", Actions.NOT_HELPFUL)],
    )
    messages = blocks.render_reply_messages(reply)
    assert len(messages) == 2  # 1 + 60 citation blocks + 1 actions block
    for message in messages:
        check_blocks(message.blocks, 50)
    first = messages[0].blocks
    assert first[0]["text"]["text"] == "Cabinet decides &amp; approves."
    assert first[1]["text"]["text"].startswith("> Cabinet &lt;decides&gt; &amp; approves")
    shown = first[1]["text"]["text"].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert len(shown) <= len("> ") + blocks.QUOTE_CHARS and shown.endswith("…")  # a long passage is shortened
    assert [e["action_id"] for e in messages[-1].blocks[-1]["elements"]] == [
        f"{Actions.HELPFUL}:0",
        f"{Actions.NOT_HELPFUL}:1",
    ]


def test_the_fake_refuses_what_slack_refuses() -> None:
    with pytest.raises(BlockKitError):
        check_blocks([{"type": "divider"}] * 51, 50)
    with pytest.raises(BlockKitError):
        check_blocks(
            [
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "text": {"text": "a"}, "action_id": "same"},
                        {"type": "button", "text": {"text": "b"}, "action_id": "same"},
                    ],
                }
            ],
            50,
        )
    with pytest.raises(BlockKitError):
        FakeSlack._check_view(None, {"type": "modal", "private_metadata": "x" * 3001, "blocks": []})  # type: ignore[arg-type]


def test_review_modal_keeps_within_view_limits_and_refuses_oversized_metadata() -> None:
    fields = [
        FormField(
            id=f"f{n}",
            label="Label " * 500,
            kind=kind,
            help="Help " * 500,
            required=n % 2 == 0,
            options=[Option(f"o{i}", f"Option {i}" * 20) for i in range(3)] if kind == "choice" else [],
            initial=None,
            multiline=False,
            max_chars=4000,
        )
        for n, kind in enumerate(["text", "list", "choice", "person", "people", "date"] * 20)
    ]
    form = FormSpec(
        flow="review", title="New commissioning review, with a long title", submit_label="Create review", fields=fields
    )
    view = blocks.render_review_modal(
        form, blocks.metadata(team="T1", warnings=[]), warnings={"title": "There is already a review with this title."}
    )
    FakeSlack._check_view(None, view)  # type: ignore[arg-type]
    assert len(view["blocks"]) == 100
    text_input = next(b for b in view["blocks"] if b.get("block_id") == "f0")["element"]
    assert text_input["max_length"] == 3000
    with pytest.raises(ValueError):
        blocks.metadata(values="x" * 3100)


def test_modal_values_are_read_back_as_text_per_field() -> None:
    state = {
        "service": {"value": {"type": "plain_text_input", "value": "Libraries"}},
        "level": {"value": {"type": "static_select", "selected_option": {"value": "strategic"}}},
        "lead_commissioner": {"value": {"type": "users_select", "selected_user": "U0ALICE001"}},
        "stakeholders": {"value": {"type": "multi_users_select", "selected_users": ["U1AAAAAAAA", "U2BBBBBBBB"]}},
        "due": {"value": {"type": "datepicker", "selected_date": "2027-01-07"}},
        "title": {"value": {"type": "plain_text_input", "value": None}},
    }
    assert blocks.read_modal_values(state) == {
        "service": "Libraries",
        "level": "strategic",
        "lead_commissioner": "U0ALICE001",
        "stakeholders": "U1AAAAAAAA, U2BBBBBBBB",
        "due": "2027-01-07",
        "title": "",
    }


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"type": "app_mention", "user": "U1", "channel": "C1", "text": "hi"}, None),
        ({"type": "app_mention", "user": "U1", "channel": "D1", "text": "hi"}, "mention_in_direct_message"),
        ({"type": "message", "channel_type": "im", "user": "U1", "text": "hi"}, None),
        (
            {"type": "message", "channel_type": "im", "user": "U1", "subtype": "message_changed"},
            "subtype_message_changed",
        ),
        ({"type": "message", "channel_type": "im", "user": "UBOT", "text": "me"}, "from_a_bot"),
        ({"type": "message", "channel_type": "im", "bot_id": "B2", "text": "beep"}, "from_a_bot"),
        ({"type": "message", "channel_type": "channel", "user": "U1", "text": "hi"}, "channel_message_without_mention"),
        (
            {"type": "message", "channel_type": "channel", "user": "U1", "text": "hi", "ts": "2.0", "thread_ts": "2.0"},
            "channel_message_without_mention",
        ),
        (
            {
                "type": "message",
                "channel_type": "channel",
                "user": "U1",
                "text": "and then?",
                "ts": "2.1",
                "thread_ts": "2.0",
            },
            None,
        ),
        (
            {
                "type": "message",
                "channel_type": "group",
                "user": "U1",
                "text": "<@UBOT> and then?",
                "ts": "2.1",
                "thread_ts": "2.0",
            },
            "mention_answered_as_app_mention",
        ),
        ({"type": "app_home_opened", "user": "U1", "tab": "messages"}, "messages_tab"),
        ({"type": "reaction_added", "user": "U1"}, "not_an_event_we_answer"),
    ],
)
def test_prefilter_reasons(event: dict, reason: str | None) -> None:
    assert reason_to_ignore(event, "UBOT") == reason


def test_the_pacer_lets_a_short_burst_through_then_one_message_a_second_per_channel() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        now[0] += seconds

    pacer = ChannelPacer(burst=3, per_second=1.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        pacer.wait_turn("C1")
    pacer.wait_turn("C2")  # another channel has its own allowance
    assert slept == [1.0, 1.0]
