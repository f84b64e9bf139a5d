"""Markdown: headings, paragraphs, lists and pipe tables, read with markdown-it."""

from __future__ import annotations

from markdown_it import MarkdownIt

from knowledge.blocks import Block, Heading, ListBlock, Paragraph, ParsedDocument, Table
from knowledge.clean import clean_cell, is_noise, normalise_text, tidy

_parser = MarkdownIt("commonmark").enable("table")


def parse_markdown(text: str, fallback_title: str) -> ParsedDocument:
    tokens = _parser.parse(normalise_text(text))
    blocks: list[Block] = []
    title = fallback_title
    list_depth = 0
    items: list[str] = []
    ordered = False
    table_rows: list[list[str]] = []
    row: list[str] | None = None
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            level = int(token.tag[1])
            content = tidy(tokens[i + 1].content)
            if level == 1 and title == fallback_title and not any(isinstance(b, Heading) for b in blocks):
                title = content
            else:
                blocks.append(Heading(content, level))
            i += 3
            continue
        if kind in ("bullet_list_open", "ordered_list_open"):
            if list_depth == 0:
                items, ordered = [], kind == "ordered_list_open"
            list_depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
            if list_depth == 0 and items:
                blocks.append(ListBlock(items=items, ordered=ordered))
        elif kind == "inline" and list_depth > 0:
            content = tidy(token.content.replace("\n", " "))
            if content:
                items.append(content)
        elif kind == "inline" and row is not None:
            row.append(clean_cell(token.content))
        elif kind == "inline":
            content = tidy(token.content.replace("\n", " "))
            if content and not is_noise(content):
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
        elif kind in ("fence", "code_block"):
            pass  # code samples are not guidance
        i += 1
    return ParsedDocument(title=title, blocks=blocks)
