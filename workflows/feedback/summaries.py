"""What stakeholders said about a review: the summary officers see in chat, and the CSV export for operators.

Summaries and exports break answers down only from ``MIN_RESPONSES`` answers; below that they say how
many more are needed, so a lone anonymous answer cannot be read off against the list of who has answered.
Written answers are sorted, and exported rows ordered by their words, so no order gives anyone away.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from storage.feedback_records import ResponseRecord, RoundRecord
from storage.models import FeedbackRoundKind, FeedbackStatus
from workflows.csv_safety import safe_csv_writer
from workflows.dates import format_date
from workflows.feedback.questions import Question
from workflows.feedback.rules import MIN_RESPONSES, FeedbackRules, plural

__all__ = ["FeedbackSummaries", "FeedbackSummary", "RatingStats"]


@dataclass(frozen=True)
class RatingStats:
    question_id: str
    text: str
    count: int
    mean: float
    spread: float  # standard deviation
    low: int
    high: int
    distribution: dict[int, int]


@dataclass(frozen=True)
class FeedbackSummary:
    review_id: int
    review_title: str
    round: RoundRecord | None
    question_set_title: str
    invited: int
    answered: int
    responses: int
    ratings: list[RatingStats]
    texts: dict[str, list[str]]  # question text -> answers
    unsolicited: int

    @property
    def enough(self) -> bool:
        return self.responses >= MIN_RESPONSES

    @property
    def needed(self) -> int:
        return max(0, MIN_RESPONSES - self.responses)

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.invited if self.invited else None


def _rating_stats(question: Question, responses: Sequence[ResponseRecord]) -> RatingStats | None:
    given = [r.ratings[question.id] for r in responses if question.id in r.ratings]
    if not given:
        return None
    return RatingStats(
        question.id,
        question.text,
        len(given),
        statistics.fmean(given),
        statistics.pstdev(given) if len(given) > 1 else 0.0,
        min(given),
        max(given),
        {score: given.count(score) for score in range(1, 6)},
    )


def _breakdown(
    questions: Sequence[Question], responses: Sequence[ResponseRecord]
) -> tuple[list[RatingStats], dict[str, list[str]]]:
    """Each rating question's figures, and each open question's answers."""
    ratings: list[RatingStats] = []
    texts: dict[str, list[str]] = {}
    for question in questions:
        if question.kind == "rating":
            stats = _rating_stats(question, responses)
            if stats is not None:
                ratings.append(stats)
        else:
            # Sorted, so the order says nothing about who wrote what when.
            texts[question.text] = sorted(r.answers[question.id] for r in responses if question.id in r.answers)
    return ratings, texts


class FeedbackSummaries:
    def __init__(self, rules: FeedbackRules) -> None:
        self.rules = rules

    def summary(self, review_id: int) -> FeedbackSummary:
        review = self.rules.reviews.get(review_id)
        requested = self.rules.repository.rounds_for_review(review_id, FeedbackRoundKind.REQUESTED.value)
        unsolicited_rounds = self.rules.repository.rounds_for_review(review_id, FeedbackRoundKind.UNSOLICITED.value)
        unsolicited = sum(len(self.rules.repository.responses(r.id)) for r in unsolicited_rounds)
        chosen = requested[0] if requested else (unsolicited_rounds[0] if unsolicited_rounds else None)
        if chosen is None:
            return FeedbackSummary(review.id, review.title, None, "", 0, 0, 0, [], {}, 0)
        responses = self.rules.repository.responses(chosen.id)
        invited = self.rules.repository.invited(chosen.id) if chosen.is_requested else []
        answered = sum(1 for person in invited if person.status == FeedbackStatus.ANSWERED.value)
        questions = [Question.from_json(q) for q in chosen.questions]
        question_set = self.rules.question_sets.get(f"{chosen.question_set}:{chosen.question_set_version}")
        title = question_set.title if question_set else chosen.question_set
        ratings, texts = _breakdown(questions, responses) if len(responses) >= MIN_RESPONSES else ([], {})
        return FeedbackSummary(
            review.id,
            review.title,
            chosen,
            title,
            len(invited),
            answered,
            len(responses),
            ratings,
            texts,
            unsolicited if chosen.is_requested else 0,
        )

    def summary_text(self, summary: FeedbackSummary, *, ask_command: str | None = None) -> str:
        """The summary as text. ``ask_command``: how to ask stakeholders where the officer is reading this (Slack's
        slash command, Teams' "feedback N"); without it the text names both, since the terminal cannot ask."""
        if summary.round is None:
            rid = summary.review_id
            how = (
                f"Use “{ask_command}” to ask stakeholders."
                if ask_command
                else f"Stakeholders are asked from Slack (“/commissioning feedback {rid}”) or by sending "
                f"“feedback {rid}” to the assistant in Teams."
            )
            return (
                f"Nobody has been asked for feedback on #{rid} “{summary.review_title}” yet, and none "
                f"has been given. {how}"
            )
        chosen = summary.round
        if chosen.is_requested:
            closes = format_date(chosen.closes_on) if chosen.closes_on else ""
            state = "closed" if self.rules.is_closed(chosen) else "closes"
            rate = summary.response_rate or 0.0
            lines = [
                f"Feedback on #{summary.review_id} “{summary.review_title}” ({summary.question_set_title}, "
                f"{state} {closes}): {summary.answered} of {summary.invited} people answered ({rate:.0%})."
            ]
        else:
            lines = [
                f"Feedback on #{summary.review_id} “{summary.review_title}” given without a request: "
                f"{plural(summary.responses, 'answer')}."
            ]
        if not summary.enough:
            lines.append(
                f"The breakdown is shown once there are {MIN_RESPONSES} answers, so nobody's answer can be "
                f"picked out: {plural(summary.needed, 'more answer')} needed."
            )
        else:
            for stats in summary.ratings:
                lines.append(
                    f"• {stats.text} average {stats.mean:.1f} out of 5 (spread ±{stats.spread:.1f}, "
                    f"from {stats.low} to {stats.high}; {plural(stats.count, 'rating')})"
                )
            for question, given in summary.texts.items():
                if given:
                    lines.append(f"*{question}*")
                    lines.extend(f"> {' '.join(text.split())[:500]}" for text in given[:20])
                    if len(given) > 20:
                        lines.append(f"…and {len(given) - 20} more (use the CSV export for all of them).")
        if summary.unsolicited:
            lines.append(
                f"Also {plural(summary.unsolicited, 'answer')} given without a request (an administrator "
                "can export them with the rest)."
            )
        return "\n".join(lines)

    def export_csv(self, review_id: int, out: TextIO) -> int:
        """Every round's answers as CSV rows; rounds with fewer than MIN_RESPONSES answers are left out (and said
        so by the caller). Returns the number of rows written."""
        self.rules.reviews.get(review_id)
        rounds = self.rules.repository.rounds_for_review(review_id)
        all_questions: list[str] = []
        for found in rounds:
            for q in found.questions:
                if q["id"] not in all_questions:
                    all_questions.append(q["id"])
        writer = safe_csv_writer(out)
        writer.writerow(["review", "request", "kind", "question_set", "respondent", "answered_on", *all_questions])
        written = 0
        for found in sorted(rounds, key=lambda r: r.id):
            responses = self.rules.repository.responses(found.id)
            if len(responses) < MIN_RESPONSES:
                continue
            names = self.rules.people.get_many([r.person_id for r in responses if r.person_id is not None])
            rows = []
            for response in responses:
                who = (
                    "anonymous"
                    if response.anonymous or response.person_id is None
                    else names[response.person_id].name
                    if response.person_id in names
                    else "unknown"
                )
                values = [response.ratings.get(q, response.answers.get(q, "")) for q in all_questions]
                rows.append(
                    [
                        review_id,
                        found.id,
                        found.kind,
                        f"{found.question_set} v{found.question_set_version}",
                        who,
                        response.answered_on.isoformat() if response.answered_on else "",
                        *values,
                    ]
                )
            # Named first, then anonymous, each sorted by their words: the order gives nobody away.
            rows.sort(key=lambda row: (row[4] == "anonymous", str(row[4]), [str(v) for v in row[6:]]))
            writer.writerows(rows)
            written += len(rows)
        return written

    def rounds_held_back(self, review_id: int) -> list[tuple[RoundRecord, int]]:
        """Rounds an export leaves out for having too few answers, with their counts."""
        held = []
        for found in self.rules.repository.rounds_for_review(review_id):
            count = len(self.rules.repository.responses(found.id))
            if 0 < count < MIN_RESPONSES:
                held.append((found, count))
        return held
