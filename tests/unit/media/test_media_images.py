"""load_image: what an untrusted image becomes (RGB, upright) and what it is refused for."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from core.errors import DecompressionBomb, InvalidMedia
from core.media import load_image
from tests.support.media_fixtures import decompression_bomb_png, rotated_jpeg_with_exif, text_image


def _encode(image: Image.Image, image_format: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=image_format)
    return out.getvalue()


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
def test_common_formats_open_as_rgb_at_their_size(image_format: str) -> None:
    data = text_image(["Hello"], image_format=image_format)
    image = load_image(data, max_pixels=10_000_000)
    assert image.mode == "RGB"
    assert image.size == Image.open(io.BytesIO(data)).size


def test_exif_orientation_is_applied() -> None:
    data = rotated_jpeg_with_exif(["WIDE TEXT LINE"])
    stored = Image.open(io.BytesIO(data)).size
    image = load_image(data, max_pixels=10_000_000)
    assert stored[0] < stored[1], "the fixture stores the picture sideways"
    assert image.size == (stored[1], stored[0])


def test_transparent_areas_become_white_not_black() -> None:
    rgba = Image.new("RGBA", (60, 60), (0, 0, 0, 0))
    rgba.paste((200, 0, 0, 255), (0, 0, 30, 60))
    image = load_image(_encode(rgba, "PNG"), max_pixels=10_000)
    assert image.getpixel((50, 30)) == (255, 255, 255)
    assert image.getpixel((10, 30)) == (200, 0, 0)


def test_sixteen_bit_greyscale_is_scaled_not_clipped() -> None:
    grey = Image.new("I;16", (20, 10))
    grey.paste(60000, (10, 0, 20, 10))
    image = load_image(_encode(grey, "PNG"), max_pixels=10_000)
    assert image.getpixel((15, 5)) == (255, 255, 255)
    assert image.getpixel((5, 5)) == (0, 0, 0)


def test_decompression_bomb_is_refused_before_decoding() -> None:
    data = decompression_bomb_png()
    assert len(data) < 200_000  # tiny on disk, 400 M pixels inside
    with pytest.raises(DecompressionBomb):
        load_image(data, max_pixels=40_000_000)


def test_pixel_limit_is_ours_not_only_pillows() -> None:
    data = _encode(Image.new("RGB", (1000, 1000), "white"), "PNG")
    with pytest.raises(DecompressionBomb, match="1,000,000"):
        load_image(data, max_pixels=999_999)
    assert load_image(data, max_pixels=1_000_000).size == (1000, 1000)


@pytest.mark.parametrize(
    "data",
    [b"this is not an image", b"\x7fELF" + bytes(100), b"", text_image(["cut"])[:120]],
    ids=["text", "elf", "empty", "truncated-png"],
)
def test_non_images_are_invalid_media(data: bytes) -> None:
    with pytest.raises(InvalidMedia):
        load_image(data, max_pixels=10_000_000)
