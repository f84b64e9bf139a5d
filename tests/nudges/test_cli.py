"""`commissioning-bot nudges preview` and `nudges run`, against the suite's database."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner

from bot.cli import cli
from tests.nudges.helpers import World
from tests.slack.fake_slack import BOT_TOKEN

DUES = [date(2026, 11, 30), date(2026, 12, 18), date(2027, 1, 29), date(2027, 2, 26)]


def arrange(database, monkeypatch, tmp_path) -> World:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", database.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    world = World(database)
    owner = world.person("Sam Owner", slack="U0OWNER001")
    lead = world.person("Lee Lead", slack="U0LEAD0001")
    holder = world.person("Pat Holder", slack="U0HOLD0001", zone="America/New_York")
    world.review("Library services", owner, lead, holder, DUES)
    return world


def test_preview_lists_who_gets_what_and_why(database, monkeypatch, tmp_path) -> None:
    arrange(database, monkeypatch, tmp_path)
    result = CliRunner().invoke(cli, ["nudges", "preview", "--at", "2026-12-07T10:00"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Nudges for Mon 07 Dec 2026 10:00 (Europe/London):"
    assert lines[1].split() == ["who", "what", "kind", "stage", "due", "why"]
    owner = next(line for line in lines if line.startswith("Sam Owner"))
    assert "#1 Library services" in owner and "overdue" in owner and "2026-11-30" in owner
    assert "5 working days overdue; catching up (was due to be sent Fri 4 December 2026)" in owner
    lead = next(line for line in lines if line.startswith("Lee Lead"))
    assert "escalation" in lead and "owner Sam Owner" in lead
    # The holder is in New York, where it is five in the morning: their Monday digest is not due yet.
    assert "Pat Holder" not in result.output
    assert "No chat platform is configured" in result.output
    # On Tuesday at 10:00 in London the digest is due for them, but held until their working day starts.
    tuesday = CliRunner().invoke(cli, ["nudges", "preview", "--at", "2026-12-08T10:00"]).output.splitlines()
    held = tuesday[tuesday.index("Held back:") :]
    assert any(
        line.startswith("Pat Holder (America/New_York)") and "outside working hours for them (Tue 05:00" in line
        for line in held
    )


def test_preview_rejects_a_bad_time(database, monkeypatch, tmp_path) -> None:
    arrange(database, monkeypatch, tmp_path)
    result = CliRunner().invoke(cli, ["nudges", "preview", "--at", "next tuesday"])
    assert result.exit_code != 0 and "is not an ISO time" in result.output


def test_run_sends_through_slack_once(database, monkeypatch, tmp_path, fake_slack) -> None:
    arrange(database, monkeypatch, tmp_path)
    for user_id, name in (("U0OWNER001", "Sam Owner"), ("U0LEAD0001", "Lee Lead"), ("U0HOLD0001", "Pat Holder")):
        fake_slack.add_user(user_id, name, name.lower().replace(" ", ".") + "@council.gov.uk")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)
    first = CliRunner().invoke(cli, ["nudges", "run", "--at", "2026-12-07T10:00"])
    assert first.exit_code == 0, first.output
    assert "\nSent 2;" in "\n" + first.output  # the tip was asked of the guidance, which may log a line first
    again = CliRunner().invoke(cli, ["nudges", "run", "--at", "2026-12-07T10:05"])
    assert "\nSent 0;" in "\n" + again.output and "already sent 2" in again.output
    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == 2
    # The overdue reminder quotes the guidance about its stage, with the source underneath.
    reminder = next(call for call in posts if call.args["channel"] == "D0OWNER001")
    assert "Tip from the guidance, for this stage:" in reminder.args["text"]
    assert any(
        block["type"] == "context" and ":page_facing_up:" in block["elements"][0]["text"]
        for block in reminder.args["blocks"]
    )
