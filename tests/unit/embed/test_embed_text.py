"""MiniLM text embeddings: token counting, no silent truncation, normalised batched vectors."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InvalidInput
from embed.text import MiniLMTextEncoder

pytestmark = pytest.mark.slow

FILLER = "The wall mount bracket attaches to the back of the television with four screws. "
TAIL = "Finally, open the remote control and replace both AAA batteries with new ones."


def test_count_tokens_excludes_special_tokens(text_encoder: MiniLMTextEncoder) -> None:
    tokenizer = text_encoder._loaded.tokenizer
    for text in ["replace the remote battery", "Error E-203: the Wi-Fi password is wrong.", ""]:
        with_specials = len(tokenizer(text)["input_ids"])
        assert text_encoder.count_tokens(text) == with_specials - 2
    assert text_encoder.count_tokens("battery battery battery") == 3 * text_encoder.count_tokens("battery")


def test_window_size_matches_the_model(text_encoder: MiniLMTextEncoder) -> None:
    assert text_encoder.max_tokens == 256
    assert text_encoder.window_tokens == 254
    assert text_encoder._loaded.max_seq_length == 256


def test_vectors_are_unit_float32_rows(text_encoder: MiniLMTextEncoder) -> None:
    vectors = text_encoder.encode(["replace the remote battery", "wall mount bracket", ""])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert text_encoder.encode([]).shape == (0, 384)


def test_a_paraphrase_is_nearer_than_an_unrelated_text(text_encoder: MiniLMTextEncoder) -> None:
    query, paraphrase, unrelated = text_encoder.encode(
        ["how do I change the batteries in my remote", "replace the remote battery", "wall mount bracket"]
    )
    assert query @ paraphrase > query @ unrelated + 0.2


def test_long_text_is_windowed_not_truncated(text_encoder: MiniLMTextEncoder) -> None:
    long_text = FILLER * 30 + TAIL  # ~500 tokens: the tail lies beyond the model's 256-token window
    assert text_encoder.count_tokens(long_text) > 2 * text_encoder.window_tokens
    windows = text_encoder._windows(long_text)
    assert len(windows) >= 3
    assert all(text_encoder.count_tokens(piece) <= text_encoder.window_tokens for piece, _ in windows)
    assert windows[0][0].startswith("The wall mount") and windows[-1][0].endswith(TAIL)

    first_window_only = windows[0][0]
    whole, truncated, topic = text_encoder.encode([long_text, first_window_only, "replace the remote batteries"])
    # A truncating encoder would give the same vector for both; the tail must move the whole text's vector.
    assert whole @ topic > truncated @ topic + 0.02
    assert np.isclose(np.linalg.norm(whole), 1.0, atol=1e-5)


def test_batch_equals_one_at_a_time_with_long_texts_mixed_in(text_encoder: MiniLMTextEncoder) -> None:
    texts = ["short one", FILLER * 25 + TAIL, "another short text about Wi-Fi"]
    batch = text_encoder.encode(texts)
    for row, text in enumerate(texts):
        assert np.allclose(batch[row], text_encoder.encode([text])[0], atol=1e-5)


def test_a_single_string_is_refused(text_encoder: MiniLMTextEncoder) -> None:
    with pytest.raises(InvalidInput):
        text_encoder.encode("not a list")
