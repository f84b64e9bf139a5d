"""Guidance as councils really publish it: exported Markdown, web pages, legislation-style clauses, styled PDFs.

The documents here are written for the tests in the shapes real files take;
nothing in the product names anything in them.
"""

from __future__ import annotations

from pathlib import Path

from knowledge.blocks import Heading, ListBlock, Paragraph
from knowledge.chunker import chunk_document
from knowledge.models import AnswerKind, PassageKind
from knowledge.readers.html import parse_html
from knowledge.readers.markdown import parse_markdown
from knowledge.readers.pdf import parse_pdf
from knowledge.readers.text import parse_plain_text
from knowledge.service import KnowledgeBase
from tests.knowledge.conftest import make_settings
from tests.knowledge.documents import write_styled_pdf

EXPORTED_MARKDOWN = """---
layout: guidance
title: "Waste contracts guide"
breadcrumbs:
  - title: Home
    url: /
---

{:.intro}
How the council buys [waste collection](/waste/collection.html) and **street cleaning** services.

##Planning a waste contract

The waste team should start market testing at least 18 months before the current contract ends.[^note-1]

* [Next: awarding](/waste/award)
* [Previous: overview](/waste)

<figure class="video"><a href="https://video.example/123">Watch the head of waste explain the plan.</a></figure>

[^note-1]: Amended by the 2021 review of standing orders.
"""


def test_exported_markdown_keeps_only_what_a_reader_sees():
    doc = parse_markdown(EXPORTED_MARKDOWN, "waste-guide")
    assert doc.title == "Waste contracts guide"
    headings = [b.text for b in doc.blocks if isinstance(b, Heading)]
    assert headings == ["Planning a waste contract"]
    text = "\n".join(getattr(b, "text", "") or " ".join(getattr(b, "items", [])) for b in doc.blocks)
    assert "How the council buys waste collection and street cleaning services." in text
    for noise in ("layout:", "breadcrumbs", "{:", "](/", "**", "[^", "Amended by", "Next: awarding", "Watch the head"):
        assert noise not in text, noise
    assert not any(isinstance(b, ListBlock) for b in doc.blocks)  # a list of links is navigation


WEB_PAGE = """<!doctype html><html><head><title>Grant funding rules – Example Council</title></head><body>
<div id="skiplink"><a href="#content">Skip to main content</a></div>
<header role="banner"><a href="/">Example Council</a><form role="search"><input name="q"></form></header>
<div id="global-cookie-message"><p>We use cookies to make the site simpler.</p></div>
<main id="content">
  <div class="breadcrumbs"><ol><li><a href="/">Home</a></li><li><a href="/money">Money</a></li></ol></div>
  <article>
    <header class="page-header"><hgroup><h1>Grant funding rules</h1>
      <h2 class="subtitle">When a grant is the right route</h2></hgroup></header>
    <nav class="contents"><h2>Contents</h2><ol><li><a href="#a">Eligibility</a></li></ol></nav>
    <h2 id="a">Eligibility</h2>
    <p>A grant may be used when the council wants to support an activity rather than buy a
       <a href="/services">defined service</a>.</p>
  </article>
</main>
<footer><p>Copyright Example Council</p></footer>
</body></html>"""


def test_a_web_page_drops_site_furniture_and_keeps_its_own_title():
    doc = parse_html(WEB_PAGE, "grants")
    assert doc.title == "Grant funding rules"
    text = " ".join(getattr(b, "text", "") or " ".join(getattr(b, "items", [])) for b in doc.blocks)
    assert (
        "A grant may be used when the council wants to support an activity rather than buy a defined service." in text
    )
    assert "When a grant is the right route" in text  # the subtitle is text, not a section
    for furniture in ("Skip to main content", "cookies", "Home", "Contents", "Copyright", "Example Council"):
        assert furniture not in text, furniture
    assert [b.text for b in doc.blocks if isinstance(b, Heading)] == ["Eligibility"]


def test_deeply_nested_html_is_read_without_running_out_of_stack():
    markup = "<div>" * 5000 + "<p>The fleet manager signs off vehicle leases.</p>" + "</div>" * 5000
    doc = parse_html(markup, "deep")
    assert any(isinstance(b, Paragraph) and "vehicle leases" in b.text for b in doc.blocks)


CONSTITUTION = "\n\n".join(
    [
        "Part 3 Responsibility for functions",
        "Article 12 Officers",
        "12.1 The Monitoring Officer is responsible for ensuring the lawfulness and fairness of decision-making. "
        "The Monitoring Officer will report to full Council on any proposal likely to be unlawful.",
        "12.2 The Chief Finance Officer (Section 151 Officer) shall ensure the proper administration of the "
        "Council's financial affairs and shall report on the robustness of budget estimates.",
        "12.3 The Head of Paid Service (the Chief Executive) will report to full Council on the number and grades "
        "of staff needed to discharge its functions.",
        "12.4 In this Article “proper officer” means the officer appointed by the Council for a statutory purpose.",
    ]
)


def test_constitution_prose_names_the_statutory_officers(tmp_path, lexical_settings):
    folder = tmp_path / "guidance"
    folder.mkdir()
    (folder / "constitution.txt").write_text(CONSTITUTION, encoding="utf-8")
    kb = KnowledgeBase(lexical_settings)
    kb.index([folder])
    names = {role.name for role in kb.roles()}
    assert {
        "Monitoring Officer",
        "Chief Finance Officer (Section 151 Officer)",
        "Head of Paid Service (the Chief Executive)",
    } <= names
    assert [r.name for r in kb.whois("s151 officer")] == ["Chief Finance Officer (Section 151 Officer)"]
    assert [r.name for r in kb.whois("chief executive")] == ["Head of Paid Service (the Chief Executive)"]
    monitoring = kb.whois("monitoring officer")[0]
    assert monitoring.responsibilities[0].startswith(
        "The Monitoring Officer is responsible for ensuring the lawfulness"
    )


def test_numbered_clauses_become_passages_that_read_on_their_own():
    text = """Standstill periods

(1) A contracting authority may not enter into a contract before the end of the standstill period.
(2) The “standstill period” is the period of eight working days beginning with the day the award notice is published.
(3) Subsection (1) does not apply to a contract that is—
(a) awarded in an emergency,
(b) awarded under a framework, or
(c) a light touch contract.
(4) This section does not apply to schools.
"""
    chunks = chunk_document(parse_plain_text(text, "act"), "act.txt", "act")
    texts = [c.text for c in chunks]
    assert any(t.startswith("(3) Subsection (1) does not apply") and "(c) a light touch contract." in t for t in texts)
    assert not any(t.startswith("(b)") for t in texts)  # a sub-clause stays with the words it completes
    defining = next(c for c in chunks if "eight working days" in c.text)
    assert "standstill period" in defining.meta["defines"]


def test_a_section_number_joins_its_heading():
    text = (
        "Duty to consider lots\n\n18\n\n(1) Before publishing a tender notice the authority must consider whether "
        "the contract could be awarded in lots.\n(2) If it does not, it must give reasons.\n"
    )
    chunks = chunk_document(parse_plain_text(text, "act"), "act.txt", "act")
    assert chunks and all(c.section[-1] == "18 Duty to consider lots" for c in chunks)


def test_a_defining_line_without_a_full_stop_is_text_not_a_heading():
    doc = parse_plain_text(
        "Purpose\n\n'Best value' means securing continuous improvement in the way functions are exercised\n\n"
        "This applies to every service.\n",
        "guide",
    )
    paragraphs = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    assert any(p.startswith("'Best value' means securing continuous improvement") for p in paragraphs)


def test_a_heading_alone_is_never_the_quoted_answer(tmp_path, lexical_settings):
    folder = tmp_path / "guidance"
    folder.mkdir()
    (folder / "fleet.md").write_text(
        "# Fleet\n\n## Vehicle replacement reviews\n\nVehicle replacement reviews\n\n"
        "## Who leads\n\nThe fleet manager leads every vehicle replacement review "
        "and reports to the transport board.\n",
        encoding="utf-8",
    )
    kb = KnowledgeBase(lexical_settings)
    kb.index([folder])
    answer = kb.ask("Who leads vehicle replacement reviews?")
    assert "The fleet manager leads every vehicle replacement review" in answer.text
    assert answer.citations[0].text.startswith("The fleet manager")


def test_styled_pdf_headings_come_from_fonts_and_a_table_header_is_not_one(tmp_path):
    path = write_styled_pdf(
        tmp_path / "act.pdf",
        [
            ("Example Procurement Act", "Helvetica-Bold", 18),
            ("Time limits", "Helvetica-Bold", 12),
            ("54", "Helvetica-Bold", 10),
            ("(1) A participation period must be at least as long as the period in this table—", "Helvetica", 10),
            ("Circumstance", "Helvetica", 10),
            ("Minimum period", "Helvetica", 10),
            ("The matter is urgent", "Helvetica", 10),
            ("10 days", "Helvetica", 10),
            ("(2) Time limits must be the same for every supplier.", "Helvetica", 10),
            ("Payment of invoices", "Helvetica-Bold", 12),
            ("68", "Helvetica-Bold", 10),
            ("(1) A sum due under a public contract must be paid within 30 days of the invoice.", "Helvetica", 10),
        ],
        header="Example Procurement Act (c. 1)",
    )
    doc = parse_pdf(path, "act")
    assert doc.title == "Example Procurement Act"
    headings = [b.text for b in doc.blocks if isinstance(b, Heading)]
    assert headings == ["Time limits", "54", "Payment of invoices", "68"]
    chunks = chunk_document(doc, "act.pdf", str(path))
    sections = {c.section[-1] for c in chunks}
    assert sections == {"54 Time limits", "68 Payment of invoices"}
    everything = " ".join(c.text for c in chunks)
    assert "Circumstance Minimum period The matter is urgent 10 days" in everything
    assert "(c. 1)" not in everything and "Page" not in everything


def test_misspelt_and_abbreviated_questions_are_understood(tmp_path, settings):
    folder = tmp_path / "guidance"
    folder.mkdir()
    (folder / "groups.md").write_text(
        "# Officer groups\n\n"
        "## Client Officers Group\n\nThe Client Officers Group (COG) brings lead commissioners and providers together "
        "every month to discuss service performance and future needs.\n\n"
        "## Standstill\n\nThe mandatory standstill period lasts eight working days after the award notice.\n\n"
        "## Scrutiny\n\nA councillor who sits on the cabinet may not be a member "
        "of an overview and scrutiny committee.\n",
        encoding="utf-8",
    )
    kb = KnowledgeBase(settings.for_knowledge())
    kb.index([folder])
    typo = kb.ask("how long is the mandetory standstil period")
    assert typo.kind is not AnswerKind.NOT_FOUND and "eight working days" in typo.text
    abbreviation = kb.ask("what's COG for?")
    assert "Client Officers Group (COG) brings lead commissioners" in abbreviation.citations[0].text
    shorthand = kb.ask("can a cabinet cllr sit on the O&S cttee?")
    assert "may not be a member of an overview and scrutiny committee" in shorthand.citations[0].text


def test_a_councils_own_synonyms_file_is_used(tmp_path):
    folder = tmp_path / "guidance"
    folder.mkdir()
    (folder / "boards.md").write_text(
        "# Boards\n\nThe Strategic Commissioning Board approves every commissioning plan over one million pounds.\n",
        encoding="utf-8",
    )
    synonyms = tmp_path / "synonyms.toml"
    synonyms.write_text('[abbreviations]\nzz9 = "strategic commissioning board"\n', encoding="utf-8")
    kb = KnowledgeBase(make_settings(tmp_path / "data", dense=False, synonyms_file=synonyms))
    kb.index([folder])
    answer = kb.ask("what does ZZ9 approve?")
    assert answer.kind is not AnswerKind.NOT_FOUND
    assert "approves every commissioning plan" in answer.text


def test_a_bracketed_other_name_finds_the_role(corpus_kb):
    lead = corpus_kb.whois("lead commissioner")
    assert [r.name for r in lead] == ["Council Head of Paid Service (Lead commissioner)"]
    assert "Lead commissioner" in lead[0].aliases


def test_table_rows_split_by_how_the_table_itself_starts_its_items():
    """Cells copied from Word lose their bullets; the items are found again without a list of words."""
    text = (
        "Group\tWhat they do\n"
        "Board\tApproves budgets Monitors delivery of the plan\n"
        "Panel\tReviews complaints Reports to the Board on trends\n"
        "Forum\tA meeting of residents' representatives Advises the Board\n"
    )
    chunks = chunk_document(parse_plain_text(text, "groups"), "groups.txt", "groups")
    rows = {c.meta["row_label"]: c for c in chunks if c.kind is PassageKind.TABLE_ROW}
    assert rows["Board"].meta["parts"][1] == ["Approves budgets", "Monitors delivery of the plan"]
    assert rows["Forum"].meta["parts"][1] == ["A meeting of residents' representatives", "Advises the Board"]


def test_answers_from_a_second_corpus_keep_their_sources(tmp_path, lexical_settings):
    folder = tmp_path / "guidance"
    (folder / "sub").mkdir(parents=True)
    Path(folder / "sub" / "note.md").write_text(
        "# Note\n\nThe fleet manager owns vehicle replacement reviews.\n", encoding="utf-8"
    )
    kb = KnowledgeBase(lexical_settings)
    kb.index([folder])
    answer = kb.ask("Who owns vehicle replacement reviews?")
    assert answer.citations[0].source == "guidance/sub/note.md"
