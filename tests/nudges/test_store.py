"""The few queries a sweep makes besides the review lists, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime

from storage.models import FeedbackRequest
from storage.notifications import NotificationLedger
from storage.nudges import NudgeStore
from tests.nudges.helpers import World

DUES = [date(2026, 11, 30), date(2026, 12, 18), date(2027, 1, 29), date(2027, 2, 26)]
NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)


def test_feedback_waiting_anchors_snoozes_and_ledger_states(database) -> None:
    world = World(database)
    owner, holder, other = world.person("Sam Owner"), world.person("Pat Holder"), world.person("Kim Other")
    first = world.review("Libraries", owner, owner, holder, DUES)
    second = world.review("Day centres", owner, owner, holder, DUES)
    with database.transaction() as session:
        for person, status in ((holder, "open"), (holder, "open"), (holder, "answered"), (other, "open")):
            session.add(
                FeedbackRequest(
                    review_id=second,
                    person_id=person.id,
                    question="How is it going?",
                    status=status,
                    requested_by="test",
                )
            )
    store = NudgeStore(database)
    assert store.feedback_waiting([holder.id, owner.id, other.id]) == {holder.id: 2, other.id: 1}
    # The digest hangs on the holder's first review, whatever happens to the others.
    assert store.anchor_reviews([holder.id, owner.id]) == {holder.id: first}

    stage_id = world.reviews.get(first).stages[0].id
    with database.engine.begin() as connection:
        assert (
            store.save_snooze(
                connection, review_id=first, stage_id=stage_id, person_id=owner.id, until=date(2026, 11, 25), at=NOW
            )
            is None
        )
    with database.engine.begin() as connection:
        assert store.save_snooze(
            connection, review_id=first, stage_id=stage_id, person_id=owner.id, until=date(2026, 11, 27), at=NOW
        ) == date(2026, 11, 25)
    assert store.snoozes() == {(stage_id, owner.id): date(2026, 11, 27)}

    ledger = NotificationLedger(database, clock=lambda: NOW)
    entry = ledger.claim(review_id=first, stage_id=stage_id, person_id=owner.id, kind="due_soon", period="p")
    ledger.mark_failed(entry.id, "internal_error")
    ledger.give_up(entry.id, "gave up after 5 tries", attempts=5)
    [state] = store.ledger_states([entry.dedupe_key, "no-such-key"]).values()
    assert (state.status, state.attempts, state.last_error) == ("failed", 5, "gave up after 5 tries")
    # At the limit, no worker can claim it again.
    assert ledger.claim(review_id=first, stage_id=stage_id, person_id=owner.id, kind="due_soon", period="p") is None
