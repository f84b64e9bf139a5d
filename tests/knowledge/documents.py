"""Build real guidance files of each supported type from the shared corpus, for tests.

The PDF writer emits a genuine PDF (text objects in a page content stream,
Helvetica, cross-reference table) so pypdf reads it exactly as it reads a
council's exported PDF.
"""

from __future__ import annotations

import html
import zlib
from pathlib import Path

import docx
from pypdf import PdfReader, PdfWriter

from tests.conftest import CORPUS_DIR

ROLES_FILE = CORPUS_DIR / "001_0379794f0cb80f6c.txt"
LEVELS_FILE = CORPUS_DIR / "003_fdd26458dc8783a8.txt"


def corpus_text(path: Path = ROLES_FILE) -> str:
    return path.read_text(encoding="utf-8")


def roles_table() -> tuple[list[str], list[list[str]]]:
    """The stakeholder table from the partnership councils' brief guide."""
    rows = [
        line.split("\t")
        for line in corpus_text().splitlines()
        if "\t" in line and not line.startswith(("Version", "0.1"))
    ]
    rows = [[cell.strip() for cell in row if cell.strip()] for row in rows]
    rows = [r for r in rows if len(r) == 2]
    return rows[0], rows[1:]


def _pdf_escape(text: str) -> str:
    text = text.encode("cp1252", "replace").decode("latin-1")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path: Path, lines: list[str], *, lines_per_page: int = 45) -> Path:
    pages = [lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)] or [[]]
    objects: list[bytes] = []
    page_ids = []
    font_id = 3
    first_page_id = 4
    for index, page_lines in enumerate(pages):
        content_lines = ["BT", "/F1 10 Tf", "12 TL", "50 780 Td"]
        for line in page_lines:
            content_lines.append(f"({_pdf_escape(line)}) Tj T*")
        content_lines.append("ET")
        stream = "\n".join(content_lines).encode("latin-1")  # already WinAnsi bytes
        page_id = first_page_id + index * 2
        content_id = page_id + 1
        page_ids.append(page_id)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 {font_id} 0 R >> >> "
            f"/Contents {content_id} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    header_objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    all_objects = header_objects + objects
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(all_objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(all_objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(all_objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def write_encrypted_pdf(path: Path, source: Path, password: str = "s3cret") -> Path:
    writer = PdfWriter(clone_from=PdfReader(str(source)))
    writer.encrypt(user_password=password, owner_password=password)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def write_blank_pdf(path: Path) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def write_roles_docx(path: Path) -> Path:
    headers, rows = roles_table()
    document = docx.Document()
    document.add_heading("A brief guide to commissioning", level=0)
    document.add_heading("Roles and responsibilities", level=1)
    document.add_paragraph("The roles of each stakeholder group are defined as follows:")
    table = document.add_table(rows=1, cols=2)
    for cell, text in zip(table.rows[0].cells, headers, strict=False):
        cell.text = text
    for row in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = row
    document.add_heading("The commissioning cycle", level=1)
    document.add_paragraph("Councillors play a pivotal role at each stage of the process, by:")
    for item in (
        "Setting political and corporate objectives based on community needs (Strategic planning)",
        "Monitoring the performance of commissioned services to ensure value for money (Monitoring and evaluation).",
    ):
        document.add_paragraph(item, style="List Bullet")
    document.save(str(path))
    return path


def write_roles_html(path: Path) -> Path:
    headers, rows = roles_table()
    body = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>" for a, b in rows)
    path.write_text(
        "<!doctype html><html><head><title>A brief guide to commissioning</title><style>td{}</style></head><body>"
        "<nav><a href='/'>Home</a> <a href='/next'>Next page</a></nav>"
        "<main><h1>A brief guide to commissioning</h1><h2>Roles and responsibilities</h2>"
        "<p>The roles of each stakeholder group are defined as follows:</p>"
        f"<table><tr><th>{html.escape(headers[0])}</th><th>{html.escape(headers[1])}</th></tr>{body}</table>"
        "<script>trackVisitor()</script></main><footer>Cookie settings</footer></body></html>",
        encoding="utf-8",
    )
    return path


def write_roles_markdown(path: Path) -> Path:
    headers, rows = roles_table()
    lines = ["# A brief guide to commissioning", "", "## Roles and responsibilities", ""]
    lines.append(f"| {headers[0]} | {headers[1]} |")
    lines.append("| --- | --- |")
    lines.extend(f"| {a} | {b} |" for a, b in rows)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_levels_pdf(path: Path) -> Path:
    """The levels-of-commissioning appendix as a three-page PDF with a running footer."""
    lines: list[str] = []
    for paragraph in corpus_text(LEVELS_FILE).split("\n\n"):
        paragraph = paragraph.strip().replace("<u>", "").replace("</u>", "")
        if not paragraph:
            continue
        words = paragraph.replace("\t", " ").split()
        line = ""
        for word in words:
            if len(line) + len(word) > 90:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
        lines.append("")
    footer = "Becoming a Commissioning Council - appendix"
    third = len(lines) // 3 + 1
    pages = [lines[i : i + third] + ["", footer] for i in range(0, len(lines), third)]
    return write_pdf(path, [line for page in pages for line in page], lines_per_page=third + 2)


def write_styled_pdf(path: Path, lines: list[tuple[str, str, float]], *, header: str, pages: int = 2) -> Path:
    """A PDF whose lines are set in given fonts and sizes (headings bold or larger, as publishers set them),
    spread over ``pages`` pages, each with the running ``header`` and a "Page N" footer."""
    fonts = {"Helvetica": "F1", "Helvetica-Bold": "F2"}
    per_page = -(-len(lines) // pages)
    chunks = [lines[i : i + per_page] for i in range(0, len(lines), per_page)]
    objects: list[bytes] = []
    page_ids = []
    first_page_id = 5
    for index, page_lines in enumerate(chunks):
        content = ["BT", "/F1 8 Tf", "50 810 Td", f"({_pdf_escape(header)}) Tj", "ET"]
        y = 770
        for text, font, size in page_lines:
            content += ["BT", f"/{fonts[font]} {size} Tf", f"50 {y} Td", f"({_pdf_escape(text)}) Tj", "ET"]
            y -= int(size * 1.6)
        content += ["BT", "/F1 8 Tf", "500 30 Td", f"(Page {index + 1}) Tj", "ET"]
        stream = "\n".join(content).encode("latin-1")
        page_id = first_page_id + index * 2
        page_ids.append(page_id)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> "
            f"/Contents {page_id + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    header_objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
    ]
    all_objects = header_objects + objects
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(all_objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(all_objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(all_objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def write_pdf_bomb(path: Path, megabytes: int = 300) -> Path:
    """A one-page PDF whose content stream is a few hundred KB compressed and ``megabytes`` unpacked."""
    stream = zlib.compress(b"BT /F1 10 Tf 50 780 Td (hello) Tj ET\n" + b" " * (megabytes * 1_048_576), 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path
