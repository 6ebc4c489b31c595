"""decode_audio: every supported container to 16 kHz mono float32, and every way audio is refused."""

from __future__ import annotations

import io
import wave

import av
import numpy as np
import pytest

from core.errors import InvalidMedia, MediaTooLong
from core.media import decode_audio, sniff_audio_container
from tests.support.media_fixtures import (
    ELF_HEADER,
    contradictory_wav,
    encode_audio,
    garbage_after_riff_header,
    lying_wav,
    speech_wav,
    text_image,
    tone_wav,
    understated_ogg,
)


@pytest.fixture(scope="module")
def speech() -> bytes:
    return speech_wav("Please check the warranty card.")


def _wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as source:
        return source.getnframes() / source.getframerate()


@pytest.mark.parametrize("container", ["wav", "mp3", "ogg", "m4a"])
def test_each_container_decodes_to_16k_mono_float(speech: bytes, container: str) -> None:
    data = speech if container == "wav" else encode_audio(speech, container)
    clip = decode_audio(data, max_seconds=60, sample_rate=16000)
    assert clip.sample_rate == 16000
    assert clip.samples.dtype == np.float32 and clip.samples.ndim == 1
    assert clip.duration == pytest.approx(_wav_seconds(speech), abs=0.15)  # codecs pad a few ms
    assert 0.05 < float(np.abs(clip.samples).max()) <= 1.0  # speech, not silence, and in range


def test_stereo_44k_is_mixed_down_and_resampled() -> None:
    rate, seconds = 44100, 1.0
    t = np.arange(int(rate * seconds)) / rate
    left = (np.sin(2 * np.pi * 300 * t) * 10000).astype(np.int16)
    out = io.BytesIO()
    with wave.open(out, "wb") as sink:
        sink.setnchannels(2)
        sink.setsampwidth(2)
        sink.setframerate(rate)
        sink.writeframes(np.stack([left, left], axis=1).tobytes())
    clip = decode_audio(out.getvalue(), max_seconds=None)
    assert clip.samples.shape == (16000,)
    assert float(np.abs(clip.samples).max()) == pytest.approx(10000 / 32768, rel=0.05)


def test_declared_length_over_the_limit_is_refused_up_front() -> None:
    with pytest.raises(MediaTooLong, match=r"10\.0 s"):
        decode_audio(tone_wav(10), max_seconds=5)
    assert decode_audio(tone_wav(10), max_seconds=None).duration == pytest.approx(10.0)


def test_container_that_understates_its_length_is_stopped_while_decoding() -> None:
    data = understated_ogg(real_seconds=12, declared_seconds=2)
    with av.open(io.BytesIO(data), mode="r", format="ogg") as container:
        declared = container.duration / av.time_base if container.duration else 0.0
    assert declared < 8, "the fixture must understate its length for this test to mean anything"
    with pytest.raises(MediaTooLong, match="runs past"):
        decode_audio(data, max_seconds=8)


@pytest.mark.parametrize(
    "data",
    [lying_wav(), contradictory_wav(), garbage_after_riff_header()],
    ids=["data-size-lies", "byte-rate-contradicts", "no-chunks"],
)
def test_wav_whose_header_lies_is_invalid(data: bytes) -> None:
    with pytest.raises(InvalidMedia) as caught:
        decode_audio(data, max_seconds=3600)
    assert not isinstance(caught.value, MediaTooLong)
    assert "WAV header" in caught.value.message


@pytest.mark.parametrize(
    "data",
    [ELF_HEADER, text_image(["not audio"]), b"plain words, not sound", b"OggS" + bytes(200)],
    ids=["elf", "png", "text", "broken-ogg"],
)
def test_non_audio_is_invalid(data: bytes) -> None:
    with pytest.raises(InvalidMedia):
        decode_audio(data, max_seconds=60)


def test_text_that_starts_like_an_id3_tag_is_not_mp3() -> None:
    assert sniff_audio_container(b"ID3 tags are metadata in MP3 files.") is None
    assert sniff_audio_container(tone_wav(0.1)) == "wav"
