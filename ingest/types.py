"""What parsers produce and what the chunker makes of it, and the two models parsing needs (as protocols).

``ingest`` never imports ``embed``: :class:`Ocr` and :class:`SpeechToText` are structural copies of
``embed.protocol.TextReader.read`` and ``Transcriber.transcribe``, so any embed implementation fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from PIL import Image

from core.media import AudioClip, OcrResult, Transcript

if TYPE_CHECKING:
    from core.settings import Settings

DocumentKind = Literal["pdf", "docx", "html", "markdown", "text", "faq", "image", "audio"]
BlockKind = Literal["heading", "paragraph", "list", "table", "code", "faq", "image", "transcript"]


@dataclass
class Block:
    """One structural unit of a parsed document, in reading order.

    ``heading_path`` is the chain of headings above the block (outermost first). A ``heading`` block
    carries its own heading text in ``text`` and its level in ``level``. An ``image`` block carries the
    image bytes (a figure in a PDF/DOCX, or the uploaded photo itself) and any OCR text in ``text``.
    A ``transcript`` block is one timed stretch of speech. A ``faq`` block's text is the question on its
    first line and the answer after it. ``table`` blocks hold one row per line, cells joined by `` | ``.
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


class Ocr(Protocol):
    """Reads the text in an image (``embed.ocr.RapidOcrReader`` is the default)."""

    def read(self, image: Image.Image) -> OcrResult: ...


class SpeechToText(Protocol):
    """Speech to text with timed segments (``embed.speech.WhisperTranscriber`` is the default)."""

    def transcribe(self, clip: AudioClip, language: str | None = None) -> Transcript: ...


@dataclass(frozen=True)
class ParseLimits:
    """How much of an untrusted file parsing may unpack before it refuses the file."""

    max_image_pixels: int = 40_000_000
    max_audio_seconds: float | None = 3 * 3600.0
    docx_max_uncompressed_bytes: int = 200 * 1024 * 1024
    docx_max_compression_ratio: float = 100.0
    max_archive_entries: int = 10_000
    # Pictures smaller than this on either side are icons and bullets: not worth an OCR pass or a chunk.
    min_figure_side: int = 48
    # A ceiling on OCR passes per document (a 2,000-page scan should not hold a worker for hours unnoticed).
    max_ocr_images: int = 500

    @classmethod
    def from_settings(cls, settings: Settings) -> ParseLimits:
        return cls(
            max_image_pixels=settings.max_image_pixels,
            max_audio_seconds=settings.max_ingest_audio_seconds,
            docx_max_uncompressed_bytes=settings.docx_max_uncompressed_bytes,
            docx_max_compression_ratio=settings.docx_max_compression_ratio,
        )
