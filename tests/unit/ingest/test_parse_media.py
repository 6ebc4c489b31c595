"""Documents whose content needs the real OCR or Whisper: scans, DOCX pictures, photos, voice recordings."""

from __future__ import annotations

import io

import pytest

from core.errors import EmptyDocument
from embed.protocol import TextReader, Transcriber
from ingest.pipeline import parse
from ingest.types import ParsedDocument, ParseLimits
from tests.support import media_fixtures as fx

pytestmark = pytest.mark.slow


def _parse(data: bytes, name: str, ocr: TextReader, transcriber: Transcriber) -> ParsedDocument:
    return parse(data, name, ocr=ocr, transcriber=transcriber, limits=ParseLimits())


def test_scanned_pdf_page_is_read_by_ocr(ocr_reader: TextReader, transcriber: Transcriber) -> None:
    doc = _parse(fx.scanned_pdf(), "scan.pdf", ocr_reader, transcriber)
    scanned = [b for b in doc.blocks if b.page == 1]
    text = " ".join(b.text for b in scanned).lower()
    assert "water filter" in text and "six months" in text
    assert [b.text for b in doc.blocks if b.page == 2] == ["Typed page with a text layer."]


def test_docx_headings_table_and_picture(ocr_reader: TextReader, transcriber: Transcriber) -> None:
    doc = _parse(fx.docx_document(), "router.docx", ocr_reader, transcriber)
    assert doc.title == fx.DOCX_TITLE
    reset = next(b for b in doc.blocks if b.text == fx.DOCX_RESET)
    assert reset.heading_path == ("Setup", "Factory reset")
    table = next(b for b in doc.blocks if b.kind == "table")
    assert " | ".join(fx.DOCX_TABLE_ROW) in table.text.splitlines()
    assert table.heading_path == ("Status lights",)
    (picture,) = [b for b in doc.blocks if b.kind == "image"]
    assert picture.heading_path == ("Label",)
    assert picture.image is not None and picture.image.startswith(b"\x89PNG")
    assert "router label" in picture.text.lower() and "1234" in picture.text


def test_photo_is_one_image_block_with_its_bytes_and_ocr(ocr_reader: TextReader, transcriber: Transcriber) -> None:
    data = fx.text_image(["ERROR E42", "Filter blocked"], image_format="JPEG")
    doc = _parse(data, "error_screen.jpg", ocr_reader, transcriber)
    (block,) = doc.blocks
    assert doc.kind == "image" and doc.title == "error screen"
    assert block.kind == "image" and block.image == data
    assert "e42" in block.text.lower() and "filter" in block.text.lower()


@pytest.mark.parametrize("container", ["wav", "mp3", "m4a"])
def test_voice_recording_becomes_timed_transcript_blocks(
    ocr_reader: TextReader, transcriber: Transcriber, container: str
) -> None:
    wav = fx.speech_wav("To reset the router, hold the button for ten seconds.", words_per_minute=130)
    data = wav if container == "wav" else fx.encode_audio(wav, container)
    doc = _parse(data, f"howto.{container}", ocr_reader, transcriber)
    assert doc.kind == "audio" and doc.language == "en"
    assert all(b.kind == "transcript" for b in doc.blocks)
    text = " ".join(b.text for b in doc.blocks).lower()
    assert "reset" in text and "router" in text and "seconds" in text
    assert all(b.start_seconds is not None and b.end_seconds is not None for b in doc.blocks)
    assert doc.blocks[0].start_seconds is not None and doc.blocks[0].start_seconds < 1.0


def test_silence_is_an_empty_document(ocr_reader: TextReader, transcriber: Transcriber) -> None:
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as sink:
        sink.setnchannels(1)
        sink.setsampwidth(2)
        sink.setframerate(16000)
        sink.writeframes(bytes(16000 * 2 * 3))
    with pytest.raises(EmptyDocument, match="speech"):
        _parse(out.getvalue(), "silence.wav", ocr_reader, transcriber)
