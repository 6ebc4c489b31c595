"""Plain text: paragraphs at blank lines; the title is the file name (a text file has no reliable title)."""

from __future__ import annotations

from ingest.parsers.common import ParseContext, paragraphs_of
from ingest.types import Block, ParsedDocument


def parse_text(data: bytes, ctx: ParseContext) -> ParsedDocument:
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff").replace("\r\n", "\n")
    blocks = [Block(kind="paragraph", text=paragraph) for paragraph in paragraphs_of(text)]
    return ParsedDocument(kind="text", title=ctx.stem, blocks=blocks, warnings=ctx.warnings)
