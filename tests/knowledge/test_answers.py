"""Answers on the real guidance corpus: the right passage, quoted and cited, and honesty when unsure."""

from __future__ import annotations

import pytest

from knowledge import fitted
from knowledge.models import AnswerKind


@pytest.mark.parametrize(
    "question, answer_has, cited_section",
    [
        (
            "Who makes strategic sourcing decisions?",
            "Council: Makes strategic sourcing decisions through cabinet recommendations",
            "Roles and responsibilities - Partnership Councils and Publica",
        ),
        (
            "What does a portfolio holder do in a commissioning review?",
            "Feeds into commissioning reviews concerning their areas of responsibility",
            "Roles and responsibilities - Partnership Councils and Publica",
        ),
        ("What is an output?", "the desired level of service activity from the provider", None),
    ],
)
def test_questions_are_answered_from_the_passage_that_says_so(corpus_kb, question, answer_has, cited_section):
    answer = corpus_kb.ask(question)
    assert answer.kind is AnswerKind.ANSWERED
    assert answer_has in answer.text
    first = answer.citations[0]
    assert answer_has.split(":")[-1].strip() in first.text
    assert first.source.startswith("corpus/")
    if cited_section:
        assert first.section == cited_section
    assert fitted.ANSWERED_AT <= answer.confidence <= 1.0


def test_a_question_naming_a_section_is_answered_from_that_section(corpus_kb):
    """ "What does the Deliver stage involve?": the section headed Deliver, not the overview that lists every stage."""
    answer = corpus_kb.ask("What does the Deliver stage involve?")
    assert answer.kind in (AnswerKind.ANSWERED, AnswerKind.UNSURE)
    assert answer.citations[0].section == "The Commissioning Cycle > Deliver"
    assert "Identify and procure cost effective service providers" in answer.text


def test_who_question_answers_with_the_role_not_the_whole_table(corpus_kb):
    answer = corpus_kb.ask("Who provides assurance to councils on commissioning decisions?")
    assert answer.text.startswith("Scrutiny Committees:")
    assert "Publica Board" not in answer.text


def test_a_question_about_something_else_is_not_guessed(corpus_kb):
    answer = corpus_kb.ask("How do I change the toner in the printer on the third floor?")
    assert answer.kind is AnswerKind.NOT_FOUND
    assert answer.citations == []
    assert "won't guess" in answer.text
    assert answer.suggestions and all(s in answer.text for s in answer.suggestions)


def test_a_question_that_only_shares_words_with_the_guidance_is_never_answered_confidently(corpus_kb):
    # "tip", "council" and "time" all occur in the guidance; what is asked does not.
    answer = corpus_kb.ask("What time does the council tip open on Sundays?")
    assert answer.kind in (AnswerKind.NOT_FOUND, AnswerKind.UNSURE)
    assert answer.confidence < fitted.ANSWERED_AT
    if answer.kind is AnswerKind.UNSURE:
        assert answer.text.startswith("I'm not sure the guidance answers this exactly.")


def test_a_follow_up_in_the_same_thread_keeps_its_subject(corpus_kb):
    first = "What does the Publica Board do?"
    follow_up = corpus_kb.ask("And who scrutinises them?", history=[first])
    alone = corpus_kb.ask("And who scrutinises them?")
    assert follow_up.citations and follow_up.citations[0].section.startswith("Roles and responsibilities")
    assert follow_up.confidence > alone.confidence


def test_roles_come_from_the_guidance_tables(corpus_kb):
    roles = {r.name: r for r in corpus_kb.roles()}
    assert roles["Council"].responsibilities[:2] == [
        "Defines Council strategic priorities",
        "Makes strategic sourcing decisions through cabinet recommendations",
    ]
    assert roles["Portfolio Holders"].source == "corpus/001_0379794f0cb80f6c.txt"
    assert [r.name for r in corpus_kb.whois("portfolio holder")] == ["Portfolio Holders"]
    assert corpus_kb.whois("chief constable") == []


def test_answer_json_has_the_documented_fields(corpus_kb):
    data = corpus_kb.ask("What is procurement?").to_json()
    assert set(data) >= {"question", "answer", "citations", "confidence"}
    assert set(data["citations"][0]) == {"source", "section", "text", "score"}
    assert "process of acquiring goods, works and services" in data["citations"][0]["text"]
