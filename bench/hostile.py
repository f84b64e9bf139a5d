"""Hostile guidance files: how long indexing takes to refuse each, and the Word reader beside python-docx.

Builds, in a temporary folder:

- a Word file of a few hundred KB that inflates to 50 MB of valid XML (the issue's case), and one padded
  with an incompressible picture so the whole file's ratio looks ordinary;
- a PDF whose one content stream unpacks to 300 MB;
- a web page nested a million elements deep;
- a legitimate Word document of 20,000 styled paragraphs (headings, lists, body text);

then indexes the folder keyword-only (as ``commissioning-bot index`` does, reading in the worker process)
and prints each file's outcome and the total time, and times the product's Word reader against
python-docx merely opening the same legitimate document.

    .venv/bin/python bench/hostile.py
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import docx  # noqa: E402

from bot.config import Settings  # noqa: E402
from knowledge.readers.docx import parse_docx  # noqa: E402
from knowledge.service import KnowledgeBase  # noqa: E402
from tests.knowledge.documents import write_pdf_bomb  # noqa: E402
from tests.knowledge.test_hostile_files import write_inflating_docx  # noqa: E402

PARAGRAPHS = 20_000


def legitimate_docx(path: Path) -> Path:
    document = docx.Document()
    for number in range(PARAGRAPHS):
        if number % 50 == 0:
            document.add_heading(f"Section {number // 50}", level=2)
        elif number % 7 == 0:
            document.add_paragraph(f"Checklist item {number}", style="List Bullet")
        else:
            document.add_paragraph(f"Paragraph {number}: the lead commissioner records the decision and its reasons.")
    document.save(str(path))
    return path


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        folder = root / "guidance"
        folder.mkdir()
        (folder / "fleet.md").write_text("# Fleet\n\nThe fleet manager owns vehicle replacement reviews.\n")
        inflating = write_inflating_docx(folder / "minutes.docx", megabytes=50)
        padded = write_inflating_docx(folder / "padded.docx", megabytes=50)
        with zipfile.ZipFile(padded, "a", zipfile.ZIP_STORED) as archive:
            archive.writestr("word/media/image1.png", random.Random(7).randbytes(1_048_576))
        write_pdf_bomb(folder / "report.pdf")
        depth = 1_000_000
        (folder / "abyss.html").write_text("<span>" * depth + "x" + "</span>" * depth, encoding="utf-8")
        print(f"inflating .docx: {inflating.stat().st_size / 1024:.0f} KB on disk")

        settings = Settings(
            data_dir=root / "data",
            embedding_model_dir=root / "no-model",
            _env_file=None,  # type: ignore[call-arg]
        ).for_knowledge()
        started = time.perf_counter()
        kb = KnowledgeBase(settings)
        report = kb.index([folder])
        seconds = time.perf_counter() - started
        for skipped in report.skipped:
            print(f"  skipped {skipped.display}: {skipped.reason}")
        print(f"  indexed: {', '.join(report.added)}")
        print(f"index of the hostile folder: {seconds:.2f} s")
        answer = kb.ask("Who owns vehicle replacement reviews?")
        print(f"earlier guidance still answers: {'fleet manager' in answer.text}")

        long_document = legitimate_docx(root / "long.docx")
        started = time.perf_counter()
        docx.Document(str(long_document))
        opened = time.perf_counter() - started
        started = time.perf_counter()
        parsed = parse_docx(long_document, "long")
        read = time.perf_counter() - started
        print(
            f"{PARAGRAPHS:,} paragraphs: python-docx opens it in {opened:.2f} s; the product's reader reads it "
            f"({len(parsed.blocks):,} blocks) in {read:.2f} s = {read / PARAGRAPHS * 1000:.3f} ms a paragraph"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB (parsing ran in the reader's worker process)")


if __name__ == "__main__":
    main()
