"""Markdown: headings, paragraphs, lists and pipe tables, read with markdown-it.

Markdown exported from real sites carries more than text: YAML or TOML front
matter (its ``title`` names the document), links and emphasis markers, kramdown
attribute lists such as ``{:.intro}``, raw HTML blocks, and headings written
without a space after the hashes (``##Heading``). Only the words a reader sees
are kept: link text without its address, emphasis without its markers.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from knowledge.blocks import Block, Heading, ListBlock, Paragraph, ParsedDocument, Table
from knowledge.clean import clean_cell, is_noise, normalise_unicode, tidy
from knowledge.readers.html import blocks_from_fragment

_parser = MarkdownIt("commonmark").enable("table")

_FRONT_MATTER = re.compile(
    r"\A(?:\ufeff)?(?P<fence>---|\+\+\+)[ \t]*\n(?P<body>.*?)\n(?:---|\.\.\.|\+\+\+)[ \t]*(?:\n|\Z)", re.S
)
_FRONT_TITLE = re.compile(r"(?im)^title\s*[:=]\s*(?P<value>.+?)\s*$")
# "##Heading" (no space) is a heading in most real-world Markdown, though not in CommonMark.
_TIGHT_HEADING = re.compile(r"(?m)^(?P<hashes>#{1,6})(?=[A-Z0-9\"'“‘(])")
# kramdown inline attribute lists and extension markers: {:.intro}, {: #id .class}, {::comment}
_KRAMDOWN_IAL = re.compile(r"\{:{1,2}[^{}\n]*\}")
# Footnotes: "[^note]: text" is a note about the text, "[^note]" a mark in it; neither is guidance.
_FOOTNOTE_DEFINITION = re.compile(r"(?m)^\[\^[^\]\n]+\]:.*(?:\n(?: {2,}|\t).*)*$")
_FOOTNOTE_MARK = re.compile(r"\[\^[^\]\n]+\]")
_LIST_KINDS = {"bullet_list_open", "ordered_list_open"}


def _front_matter(text: str) -> tuple[str | None, str]:
    """Remove front matter, returning its title (if any) and the rest of the text."""
    match = _FRONT_MATTER.match(text)
    if not match or len(match.group("body")) > 20_000:
        return None, text
    title = None
    found = _FRONT_TITLE.search(match.group("body"))
    if found:
        title = found.group("value").strip().strip("\"'") or None
    return title, text[match.end() :]


def inline_text(token: Token) -> str:
    """What a reader sees of an inline token: link text without its address, no emphasis markers."""
    return _inline(token)[0]


def _inline(token: Token) -> tuple[str, float]:
    """The visible text, and the share of it that is link text."""
    if not token.children:
        return tidy(token.content.replace("\n", " ")), 0.0
    parts: list[str] = []
    linked = 0
    depth = 0
    for child in token.children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
            if depth:
                linked += len(child.content.strip())
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "link_open":
            depth += 1
        elif child.type == "link_close":
            depth = max(0, depth - 1)
        elif child.type == "html_inline" and child.content.lower().startswith("<br"):
            parts.append(" ")
        # images (alt text describes a picture) and other inline HTML are left out
    text = tidy(" ".join("".join(parts).split()))
    visible = len(text.replace(" ", "")) or 1
    return text, min(1.0, linked / visible)


def is_signpost(text: str, link_share: float) -> bool:
    """A short line that is mostly a link ("Next phase: beta") points elsewhere; it answers nothing."""
    return link_share >= 0.8 and len(text.split()) <= 15


def _html_blocks(content: str) -> list[Block]:
    return blocks_from_fragment(content)


def parse_markdown(text: str, fallback_title: str) -> ParsedDocument:
    # Tags stay: markdown-it reads raw HTML as HTML, and inline tags are dropped below.
    front_title, text = _front_matter(normalise_unicode(text))
    text = _KRAMDOWN_IAL.sub("", _TIGHT_HEADING.sub(lambda m: m.group("hashes") + " ", text))
    text = _FOOTNOTE_MARK.sub("", _FOOTNOTE_DEFINITION.sub("", text))
    tokens = _parser.parse(text)
    blocks: list[Block] = []
    title = front_title or fallback_title
    list_depth = 0
    items: list[str] = []
    links: list[float] = []
    ordered = False
    table_rows: list[list[str]] = []
    row: list[str] | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            level = int(token.tag[1])
            content = inline_text(tokens[i + 1])
            if content:
                first_heading = not any(isinstance(b, Heading) for b in blocks)
                if level == 1 and first_heading and (title == fallback_title or content == title):
                    title = content
                else:
                    blocks.append(Heading(content, level))
            i += 3
            continue
        if kind in _LIST_KINDS:
            if list_depth == 0:
                items, links, ordered = [], [], kind == "ordered_list_open"
            list_depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
            # A list whose every item is a link is navigation ("Next phase", "Previous phase").
            navigation = all(is_signpost(t, share) for t, share in zip(items, links, strict=True))
            if list_depth == 0 and items and not navigation:
                blocks.append(ListBlock(items=items, ordered=ordered))
        elif kind == "inline" and list_depth > 0:
            content, share = _inline(token)
            if content:
                items.append(content)
                links.append(share)
        elif kind == "inline" and row is not None:
            row.append(clean_cell(inline_text(token)))
        elif kind == "inline":
            content, share = _inline(token)
            if content and not is_noise(content) and not is_signpost(content, share):
                blocks.append(Paragraph(content))
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            table_rows.append(row)
            row = None
        elif kind == "table_close":
            if len(table_rows) >= 2:
                blocks.append(Table(headers=table_rows[0], rows=table_rows[1:]))
            table_rows = []
        elif kind == "html_block" and list_depth == 0:
            blocks.extend(_html_blocks(token.content))
        # fences and indented code are samples, not guidance
        i += 1
    return ParsedDocument(title=title, blocks=blocks)
