"""Another replica finishing what a stopped one started, from the database alone.

The server's own queue workers are stopped part-way (as when its process goes); further replicas (the same
services on the same database, in this test process) pick the work up. Each reply reaches the officer once:
a part already sent is not sent again, a part whose post was in flight when its replica stopped is not sent
a second time, the follow-up of a button answered just before every worker stopped is still sent, and a
message whose working out was cut short is not worked out a second time.
"""

from __future__ import annotations

import threading
import time

from bot.app import Services
from handlers.teams.registry import CardOutcome, CardPress
from tests.teams import activities as A
from tests.teams.fakes import Accept, Answer
from tests.teams.helpers import at_the_level_question, card_buttons, chat_of, settled
from workflows.replies import Reply

BACK = "Back to your review"


def _replica(teams, knowledge) -> Services:
    services = Services(teams.settings, knowledge=knowledge)
    assert services.teams is not None  # builds the Teams adapter, whose workers start claiming Teams work
    return services


def _texts(teams, chat: str) -> list[str]:
    return [post.all_text for post in teams.connector.posted_to(chat)]


def _wait_for_log(caplog, event: str) -> None:
    deadline = time.monotonic() + 20
    while event not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert event in caplog.text


def test_another_replica_finishes_what_a_stopped_one_started(teams, member, shared_guidance, caplog) -> None:
    url = teams.connector.service_url
    chat = chat_of(member)
    at_the_level_question(teams, member)
    replicas: list[Services] = []
    held = Accept(hold=True)
    try:
        # 1. The answer's first part goes; the second is throttled, and the process stops while it waits.
        throttled = Answer(429, {"error": {"code": "Throttled", "message": "slow down"}}, {"Retry-After": "1"})
        teams.connector.script(chat, Accept(), throttled)
        teams.post(A.message(url, member, "What does strategic level mean?"))
        teams.connector.wait_until(lambda: 429 in teams.connector.answered(chat))
        teams.services.work.stop()
        second = _replica(teams, shared_guidance)
        replicas.append(second)
        teams.connector.wait_for(6, chat)
        settled(teams)
        texts = _texts(teams, chat)
        assert len(texts) == 6 and BACK not in texts[4] and BACK in texts[5]

        # 2. A button answered while no worker runs anywhere: its follow-up was stored before the answer.
        second.work.stop()
        back = teams.connector.posted_to(chat)[5]
        strategic = next(b for b in card_buttons(back.card) if "strategic" in b["title"].lower())
        pressed = teams.post(A.card_action(url, member, strategic["data"], reply_to=back.activity_id))
        assert pressed.json()["value"] == "You said: strategic"
        replicas.append(_replica(teams, shared_guidance))
        asked = teams.connector.wait_for(7, chat)[6]
        assert "lead commissioner" in asked.all_text.lower()

        # 3. A replica stops while its post waits for the Connector's answer: the next one does not post it again.
        teams.connector.script(chat, held)
        teams.post(A.message(url, member, "What does a lead commissioner do?"))
        assert held.posted.wait(20)
        replicas[-1].work.stop(grace_seconds=0.2)  # its lease handed back with the post still in flight
        replicas.append(_replica(teams, shared_guidance))
        teams.connector.wait_for(9, chat)
        held.release()
        _wait_for_log(caplog, "teams_reply_claim_lost")  # the stopped replica hears back, finds its claim taken
        settled(teams)
        texts = _texts(teams, chat)
        assert len(texts) == 9 and BACK not in texts[7] and BACK in texts[8]
        assert "teams_reply_part_unconfirmed" in caplog.text
    finally:
        held.release()
        for replica in replicas:
            replica.close()


def test_a_message_cut_short_while_worked_out_is_not_done_twice(teams, member, shared_guidance, caplog) -> None:
    url = teams.connector.service_url
    chat = chat_of(member)
    teams.services.work.stop()  # only the replicas below do queued work
    entered, carry_on = threading.Event(), threading.Event()
    applied: list[str] = []

    def slow_step(press: CardPress) -> CardOutcome:
        entered.set()
        carry_on.wait(20)
        applied.append(press.value)
        return CardOutcome(message="Step 7 applied.", replies=[Reply("Step 7 applied.")])

    first = _replica(teams, shared_guidance)
    replicas = [first]
    try:
        assert first.teams is not None
        first.teams.bot.cards.on_press(["test_slow_step"], slow_step)
        press = {"verb": "press", "action_id": "test_slow_step", "value": "7"}
        teams.post(A.card_submit(url, member, press, reply_to="1:card"))
        assert entered.wait(20)
        first.work.stop(grace_seconds=0.2)  # the process goes while the step is being applied
        replicas.append(_replica(teams, shared_guidance))
        [notice] = teams.connector.wait_for(1, chat)
        assert "interrupted" in notice.all_text  # told, rather than the step applied a second time

        carry_on.set()
        _wait_for_log(caplog, "teams_reply_claim_lost")  # the first replica finishes, finds its claim taken
        settled(teams)
        assert applied == ["7"]
        assert [p.all_text for p in teams.connector.posted_to(chat)] == [notice.all_text]
    finally:
        carry_on.set()
        for replica in replicas:
            replica.close()
