"""What every parser shares: the parse context (models, limits, warnings), heading paths, text clean-up."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from PIL import Image

from core.errors import DocumentRejected, InvalidMedia
from core.media import load_image
from ingest.types import Block, Ocr, ParseLimits, SpeechToText


@dataclass
class ParseContext:
    """Everything a parser may use besides the bytes. ``warnings`` collects what was skipped, for the ops."""

    filename: str
    ocr: Ocr
    transcriber: SpeechToText
    limits: ParseLimits
    warnings: list[str] = field(default_factory=list)
    ocr_passes: int = 0

    @property
    def stem(self) -> str:
        """The file name without its extension: the title of last resort."""
        stem = PurePosixPath(self.filename).stem.replace("_", " ").strip()
        return stem or self.filename or "Untitled"

    def read_text(self, image: Image.Image) -> str:
        """OCR ``image`` unless this document has used up its OCR passes (then warn once and return "")."""
        if self.ocr_passes >= self.limits.max_ocr_images:
            if self.ocr_passes == self.limits.max_ocr_images:
                self.warnings.append(f"OCR stopped after {self.ocr_passes} images (the per-document limit)")
                self.ocr_passes += 1
            return ""
        self.ocr_passes += 1
        return self.ocr.read(image).text.strip()

    def figure_block(
        self, data: bytes, *, heading_path: tuple[str, ...], page: int | None = None, caption: str = ""
    ) -> Block | None:
        """An ``image`` block for a picture inside a document: OCR text (after any caption/alt text) and the
        image as PNG, JPEG or WebP bytes. Icons smaller than ``limits.min_figure_side`` and undecodable
        pictures are skipped (with a warning for the latter); a decompression bomb rejects the document."""
        try:
            image = load_image(data, max_pixels=self.limits.max_image_pixels)
        except DocumentRejected:
            raise
        except InvalidMedia as exc:
            self.warnings.append(f"skipped a picture{_where(page)}: {exc.message}")
            return None
        return self.figure_from_image(image, data, heading_path=heading_path, page=page, caption=caption)

    def figure_from_image(
        self,
        image: Image.Image,
        data: bytes | None,
        *,
        heading_path: tuple[str, ...],
        page: int | None = None,
        caption: str = "",
    ) -> Block | None:
        if min(image.size) < self.limits.min_figure_side:
            return None
        if data is None or not _is_web_image(data):
            data = encode_png(image)
        text = "\n".join(part for part in (caption.strip(), self.read_text(image)) if part)
        return Block(kind="image", text=text, heading_path=heading_path, page=page, image=data)


def _where(page: int | None) -> str:
    return f" on page {page}" if page is not None else ""


def _is_web_image(data: bytes) -> bool:
    return data.startswith((b"\x89PNG", b"\xff\xd8\xff")) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def encode_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class HeadingPath:
    """The chain of open headings while walking a document: entering a level closes every deeper one."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(text for _, text in self._stack)

    def enter(self, level: int, text: str) -> Block:
        """Open a heading; returns its ``heading`` block (whose path is the headings above it)."""
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        block = Block(kind="heading", text=text, heading_path=self.path, level=level)
        self._stack.append((level, text))
        return block


_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")


def clean_inline(text: str) -> str:
    """One line of text: control characters dropped, runs of spaces collapsed, ends trimmed."""
    text = "".join(ch for ch in text if ch in "\n\t" or not unicodedata.category(ch).startswith("C"))
    return _SPACES.sub(" ", text.replace("\n", " ")).strip()


def clean_lines(text: str) -> str:
    """Like :func:`clean_inline` per line, keeping line breaks (for code, tables and OCR output)."""
    lines = [
        _SPACES.sub(" ", "".join(ch for ch in line if not unicodedata.category(ch).startswith("C"))).rstrip()
        for line in text.splitlines()
    ]
    return "\n".join(lines).strip("\n")


def paragraphs_of(text: str) -> list[str]:
    """Split plain text at blank lines; lines inside a paragraph are joined with spaces."""
    return [clean_inline(part) for part in re.split(r"\n\s*\n", text) if part.strip()]


def has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def merge_lists(blocks: list[Block]) -> list[Block]:
    """Consecutive list items under the same heading become one list block, one item per line."""
    merged: list[Block] = []
    for block in blocks:
        last = merged[-1] if merged else None
        if (
            last is not None
            and block.kind == "list"
            and last.kind == "list"
            and last.heading_path == block.heading_path
        ):
            last.text = f"{last.text}\n{block.text}"
        else:
            merged.append(block)
    return merged
