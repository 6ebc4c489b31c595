"""The contract every :class:`embed.protocol.Embedder` must keep, as one reusable check.

``check_embedder_contract(embedder)`` runs every check below against a warmed-up (or lazily loading) embedder:
shapes and dims, float32 rows of unit length, determinism, a batch giving the same rows as one item at a time,
and the shared space (a photo of the words "remote control battery" lands nearer the text "replace the remote
battery" than "wall mount bracket"; so does a voice note saying it, when the backend hears words). Fixtures are
drawn with Pillow and synthesised with numpy here, never read from disk.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

from core.media import AudioClip
from embed.protocol import Embedder, ImageEmbeddings

QUERY_TEXTS = ["replace the remote battery", "wall mount bracket", "How do I reset the router to factory settings?"]
PHOTO_WORDS = "remote control battery"
NEAR_TEXT, FAR_TEXT = "replace the remote battery", "wall mount bracket"


# --- fixtures --------------------------------------------------------------------------------------------------


def text_photo(words: str, size: tuple[int, int] = (480, 240)) -> Image.Image:
    """Black words on a white card, large enough for any OCR or vision model to read."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    y = 30
    for line in words.split():
        draw.text((30, y), line, fill="black", font=font)
        y += 60
    return image


def shapes_photo(seed: int = 0, size: int = 256) -> Image.Image:
    """Random coloured rectangles and ellipses: an image with no words in it."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        x0, y0 = (int(v) for v in rng.integers(0, size - 40, 2))
        x1, y1 = x0 + int(rng.integers(20, 120)), y0 + int(rng.integers(20, 120))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=colour)
    return image


def tone_clip(frequency: float = 440.0, seconds: float = 1.0, sample_rate: int = 16_000) -> AudioClip:
    t = np.arange(int(seconds * sample_rate), dtype=np.float32) / sample_rate
    return AudioClip(samples=(0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32), sample_rate=sample_rate)


# --- checks ----------------------------------------------------------------------------------------------------


def assert_unit_rows(vectors: NDArray[np.float32], rows: int, dim: int, what: str) -> None:
    assert isinstance(vectors, np.ndarray), f"{what}: expected a numpy array, got {type(vectors).__name__}"
    assert vectors.dtype == np.float32, f"{what}: dtype {vectors.dtype}, expected float32"
    assert vectors.shape == (rows, dim), f"{what}: shape {vectors.shape}, expected {(rows, dim)}"
    assert np.isfinite(vectors).all(), f"{what}: non-finite values"
    if rows:
        norms = np.linalg.norm(vectors, axis=1)
        assert np.allclose(norms, 1.0, atol=1e-3), f"{what}: row norms {norms}, expected 1"


def check_attributes(embedder: Embedder) -> None:
    assert isinstance(embedder, Embedder), "does not implement embed.protocol.Embedder"
    assert isinstance(embedder.name, str) and embedder.name, "name must be a non-empty string"
    for attribute in ("dense_dim", "visual_dim", "max_text_tokens"):
        value = getattr(embedder, attribute)
        assert isinstance(value, int) and value > 0, f"{attribute} must be a positive int, got {value!r}"


def check_token_counts(embedder: Embedder) -> None:
    short, longer = "replace the battery", "replace the battery in the remote control, then pair it again"
    assert isinstance(embedder.count_tokens(short), int)
    assert 0 < embedder.count_tokens(short) < embedder.count_tokens(longer)
    assert embedder.count_tokens(short) == embedder.count_tokens(short), "token counts must be deterministic"


def check_texts(embedder: Embedder, atol: float) -> None:
    batch = embedder.embed_texts(QUERY_TEXTS)
    assert_unit_rows(batch, len(QUERY_TEXTS), embedder.dense_dim, "embed_texts")
    assert_unit_rows(embedder.embed_texts([]), 0, embedder.dense_dim, "embed_texts([])")
    again = embedder.embed_texts(QUERY_TEXTS)
    assert np.allclose(batch, again, atol=atol), "embed_texts is not deterministic"
    for row, text in enumerate(QUERY_TEXTS):
        single = embedder.embed_texts([text])[0]
        assert np.allclose(batch[row], single, atol=atol), f"batch row {row} differs from embedding it alone"
    assert float(batch[0] @ batch[1]) < 0.999, "different texts must not collapse to one vector"


def check_images(embedder: Embedder, atol: float) -> ImageEmbeddings:
    images = [text_photo(PHOTO_WORDS), shapes_photo(0), shapes_photo(1)]
    ocr = [PHOTO_WORDS, "", ""]
    out = embedder.embed_images(images, ocr)
    assert isinstance(out, ImageEmbeddings)
    assert_unit_rows(out.dense, len(images), embedder.dense_dim, "embed_images().dense")
    assert_unit_rows(out.visual, len(images), embedder.visual_dim, "embed_images().visual")
    assert len(out.tags) == len(images) and all(
        isinstance(tags, list) and all(isinstance(t, str) and t for t in tags) for tags in out.tags
    ), f"tags must be one list of non-empty strings per image, got {out.tags!r}"
    again = embedder.embed_images(images, ocr)
    assert np.allclose(out.dense, again.dense, atol=atol) and np.allclose(out.visual, again.visual, atol=atol), (
        "embed_images is not deterministic"
    )
    for row in range(len(images)):
        single = embedder.embed_images([images[row]], [ocr[row]])
        assert np.allclose(out.dense[row], single.dense[0], atol=atol), f"image {row}: dense batch != alone"
        assert np.allclose(out.visual[row], single.visual[0], atol=atol), f"image {row}: visual batch != alone"
        assert single.tags[0] == out.tags[row], f"image {row}: tags differ between batch and alone"
    assert float(out.visual[1] @ out.visual[2]) < 0.999, "different images must not collapse to one visual vector"
    empty = embedder.embed_images([], [])
    assert_unit_rows(empty.dense, 0, embedder.dense_dim, "embed_images([]).dense")
    assert_unit_rows(empty.visual, 0, embedder.visual_dim, "embed_images([]).visual")
    return out


def check_audio(embedder: Embedder, atol: float) -> None:
    clips = [tone_clip(440.0), tone_clip(880.0, seconds=1.5)]
    transcripts = ["replace the remote battery", "wall mount bracket"]
    out = embedder.embed_audio(clips, transcripts)
    assert_unit_rows(out, len(clips), embedder.dense_dim, "embed_audio")
    assert np.allclose(out, embedder.embed_audio(clips, transcripts), atol=atol), "embed_audio not deterministic"
    for row in range(len(clips)):
        single = embedder.embed_audio([clips[row]], [transcripts[row]])[0]
        assert np.allclose(out[row], single, atol=atol), f"clip {row}: batch != alone"


def check_shared_space(embedder: Embedder, audio_carries_words: bool) -> None:
    """Text, a photo of text and (for backends that hear words) a voice note land in one comparable space."""
    near, far = embedder.embed_texts([NEAR_TEXT, FAR_TEXT])
    photo = embedder.embed_images([text_photo(PHOTO_WORDS)], [PHOTO_WORDS]).dense[0]
    assert float(photo @ near) > float(photo @ far), (
        f"photo of {PHOTO_WORDS!r}: similarity to {NEAR_TEXT!r} {float(photo @ near):.3f} "
        f"<= to {FAR_TEXT!r} {float(photo @ far):.3f}"
    )
    if audio_carries_words:
        voice = embedder.embed_audio([tone_clip()], ["my remote control needs a new battery"])[0]
        assert float(voice @ near) > float(voice @ far), "a voice note about the remote battery is not nearer it"


def check_embedder_contract(
    embedder: Embedder, *, atol: float = 1e-4, audio_carries_words: bool = True, trained: bool = True
) -> None:
    """Every check above. ``atol`` bounds batch-vs-single and run-to-run differences (loosen it for reduced
    precision on a GPU); ``audio_carries_words`` False for backends whose audio vector ignores the transcript
    (ImageBind hears sounds, not words: its voice notes reach the text space through the transcript instead);
    ``trained`` False for weights that carry no meaning (a randomly initialised test checkpoint), which keep every
    check but the semantic one of :func:`check_shared_space`."""
    check_attributes(embedder)
    check_token_counts(embedder)
    check_texts(embedder, atol)
    check_images(embedder, atol)
    check_audio(embedder, atol)
    if trained:
        check_shared_space(embedder, audio_carries_words)
