"""HTML pages: the main content's headings, paragraphs, lists and tables.

Web pages wrap their guidance in site furniture: skip links, a banner, menus,
breadcrumbs, cookie and survey notices, a contents list, a footer. Those are
recognised by the tags, ARIA roles and class names sites use for them, and
dropped; the page's own header (its title and subtitle) is kept.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag
from bs4.element import Comment, NavigableString

from knowledge.blocks import Block, Heading, ListBlock, Paragraph, ParsedDocument, Table
from knowledge.clean import clean_cell, is_noise, normalise_unicode, tidy

_SKIP = {
    "script",
    "style",
    "nav",
    "aside",
    "form",
    "noscript",
    "svg",
    "button",
    "template",
    "select",
    "iframe",
    "img",
    "figure",
    "picture",
    "video",
    "audio",
    "canvas",
    "map",
    "object",
    "input",
    "label",
    "dialog",
}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BOILERPLATE_ROLES = {
    "navigation",
    "banner",
    "contentinfo",
    "search",
    "complementary",
    "menu",
    "menubar",
    "toolbar",
    "dialog",
    "alert",
    "breadcrumbs",
}
# Class and id words that sites use for furniture around the content.
_BOILERPLATE_NAME = re.compile(
    r"(?:^|[-_ ])(?:nav|navbar|navigation|breadcrumbs?|menu|skip|skiplink|cookies?|banner|masthead|footer|sidebar|"
    r"pagination|pager|share|sharing|social|related|survey|feedback|print|toolbar|tabs?)(?:$|[-_ ])",
    re.IGNORECASE,
)
_BLOCK_TAGS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "li",
    "ul",
    "ol",
    "table",
    "tr",
    "td",
    "th",
    "br",
    "dd",
    "dt",
    "dl",
    "blockquote",
    "pre",
    "header",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hgroup",
    "figcaption",
}
_LOOSE_TEXT_PARENTS = {"div", "section", "body", "main", "article", "[document]"}
_TITLE_SEPARATORS = re.compile(r"\s+(?:[—–|-]|::)\s+")


def _is_boilerplate(tag: Tag, in_content: bool) -> bool:
    name = tag.name
    if name in _SKIP:
        return True
    if tag.get("aria-hidden") == "true" or tag.has_attr("hidden"):
        return True
    if str(tag.get("role") or "").lower() in _BOILERPLATE_ROLES:
        return True
    if name in ("header", "footer") and not in_content:
        return True  # the site's banner and footer; an article's own header holds its title
    names = " ".join([*(tag.get("class") or []), str(tag.get("id") or "")])
    return bool(names.strip()) and bool(_BOILERPLATE_NAME.search(names)) and name not in ("main", "article", "body")


def _is_subtitle(heading: Tag) -> bool:
    """A heading grouped with the page title (hgroup) or marked as its subtitle is not a section of its own."""
    classes = " ".join(heading.get("class") or []).lower()
    if "subtitle" in classes or "strapline" in classes:
        return True
    parent = heading.parent
    return bool(parent is not None and parent.name == "hgroup" and heading.name != "h1" and parent.find("h1"))


def _text(tag: Tag) -> str:
    """Visible text with words from inline elements joined as a browser shows them."""
    parts: list[str] = []
    for node in tag.descendants:
        if isinstance(node, Comment):
            continue
        if isinstance(node, NavigableString):
            if node.parent is None or node.parent.name not in _SKIP:
                parts.append(str(node))
        elif isinstance(node, Tag) and node.name in _BLOCK_TAGS:
            parts.append(" ")
    return tidy(" ".join("".join(parts).split()))


def _page_title(soup: BeautifulSoup, fallback: str) -> str:
    if soup.title and soup.title.get_text(strip=True):
        return tidy(" ".join(soup.title.get_text(" ").split()))
    return fallback


def parse_html(markup: str, fallback_title: str) -> ParsedDocument:
    soup = BeautifulSoup(normalise_unicode(markup), "html.parser")
    title = _page_title(soup, fallback_title)
    root = soup.find("main") or soup.find(None, {"role": "main"}) or soup.find("article") or soup.body or soup
    blocks = _blocks(root, in_content=root.name in ("main", "article") or root.get("role") == "main")
    first = next((b for b in blocks if isinstance(b, Heading)), None)
    if isinstance(first, Heading) and first.level == 1:
        # "Awarding the standard — Government Service Design Manual": the page's own heading names it.
        site_part = _TITLE_SEPARATORS.split(title)[0].strip()
        if title == fallback_title or first.text in (title, site_part):
            title = first.text
            blocks.remove(first)
    elif title != fallback_title:
        title = _TITLE_SEPARATORS.split(title)[0].strip() or title
    return ParsedDocument(title=title, blocks=blocks)


def blocks_from_fragment(markup: str) -> list[Block]:
    """Blocks from a piece of HTML embedded in another format (Markdown's raw HTML blocks)."""
    soup = BeautifulSoup(normalise_unicode(markup), "html.parser")
    return _blocks(soup, in_content=True)


def _blocks(root: Tag, in_content: bool) -> list[Block]:
    """Walk the tree in document order without recursion (deeply nested pages must not exhaust the stack)."""
    blocks: list[Block] = []
    stack = [(iter(root.children), root, in_content)]
    while stack:
        children, parent, inside = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            text = tidy(" ".join(str(child).split()))
            if text and not is_noise(text) and parent.name in _LOOSE_TEXT_PARENTS:
                blocks.append(Paragraph(text))
            continue
        if not isinstance(child, Tag) or _is_boilerplate(child, inside):
            continue
        name = child.name
        if name in _HEADINGS:
            text = _text(child)
            if text and _is_subtitle(child):
                blocks.append(Paragraph(text))
            elif text:
                blocks.append(Heading(text, _HEADINGS[name]))
        elif name in ("p", "blockquote", "pre", "dd", "dt"):
            text = _text(child)
            if text and not is_noise(text):
                blocks.append(Paragraph(text))
        elif name in ("ul", "ol"):
            items = [text for li in child.find_all("li", recursive=False) if (text := _text(li))]
            if items:
                blocks.append(ListBlock(items=items, ordered=name == "ol"))
        elif name == "table":
            table = _table(child)
            if table is not None:
                blocks.append(table)
        elif name != "figcaption":
            stack.append((iter(child.children), child, inside or name in ("main", "article")))
    return blocks


def _table(node: Tag) -> Table | None:
    rows = []
    for tr in node.find_all("tr"):
        cells = [clean_cell(_text(cell)) for cell in tr.find_all(["th", "td"], recursive=False)]
        if any(cells):
            rows.append(cells)
    if len(rows) < 2:
        return None
    return Table(headers=rows[0], rows=rows[1:])
