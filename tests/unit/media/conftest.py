"""Real OCR and speech models for the media tests: the session's shared instances (each loads once)."""

from __future__ import annotations

import pytest

from embed.protocol import TextReader, Transcriber
from kb.runtime import Models


@pytest.fixture(scope="session")
def ocr_reader(models: Models) -> TextReader:
    models.ocr.warm_up()
    return models.ocr


@pytest.fixture(scope="session")
def transcriber(models: Models) -> Transcriber:
    models.transcriber.warm_up()
    return models.transcriber
