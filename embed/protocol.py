"""The shared embedding space and the models around it, as small typed protocols.

An :class:`Embedder` puts text, images and audio into one space (``dense``, ``dense_dim`` wide, rows
L2-normalised, compared by inner product). It may also give images a second, image-to-image vector
(``visual``): the ``local`` backend bridges images through text, so photo-to-photo similarity needs its own
vector; ImageBind embeds images natively and its ``visual`` is the same vector as ``dense``.

Constructors are light; :meth:`warm_up` loads weights (FastAPI lifespan, Celery ``worker_process_init``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from core.media import AudioClip, OcrResult, Transcript, TranscriptSegment

__all__ = [
    "AudioClip",
    "Embedder",
    "ImageEmbeddings",
    "OcrResult",
    "TextReader",
    "Transcriber",
    "Transcript",
    "TranscriptSegment",
    "Vectors",
]

Vectors = NDArray[np.float32]


@dataclass(frozen=True)
class ImageEmbeddings:
    dense: Vectors  # (n, dense_dim) in the shared space
    visual: Vectors  # (n, visual_dim) image-to-image vectors
    tags: list[list[str]]  # visual tags per image (may be empty lists)


@runtime_checkable
class Embedder(Protocol):
    name: str  # "local" | "imagebind"; a collection records the backend that filled it
    dense_dim: int
    visual_dim: int
    max_text_tokens: int  # what the text encoder reads before it truncates

    def warm_up(self) -> None: ...

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the text encoder's own tokenizer (for chunk sizing)."""
        ...

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        """(len(texts), dense_dim), rows L2-normalised."""
        ...

    def embed_images(self, images: Sequence[Image.Image], ocr_texts: Sequence[str]) -> ImageEmbeddings:
        """Images (RGB) with the OCR text already read from each (``""`` when none)."""
        ...

    def embed_audio(self, clips: Sequence[AudioClip], transcripts: Sequence[str]) -> Vectors:
        """(len(clips), dense_dim); ``transcripts`` are the speech-to-text of each clip."""
        ...


@runtime_checkable
class Transcriber(Protocol):
    def warm_up(self) -> None: ...

    def transcribe(self, clip: AudioClip, language: str | None = None) -> Transcript:
        """Speech to text with segment timestamps; ``language`` None means detect where the model can."""
        ...


@runtime_checkable
class TextReader(Protocol):
    """OCR."""

    def warm_up(self) -> None: ...

    def read(self, image: Image.Image) -> OcrResult: ...
