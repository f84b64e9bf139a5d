"""Files built to hurt the indexer are refused cheaply, with a reason, and everything else is still indexed."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import docx
import pytest

from knowledge.limits import ReadLimits, SkipFile, check_docx
from knowledge.service import KnowledgeBase
from tests.knowledge.conftest import make_settings
from tests.knowledge.documents import write_pdf, write_pdf_bomb

GOOD = "# Fleet\n\nThe fleet manager owns every vehicle replacement review.\n"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "guidance"
    folder.mkdir()
    (folder / "fleet.md").write_text(GOOD, encoding="utf-8")
    return folder


def _reasons(report) -> dict[str, str]:
    return {Path(s.display).name: s.reason for s in report.skipped}


def write_inflating_docx(path: Path, megabytes: int = 60) -> Path:
    """A real Word file whose document part unpacks to ``megabytes`` of valid XML (a few hundred KB packed)."""
    seed = path.with_suffix(".seed.docx")
    document = docx.Document()
    document.add_paragraph("Seed")
    document.save(str(seed))
    paragraph = b"<w:p><w:r><w:t>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</w:t></w:r></w:p>"
    with zipfile.ZipFile(seed) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "word/document.xml":
                head, tail = data.split(b"<w:body>", 1)
                body = paragraph * (megabytes * 1_048_576 // len(paragraph))
                data = head + b"<w:body>" + body + tail
            target.writestr(item, data)
    seed.unlink()
    return path


def test_a_word_file_that_unpacks_to_far_more_than_it_weighs_is_refused(tmp_path, lexical_settings):
    folder = _folder(tmp_path)
    bomb = write_inflating_docx(folder / "minutes.docx")
    assert bomb.stat().st_size < 1_048_576
    kb = KnowledgeBase(lexical_settings)
    report = kb.index([folder])
    reason = _reasons(report)["minutes.docx"]
    assert reason.startswith("it unpacks to") and "times its size" in reason
    assert report.added == ["guidance/fleet.md"]
    assert "fleet manager" in kb.ask("Who owns vehicle replacement reviews?").text


def test_a_web_page_nested_a_hundred_thousand_deep_is_refused(tmp_path, lexical_settings):
    folder = _folder(tmp_path)
    depth = 100_000
    (folder / "deep.html").write_text("<div>" * depth + "<p>hello</p>" + "</div>" * depth, encoding="utf-8")
    report = KnowledgeBase(lexical_settings).index([folder])
    assert _reasons(report)["deep.html"] == "its elements are nested more than 400 deep, which no readable page needs"


def test_a_pdf_with_thousands_of_pages_is_refused(tmp_path, lexical_settings):
    folder = _folder(tmp_path)
    write_pdf(folder / "ream.pdf", ["x"] * 5_001, lines_per_page=1)
    report = KnowledgeBase(lexical_settings).index([folder])
    assert _reasons(report)["ream.pdf"] == "it has 5,001 pages, more than the 5,000 read from one file"


def test_a_pdf_whose_page_unpacks_to_hundreds_of_megabytes_is_refused(tmp_path, lexical_settings):
    folder = _folder(tmp_path)
    write_pdf_bomb(folder / "report.pdf")
    report = KnowledgeBase(lexical_settings).index([folder])
    assert (
        _reasons(report)["report.pdf"]
        == "part of it unpacks to far more data than any page holds (a damaged or hostile PDF)"
    )
    assert report.added == ["guidance/fleet.md"]


def test_a_file_that_takes_too_long_to_read_is_left_out_and_the_rest_is_indexed(tmp_path):
    folder = _folder(tmp_path)
    write_pdf(folder / "a-slow.pdf", ["The transport board approves the fleet plan."] * 40)
    (folder / "z-page.html").write_text("<main><p>The parks team owns the tree survey.</p></main>", encoding="utf-8")
    # A limit no worker can meet on its first file (starting it takes longer), so the first one is left out.
    kb = KnowledgeBase(make_settings(tmp_path / "data", dense=False, max_read_seconds=0.001))
    report = kb.index([folder])
    assert _reasons(report)["a-slow.pdf"] == "it took more than 0 seconds to read, so it was left out"
    assert "guidance/fleet.md" in report.added
    relaxed = KnowledgeBase(make_settings(tmp_path / "data", dense=False))
    again = relaxed.index([folder])
    assert "guidance/a-slow.pdf" in again.added and not again.skipped


def test_a_word_file_padded_with_pictures_to_hide_an_inflating_part_is_refused(tmp_path, lexical_settings):
    """The whole file's ratio looks ordinary (a picture that does not compress), but its text would be parsed."""
    folder = _folder(tmp_path)
    bomb = write_inflating_docx(folder / "padded.docx", megabytes=40)
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/media/image1.png", random.Random(7).randbytes(1_048_576))
    kb = KnowledgeBase(lexical_settings)
    report = kb.index([folder])
    reason = _reasons(report)["padded.docx"]
    assert reason.startswith("part of it unpacks to") and "times its size" in reason
    assert report.added == ["guidance/fleet.md"]
    assert "fleet manager" in kb.ask("Who owns vehicle replacement reviews?").text


def test_a_word_file_whose_text_is_over_the_limit_is_refused_before_parsing(tmp_path):
    """Below the ratio checks' threshold, the text's own size is still bounded (here a limit of 5 MB)."""
    path = write_inflating_docx(tmp_path / "long.docx", megabytes=6)
    with pytest.raises(SkipFile) as refused:
        check_docx(path, ReadLimits(max_text_part_bytes=5 * 1_048_576))
    assert str(refused.value).startswith("its text unpacks to 7 MB")  # 6 MB of paragraphs and the styles
    assert "over the 5 MB of text a Word document may hold" in str(refused.value)
    check_docx(path, ReadLimits())  # the default limit lets an ordinary long document through


def test_a_web_page_nested_a_million_deep_is_refused_with_a_reason_not_an_unexpected_problem(
    tmp_path, lexical_settings
):
    folder = _folder(tmp_path)
    depth = 1_000_000
    (folder / "abyss.html").write_text("<span>" * depth + "x" + "</span>" * depth, encoding="utf-8")
    report = KnowledgeBase(lexical_settings).index([folder])
    assert _reasons(report)["abyss.html"] == "its elements are nested more than 400 deep, which no readable page needs"
    assert "fleet manager" in KnowledgeBase(lexical_settings).ask("Who owns vehicle replacement reviews?").text
