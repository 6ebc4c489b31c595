"""The ``imagebind`` embedder: text, photos and voice notes natively in ImageBind's one space.

Selected with ``BINDESK_EMBEDDER=imagebind``; the weights come from ``BINDESK_IMAGEBIND_CHECKPOINT`` (the official
``imagebind_huge.pth``, CC-BY-NC 4.0, never downloaded) at ``BINDESK_IMAGEBIND_CONFIG`` size. It runs on
``BINDESK_IMAGEBIND_DEVICE`` in ``BINDESK_IMAGEBIND_DTYPE`` (bfloat16 by default) on a GPU, and in float32 on the
CPU, where it also falls back when CUDA is asked for but absent.

Every output row is L2-normalised, so an image, a text and an audio clip compare by inner product. Images need
no OCR text and audio no transcript: ImageBind reads pixels and waveforms, so those arguments are ignored, and an
image's ``visual`` vector is its ``dense`` vector.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from core.errors import InvalidInput, ModelUnavailable
from core.media import AudioClip
from core.settings import Settings
from embed.imagebind.audio import clip_to_batch_item
from embed.imagebind.checkpoint import load_model
from embed.imagebind.config import TEXT_CONTEXT_LENGTH, config_by_name
from embed.imagebind.image import image_to_tensor
from embed.imagebind.model import AUDIO, TEXT, VISION, ImageBindModel
from embed.imagebind.tokenizer import BpeTokenizer
from embed.protocol import ImageEmbeddings, Vectors

__all__ = ["WEIGHTS_LICENCE_NOTICE", "ImageBindEmbedder", "resolve_device"]

logger = logging.getLogger(__name__)

WEIGHTS_LICENCE_NOTICE = (
    "ImageBind weights are licensed CC-BY-NC 4.0 (non-commercial use only; "
    "https://creativecommons.org/licenses/by-nc/4.0/): make sure your deployment may use them"
)
_T = TypeVar("_T")


def resolve_device(requested: str, dtype_name: str) -> tuple[torch.device, torch.dtype]:
    """The device and dtype to run on: ``requested`` unless it is CUDA without a GPU (then CPU); float32 on CPU,
    where half precision is slow or unsupported."""
    try:
        device = torch.device(requested)
    except RuntimeError as exc:
        raise ModelUnavailable(f"BINDESK_IMAGEBIND_DEVICE={requested!r} is not a torch device: {exc}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        logger.warning("ImageBind: %s was asked for but CUDA is not available; running on the CPU", requested)
        device = torch.device("cpu")
    if device.type == "cpu":
        return device, torch.float32
    return device, getattr(torch, dtype_name)


class ImageBindEmbedder:
    """:class:`embed.protocol.Embedder` backed by the ImageBind port. Light to construct; :meth:`warm_up` loads."""

    name = "imagebind"
    max_text_tokens = TEXT_CONTEXT_LENGTH

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._config = config_by_name(settings.imagebind_config)
        self.dense_dim: int = self._config.out_embed_dim
        self.visual_dim: int = self.dense_dim
        self._batch_size = max(1, settings.embed_batch_size)
        self._model: ImageBindModel | None = None
        self._tokenizer: BpeTokenizer | None = None
        self._device = torch.device("cpu")
        self._dtype = torch.float32
        self._lock = threading.Lock()

    # --- loading -----------------------------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load tokenizer and checkpoint (idempotent, thread-safe); logs the weights' licence.

        Raises :class:`core.errors.ModelUnavailable` when no checkpoint is configured or the file is missing, and
        :class:`core.errors.CheckpointMismatch` when its keys or shapes are not this configuration's.
        """
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def _load(self) -> ImageBindModel:
        path = self._settings.imagebind_checkpoint
        if path is None:
            raise ModelUnavailable(
                "BINDESK_EMBEDDER=imagebind needs BINDESK_IMAGEBIND_CHECKPOINT: the path of imagebind_huge.pth, "
                "which Bindesk cannot download for you"
            )
        logger.info(WEIGHTS_LICENCE_NOTICE)
        self._device, self._dtype = resolve_device(self._settings.imagebind_device, self._settings.imagebind_dtype)
        if self._settings.torch_threads > 0:
            torch.set_num_threads(self._settings.torch_threads)
        model = load_model(
            path.expanduser(),
            self._config,
            device=self._device,
            dtype=self._dtype,
            modalities=(VISION, TEXT, AUDIO),
        )
        self._tokenizer_()
        logger.info(
            "ImageBind %s loaded from %s on %s in %s",
            self._settings.imagebind_config,
            path,
            self._device,
            str(self._dtype).removeprefix("torch."),
        )
        return model

    def _tokenizer_(self) -> BpeTokenizer:
        if self._tokenizer is None:
            self._tokenizer = BpeTokenizer()
        return self._tokenizer

    def _loaded(self) -> ImageBindModel:
        self.warm_up()
        assert self._model is not None
        return self._model

    # --- the Embedder protocol ---------------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        """CLIP BPE tokens of ``text`` with the start and end tokens: at most :attr:`max_text_tokens` are read."""
        return self._tokenizer_().count(text)

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        """(len(texts), dense_dim); a text past 77 tokens is read up to its 76th (CLIP's truncation)."""
        tokenizer = self._tokenizer_()
        return self._embed(TEXT, list(texts), lambda batch: tokenizer(batch))

    def embed_images(self, images: Sequence[Image.Image], ocr_texts: Sequence[str]) -> ImageEmbeddings:
        """Pixels only; ``ocr_texts`` must pair with ``images`` but is not used. No visual tags."""
        if len(ocr_texts) != len(images):
            raise InvalidInput(f"{len(images)} images but {len(ocr_texts)} OCR texts")
        vectors = self._embed(VISION, list(images), lambda batch: torch.stack([image_to_tensor(i) for i in batch]))
        return ImageEmbeddings(dense=vectors, visual=vectors.copy(), tags=[[] for _ in images])

    def embed_audio(self, clips: Sequence[AudioClip], transcripts: Sequence[str]) -> Vectors:
        """Waveforms only (three 2-second clips per item, averaged); ``transcripts`` must pair but is unused."""
        if len(transcripts) != len(clips):
            raise InvalidInput(f"{len(clips)} audio clips but {len(transcripts)} transcripts")
        for clip in clips:
            if clip.samples.size == 0 or clip.sample_rate <= 0:
                raise InvalidInput("an audio clip holds no samples")
        return self._embed(
            AUDIO,
            list(clips),
            lambda batch: torch.stack([clip_to_batch_item(c.samples, c.sample_rate) for c in batch]),
        )

    # --- running -----------------------------------------------------------------------------------------------
    def _embed(self, modality: str, items: list[_T], to_inputs: Callable[[list[_T]], torch.Tensor]) -> Vectors:
        if not items:
            return np.zeros((0, self.dense_dim), dtype=np.float32)
        model = self._loaded()
        rows = []
        with torch.inference_mode():
            for start in range(0, len(items), self._batch_size):
                inputs = to_inputs(items[start : start + self._batch_size]).to(self._device, non_blocking=True)
                if inputs.is_floating_point():
                    inputs = inputs.to(self._dtype)
                out = model.embed(modality, inputs)
                rows.append(F.normalize(out.float(), dim=-1).cpu())
        return torch.cat(rows).numpy().astype(np.float32, copy=False)
