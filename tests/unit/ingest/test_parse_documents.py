"""Parsers for text-bearing documents (no models needed) and every rejection of a bad document."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from core.errors import ArchiveBomb, CorruptDocument, DecompressionBomb, EmptyDocument
from core.media import AudioClip, OcrResult, Transcript
from core.settings import Settings
from ingest.pipeline import parse
from ingest.types import Block, ParsedDocument, ParseLimits
from tests.support import media_fixtures as fx


class _NoModels:
    """Stands in for OCR and speech-to-text where a document must not need them; fails the test if called."""

    def read(self, image: Image.Image) -> OcrResult:
        raise AssertionError("OCR was not expected for this document")

    def transcribe(self, clip: AudioClip, language: str | None = None) -> Transcript:
        raise AssertionError("speech-to-text was not expected for this document")


def _parse(data: bytes, name: str, limits: ParseLimits | None = None) -> ParsedDocument:
    return parse(data, name, ocr=_NoModels(), transcriber=_NoModels(), limits=limits or ParseLimits())


def _content(doc: ParsedDocument) -> list[Block]:
    return [b for b in doc.blocks if b.kind != "heading"]


def _block_with(doc: ParsedDocument, text: str) -> Block:
    return next(b for b in _content(doc) if text in b.text)


def test_limits_come_from_settings() -> None:
    settings = Settings(max_image_pixels=123, max_ingest_audio_seconds=9.0, docx_max_compression_ratio=7.0)
    limits = ParseLimits.from_settings(settings)
    assert (limits.max_image_pixels, limits.max_audio_seconds, limits.docx_max_compression_ratio) == (123, 9.0, 7.0)


# --- PDF --------------------------------------------------------------------------------------------------


def test_pdf_text_layer_with_outline_headings_and_pages() -> None:
    doc = _parse(fx.pdf_with_text_layer(), "kettle.pdf")
    assert doc.kind == "pdf" and doc.title == fx.PDF_TITLE
    descaling = _block_with(doc, fx.PDF_FACTS["descaling"])
    assert descaling.heading_path == ("Cleaning", "Descaling") and descaling.page == 1
    warranty = _block_with(doc, fx.PDF_FACTS["warranty"])
    assert warranty.heading_path == ("Warranty",) and warranty.page == 2
    assert _block_with(doc, fx.PDF_FACTS["error"]).page == 3
    assert all(b.text not in ("Cleaning", "Descaling") for b in _content(doc)), "headings are not body text"


def test_pdf_without_outline_takes_headings_from_font_sizes_and_title_from_first_heading() -> None:
    doc = _parse(fx.pdf_with_text_layer(with_outline=False, with_title=False), "kettle.pdf")
    assert doc.title == "Cleaning"
    assert _block_with(doc, fx.PDF_FACTS["descaling"]).heading_path == ("Cleaning", "Descaling")
    assert _block_with(doc, fx.PDF_FACTS["error"]).heading_path == ("Errors",)


def test_truncated_pdf_is_corrupt() -> None:
    with pytest.raises(CorruptDocument, match="truncated"):
        _parse(fx.truncated_pdf(), "cut.pdf")


def test_pdf_with_garbage_body_is_corrupt() -> None:
    with pytest.raises(CorruptDocument):
        _parse(b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n", "noise.pdf")


def test_password_protected_pdf_is_refused_with_that_reason() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(fx.pdf_with_text_layer())))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(CorruptDocument, match="password"):
        _parse(out.getvalue(), "locked.pdf")


def test_blank_pdf_is_empty() -> None:
    with pytest.raises(EmptyDocument):
        _parse(fx.build_pdf([fx.PdfPage()]), "blank.pdf")


# --- DOCX (structure and rejections; pictures are read in test_parse_media) ----------------------------------


def test_zip_bomb_docx_is_refused_before_extraction() -> None:
    with pytest.raises(ArchiveBomb, match="expands"):
        _parse(fx.zip_bomb_docx(), "bomb.docx")


def test_docx_over_the_unpacked_size_limit_is_refused() -> None:
    limits = ParseLimits(docx_max_uncompressed_bytes=4 * 1024 * 1024, docx_max_compression_ratio=1e9)
    with pytest.raises(ArchiveBomb, match="unpacks to"):
        _parse(fx.zip_bomb_docx(filler_bytes=8 * 1024 * 1024), "big.docx", limits)


def test_corrupt_docx_is_corrupt() -> None:
    with pytest.raises(CorruptDocument):
        _parse(fx.corrupt_docx(), "broken.docx")


# --- HTML, Markdown, text -------------------------------------------------------------------------------


def test_html_keeps_main_content_and_headings_and_drops_boilerplate() -> None:
    doc = _parse(fx.html_page(), "returns.html")
    assert doc.title == fx.HTML_TITLE
    everything = "\n".join(b.text for b in doc.blocks)
    for boilerplate in fx.HTML_BOILERPLATE:
        assert boilerplate not in everything
    assert "tracking" not in everything and "color: red" not in everything
    assert _block_with(doc, fx.HTML_FACTS["window"]).heading_path == (fx.HTML_TITLE, "Return window")
    assert _block_with(doc, fx.HTML_FACTS["refund"]).heading_path == (fx.HTML_TITLE, "Refund timing")
    items = _block_with(doc, "Keep the receipt.")
    assert items.kind == "list" and "Use the original box." in items.text


def test_html_without_main_uses_body_minus_navigation() -> None:
    page = (
        b"<html><body><nav>Menu Home</nav><h1>Help</h1><p>Call us on weekdays.</p><footer>Legal</footer></body></html>"
    )
    doc = _parse(page, "help.html")
    assert [b.text for b in _content(doc)] == ["Call us on weekdays."]
    assert doc.title == "Help"


def test_markdown_headings_lists_tables_and_code() -> None:
    doc = _parse(fx.markdown_document(), "echo.md")
    assert doc.title == "Echo Headphones"
    assert _block_with(doc, fx.MARKDOWN_FACTS["pairing"]).heading_path == ("Echo Headphones", "Pairing")
    battery = _block_with(doc, fx.MARKDOWN_FACTS["battery"])
    assert battery.heading_path == ("Echo Headphones", "Battery", "Charging")
    assert _block_with(doc, "Bluetooth 5.3").kind == "list"
    assert _block_with(doc, "ANC on | 20").kind == "table"
    assert _block_with(doc, "reset --all").kind == "code"


def test_markdown_front_matter_gives_the_title_and_is_not_content() -> None:
    doc = _parse(b"---\ntitle: Release notes\nauthor: ops\n---\n\nVersion 2 fixes pairing.\n", "notes.md")
    assert doc.title == "Release notes"
    assert [b.text for b in _content(doc)] == ["Version 2 fixes pairing."]


def test_text_paragraphs_and_file_stem_title() -> None:
    doc = _parse(b"First paragraph\nwraps here.\n\nSecond one.\n", "store_hours.txt")
    assert doc.title == "store hours"
    assert [b.text for b in doc.blocks] == ["First paragraph wraps here.", "Second one."]


def test_whitespace_only_text_is_empty() -> None:
    with pytest.raises(EmptyDocument):
        _parse(b"  \n\n \t\n", "blank.txt")


# --- FAQ files ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (fx.faq_csv(), "faq.csv"),
        (fx.faq_csv(columns=("Q", "A")), "faq.csv"),
        (fx.faq_json(keys=("title", "body")), "faq.json"),
        (fx.faq_jsonl(keys=("question", "answer")), "faq.jsonl"),
        (json.dumps({"faqs": [{"q": q, "a": a} for q, a in fx.FAQ_PAIRS]}).encode(), "faq.json"),
        (json.dumps(dict(fx.FAQ_PAIRS)).encode(), "faq.json"),
        (("question;answer\n" + "".join(f'{q};"{a}"\n' for q, a in fx.FAQ_PAIRS)).encode(), "faq.csv"),
    ],
    ids=["csv", "csv-q-a", "json-title-body", "jsonl", "json-wrapped", "json-mapping", "csv-semicolon"],
)
def test_each_faq_pair_is_one_block(data: bytes, name: str) -> None:
    doc = _parse(data, name)
    assert [b.kind for b in doc.blocks] == ["faq"] * len(fx.FAQ_PAIRS)
    assert [b.text for b in doc.blocks] == [f"{q}\n{a}" for q, a in fx.FAQ_PAIRS]


def test_faq_answers_list_and_category() -> None:
    data = json.dumps(
        [
            {
                "question": "How do I delete my account?",
                "answers": ["Go to Settings.", "Press Delete."],
                "category": "Account",
            }
        ]
    ).encode()
    (block,) = _parse(data, "faq.json").blocks
    assert block.text == "How do I delete my account?\nGo to Settings.\n\nPress Delete."
    assert block.heading_path == ("Account",)


def test_a_titled_faq_pair_keeps_its_title_and_titles_a_one_pair_file() -> None:
    saved = {"question": "Does the X200 work with HomeKit?", "answer": "Yes, since firmware 2.1.", "title": "HomeKit"}
    doc = _parse(json.dumps([saved]).encode(), "resolution-3f2a.json")
    assert doc.title == "HomeKit"  # not the generated file name
    assert doc.blocks[0].heading_path == ("HomeKit",)
    several = [saved | {"category": "Smart home"}, {"question": "Is there an app?", "answer": "Yes, Zephyr Home."}]
    doc = _parse(json.dumps(several).encode(), "faq.json")
    assert doc.title == "faq"
    assert [b.heading_path for b in doc.blocks] == [("Smart home", "HomeKit"), ()]


def test_faq_without_pairs_is_empty_and_broken_json_is_corrupt() -> None:
    with pytest.raises(EmptyDocument, match="question/answer"):
        _parse(b"name,price\nkettle,30\n", "prices.csv")
    with pytest.raises(CorruptDocument, match="JSON"):
        _parse(b'[{"question": "x", ', "faq.json")


# --- pictures that are refused before any OCR -------------------------------------------------------------


def test_decompression_bomb_image_is_refused() -> None:
    with pytest.raises(DecompressionBomb):
        _parse(fx.decompression_bomb_png(), "bomb.png")


def test_truncated_image_is_corrupt() -> None:
    with pytest.raises(CorruptDocument):
        _parse(fx.text_image(["cut off"])[:150], "cut.png")


def test_audio_that_lies_is_corrupt_and_over_long_audio_is_refused() -> None:
    with pytest.raises(CorruptDocument, match="WAV header"):
        _parse(fx.lying_wav(), "lies.wav")
    with pytest.raises(Exception) as caught:
        _parse(fx.tone_wav(5), "long.wav", ParseLimits(max_audio_seconds=2))
    assert getattr(caught.value, "code", None) == "media_too_long"


def test_parse_refuses_lying_files_before_any_parser_runs() -> None:
    from core.errors import UnsupportedMediaType

    with pytest.raises(UnsupportedMediaType, match="image/png"):
        _parse(fx.text_image(["x"]), "manual.pdf")
    with pytest.raises(UnsupportedMediaType, match="executable"):
        _parse(fx.ELF_HEADER, "manual.docx")
