"""Reading the cards the bot sent, and filling in the review form as an officer would."""

from __future__ import annotations

import time
import uuid
from typing import Any

from storage.work_queue import work_queue_depth
from tests.teams import activities as A
from tests.teams.fakes import card_nodes


def chat_of(member) -> str:
    return A.personal(member)["id"]


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in card_nodes(card) if str(node.get("type", "")).startswith("Input.")}


def note_after(card: dict[str, Any], field_id: str) -> dict[str, Any] | None:
    """The TextBlock right under a field's input: its help, error or warning."""
    for item in card["body"]:
        if item.get("type") == "Container" and item["items"][0].get("id") == field_id:
            return item["items"][1] if len(item["items"]) > 1 else None
    raise AssertionError(f"no field {field_id}")


def valid_values(form: dict[str, Any], colleagues: dict[str, str], service: str) -> dict[str, str]:
    values = {field_id: node.get("value", "") for field_id, node in inputs(form).items()}
    values.update(
        {
            "service": service,
            "title": f"{service} review",
            "outcomes": "Older people stay independent at home for longer\nFewer emergency hospital admissions",
            "level": "operational",
            "lead_commissioner": colleagues["lead"],
            "portfolio_holder": colleagues["holder"],
            "stakeholders": "",
        }
    )
    for field_id in values:
        if field_id.endswith("_owner"):
            values[field_id] = colleagues["analyst"]
    return values


def open_form(teams, member) -> Any:
    teams.post(A.install(teams.connector.service_url, member))
    teams.connector.wait_for(1, chat_of(member))  # activities are handled in parallel: keep the order
    teams.post(A.message(teams.connector.service_url, member, "new review"))
    return teams.connector.wait_for(2, chat_of(member))[1]


def at_the_level_question(teams, member) -> list[Any]:
    """A review conversation started in the member's chat and answered up to "At what level…?" (4 replies)."""
    url = teams.connector.service_url
    service = f"Carers support {uuid.uuid4().hex[:4]}"
    answers = ["start a review", service, "ok", "Carers have a break when they need one"]
    for number, text in enumerate(answers, 1):
        teams.post(A.message(url, member, text))
        teams.connector.wait_for(number, chat_of(member))
    posts = teams.connector.posted_to(chat_of(member))
    assert "level" in posts[-1].all_text.lower()
    return posts


def settled(teams, timeout: float = 20.0) -> None:
    """Wait until the work queue has nothing waiting or in hand: everything the bot took on is finished."""
    deadline = time.monotonic() + timeout
    while True:
        depth = work_queue_depth(teams.services.database)
        if depth["ready"] == 0 and depth["leased"] == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the work queue never settled: {depth}")
        time.sleep(0.05)


def card_buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Action.Execute on a card, wherever it sits."""
    return [node for node in card_nodes(card) if node.get("type") == "Action.Execute"]
