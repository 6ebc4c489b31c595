"""Media value types shared by ingest, embed and chat, and the safe loaders for untrusted media.

``decode_audio`` and ``load_image`` are the only ways Bindesk opens customer- or ops-supplied audio and images:
they check what the bytes really are, refuse decompression bombs and over-long audio, and raise
:class:`core.errors.InvalidMedia` (or a subclass) with a message a person can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class AudioClip:
    """Decoded audio: mono float32 samples in [-1, 1]."""

    samples: NDArray[np.float32]
    sample_rate: int

    @property
    def duration(self) -> float:
        return float(len(self.samples)) / float(self.sample_rate)


@dataclass(frozen=True)
class TranscriptSegment:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str | None
    duration: float
    segments: list[TranscriptSegment] = field(default_factory=list)


@dataclass(frozen=True)
class OcrResult:
    text: str  # lines joined in reading order with newlines
    lines: list[str] = field(default_factory=list)
    mean_confidence: float = 0.0


