"""detect() judges files by their bytes; safe_filename() makes a display name that is never a path."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest

from core.errors import UnsupportedMediaType
from ingest.sniff import DOCX_MEDIA_TYPE, detect, safe_filename
from tests.support import media_fixtures as fx


def _zip(names: list[str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "name", "kind", "media_type"),
    [
        (fx.pdf_with_text_layer, "manual.pdf", "pdf", "application/pdf"),
        (fx.docx_document, "guide.docx", "docx", DOCX_MEDIA_TYPE),
        (lambda: fx.text_image(["x"]), "photo.png", "image", "image/png"),
        (lambda: fx.text_image(["x"], image_format="JPEG"), "photo.jpg", "image", "image/jpeg"),
        (lambda: fx.text_image(["x"], image_format="WEBP"), "photo.webp", "image", "image/webp"),
        (lambda: fx.tone_wav(0.2), "note.wav", "audio", "audio/wav"),
        (lambda: fx.encode_audio(fx.tone_wav(0.2), "mp3"), "note.mp3", "audio", "audio/mpeg"),
        (lambda: fx.encode_audio(fx.tone_wav(0.2), "ogg"), "note.ogg", "audio", "audio/ogg"),
        (lambda: fx.encode_audio(fx.tone_wav(0.2), "m4a"), "note.m4a", "audio", "audio/mp4"),
        (fx.html_page, "returns.html", "html", "text/html"),
        (fx.markdown_document, "echo.md", "markdown", "text/markdown"),
        (fx.faq_csv, "faq.csv", "faq", "text/csv"),
        (fx.faq_json, "faq.json", "faq", "application/json"),
        (fx.faq_jsonl, "faq.jsonl", "faq", "application/x-ndjson"),
        (lambda: "Plain notes, ünïcode.\n".encode(), "notes.txt", "text", "text/plain"),
    ],
)
def test_each_supported_format_is_recognised(make: Callable[[], bytes], name: str, kind: str, media_type: str) -> None:
    detected = detect(make(), name)
    assert (detected.kind, detected.media_type) == (kind, media_type)


def test_binary_formats_are_judged_by_bytes_not_name() -> None:
    assert detect(fx.pdf_with_text_layer(), "no-extension").kind == "pdf"
    assert detect(fx.text_image(["x"]), "photo.jpg").media_type == "image/png"  # same kind, wrong extension
    assert detect(b"<!DOCTYPE html><html><body><p>x</p></body></html>", "page.txt").kind == "html"


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (fx.text_image(["x"]), "manual.pdf", "image/png"),
        (fx.ELF_HEADER, "manual.pdf", "executable"),
        (fx.ELF_HEADER, "program", "executable"),
        (fx.pdf_with_text_layer(), "notes.txt", "PDF"),
        (b"just words", "photo.png", "not a PNG"),
        (_zip(["readme.txt"]), "report.docx", "zip archive"),
        (_zip(["xl/workbook.xml"]), "sheet.xlsx", "Excel"),
        (b"key: value\n", "config.yaml", ".yaml"),
        (b"\x00\x01\x02binary\xff\xfe", "blob.bin", "binary"),
        (b"", "empty.txt", "empty"),
    ],
    ids=["png-as-pdf", "elf-as-pdf", "elf", "pdf-as-txt", "text-as-png", "zip-as-docx", "xlsx", "yaml", "bin", "empty"],
)
def test_unknown_or_lying_files_are_refused_with_a_reason(data: bytes, name: str, says: str) -> None:
    with pytest.raises(UnsupportedMediaType, match=says):
        detect(data, name)


def test_damaged_docx_is_accepted_for_the_parser_to_report() -> None:
    assert detect(fx.corrupt_docx(), "guide.docx").kind == "docx"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\Desktop\\Manual v2.pdf", "Manual v2.pdf"),
        ("re\x00port\x1b[31m.pdf", "report[31m.pdf"),
        ("invoice\u202egnp.pdf", "invoicegnp.pdf"),  # right-to-left override used to fake an extension
        ("..", "upload"),
        ("", "upload"),
        ("  spaced   out  .md ", "spaced out .md"),
    ],
)
def test_safe_filename_strips_paths_and_control_characters(raw: str, expected: str) -> None:
    assert safe_filename(raw) == expected


def test_safe_filename_caps_length_and_keeps_the_extension() -> None:
    name = safe_filename("a" * 1000 + ".pdf")
    assert len(name) <= 200 and name.endswith(".pdf")
