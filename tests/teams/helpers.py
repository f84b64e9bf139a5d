"""Reading the cards the bot sent, and filling in the review form as an officer would."""

from __future__ import annotations

from typing import Any

from tests.teams import activities as A


def chat_of(member) -> str:
    return A.personal(member)["id"]


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input."):
                found[node["id"]] = node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


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
