"""From an uploaded file's bytes to a :class:`ParsedDocument`: detect what the file is, run its parser.

Every failure a user can cause comes out as a :class:`core.errors.BindeskError` with a clear message:
:class:`UnsupportedMediaType` for unknown or lying files, and a :class:`DocumentRejected` (``CorruptDocument``,
``ArchiveBomb``, ``DecompressionBomb``, ``EmptyDocument``, or ``media_too_long``) for files that are what they
claim but cannot be indexed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.errors import BindeskError, CorruptDocument, EmptyDocument
from ingest.parsers.common import ParseContext, has_words
from ingest.parsers.faq import parse_faq
from ingest.parsers.markdown import parse_markdown
from ingest.parsers.media import parse_audio, parse_image
from ingest.parsers.pdf import parse_pdf
from ingest.parsers.plaintext import parse_text
from ingest.parsers.webpage import parse_html
from ingest.parsers.word import parse_docx
from ingest.sniff import detect, safe_filename
from ingest.types import DocumentKind, Ocr, ParsedDocument, ParseLimits, SpeechToText

log = logging.getLogger(__name__)

Parser = Callable[[bytes, ParseContext], ParsedDocument]

PARSERS: dict[DocumentKind, Parser] = {
    "pdf": parse_pdf,
    "docx": parse_docx,
    "html": parse_html,
    "markdown": parse_markdown,
    "text": parse_text,
    "faq": parse_faq,
    "image": parse_image,
    "audio": parse_audio,
}


def parse(data: bytes, filename: str, *, ocr: Ocr, transcriber: SpeechToText, limits: ParseLimits) -> ParsedDocument:
    """Parse one uploaded file. ``filename`` is only used to tell text formats apart and as a fallback title.

    Raises :class:`core.errors.UnsupportedMediaType` or a :class:`core.errors.DocumentRejected` subclass.
    """
    name = safe_filename(filename)
    kind = detect(data, name).kind
    ctx = ParseContext(filename=name, ocr=ocr, transcriber=transcriber, limits=limits)
    try:
        document = PARSERS[kind](data, ctx)
    except BindeskError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise CorruptDocument(f"{name}: the {kind} file is too complex to parse ({type(exc).__name__})") from exc
    except Exception as exc:  # a library choking on a malformed file: the user's problem, not a crash
        log.warning("parser for %s failed on %s", kind, name, exc_info=True)
        raise CorruptDocument(f"{name}: the {kind} file cannot be parsed ({type(exc).__name__}: {exc})") from exc
    if not any(
        block.image is not None or (block.kind != "heading" and has_words(block.text)) for block in document.blocks
    ):
        raise EmptyDocument(f"{name}: no text, picture or speech could be extracted")
    return document
