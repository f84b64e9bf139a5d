"""Lists stay a fixed number of queries however many reviews they hold, and overdue means held up."""

from __future__ import annotations

from sqlalchemy import event

from tests.storage.review_helpers import Clock, add_team, draft_for, make_service


class StatementCounter:
    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *args) -> None:
        self.count += 1


def test_lists_do_not_run_a_query_per_review(database) -> None:
    clock = Clock()
    team = add_team(database)
    service = make_service(database, clock)
    counter = StatementCounter(database.engine)

    def statements_for(call) -> int:
        counter.count = 0
        call()
        return counter.count

    service.create_review(draft_for(team, clock.today, title="Review 0"), team.actor(team.sam))
    one = {
        "mine": statements_for(lambda: service.list_mine(team.owen.id)),
        "portfolio": statements_for(lambda: service.list_for_portfolio_holder(team.priya.id)),
        "all": statements_for(lambda: service.list_all()),
        "overdue": statements_for(lambda: service.list_overdue()),
    }
    service.create_reviews(
        [draft_for(team, clock.today, title=f"Review {n}") for n in range(1, 40)], team.actor(team.sam)
    )
    forty = {
        "mine": statements_for(lambda: service.list_mine(team.owen.id)),
        "portfolio": statements_for(lambda: service.list_for_portfolio_holder(team.priya.id)),
        "all": statements_for(lambda: service.list_all()),
        "overdue": statements_for(lambda: service.list_overdue()),
    }

    assert len(service.list_mine(team.owen.id)) == 40
    assert forty == one


def test_overdue_lists_each_late_review_once_at_the_stage_holding_it_up(database) -> None:
    clock = Clock()
    team = add_team(database)
    service = make_service(database, clock)
    stuck = service.create_review(draft_for(team, clock.today, title="Stuck"), team.actor(team.sam))
    moving = service.create_review(draft_for(team, clock.today, title="Moving"), team.actor(team.sam))
    closed = service.create_review(draft_for(team, clock.today, title="Closed"), team.actor(team.sam))
    service.advance_stage(moving.id, team.actor(team.sam), reason="evidence already held")
    service.close_review(closed.id, team.actor(team.sam))

    clock.advance(days=70)  # past Analyse (30 days) and Plan (60 days)
    overdue = service.list_overdue()

    assert [(o.review_title, o.stage.name, o.days_overdue) for o in overdue] == [
        ("Stuck", "Analyse", 40),
        ("Moving", "Plan", 10),
    ]
    assert [s.name for s in service.get(stuck.id).overdue_stages(service.today())] == ["Analyse", "Plan"]
    assert service.list_overdue(limit=1)[0].review_title == "Stuck"
    clock.advance(days=-70 + 30)  # due today is not overdue yet
    assert service.list_overdue() == []
