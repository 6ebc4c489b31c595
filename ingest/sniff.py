"""What an uploaded file really is, judged by its bytes; and a safe display name for it.

The file name only picks between text formats (Markdown, CSV, JSON...), which have no magic bytes. For every
binary format the bytes decide, and a name that promises another kind of file (a ``.pdf`` that is a PNG, a
``.docx`` that is a program) is refused: the uploader is either mistaken or trying something.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from core.errors import UnsupportedMediaType
from core.media import sniff_audio_container
from ingest.types import DocumentKind

DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

SUPPORTED = "PDF, DOCX, HTML, Markdown, TXT, FAQ CSV/JSON/JSONL, PNG, JPEG, WebP, WAV, MP3, OGG, M4A"


@dataclass(frozen=True)
class Detected:
    kind: DocumentKind
    media_type: str


# What each extension promises. Text extensions map to the kind they select; binary ones to the only kind
# their bytes may be.
_TEXT_EXTENSIONS: dict[str, Detected] = {
    ".txt": Detected("text", "text/plain"),
    ".text": Detected("text", "text/plain"),
    "": Detected("text", "text/plain"),
    ".md": Detected("markdown", "text/markdown"),
    ".markdown": Detected("markdown", "text/markdown"),
    ".html": Detected("html", "text/html"),
    ".htm": Detected("html", "text/html"),
    ".csv": Detected("faq", "text/csv"),
    ".json": Detected("faq", "application/json"),
    ".jsonl": Detected("faq", "application/x-ndjson"),
    ".ndjson": Detected("faq", "application/x-ndjson"),
}
_BINARY_EXTENSIONS: dict[str, DocumentKind] = {
    ".pdf": "pdf",
    ".docx": "docx",
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".jfif", ".webp"), "image"),
    **dict.fromkeys((".wav", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".flac", ".webm"), "audio"),
}
_AUDIO_MEDIA_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "mp4": "audio/mp4",
    "flac": "audio/flac",
    "webm": "audio/webm",
    "aac": "audio/aac",
}
# Recognisable files we refuse, named so the message can say what the file is.
_KNOWN_UNSUPPORTED: tuple[tuple[bytes, int, str], ...] = (
    (b"\x7fELF", 0, "a Linux executable (ELF)"),
    (b"MZ", 0, "a Windows executable"),
    (b"\xca\xfe\xba\xbe", 0, "a Java class or macOS executable"),
    (b"\xcf\xfa\xed\xfe", 0, "a macOS executable"),
    (b"#!", 0, "a script"),
    (b"\x1f\x8b", 0, "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive"),
    (b"Rar!", 0, "a RAR archive"),
    (b"GIF8", 0, "a GIF image"),
    (b"BM", 0, "a BMP image"),
    (b"II*\x00", 0, "a TIFF image"),
    (b"MM\x00*", 0, "a TIFF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "a legacy Office document (.doc/.xls/.ppt)"),
    (b"{\\rtf", 0, "an RTF document"),
)
_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.I | re.S)


def detect(data: bytes, filename: str) -> Detected:
    """The kind and media type of an upload, from its bytes (the name only tells text formats apart).

    Raises :class:`core.errors.UnsupportedMediaType` for unknown formats and for files whose name promises
    a different kind than their bytes hold.
    """
    if not data:
        raise UnsupportedMediaType("the file is empty")
    extension = PurePosixPath(filename.lower()).suffix
    found = _detect_binary(data, extension)
    if found is not None:
        promised = _BINARY_EXTENSIONS.get(extension)
        promises_text = extension in _TEXT_EXTENSIONS and extension != ""
        if promises_text or (promised is not None and promised != found.kind):
            raise UnsupportedMediaType(f"the file is named {extension} but its contents are {_describe(found)}")
        return found
    described = _describe_unsupported(data)
    if described is not None:
        raise UnsupportedMediaType(f"{described} is not a supported file type (supported: {SUPPORTED})")
    if extension in _BINARY_EXTENSIONS:
        raise UnsupportedMediaType(
            f"the file is named {extension} but its contents are not a {extension[1:].upper()} file"
        )
    if not _is_text(data):
        raise UnsupportedMediaType(f"unrecognised binary file (supported: {SUPPORTED})")
    if _HTML_START.match(data[:4096].removeprefix(b"\xef\xbb\xbf")):
        return Detected("html", "text/html")
    text_kind = _TEXT_EXTENSIONS.get(extension)
    if text_kind is None:
        raise UnsupportedMediaType(f"unsupported file type {extension} (supported: {SUPPORTED})")
    return text_kind


def _detect_binary(data: bytes, extension: str) -> Detected | None:
    head = data[:64]
    # The PDF spec lets junk precede the header; a text file that merely mentions "%PDF-" is not a PDF.
    if head.startswith(b"%PDF-") or (b"%PDF-" in data[:1024] and not _is_text(data)):
        return Detected("pdf", "application/pdf")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _detect_zip(data, extension)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Detected("image", "image/png")
    if head.startswith(b"\xff\xd8\xff"):
        return Detected("image", "image/jpeg")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Detected("image", "image/webp")
    container = sniff_audio_container(data)
    if container is not None:
        return Detected("audio", _AUDIO_MEDIA_TYPES[container])
    return None


def _detect_zip(data: bytes, extension: str) -> Detected:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        if extension == ".docx":  # a damaged Word file: accepted here so the parser can say it is corrupt
            return Detected("docx", DOCX_MEDIA_TYPE)
        raise UnsupportedMediaType("a damaged zip archive is not a supported file type") from None
    if "word/document.xml" in names:
        return Detected("docx", DOCX_MEDIA_TYPE)
    if "xl/workbook.xml" in names or "ppt/presentation.xml" in names:
        raise UnsupportedMediaType(f"Excel and PowerPoint files are not supported (supported: {SUPPORTED})")
    raise UnsupportedMediaType(f"a zip archive is not a supported file type (supported: {SUPPORTED})")


def _describe(found: Detected) -> str:
    return {"pdf": "a PDF", "docx": "a Word document"}.get(found.kind, f"{found.media_type} data")


def _describe_unsupported(data: bytes) -> str | None:
    for magic, offset, description in _KNOWN_UNSUPPORTED:
        if data[offset : offset + len(magic)] == magic:
            # "BM" and "#!" are also how some text files start; only call them binary when they are not text.
            if magic in (b"BM", b"#!") and _is_text(data):
                continue
            return description
    if data[4:8] == b"ftyp":
        return "an HEIC/AVIF image or unsupported MP4 variant"
    return None


def _is_text(data: bytes) -> bool:
    """UTF-8 (a BOM allowed) with no NUL bytes. Only the first 1 MiB is checked, cut at a character boundary."""
    sample = data[: 1 << 20]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sample's end is fine; anything earlier is not UTF-8.
        return len(sample) == 1 << 20 and exc.start >= len(sample) - 3
    return True


_MAX_NAME_CHARS = 200


def safe_filename(name: str) -> str:
    """A display name for an upload: the last path component, without control or format characters, at most
    200 characters (the extension kept). Never use the result as a path: it is for showing and matching only.
    """
    name = unicodedata.normalize("NFC", name.replace("\\", "/")).rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(name.split()).strip(" .")
    if not name:
        return "upload"
    if len(name) > _MAX_NAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10 and stem:
            name = stem[: _MAX_NAME_CHARS - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:_MAX_NAME_CHARS]
    return name
