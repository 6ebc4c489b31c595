"""The local backend's bridges: images and audio reach the text space through their words."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InvalidInput
from embed.local import LocalEmbedder, image_text
from tests.unit.embed.contract import text_photo, tone_clip
from tests.unit.embed.drawings import traffic_light


def test_image_text_puts_ocr_first_then_tags() -> None:
    assert image_text("ERROR 42\nreset", ["web site", "monitor"]) == "ERROR 42\nreset\nPhoto of web site, monitor."
    assert image_text("  ", ["traffic light"]) == "Photo of traffic light."
    assert image_text("only words", []) == "only words"
    assert image_text("", []) == ""


@pytest.mark.slow
def test_image_dense_is_minilm_of_ocr_and_tags(local_embedder: LocalEmbedder) -> None:
    images, ocr = [traffic_light(), text_photo("reset router")], ["", "reset router"]
    out = local_embedder.embed_images(images, ocr)
    assert "traffic light" in out.tags[0]
    expected = local_embedder.embed_texts([image_text(text, tags) for text, tags in zip(ocr, out.tags, strict=True)])
    assert np.allclose(out.dense, expected, atol=1e-5)
    assert np.allclose(out.visual, local_embedder.visual_encoder.features(images), atol=1e-5)


@pytest.mark.slow
def test_audio_is_minilm_of_its_transcript(local_embedder: LocalEmbedder) -> None:
    transcripts = ["the screen stays black after the update", "how do I pair the remote"]
    vectors = local_embedder.embed_audio([tone_clip(), tone_clip(660.0)], transcripts)
    assert np.allclose(vectors, local_embedder.embed_texts(transcripts), atol=1e-5)


@pytest.mark.slow
def test_mismatched_lengths_are_refused(local_embedder: LocalEmbedder) -> None:
    with pytest.raises(InvalidInput):
        local_embedder.embed_images([traffic_light()], [])
    with pytest.raises(InvalidInput):
        local_embedder.embed_audio([tone_clip()], ["one", "two"])
