"""Draw the feedback summary chart from test data and save it (default /tmp/feedback_summary.png).

    .venv/bin/python bench/feedback_chart.py [OUT.png]

A throwaway SQLite database gets a review, a feedback request to twelve
stakeholders and nine answers (three anonymous) through the product's own
FeedbackService; the chart is the one Slack and Teams show. Prints the summary
text, the PNG's size and how long drawing it took.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.logging import configure_logging  # noqa: E402
from storage.db import open_database  # noqa: E402
from storage.people import PeopleRepository  # noqa: E402
from workflows.charts import render_summary_chart  # noqa: E402
from workflows.cycle import load_cycle  # noqa: E402
from workflows.feedback import ANONYMOUS_FIELD, FeedbackService, RequestForm  # noqa: E402
from workflows.people import PersonRef  # noqa: E402
from workflows.reviews import Actor, ReviewDraft, ReviewService, StageDraft  # noqa: E402
from workflows.working_days import WorkingCalendar  # noqa: E402

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
WORKED = [
    "Friendly, knowledgeable staff",
    "The home library service",
    "Quick answers to questions",
    "Children's reading sessions",
    "",
    "Free computer access",
    "Helpful with job applications",
    "",
    "Clean, quiet",
]
CHANGE = [
    "Open later on weekdays",
    "More large-print books",
    "",
    "Fix the lift at Central",
    "Better parking",
    "",
    "More copies of popular titles",
    "Longer loans",
    "Saturday afternoons",
]
ANSWERS = [  # outcomes, value for money, satisfaction, anonymous
    (4, 3, 5, False),
    (3, 2, 4, True),
    (5, 4, 5, False),
    (4, 4, 4, False),
    (2, 2, 3, True),
    (4, 3, 4, False),
    (5, 3, 5, False),
    (3, 3, 4, True),
    (4, 2, 4, False),
]


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        people = PeopleRepository(database)
        reviews = ReviewService(database, load_cycle(), clock=lambda: NOW)
        lead = people.upsert(name="Lena Lead", email="lena.lead@council.gov.uk")
        holder = people.upsert(name="Cllr Holly Holder", email="holly.holder@council.gov.uk")
        stakeholders = [
            people.upsert(name=f"Stakeholder {i}", email=f"stakeholder{i}@council.gov.uk") for i in range(1, 13)
        ]
        draft = ReviewDraft(
            title="Library services",
            service="Libraries",
            outcomes=["Residents can borrow books"],
            level="operational",
            lead_commissioner_id=lead.id,
            portfolio_holder_id=holder.id,  # type: ignore[arg-type]
            stages=[
                StageDraft(name, lead.id, date(2027, 1 + i * 2, 15))  # type: ignore[arg-type]
                for i, name in enumerate(("Analyse", "Plan", "Do", "Review"))
            ],
        )
        [review_id] = reviews.create_reviews([draft], Actor.system("bench"))
        feedback = FeedbackService(database, reviews, calendar=WorkingCalendar(), clock=lambda: NOW)
        form = RequestForm(person_ids=[int(p.id) for p in stakeholders], closes_on=date(2026, 12, 4))  # type: ignore[arg-type]
        request = feedback.requests.ask(PersonRef.from_person(lead), review_id, form).round
        assert request is not None
        answers = zip(stakeholders, ANSWERS, strict=False)
        for index, (person, (outcomes, value, satisfaction, anonymous)) in enumerate(answers):
            answer_form = feedback.answers.form(PersonRef.from_person(person), f"round:{request.id}")
            feedback.answers.submit(
                PersonRef.from_person(person),
                request.id,
                answer_form.token,
                {
                    "outcomes": str(outcomes),
                    "value_for_money": str(value),
                    "satisfaction": str(satisfaction),
                    "what_worked": WORKED[index],
                    "what_should_change": CHANGE[index],
                    ANONYMOUS_FIELD: "yes" if anonymous else "",
                },
            )
        summary = feedback.summaries.summary(review_id)
        started = time.perf_counter()
        png = render_summary_chart(summary)
        took = time.perf_counter() - started
        database.dispose()
    assert png is not None
    out.write_bytes(png)
    print(feedback.summaries.summary_text(summary))
    print(f"\nChart: {out} ({len(png):,} bytes, drawn in {took * 1000:.0f} ms)")


if __name__ == "__main__":
    configure_logging("WARNING")  # the figures go to standard output; warnings to standard error
    parser = argparse.ArgumentParser(description="Draw a feedback summary chart from sample answers.")
    parser.add_argument(
        "out", nargs="?", type=Path, default=Path("/tmp/feedback_summary.png"), help="where to write the PNG"
    )
    main(parser.parse_args().out)
