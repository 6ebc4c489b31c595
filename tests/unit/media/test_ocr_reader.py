"""RapidOcrReader: reads Pillow-drawn text, in reading order (real bundled models)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.media import load_image
from embed.ocr import DETECTION_SHORT_SIDE, LIBRARY_MAX_SIDE, RapidOcrReader, detection_limit, reading_order
from embed.protocol import TextReader
from tests.support.media_fixtures import rotated_jpeg_with_exif, text_image


def test_reading_order_groups_boxes_into_lines_left_to_right() -> None:
    def box(x: float, y: float, w: float = 50, h: float = 20) -> list[list[float]]:
        return [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]

    # Detector output in scrambled order: second line's right word, first line's words, second line's left word.
    boxes = np.array([box(200, 62), box(120, 10), box(10, 12), box(10, 60)], dtype=np.float32)
    lines = reading_order(boxes, ["four", "two", "one", "three"])
    assert lines == ["one two", "three four"]


def test_reader_satisfies_the_protocol_and_loads_lazily() -> None:
    reader = RapidOcrReader(cpu_threads=1)
    assert isinstance(reader, TextReader)
    assert not reader.loaded  # constructing loads nothing


@pytest.mark.slow
def test_reads_drawn_text_line_by_line(ocr_reader: TextReader) -> None:
    image = load_image(text_image(["Error code E42", "Reset the water filter"]), max_pixels=10_000_000)
    result = ocr_reader.read(image)
    assert len(result.lines) == 2
    assert "e42" in result.lines[0].lower()
    assert "filter" in result.lines[1].lower()
    assert result.text == "\n".join(result.lines)
    assert result.mean_confidence > 0.8


@pytest.mark.slow
def test_reads_a_sideways_phone_photo_once_turned_upright(ocr_reader: TextReader) -> None:
    image = load_image(rotated_jpeg_with_exif(["TURN ME UPRIGHT"]), max_pixels=10_000_000)
    assert "upright" in ocr_reader.read(image).text.lower()


@pytest.mark.slow
def test_blank_image_reads_as_empty(ocr_reader: TextReader) -> None:
    result = ocr_reader.read(Image.new("RGB", (300, 200), "white"))
    assert result.text == "" and result.lines == []


def test_detection_enlarges_small_photos_and_bounds_wide_or_large_ones() -> None:
    # A 348-px shop photo is enlarged to the library's 736-px short side, as RapidOCR does by default.
    assert detection_limit(348, 348, 960) == ("min", DETECTION_SHORT_SIDE)
    # A wide 1024 x 300 screenshot would become 2512 x 736: its long side is held to the bound instead.
    assert detection_limit(300, 1024, 960) == ("max", 960)
    # A 12-megapixel phone photo: the library first shrinks it to 2000 px, the bound then to 960.
    assert detection_limit(3000, 4000, 960) == ("max", 960)
    # Documents keep the library's own bound: a scanned page is not enlarged or shrunk further.
    assert detection_limit(2200, 1700, LIBRARY_MAX_SIDE) == ("min", DETECTION_SHORT_SIDE)


@pytest.mark.slow
def test_photo_reader_shares_the_engine_and_reads_a_wide_photo(ocr_reader: TextReader) -> None:
    assert isinstance(ocr_reader, RapidOcrReader)
    photos = ocr_reader.for_photos(960)
    assert photos.loaded  # the document reader's engine, not a second one
    image = load_image(text_image(["Error code E42 after the firmware update"]), max_pixels=10_000_000)
    assert "e42" in photos.read(image).text.lower()
