"""WhisperTranscriber on espeak-ng speech (real bundled tiny.en model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import ModelUnavailable
from core.media import AudioClip, decode_audio
from embed.protocol import Transcriber
from embed.speech import WhisperTranscriber
from tests.support.media_fixtures import encode_audio, speech_wav

SENTENCE = "The warranty covers the heating element for three years."


def test_missing_model_directory_is_a_clear_model_unavailable(tmp_path: Path) -> None:
    transcriber = WhisperTranscriber(model_dir=tmp_path / "nowhere")
    assert isinstance(transcriber, Transcriber)
    with pytest.raises(ModelUnavailable, match=r"model\.bin"):
        transcriber.warm_up()


@pytest.mark.slow
@pytest.mark.parametrize("container", ["wav", "ogg"])
def test_transcribes_speech_with_timed_segments(transcriber: Transcriber, container: str) -> None:
    wav = speech_wav(SENTENCE, words_per_minute=130)
    data = wav if container == "wav" else encode_audio(wav, container)
    clip = decode_audio(data, max_seconds=60)
    transcript = transcriber.transcribe(clip)
    words = transcript.text.lower()
    assert "warranty" in words and "three years" in words
    assert transcript.language == "en"
    assert transcript.duration == pytest.approx(clip.duration)
    assert transcript.segments, "segments carry the timestamps"
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts)
    assert all(0 <= s.start < s.end <= clip.duration + 0.5 for s in transcript.segments)


@pytest.mark.slow
def test_clip_at_another_sample_rate_is_resampled(transcriber: Transcriber) -> None:
    clip16 = decode_audio(speech_wav("Hello from the support team."), max_seconds=60)
    # The same speech at 8 kHz (every other sample): the transcriber must bring it back to 16 kHz itself.
    clip8 = AudioClip(samples=np.ascontiguousarray(clip16.samples[::2]), sample_rate=8000)
    assert "support" in transcriber.transcribe(clip8).text.lower()
