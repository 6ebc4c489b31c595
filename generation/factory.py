"""Choose the generator the settings ask for."""

from __future__ import annotations

from core.errors import ModelUnavailable
from core.settings import Settings
from generation.extractive import Encoder, ExtractiveGenerator
from generation.protocol import Generator


def get_generator(settings: Settings, encode: Encoder | None = None) -> Generator:
    """The generator named by ``settings.generator`` ("extractive" | "t5" | "openai"), not yet warmed up.

    ``encode`` (texts -> embedding rows, e.g. the text embedder's) only serves the extractive generator.
    Raises :class:`ModelUnavailable` when the chosen backend lacks its configuration.
    """
    if settings.generator == "extractive":
        return ExtractiveGenerator(encode=encode)
    if settings.generator == "t5":
        from generation.t5 import T5Generator

        model_dir = settings.t5_model_dir
        if model_dir is None:
            raise ModelUnavailable("generator 't5' needs BINDESK_T5_MODEL_DIR: a local seq2seq checkpoint directory")
        if not model_dir.expanduser().is_dir():
            raise ModelUnavailable(f"generator 't5': BINDESK_T5_MODEL_DIR {model_dir} is not a directory")
        return T5Generator(model_dir.expanduser(), device=settings.t5_device, cache=settings.t5_cache)
    if settings.generator == "openai":
        from generation.openai_compat import OpenAICompatGenerator

        if not settings.openai_base_url:
            raise ModelUnavailable(
                "generator 'openai' needs BINDESK_OPENAI_BASE_URL, e.g. http://127.0.0.1:8001/v1 for vLLM"
            )
        if not settings.openai_model:
            raise ModelUnavailable("generator 'openai' needs BINDESK_OPENAI_MODEL, the model name the server serves")
        return OpenAICompatGenerator(
            settings.openai_base_url,
            settings.openai_model,
            api_key=settings.openai_api_key,
            timeout=settings.openai_timeout_seconds,
        )
    raise ModelUnavailable(f"unknown generator {settings.generator!r}: choose extractive, t5 or openai")
