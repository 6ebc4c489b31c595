"""DOCX: heading styles give the heading path, tables become one line per row, pictures become image blocks
(alt text + OCR). The zip is checked for bombs (total size, compression ratio, entry count) before anything
is extracted from it.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import docx
from docx.document import Document
from docx.table import Table
from docx.text.paragraph import Paragraph

from core.errors import ArchiveBomb, CorruptDocument
from ingest.parsers.common import HeadingPath, ParseContext, clean_inline
from ingest.types import Block, BlockKind, ParsedDocument, ParseLimits

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.I)
_LIST_STYLE = re.compile(r"^list", re.I)
_NS = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "v": "urn:schemas-microsoft-com:vml",
}
_EMBED = f"{{{_NS['r']}}}embed"
_RID = f"{{{_NS['r']}}}id"
# Below this many uncompressed bytes the ratio test is skipped: small XML parts compress extremely well.
_RATIO_FLOOR_BYTES = 1024 * 1024


def check_archive(data: bytes, limits: ParseLimits) -> None:
    """Refuse a zip whose declared sizes add up past the limits, before a single entry is inflated.

    Python's zipfile never inflates an entry past its declared size (it fails the CRC instead), so the
    declared sizes are a safe upper bound on what extraction can produce.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise CorruptDocument(f"the DOCX is not a readable zip archive: {exc}") from exc
    if len(entries) > limits.max_archive_entries:
        raise ArchiveBomb(f"the DOCX holds {len(entries):,} files; the limit is {limits.max_archive_entries:,}")
    total = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries)
    if total > limits.docx_max_uncompressed_bytes:
        raise ArchiveBomb(f"the DOCX unpacks to {total:,} bytes; the limit is {limits.docx_max_uncompressed_bytes:,}")
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > _RATIO_FLOOR_BYTES and ratio > limits.docx_max_compression_ratio:
            raise ArchiveBomb(
                f"the DOCX part {entry.filename!r} expands {ratio:,.0f}-fold; "
                f"the limit is {limits.docx_max_compression_ratio:g}"
            )
    if total > _RATIO_FLOOR_BYTES and total / max(packed, 1) > limits.docx_max_compression_ratio:
        raise ArchiveBomb(f"the DOCX expands {total / max(packed, 1):,.0f}-fold")


def parse_docx(data: bytes, ctx: ParseContext) -> ParsedDocument:
    check_archive(data, ctx.limits)
    try:
        document = docx.Document(io.BytesIO(data))
        title = clean_inline(document.core_properties.title or "")
        items = list(document.iter_inner_content())
    except Exception as exc:  # python-docx and lxml raise many kinds on damaged files
        raise CorruptDocument(f"the DOCX cannot be read: {exc}") from exc
    headings = HeadingPath()
    blocks: list[Block] = []
    for item in items:
        if isinstance(item, Table):
            text = _table_text(item)
            if text:
                blocks.append(Block(kind="table", text=text, heading_path=headings.path))
            continue
        style = _style_name(item)
        text = clean_inline(item.text)
        if style.lower() == "title" and text:
            title = title or text
            continue
        level = _heading_level(item, style)
        if level and text:
            blocks.append(headings.enter(level, text))
        elif text:
            kind: BlockKind = "list" if _LIST_STYLE.match(style) or _is_numbered(item) else "paragraph"
            blocks.append(Block(kind=kind, text=text, heading_path=headings.path))
        blocks.extend(_pictures(item, document, headings.path, ctx))
    first_heading = next((b.text for b in blocks if b.kind == "heading"), "")
    return ParsedDocument(kind="docx", title=title or first_heading or ctx.stem, blocks=blocks, warnings=ctx.warnings)


def _style_name(paragraph: Paragraph) -> str:
    try:
        return paragraph.style.name if paragraph.style is not None and paragraph.style.name else ""
    except (KeyError, ValueError):
        return ""


def _heading_level(paragraph: Paragraph, style: str) -> int:
    """1-9 for a heading (by style, its base styles, or an explicit outline level), else 0."""
    match = _HEADING_STYLE.match(style)
    if match:
        return int(match.group(1))
    base = paragraph.style.base_style if paragraph.style is not None else None
    depth = 0
    while base is not None and depth < 5:
        match = _HEADING_STYLE.match(base.name or "")
        if match:
            return int(match.group(1))
        base, depth = base.base_style, depth + 1
    outline = paragraph._p.xpath("./w:pPr/w:outlineLvl/@w:val")
    if outline and str(outline[0]).isdigit() and int(outline[0]) < 9:
        return int(outline[0]) + 1
    return 0


def _is_numbered(paragraph: Paragraph) -> bool:
    return bool(paragraph._p.xpath("./w:pPr/w:numPr"))


def _table_text(table: Table) -> str:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = clean_inline(cell.text)
            if not cells or text != cells[-1]:  # a merged cell repeats itself in every column it spans
                cells.append(text)
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _pictures(paragraph: Paragraph, document: Document, path: tuple[str, ...], ctx: ParseContext) -> list[Block]:
    """Image blocks for the pictures anchored in this paragraph (DrawingML and legacy VML)."""
    blocks = []
    element: Any = paragraph._p
    for drawing in element.iter(f"{{{_NS['w']}}}drawing", f"{{{_NS['w']}}}pict"):
        rel_ids = [blip.get(_EMBED) for blip in drawing.iter(f"{{{_NS['a']}}}blip")]
        rel_ids += [data.get(_RID) for data in drawing.iter(f"{{{_NS['v']}}}imagedata")]
        doc_pr = next(drawing.iter(f"{{{_NS['wp']}}}docPr"), None)
        alt = " ".join(filter(None, (doc_pr.get("title"), doc_pr.get("descr")))) if doc_pr is not None else ""
        for rel_id in filter(None, rel_ids):
            part = document.part.related_parts.get(rel_id)
            blob = getattr(part, "blob", None)
            if not blob:
                continue
            block = ctx.figure_block(blob, heading_path=path, caption=clean_inline(alt))
            if block is not None:
                blocks.append(block)
    return blocks
