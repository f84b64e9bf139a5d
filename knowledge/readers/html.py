"""HTML pages: the main content's headings, paragraphs, lists and tables."""

from __future__ import annotations

from bs4 import BeautifulSoup, NavigableString, Tag

from knowledge.blocks import Block, Heading, ListBlock, Paragraph, ParsedDocument, Table
from knowledge.clean import clean_cell, is_noise, normalise_unicode, tidy

_SKIP = {"script", "style", "nav", "footer", "header", "aside", "form", "noscript", "svg", "button", "template"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


def _text(tag: Tag) -> str:
    return tidy(" ".join(tag.get_text(" ").split()))


def parse_html(markup: str, fallback_title: str) -> ParsedDocument:
    soup = BeautifulSoup(normalise_unicode(markup), "html.parser")
    for tag in soup.find_all(_SKIP):
        tag.decompose()
    title = fallback_title
    if soup.title and soup.title.get_text(strip=True):
        title = tidy(soup.title.get_text(" ", strip=True))
    root = soup.find("main") or soup.find("article") or soup.body or soup
    blocks: list[Block] = []
    _walk(root, blocks)
    first = blocks[0] if blocks else None
    if isinstance(first, Heading) and first.level == 1 and (title == fallback_title or first.text == title):
        title = blocks.pop(0).text
    return ParsedDocument(title=title, blocks=blocks)


def _walk(node: Tag, blocks: list[Block]) -> None:
    for child in node.children:
        if isinstance(child, NavigableString):
            text = tidy(str(child))
            if text and not is_noise(text) and child.parent is node and node.name in {"div", "section", "body", "main", "article"}:
                blocks.append(Paragraph(text))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name in _HEADINGS:
            text = _text(child)
            if text:
                blocks.append(Heading(text, _HEADINGS[name]))
        elif name in ("p", "blockquote", "pre", "dd", "dt", "figcaption"):
            if name == "figcaption":
                continue
            text = _text(child)
            if text and not is_noise(text):
                blocks.append(Paragraph(text))
        elif name in ("ul", "ol"):
            items = [_text(li) for li in child.find_all("li", recursive=False)]
            items = [i for i in items if i]
            if items:
                blocks.append(ListBlock(items=items, ordered=name == "ol"))
        elif name == "table":
            table = _table(child)
            if table is not None:
                blocks.append(table)
        elif name in ("img", "figure", "picture", "iframe", "video"):
            continue
        else:
            _walk(child, blocks)


def _table(node: Tag) -> Table | None:
    rows = []
    for tr in node.find_all("tr"):
        cells = [clean_cell(cell.get_text(" ")) for cell in tr.find_all(["th", "td"], recursive=False)]
        if any(cells):
            rows.append(cells)
    if len(rows) < 2:
        return None
    return Table(headers=rows[0], rows=rows[1:])
