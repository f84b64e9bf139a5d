"""Files that cannot be used are skipped with a reason; nothing already indexed is lost."""

from __future__ import annotations

import os
import shutil

from knowledge.service import KnowledgeBase
from tests.conftest import CORPUS_DIR
from tests.knowledge import documents


def _reasons(report) -> dict[str, str]:
    return {s.display.split("/")[-1]: s.reason for s in report.skipped}


def test_each_bad_file_is_skipped_with_a_plain_reason(tmp_path, lexical_settings):
    folder = tmp_path / "guidance"
    folder.mkdir()
    shutil.copy(documents.ROLES_FILE, folder / "roles.txt")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> this is not a real pdf")
    documents.write_encrypted_pdf(folder / "locked.pdf", documents.write_levels_pdf(tmp_path / "levels.pdf"))
    documents.write_blank_pdf(folder / "scanned.pdf")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not really a word document")
    (folder / "budget.xlsx").write_bytes(b"PK\x03\x04")
    with (folder / "huge.txt").open("wb") as handle:
        handle.truncate(50 * 1_048_576)

    kb = KnowledgeBase(lexical_settings)
    report = kb.index([folder])

    assert report.added == ["guidance/roles.txt"]
    reasons = _reasons(report)
    assert reasons["empty.txt"] == "it is empty"
    assert reasons["binary.txt"] == "it looks like a binary file, not text"
    assert reasons["corrupt.pdf"] == "it is damaged or is not really a PDF"
    assert reasons["locked.pdf"] == "it is password-protected"
    assert reasons["scanned.pdf"].startswith("it has no text layer")
    assert reasons["broken.docx"].startswith("it could not be opened as a Word document")
    assert reasons["budget.xlsx"].startswith("'.xlsx' is not a supported type")
    assert reasons["huge.txt"] == "it is 50 MB, over the 20 MB limit (MAX_FILE_MB)"
    assert not report.complete
    # The good file still answers.
    assert "Portfolio Holders" in kb.ask("Who feeds into commissioning reviews?").text


def test_a_file_that_turns_bad_keeps_its_earlier_passages(tmp_path, lexical_settings):
    folder = tmp_path / "guidance"
    folder.mkdir()
    pdf = documents.write_levels_pdf(folder / "levels.pdf")
    kb = KnowledgeBase(lexical_settings)
    assert kb.index([folder]).added == ["guidance/levels.pdf"]

    pdf.write_bytes(b"%PDF-1.4 truncated during upload")
    report = kb.index([folder])

    assert _reasons(report) == {"levels.pdf": "it is damaged or is not really a PDF"}
    answer = kb.ask("How are cost effective service providers procured?")
    assert any("procure cost effective service providers" in c.text for c in answer.citations)
    # ...and a restart still has them.
    again = KnowledgeBase(lexical_settings)
    assert any(
        "procure cost effective" in c.text
        for c in again.ask("How are cost effective service providers procured?").citations
    )


def test_a_missing_path_is_reported(tmp_path, lexical_settings):
    report = KnowledgeBase(lexical_settings).index([tmp_path / "nowhere"])
    assert _reasons(report) == {"nowhere": "it does not exist"}


def test_a_folder_of_a_thousand_files(tmp_path, lexical_settings):
    folder = tmp_path / "many"
    folder.mkdir()
    source = documents.corpus_text(CORPUS_DIR / "004_d7df652836f12a28.txt")
    for n in range(1000):
        (folder / f"note-{n:04d}.md").write_text(
            f"# Service note {n}\n\nReference code SN{n:04d}.\n\n{source[:400]}\n", encoding="utf-8"
        )
    kb = KnowledgeBase(lexical_settings)
    report = kb.index([folder])
    assert len(report.added) == 1000 and report.complete
    answer = kb.ask("Which note has reference code SN0731?")
    assert answer.citations[0].source == "many/note-0731.md"
    assert len(kb.index([folder]).unchanged) == 1000


def test_empty_and_very_long_questions_get_help_not_a_traceback(lexical_settings):
    kb = KnowledgeBase(lexical_settings)
    empty = kb.ask("   ")
    assert empty.kind.value == "invalid" and "Ask me a question about commissioning" in empty.text
    long = kb.ask("Who approves sourcing decisions? " * 160)
    assert long.kind.value == "invalid"
    assert "I can take up to 1,000" in long.text and "5,279 characters" in long.text


def test_a_sub_folder_that_cannot_be_opened_is_reported_and_keeps_what_it_gave(tmp_path, lexical_settings, monkeypatch):
    folder = tmp_path / "guidance"
    private = folder / "private"
    private.mkdir(parents=True)
    shutil.copy(documents.ROLES_FILE, private / "roles.txt")
    (folder / "levels.md").write_text("# Levels\n\nStrategic commissioning sets the council's priorities.\n")
    kb = KnowledgeBase(lexical_settings)
    assert sorted(kb.index([folder]).added) == ["guidance/levels.md", "guidance/private/roles.txt"]

    # The folder's permissions change (the tests run as root, which no chmod stops, so the OS is asked to refuse).
    real_scandir = os.scandir

    def scandir(path=".", *args, **kwargs):
        if not isinstance(path, int) and os.fspath(path) == str(private):  # an int is an open folder's handle
            raise PermissionError(13, "Permission denied", str(private))
        return real_scandir(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    report = kb.index([folder])
    monkeypatch.undo()

    [skipped] = report.skipped
    assert skipped.display == "guidance/private/"
    assert skipped.reason.startswith("the folder could not be opened (Permission denied)")
    assert "read access" in skipped.reason
    assert report.removed == []
    assert "Portfolio Holders" in kb.ask("Who feeds into commissioning reviews?").text
