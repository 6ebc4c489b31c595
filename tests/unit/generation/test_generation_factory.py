"""get_generator picks the configured backend and says clearly what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ModelUnavailable
from core.settings import Settings
from generation.extractive import ExtractiveGenerator
from generation.factory import get_generator
from generation.openai_compat import OpenAICompatGenerator
from generation.protocol import Generator
from generation.t5 import T5Generator


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_extractive_is_the_default_and_takes_the_encoder(tmp_path: Path) -> None:
    def encode(texts):
        raise AssertionError("not called while building")

    generator = get_generator(_settings(tmp_path), encode=encode)
    assert isinstance(generator, ExtractiveGenerator) and isinstance(generator, Generator)
    assert generator.encode is encode


def test_t5_without_a_directory_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="BINDESK_T5_MODEL_DIR"):
        get_generator(_settings(tmp_path, generator="t5"))
    with pytest.raises(ModelUnavailable, match="not a directory"):
        get_generator(_settings(tmp_path, generator="t5", t5_model_dir=tmp_path / "missing"))


def test_t5_with_a_directory_is_built_without_loading(tmp_path: Path) -> None:
    generator = get_generator(_settings(tmp_path, generator="t5", t5_model_dir=tmp_path, t5_device="cpu"))
    assert isinstance(generator, T5Generator) and generator.device == "cpu"
    with pytest.raises(ModelUnavailable, match="no seq2seq checkpoint"):
        generator.warm_up()  # the empty directory holds no checkpoint
    assert not generator.static_cache  # auto: static only once loaded on CUDA
    forced = get_generator(_settings(tmp_path, generator="t5", t5_model_dir=tmp_path, t5_cache="static"))
    assert isinstance(forced, T5Generator) and forced.static_cache


def test_openai_needs_url_and_model(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="BINDESK_OPENAI_BASE_URL"):
        get_generator(_settings(tmp_path, generator="openai", openai_model="m"))
    with pytest.raises(ModelUnavailable, match="BINDESK_OPENAI_MODEL"):
        get_generator(_settings(tmp_path, generator="openai", openai_base_url="http://127.0.0.1:9/v1"))
    generator = get_generator(
        _settings(tmp_path, generator="openai", openai_base_url="http://127.0.0.1:9/v1/", openai_model="m")
    )
    assert isinstance(generator, OpenAICompatGenerator)
    assert generator.endpoint == "http://127.0.0.1:9/v1/chat/completions"
