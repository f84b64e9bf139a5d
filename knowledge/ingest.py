"""Finding guidance files and reading them into structured documents.

Every file that cannot be used is reported with a reason a council officer
can act on ("it is password-protected"), and never stops the rest of the run.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from knowledge.blocks import ParsedDocument
from knowledge.limits import ReadLimits, SkipFile, precheck

SUPPORTED_SUFFIXES = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}


@dataclass(frozen=True)
class SourceFile:
    path: Path
    key: str  # stable identity in the index
    display: str  # what citations show
    root: str  # the folder or file the user asked to index

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


@dataclass(frozen=True)
class Skipped:
    display: str
    reason: str
    # A folder that could not be opened: what was indexed from it before is kept, not removed as gone.
    unreadable_folder: str = ""


IGNORE_FILE = ".guidanceignore"


@dataclass(frozen=True)
class Exclusions:
    """Patterns of files and folders to leave out, as in a ``.gitignore``: ``drafts/``, ``*.tmp``, ``old/*.pdf``.

    A pattern without a slash matches a file or folder name anywhere below the root; one with a slash
    matches the path from the root. A trailing slash matches folders only.
    """

    patterns: tuple[str, ...] = ()

    @classmethod
    def for_root(cls, root: Path, extra: Iterable[str] = ()) -> Exclusions:
        patterns = [p.strip() for p in extra if p.strip()]
        ignore = root / IGNORE_FILE if root.is_dir() else None
        if ignore is not None and ignore.is_file():
            for line in ignore.read_text(encoding="utf-8", errors="replace").splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    patterns.append(line)
        return cls(tuple(patterns))

    def excludes(self, relative: str, *, is_dir: bool) -> bool:
        name = relative.rsplit("/", 1)[-1]
        for pattern in self.patterns:
            folder_only = pattern.endswith("/")
            bare = pattern.strip("/")
            if folder_only and not is_dir:
                continue
            if ("/" in bare and fnmatch.fnmatch(relative, bare)) or ("/" not in bare and fnmatch.fnmatch(name, bare)):
                return True
        return False


def discover(paths: Iterable[Path], exclude: Iterable[str] = ()) -> tuple[list[SourceFile], list[Skipped]]:
    """Expand files and folders into the guidance files to index, leaving out what is excluded."""
    found: dict[str, SourceFile] = {}
    skipped: list[Skipped] = []
    extra = list(exclude)
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            skipped.append(Skipped(str(given), "it does not exist"))
            continue
        root = path.resolve()
        if root.is_file():
            candidates = [root]
            base = root.parent
        else:
            unreadable: list[OSError] = []
            candidates = sorted(_walk(root, Exclusions.for_root(root, extra), unreadable))
            base = root
            for error in unreadable:
                folder = Path(str(error.filename or root))
                where = folder.relative_to(root).as_posix() if folder != root and folder.is_relative_to(root) else ""
                skipped.append(
                    Skipped(
                        f"{root.name}/{where}".rstrip("/") + "/",
                        f"the folder could not be opened ({error.strerror or type(error).__name__}), so nothing in "
                        "it was indexed; ask whoever manages it for read access, or leave it out with --exclude",
                        unreadable_folder=str(folder),
                    )
                )
        for candidate in candidates:
            display = candidate.relative_to(base).as_posix() if candidate != base else candidate.name
            if root.is_dir():
                display = f"{root.name}/{display}"
            if candidate.suffix.lower() not in SUPPORTED_SUFFIXES:
                skipped.append(
                    Skipped(display, f"{_describe_type(candidate)} is not a supported type ({supported_list()})")
                )
                continue
            key = str(candidate)
            found.setdefault(key, SourceFile(candidate, key, display, str(root)))
    return list(found.values()), skipped


def _walk(folder: Path, exclusions: Exclusions, unreadable: list[OSError]) -> Iterable[Path]:
    """Files below ``folder``; a sub-folder that cannot be opened is added to ``unreadable``, not passed over."""
    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable.append):
        here = Path(dirpath).relative_to(folder).as_posix()
        prefix = "" if here == "." else f"{here}/"
        dirnames[:] = [
            d for d in dirnames if not d.startswith(".") and not exclusions.excludes(f"{prefix}{d}", is_dir=True)
        ]
        for name in filenames:
            if name.startswith((".", "~$")):  # hidden files (the ignore file too) and Word's lock files
                continue
            if not exclusions.excludes(f"{prefix}{name}", is_dir=False):
                yield Path(dirpath) / name


def _describe_type(path: Path) -> str:
    return f"'{path.suffix}'" if path.suffix else "a file with no extension"


def supported_list() -> str:
    return "supported: .txt, .md, .html, .pdf, .docx"


def read_document(source: SourceFile, limits: ReadLimits | int) -> ParsedDocument:
    """Read one file in this process, raising :class:`SkipFile` with a plain reason when it cannot be used."""
    if isinstance(limits, int):
        limits = ReadLimits(max_bytes=limits)
    kind = SUPPORTED_SUFFIXES[source.path.suffix.lower()]
    precheck(source.path, kind, limits)
    return parse_file(source.path, kind, limits)


def parse_file(path: Path, kind: str, limits: ReadLimits) -> ParsedDocument:
    """Parse a file already checked by :func:`knowledge.reading.precheck`."""
    fallback_title = path.stem.replace("_", " ").replace("-", " ")
    if kind == "pdf":
        # lazy: each reader's libraries load only when a file of its kind is read; answering never needs them.
        from knowledge.readers.pdf import PdfProblem, parse_pdf

        try:
            doc = parse_pdf(path, fallback_title, max_pages=limits.max_pages)
        except PdfProblem as exc:
            raise SkipFile(str(exc)) from exc
    elif kind == "docx":
        doc = _read_docx(path, fallback_title, limits)
    else:
        text = _read_text(path)
        if kind == "markdown":
            # lazy: markdown-it loads only when a Markdown file is read.
            from knowledge.readers.markdown import parse_markdown

            doc = parse_markdown(text, fallback_title)
        elif kind == "html":
            # lazy: BeautifulSoup loads only when a web page is read.
            from knowledge.readers.html import parse_html

            doc = parse_html(text, fallback_title)
        else:
            # lazy: kept beside the other readers' imports, which load late for a reason.
            from knowledge.readers.text import parse_plain_text

            doc = parse_plain_text(text, fallback_title)
    if doc.is_empty:
        raise SkipFile("it contains no readable text")
    blocks = sum(len(b.rows) if hasattr(b, "rows") else len(getattr(b, "items", ())) or 1 for b in doc.blocks)
    if blocks > limits.max_blocks:
        raise SkipFile(f"it has more than {limits.max_blocks:,} paragraphs, list items and table rows")
    return doc


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise SkipFile("it looks like a binary file, not text")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SkipFile("its text encoding could not be recognised (save it as UTF-8)")


def _read_docx(path: Path, fallback_title: str, limits: ReadLimits) -> ParsedDocument:
    # lazy: python-docx loads lxml; only a Word file pays for it.
    from knowledge.readers.docx import TooLong, parse_docx

    try:
        return parse_docx(path, fallback_title, max_blocks=limits.max_blocks)
    except TooLong as exc:
        raise SkipFile(str(exc)) from exc
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SkipFile("it could not be opened as a Word document (damaged, or not really .docx)") from exc
    except Exception as exc:  # python-docx raises several private error types for broken packages
        if type(exc).__name__ in {"PackageNotFoundError", "InvalidXmlError", "XMLSyntaxError"}:
            raise SkipFile("it could not be opened as a Word document (damaged, or not really .docx)") from exc
        raise
