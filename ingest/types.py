"""What parsers produce and what the chunker makes of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DocumentKind = Literal["pdf", "docx", "html", "markdown", "text", "faq", "image", "audio"]
BlockKind = Literal["heading", "paragraph", "list", "table", "code", "faq", "image", "transcript"]


@dataclass
class Block:
    """One structural unit of a parsed document, in reading order.

    ``heading_path`` is the chain of headings above the block (outermost first). A ``heading`` block
    carries its own heading text in ``text`` and its level in ``level``. An ``image`` block carries the
    image bytes (a figure in a PDF/DOCX, or the uploaded photo itself) and any OCR text in ``text``.
    A ``transcript`` block is one timed stretch of speech.
    """

    kind: BlockKind
    text: str
    heading_path: tuple[str, ...] = ()
    page: int | None = None
    level: int = 0
    image: bytes | None = None
    start_seconds: float | None = None
    end_seconds: float | None = None


@dataclass
class ParsedDocument:
    kind: DocumentKind
    title: str
    blocks: list[Block]
    language: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class ChunkDraft:
    """A chunk before it is embedded. ``text`` is what is embedded and indexed (it begins with the
    title/heading context); ``body`` is the chunk's own content, used for snippets and answers."""

    ordinal: int
    modality: Literal["text", "image", "audio"]
    text: str
    body: str
    title: str
    heading_path: tuple[str, ...]
    page: int | None
    token_count: int
    image: bytes | None = None
    start_seconds: float | None = None
    end_seconds: float | None = None
