"""Each supported file type, built from the real corpus, indexes into citable passages."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.chunker import chunk_document
from knowledge.ingest import SourceFile, read_document
from knowledge.models import PassageKind
from knowledge.readers.text import parse_plain_text
from knowledge.service import KnowledgeBase
from tests.conftest import CORPUS_DIR
from tests.knowledge import documents


def _chunks(path: Path):
    source = SourceFile(path, str(path), path.name, str(path.parent))
    return chunk_document(read_document(source, 20 * 1_048_576), path.name, str(path))


def _row(chunks, label: str):
    rows = [c for c in chunks if c.kind is PassageKind.TABLE_ROW and c.meta.get("row_label") == label]
    assert rows, f"no table row for {label!r} in {[c.meta.get('row_label') for c in chunks]}"
    return rows[0]


def test_plain_text_table_rows_carry_column_headings_and_split_responsibilities():
    chunks = _chunks(documents.ROLES_FILE)
    row = _row(chunks, "Portfolio Holders")
    assert row.text.startswith("Stakeholder group: Portfolio Holders. Role(s) in the commissioning process:")
    assert "Feeds into commissioning reviews concerning their areas of responsibility" in row.text
    assert row.section[-1] == "Roles and responsibilities - Partnership Councils and Publica"
    assert row.source == documents.ROLES_FILE.name


def test_plain_text_noise_is_cleaned():
    text = (CORPUS_DIR / "002_771464bd2cc8f657.txt").read_text(encoding="utf-8")
    doc = parse_plain_text(text, "workbook")
    chunks = chunk_document(doc, "workbook.txt", "workbook")
    everything = "\n".join(c.text + " " + c.section_label for c in chunks)
    assert "circular graphic icon" not in everything
    assert "Challenges icon" not in everything
    deliver = parse_plain_text((CORPUS_DIR / "003_fdd26458dc8783a8.txt").read_text(encoding="utf-8"), "appendix")
    headings = [getattr(b, "text", "") for b in deliver.blocks]
    assert "Deliver" in headings and not any("<u>" in h for h in headings)


def test_table_of_contents_with_page_numbers_is_not_a_passage():
    chunks = _chunks(documents.ROLES_FILE)
    assert not any("Great commissioning\t3" in c.text or c.text.strip().endswith("\t5") for c in chunks)
    assert not any(c.text.strip() in {"Contents", "Great commissioning 3"} for c in chunks)


def test_a_list_stays_with_the_sentence_that_introduces_it():
    chunks = _chunks(documents.ROLES_FILE)
    lists = [c for c in chunks if c.kind is PassageKind.LIST and "pivotal role" in c.text]
    assert lists
    text = lists[0].text
    assert text.index("pivotal role") < text.index("• Setting political and corporate objectives")
    assert "• Monitoring the performance of commissioned services" in text


def test_markdown_table(tmp_path):
    chunks = _chunks(documents.write_roles_markdown(tmp_path / "roles.md"))
    row = _row(chunks, "Legal")
    assert "case-by-case advice" in row.text
    assert row.section == ("Roles and responsibilities",)


def test_html_page_ignores_navigation_scripts_and_footer(tmp_path):
    chunks = _chunks(documents.write_roles_html(tmp_path / "roles.html"))
    row = _row(chunks, "Publica Board")
    assert "Responsible for delivery of commissioned services" in row.text
    everything = " ".join(c.text for c in chunks)
    assert "trackVisitor" not in everything and "Cookie settings" not in everything and "Next page" not in everything


def test_docx_headings_tables_and_bullets(tmp_path):
    chunks = _chunks(documents.write_roles_docx(tmp_path / "roles.docx"))
    row = _row(chunks, "Scrutiny Committees")
    assert row.section == ("Roles and responsibilities",)
    bullets = [c for c in chunks if c.kind is PassageKind.LIST]
    assert bullets and bullets[0].text.startswith("Councillors play a pivotal role")
    assert bullets[0].section == ("The commissioning cycle",)


def test_pdf_text_is_reflowed_and_running_footer_dropped(tmp_path):
    path = documents.write_levels_pdf(tmp_path / "levels.pdf")
    chunks = _chunks(path)
    everything = "\n".join(c.text for c in chunks)
    assert "Identify and procure cost effective service providers" in everything
    assert "Becoming a Commissioning Council - appendix" not in everything
    assert "Market – understand the market available" in everything


@pytest.mark.parametrize(
    "writer, question, expected",
    [
        (documents.write_roles_markdown, "What is the role of Legal?", "case-by-case advice"),
        (documents.write_roles_html, "Who is responsible for delivery of commissioned services?", "Publica Board"),
        (
            documents.write_roles_docx,
            "Who provides assurance regarding commissioning decisions?",
            "Scrutiny Committees",
        ),
    ],
)
def test_each_format_answers_with_a_citation(tmp_path, lexical_settings, writer, question, expected):
    folder = tmp_path / "guidance"
    folder.mkdir()
    suffix = {documents.write_roles_markdown: ".md", documents.write_roles_html: ".html"}.get(writer, ".docx")
    path = writer(folder / f"roles{suffix}")
    kb = KnowledgeBase(lexical_settings)
    report = kb.index([folder])
    assert report.added == [f"guidance/{path.name}"]
    answer = kb.ask(question)
    assert expected in answer.text
    assert answer.citations[0].source == f"guidance/{path.name}"
    assert answer.citations[0].section == "Roles and responsibilities"


def test_pdf_answers_with_a_citation(tmp_path, settings):
    path = documents.write_levels_pdf(tmp_path / "levels.pdf")
    kb = KnowledgeBase(settings.for_knowledge())
    kb.index([path])
    answer = kb.ask("What does the Deliver stage involve?")
    assert "procure cost effective service providers" in answer.text
    assert answer.citations[0].source == "levels.pdf"
    assert answer.citations[0].section == "The Commissioning Cycle > Deliver"
