"""PDF: the text layer page by page, headings from the outline (bookmarks) or else from font sizes, OCR of the
pictures on pages that have no text layer (scans), and the larger pictures on other pages as figures.

pypdf cannot render a page, so a scanned page is read through the images embedded in it, which is what a
scanner or a phone scanning app writes.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from pypdf import PageObject, PdfReader
from pypdf.generic import DictionaryObject

from core.errors import CorruptDocument, DecompressionBomb
from ingest.parsers.common import HeadingPath, ParseContext, clean_inline, has_words
from ingest.types import Block, ParsedDocument

log = logging.getLogger(__name__)

_JUNK_TITLES = re.compile(r"^(untitled|document\d*|microsoft word - .*|slide \d+|\s*)$", re.I)
_PAGE_NUMBER_LINE = re.compile(r"^\s*[-–—]?\s*(page\s+)?\d{1,4}(\s*/\s*\d{1,4})?\s*[-–—]?\s*$", re.I)
_MAX_HEADING_CHARS = 150


@dataclass(frozen=True)
class _Mark:
    """A heading known to start on a page: from the outline or from a larger font."""

    level: int
    text: str


@dataclass
class _Page:
    number: int  # 1-based
    text: str
    lines: list[tuple[str, float]]  # (line, font size) from the text layer


def parse_pdf(data: bytes, ctx: ParseContext) -> ParsedDocument:
    reader = _open(data)
    page_objects = _pages(reader)
    pages = [_read_page(page, number) for number, page in enumerate(page_objects, start=1)]
    marks = _outline_marks(reader, len(pages)) or _font_marks(pages)
    headings = HeadingPath()
    blocks: list[Block] = []
    for page_obj, page in zip(page_objects, pages, strict=True):
        text = page.text
        scanned = not has_words(text)
        if scanned:
            text = "\n".join(_ocr_page_images(page_obj, page.number, ctx))
        blocks.extend(_page_blocks(text, marks.get(page.number, []), page.number, headings))
        if not scanned:
            blocks.extend(_figures(page_obj, page.number, headings.path, ctx))
    return ParsedDocument(kind="pdf", title=_title(reader, blocks, ctx), blocks=blocks, warnings=ctx.warnings)


def _open(data: bytes) -> PdfReader:
    if b"%%EOF" not in data[-65536:]:
        raise CorruptDocument("the PDF is truncated: it has no end-of-file marker")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise CorruptDocument("the PDF is password-protected")
        if len(reader.pages) == 0:
            raise CorruptDocument("the PDF has no pages")
    except CorruptDocument:
        raise
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise CorruptDocument(f"the PDF cannot be read: {exc}") from exc
    return reader


def _pages(reader: PdfReader) -> list[PageObject]:
    try:
        return list(reader.pages)
    except Exception as exc:
        raise CorruptDocument(f"the PDF's page tree cannot be read: {exc}") from exc


def _read_page(page: PageObject, number: int) -> _Page:
    """The page's text, and its lines with the largest font size seen on each (for heading detection)."""
    lines: list[tuple[str, float]] = []
    current: list[str] = []
    size = 0.0

    def visit(text: str, cm: Any, tm: Any, font_dict: Any, font_size: float) -> None:
        nonlocal size
        scale = math.sqrt(abs(tm[0] * tm[3] - tm[1] * tm[2])) * math.sqrt(abs(cm[0] * cm[3] - cm[1] * cm[2]))
        parts = text.split("\n")
        for i, part in enumerate(parts):
            if i > 0:
                _end_line(lines, current, size)
                current.clear()
                size = 0.0
            if part.strip():
                current.append(part)
                size = max(size, font_size * (scale or 1.0))

    try:
        text = page.extract_text(visitor_text=visit)
    except Exception as exc:
        log.warning("page %d: text layer unreadable (%s)", number, exc)
        return _Page(number, "", [])
    _end_line(lines, current, size)
    return _Page(number, text or "", lines)


def _end_line(lines: list[tuple[str, float]], parts: list[str], size: float) -> None:
    line = clean_inline("".join(parts))
    if line:
        lines.append((line, round(size * 2) / 2))


def _outline_marks(reader: PdfReader, page_count: int) -> dict[int, list[_Mark]]:
    marks: dict[int, list[_Mark]] = {}

    def walk(items: list[Any], level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                index = reader.get_destination_page_number(item)
            except Exception:
                continue
            title = clean_inline(str(item.get("/Title", "")))
            if title and index is not None and 0 <= index < page_count:
                marks.setdefault(index + 1, []).append(_Mark(level, title))

    try:
        walk(reader.outline, 1)
    except Exception as exc:  # a broken outline only costs us the headings
        log.warning("PDF outline unreadable: %s", exc)
        return {}
    return marks


def _font_marks(pages: list[_Page]) -> dict[int, list[_Mark]]:
    """Headings as the short lines set clearly larger than the body text (the most used size)."""
    chars_by_size: Counter[float] = Counter()
    for page in pages:
        for line, size in page.lines:
            chars_by_size[size] += len(line)
    if not chars_by_size:
        return {}
    body = chars_by_size.most_common(1)[0][0]
    if body <= 0:
        return {}
    candidates = [
        (p.number, line, size) for p in pages for line, size in p.lines if _looks_like_heading(line, size, body)
    ]
    sizes = sorted({size for _, _, size in candidates}, reverse=True)[:4]
    level_of = {size: rank + 1 for rank, size in enumerate(sizes)}
    marks: dict[int, list[_Mark]] = {}
    for number, line, size in candidates:
        if size in level_of:
            marks.setdefault(number, []).append(_Mark(level_of[size], line))
    return marks


def _looks_like_heading(line: str, size: float, body: float) -> bool:
    return size >= body * 1.15 and len(line) <= _MAX_HEADING_CHARS and has_words(line) and not line.endswith(",")


def _page_blocks(text: str, marks: list[_Mark], page: int, headings: HeadingPath) -> list[Block]:
    """Split one page's text at its headings; marks not found in the text open at the top of the page."""
    lines = [clean_inline(line) for line in text.splitlines()]
    lines = [line for line in lines if line and not _PAGE_NUMBER_LINE.match(line)]
    starts: dict[int, list[_Mark]] = {}
    cursor = 0
    for mark in marks:
        key = _normal(mark.text)
        found = next((i for i in range(cursor, len(lines)) if _normal(lines[i]) == key), None)
        if found is None:
            starts.setdefault(cursor, []).append(mark)
        else:
            starts.setdefault(found, []).append(mark)
            cursor = found + 1
    blocks: list[Block] = []
    body: list[str] = []

    def flush() -> None:
        paragraph = _join_lines(body)
        if paragraph:
            blocks.append(Block(kind="paragraph", text=paragraph, heading_path=headings.path, page=page))
        body.clear()

    for i, line in enumerate([*lines, ""]):
        for position, mark in enumerate(starts.get(i, [])):
            flush()
            heading = headings.enter(mark.level, mark.text)
            heading.page = page
            blocks.append(heading)
            if position == len(starts[i]) - 1 and _normal(line) == _normal(mark.text):
                line = ""  # the heading's own line is not body text
        if line:
            body.append(line)
    flush()
    return blocks


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


def _join_lines(lines: list[str]) -> str:
    """Lines of a text layer as one paragraph; words hyphenated across a line break are rejoined."""
    out = ""
    for line in lines:
        rejoin = out.endswith("-") and line[:1].islower()
        out = out[:-1] + line if rejoin else f"{out} {line}"
    return out.strip()


def _page_images(page: PageObject, number: int, ctx: ParseContext) -> list[tuple[Any, bytes | None]]:
    """Decoded (PIL image, original bytes) of the page's pictures, each size-checked before decoding."""
    found: list[tuple[Any, bytes | None]] = []
    try:
        keys = page.images.keys()
    except Exception as exc:
        ctx.warnings.append(f"page {number}: pictures unreadable ({exc})")
        return found
    for key in keys:
        width, height = _declared_size(page, key)
        if width * height > ctx.limits.max_image_pixels:
            raise DecompressionBomb(
                f"page {number} holds a {width}x{height} picture; the limit is {ctx.limits.max_image_pixels:,} pixels"
            )
        if width and height and min(width, height) < ctx.limits.min_figure_side:
            continue
        try:
            picture = page.images[key]
        except Exception as exc:
            ctx.warnings.append(f"page {number}: a picture could not be decoded ({exc})")
            continue
        if picture.image is not None:
            found.append((picture.image, picture.data))
    return found


def _declared_size(page: PageObject, key: str | list[str]) -> tuple[int, int]:
    """/Width and /Height of an image XObject, read from its dictionary without decoding it."""
    path = [key] if isinstance(key, str) else list(key)
    obj: Any = page
    try:
        for name in path:
            xobjects = obj["/Resources"]["/XObject"]
            obj = xobjects[name].get_object()
        if isinstance(obj, DictionaryObject):
            return int(obj.get("/Width", 0)), int(obj.get("/Height", 0))
    except Exception:
        pass  # inline images (small by construction) and odd layouts: decoded without the early check
    return 0, 0


def _ocr_page_images(page: PageObject, number: int, ctx: ParseContext) -> list[str]:
    texts = []
    for image, _ in _page_images(page, number, ctx):
        text = ctx.read_text(image.convert("RGB"))
        if text:
            texts.append(text)
    return texts


def _figures(page: PageObject, number: int, path: tuple[str, ...], ctx: ParseContext) -> list[Block]:
    blocks = []
    for image, data in _page_images(page, number, ctx):
        block = ctx.figure_from_image(image.convert("RGB"), data, heading_path=path, page=number)
        if block is not None:
            blocks.append(block)
    return blocks


def _title(reader: PdfReader, blocks: list[Block], ctx: ParseContext) -> str:
    try:
        meta = reader.metadata
        title = clean_inline(str(meta.title)) if meta is not None and meta.title else ""
    except Exception:
        title = ""
    if title and not _JUNK_TITLES.match(title):
        return title
    first_heading = next((b.text for b in blocks if b.kind == "heading"), "")
    return first_heading or ctx.stem
