"""Block Kit for rating an answer beyond the buttons: the box for a comment after "not helpful", and the button
that opens it. Limits as in ``blocks.py``."""

from __future__ import annotations

from typing import Any

from handlers.slack import constants as C
from handlers.slack.blocks import MAX_MODAL_TITLE, Block, button, metadata, plain, section


def tell_us_more_block(answer_ref: str) -> Block:
    """Under the thanks for a "not helpful": a button that opens the comment box."""
    return {"type": "actions", "elements": [button("Tell us more", f"{C.ANSWER_COMMENT}:0", answer_ref)]}


def render_answer_comment_modal(answer_ref: str) -> dict[str, Any]:
    """A box for saying what was wrong with an answer rated not helpful; the answer's ref rides in the metadata."""
    return {
        "type": "modal",
        "callback_id": C.ANSWER_COMMENT_CALLBACK,
        "title": plain("About this answer", MAX_MODAL_TITLE),
        "submit": plain("Send", MAX_MODAL_TITLE),
        "close": plain("Cancel", MAX_MODAL_TITLE),
        "private_metadata": metadata(answer=answer_ref),
        "blocks": [
            section(
                "What was missing or wrong? The people who look after the guidance will read this; "
                "your name is not kept with it."
            ),
            {
                "type": "input",
                "block_id": C.ANSWER_COMMENT_BLOCK,
                "label": plain("Your comment"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": C.INPUT_ACTION,
                    "multiline": True,
                    "max_length": 2000,
                },
            },
        ],
    }
