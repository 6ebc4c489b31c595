"""The default ``local`` Embedder: CPU only, bundled weights, one space for text, photos and voice.

It bridges every modality through text, as DESIGN.md describes:

- text  -> all-MiniLM-L6-v2 (384-d);
- image -> MiniLM of the image's OCR text plus its visual tags (``dense``), and an EfficientNet-Lite0
  image-to-image vector kept apart (``visual``) for photo-to-photo similarity;
- audio -> MiniLM of the Whisper transcript.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
from PIL import Image

from core.errors import InvalidInput
from core.settings import Settings
from embed.protocol import AudioClip, ImageEmbeddings, Vectors
from embed.text import MiniLMTextEncoder
from embed.vision import EfficientNetVisualEncoder

__all__ = ["LocalEmbedder", "image_text"]

# Tags the classifier is less sure of than this are left out of an image's text (and of ``tags``).
TAG_MIN_PROBABILITY = 0.1
MAX_TAGS = 5
# Views per forward pass: 32 views of 224x224 keep the activations of one pass well under a gigabyte.
VISION_MAX_BATCH = 32


def image_text(ocr_text: str, tags: Sequence[str]) -> str:
    """The text that stands for an image in the shared space: what it says, then what it shows."""
    parts = [ocr_text.strip()] if ocr_text.strip() else []
    if tags:
        parts.append("Photo of " + ", ".join(tags) + ".")
    return "\n".join(parts)


class LocalEmbedder:
    """:class:`embed.protocol.Embedder` on MiniLM and EfficientNet-Lite0, both loaded once per embedder.

    Construction is cheap; :meth:`warm_up` loads both models (first use does it too).
    """

    name = "local"
    dense_dim = MiniLMTextEncoder.dim
    max_text_tokens = MiniLMTextEncoder.max_tokens

    def __init__(
        self,
        settings: Settings,
        text_encoder: MiniLMTextEncoder | None = None,
        visual_encoder: EfficientNetVisualEncoder | None = None,
    ) -> None:
        self._text = text_encoder or MiniLMTextEncoder(
            batch_size=settings.embed_batch_size, torch_threads=settings.torch_threads
        )
        self._vision = visual_encoder or EfficientNetVisualEncoder(
            batch_size=min(settings.embed_batch_size, VISION_MAX_BATCH),
            torch_threads=settings.torch_threads,
            tag_min_probability=TAG_MIN_PROBABILITY,
        )
        self.visual_dim = self._vision.dim
        self._lock = threading.Lock()

    @property
    def text_encoder(self) -> MiniLMTextEncoder:
        return self._text

    @property
    def visual_encoder(self) -> EfficientNetVisualEncoder:
        return self._vision

    def warm_up(self) -> None:
        with self._lock:
            self._text.warm_up()
            self._vision.warm_up()

    def count_tokens(self, text: str) -> int:
        """MiniLM WordPiece tokens of ``text``, without [CLS]/[SEP] (a pass reads ``max_text_tokens - 2``)."""
        return self._text.count_tokens(text)

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        """MiniLM vectors; texts longer than one pass are windowed and mean-pooled, never truncated."""
        return self._text.encode(texts)

    def embed_images(self, images: Sequence[Image.Image], ocr_texts: Sequence[str]) -> ImageEmbeddings:
        """``dense`` = MiniLM of (OCR text + "Photo of <tags>."), ``visual`` = EfficientNet vector, ``tags``."""
        if len(images) != len(ocr_texts):
            raise InvalidInput(f"{len(images)} images but {len(ocr_texts)} OCR texts")
        if not images:
            return ImageEmbeddings(
                dense=np.zeros((0, self.dense_dim), np.float32),
                visual=np.zeros((0, self.visual_dim), np.float32),
                tags=[],
            )
        visual, tags = self._vision.features_and_tags(images, k=MAX_TAGS)
        texts = [image_text(ocr, image_tags) for ocr, image_tags in zip(ocr_texts, tags, strict=True)]
        return ImageEmbeddings(dense=self._text.encode(texts), visual=visual, tags=tags)

    def embed_audio(self, clips: Sequence[AudioClip], transcripts: Sequence[str]) -> Vectors:
        """MiniLM of each clip's transcript (the local backend hears speech only through its words)."""
        if len(clips) != len(transcripts):
            raise InvalidInput(f"{len(clips)} clips but {len(transcripts)} transcripts")
        return self._text.encode(list(transcripts))
