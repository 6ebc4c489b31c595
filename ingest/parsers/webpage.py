"""HTML: the page's main content with its headings; navigation, headers, footers, sidebars, cookie banners,
scripts and forms are dropped.

Main content is ``<main>`` (or ``role="main"``), else the longest ``<article>``, else ``<body>`` after the
boilerplate is removed. Our own walk (rather than trafilatura) keeps every heading and its level, which the
chunker needs for heading paths. lxml comes with python-docx.
"""

from __future__ import annotations

import re
from typing import Any

import lxml.html
from lxml import etree

from core.errors import CorruptDocument
from ingest.parsers.common import HeadingPath, ParseContext, clean_inline, clean_lines, merge_lists
from ingest.types import Block, BlockKind, ParsedDocument

_DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed",
    "nav", "aside", "form", "button", "select", "input", "textarea", "dialog", "head",
)  # fmt: skip
_BOILERPLATE_ROLES = {"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar", "dialog"}
_BOILERPLATE_WORDS = re.compile(
    r"(^|[-_ ])(nav|navbar|navigation|menu|breadcrumbs?|footer|sidebar|cookies?|consent|banner|share|social"
    r"|advert|ads|promo|newsletter|subscribe|popup|modal|skip-link|site-header|masthead)($|[-_ ])",
    re.I,
)
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "header", "footer", "li", "ul", "ol", "dl", "dt", "dd",
    "blockquote", "figure", "figcaption", "address", "hr", "br", "table", "pre", "details", "summary", "center",
}  # fmt: skip
_KEEP_CONTAINERS = {"html", "body", "main", "article"}


def parse_html(data: bytes, ctx: ParseContext) -> ParsedDocument:
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise CorruptDocument(f"the HTML cannot be parsed: {exc}") from exc
    title = clean_inline(" ".join(root.xpath("//head/title//text()")))
    title = re.split(r"\s+[|\-–—·]\s+", title)[0].strip() if title else ""  # drop " | Site name"
    _drop_boilerplate(root)
    walker = _Walker()
    walker.walk(_main_content(root))
    walker.flush()
    blocks = merge_lists(walker.blocks)
    first_heading = next((b.text for b in blocks if b.kind == "heading"), "")
    return ParsedDocument(kind="html", title=title or first_heading or ctx.stem, blocks=blocks, warnings=ctx.warnings)


def _drop_boilerplate(root: Any) -> None:
    # Whatever contains the main content is never boilerplate, whatever its class says.
    holders = {a for node in root.xpath("//main|//article|//*[@role='main']") for a in node.iterancestors()}
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # comments and processing instructions
            _remove(element)
            continue
        tag = element.tag.lower()
        if element in holders or tag in _KEEP_CONTAINERS:
            continue
        if tag in _DROP_TAGS or _is_boilerplate(element, tag):
            _remove(element)


def _is_boilerplate(element: Any, tag: str) -> bool:
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    if (element.get("role") or "").lower() in _BOILERPLATE_ROLES:
        return True
    if tag in ("header", "footer") and not element.xpath("ancestor::article|ancestor::main"):
        return True
    names = f"{element.get('id') or ''} {element.get('class') or ''}"
    return bool(_BOILERPLATE_WORDS.search(names))


def _remove(element: Any) -> None:
    """Remove an element but keep its tail text (which belongs to the parent)."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def _main_content(root: Any) -> Any:
    for query in ("//main", "//*[@role='main']"):
        found = root.xpath(query)
        if found:
            return found[0]
    articles = root.xpath("//article")
    if articles:
        return max(articles, key=lambda a: len(a.text_content()))
    body = root.find("body")
    return body if body is not None else root


class _Walker:
    """Walks the content in document order, gathering inline text into paragraphs between block elements."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.headings = HeadingPath()
        self._buffer: list[str] = []
        self._kind: BlockKind = "paragraph"

    def flush(self) -> None:
        text = clean_inline(" ".join(self._buffer))
        self._buffer.clear()
        if text:
            text = f"- {text}" if self._kind == "list" else text
            self.blocks.append(Block(kind=self._kind, text=text, heading_path=self.headings.path))

    def walk(self, element: Any) -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if tag in _HEADINGS:
            self.flush()
            text = clean_inline(element.text_content())
            if text:
                self.blocks.append(self.headings.enter(_HEADINGS[tag], text))
        elif tag == "pre":
            self.flush()
            self._emit("code", clean_lines(element.text_content()))
        elif tag == "table":
            self.flush()
            self._emit("table", _table_text(element))
        elif tag in _BLOCK_TAGS:
            self.flush()
            previous, self._kind = self._kind, "list" if tag in ("li", "dt", "dd") else self._kind
            self._walk_children(element)
            self.flush()
            self._kind = previous
        else:
            self._walk_children(element)
            if tag == "img" and element.get("alt"):
                self._buffer.append(element.get("alt"))

    def _walk_children(self, element: Any) -> None:
        if element.text:
            self._buffer.append(element.text)
        for child in element:
            self.walk(child)
            if child.tail:
                self._buffer.append(child.tail)

    def _emit(self, kind: BlockKind, text: str) -> None:
        if text.strip():
            self.blocks.append(Block(kind=kind, text=text, heading_path=self.headings.path))


def _table_text(table: Any) -> str:
    rows = []
    for row in table.iter("tr"):
        cells = [
            clean_inline(cell.text_content()) for cell in row if isinstance(cell.tag, str) and cell.tag in ("td", "th")
        ]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)
