"""Media value types shared by ingest, embed and chat, and the safe loaders for untrusted media.

``decode_audio`` and ``load_image`` are the only ways Bindesk opens customer- or ops-supplied audio and images:
they check what the bytes really are, refuse decompression bombs and over-long audio, and raise
:class:`core.errors.InvalidMedia` (or a subclass) with a message a person can act on.
"""

from __future__ import annotations

import io
import itertools
import math
import struct
import warnings
from dataclasses import dataclass, field
from typing import Literal

import av
import numpy as np
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.container import InputContainer
from numpy.typing import NDArray
from PIL import Image, ImageOps

from core.errors import DecompressionBomb, InvalidMedia, MediaTooLong


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


# --------------------------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------------------------

# Formats Pillow may open for us. Limiting them keeps rarely used (and rarely hardened) decoders out of reach.
# (Phone cameras' MPO files open through the JPEG plugin.)
_IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")


def load_image(data: bytes, *, max_pixels: int) -> Image.Image:
    """Open untrusted image bytes as an RGB image with its EXIF orientation applied.

    The pixel count is checked from the header before any pixel is decoded. Transparent areas become white
    (OCR and image models read black-on-transparent text as black-on-black otherwise).

    Raises :class:`core.errors.DecompressionBomb` when the image has more than ``max_pixels`` pixels, and
    :class:`core.errors.InvalidMedia` when the bytes are not a readable image.
    """
    try:
        with warnings.catch_warnings():
            # Our own limit below is the one that counts; Pillow's warning would only add noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=_IMAGE_FORMATS)
            width, height = image.size
            if width * height > max_pixels:
                raise DecompressionBomb(
                    f"image is {width}x{height} = {width * height:,} pixels; the limit is {max_pixels:,}"
                )
            image.load()
            return _to_rgb(ImageOps.exif_transpose(image))
    except Image.DecompressionBombError as exc:
        raise DecompressionBomb(f"image refused as a decompression bomb (over {max_pixels:,} pixels)") from exc
    except (Image.UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidMedia(f"not a readable image (PNG, JPEG, WebP, GIF, BMP or TIFF): {exc}") from exc


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # High bit-depth greyscale: scale to 8 bits ourselves (Pillow's convert clips instead of scaling).
        values = np.asarray(image, dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low if high > low else 1.0) * 255.0
        return Image.fromarray(scaled.astype(np.uint8), mode="L").convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


# --------------------------------------------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------------------------------------------

AudioContainer = Literal["wav", "mp3", "ogg", "mp4", "flac", "webm", "aac"]

# The demuxer we hand each container to. Naming it (instead of letting FFmpeg probe) keeps playlist-style
# demuxers (hls, concat, ...) that open other files or URLs out of reach.
_DEMUXERS: dict[AudioContainer, str] = {
    "wav": "wav",
    "mp3": "mp3",
    "ogg": "ogg",
    "mp4": "mov",
    "flac": "flac",
    "webm": "matroska",
    "aac": "aac",
}

# ISO-BMFF brands that carry audio (M4A, MP4, 3GP). HEIC/AVIF images use the same box format: not listed.
_MP4_AUDIO_BRANDS = frozenset(
    {
        *(b"M4A ", b"M4B ", b"M4P ", b"mp41", b"mp42", b"dash", b"qt  "),
        *(b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"3gp4", b"3gp5", b"3gp6", b"3g2a"),
    }
)


def sniff_audio_container(data: bytes) -> AudioContainer | None:
    """The audio container the bytes begin with, judged by magic bytes only; None when none matches."""
    head = data[:64]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[4:8] == b"ftyp" and head[8:12] in _MP4_AUDIO_BRANDS:
        return "mp4"
    if head[:3] == b"ID3" and len(head) > 4 and head[3] in (2, 3, 4) and head[4] != 0xFF:
        return "mp3"
    if len(head) >= 4 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        layer = (head[1] >> 1) & 0x3
        if layer == 0:
            return "aac" if head[1] & 0xF6 == 0xF0 else None  # ADTS
        bitrate_index, rate_index = head[2] >> 4, (head[2] >> 2) & 0x3
        if bitrate_index not in (0, 15) and rate_index != 3:
            return "mp3"
    return None


def decode_audio(data: bytes, *, max_seconds: float | None, sample_rate: int = 16000) -> AudioClip:
    """Decode untrusted audio bytes (WAV, MP3, OGG Opus/Vorbis, M4A/MP4, FLAC, WebM) to mono float32.

    The length is checked against ``max_seconds`` twice: first from what the container declares (so a
    three-hour file is refused without decoding it), then while decoding (so a container that understates
    its duration is still stopped as soon as it passes the limit).

    Raises :class:`core.errors.MediaTooLong` past ``max_seconds`` and :class:`core.errors.InvalidMedia` when the
    bytes are not audio in a supported container, a WAV header contradicts itself or the file, or decoding fails.
    """
    container_kind = sniff_audio_container(data)
    if container_kind is None:
        raise InvalidMedia("not audio in a supported format (WAV, MP3, OGG, M4A, FLAC or WebM)")
    if container_kind == "wav":
        declared = _check_wav_header(data)
        _refuse_if_too_long(declared, max_seconds)
    limit = None if max_seconds is None else math.ceil(max_seconds * sample_rate)
    try:
        with av.open(io.BytesIO(data), mode="r", format=_DEMUXERS[container_kind]) as container:
            if not container.streams.audio:
                raise InvalidMedia("the file holds no audio stream")
            stream = container.streams.audio[0]
            _refuse_if_too_long(_declared_seconds(container, stream), max_seconds)
            samples = _decode_stream(container, stream, sample_rate, limit, max_seconds)
    except av.FFmpegError as exc:
        raise InvalidMedia(f"the audio could not be decoded ({container_kind}): {exc}") from exc
    if samples.size == 0:
        raise InvalidMedia("the audio stream holds no samples")
    return AudioClip(samples=samples, sample_rate=sample_rate)


def _refuse_if_too_long(seconds: float | None, max_seconds: float | None) -> None:
    if seconds is not None and max_seconds is not None and seconds > max_seconds:
        raise MediaTooLong(f"audio is {seconds:.1f} s long; the limit is {max_seconds:.0f} s")


def _declared_seconds(container: InputContainer, stream: AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _decode_stream(
    container: InputContainer, stream: AudioStream, sample_rate: int, limit: int | None, max_seconds: float | None
) -> NDArray[np.float32]:
    # Channels are averaged by us rather than FFmpeg's downmix, which adds them at -3 dB each and can clip.
    resampler = AudioResampler(format="fltp", rate=sample_rate)
    pieces: list[NDArray[np.float32]] = []
    total = 0
    # Decoded frame by frame so the limit stops a long stream early; the final None flushes the resampler.
    for frame in itertools.chain(container.decode(stream), [None]):
        for out in resampler.resample(frame):
            piece = out.to_ndarray().astype(np.float32, copy=False).mean(axis=0)
            pieces.append(piece)
            total += piece.size
            if limit is not None and total > limit:
                raise MediaTooLong(f"audio runs past the limit of {max_seconds:.0f} s")
    if not pieces:
        return np.zeros(0, dtype=np.float32)
    return np.clip(np.concatenate(pieces), -1.0, 1.0)


def _check_wav_header(data: bytes) -> float | None:
    """Check a RIFF/WAVE header against itself and the file; returns the seconds of audio the file holds.

    A header "lies" when its format fields disagree with each other (byte rate vs. sample rate x block size) or
    when it is missing the ``fmt `` or ``data`` chunk. A ``data`` size larger than the file is accepted only
    as the streaming placeholder some writers use (0 or 0xFFFFFFFF), and then the real byte count is used.
    """
    offset, fmt, data_size, data_start = 12, None, None, 0
    while offset + 8 <= len(data):
        chunk_id, size = data[offset : offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        if chunk_id == b"fmt " and size >= 16 and offset + 24 <= len(data):
            fmt = struct.unpack_from("<HHIIHH", data, offset + 8)
        elif chunk_id == b"data":
            data_size, data_start = size, offset + 8
            break
        offset += 8 + size + (size & 1)
    if fmt is None or data_size is None:
        raise InvalidMedia("WAV header is missing its 'fmt ' or 'data' chunk")
    codec, channels, rate, byte_rate, block_align, bits = fmt
    if not 1 <= channels <= 32 or not 1000 <= rate <= 768_000 or block_align == 0:
        raise InvalidMedia(f"WAV header is implausible: {channels} channels at {rate} Hz")
    if codec in (1, 3) and (block_align != channels * bits // 8 or byte_rate != rate * block_align):
        raise InvalidMedia(
            f"WAV header contradicts itself: {channels} ch x {bits} bit at {rate} Hz "
            f"but byte rate {byte_rate} and block size {block_align}"
        )
    available = len(data) - data_start
    if data_size > available and data_size not in (0, 0xFFFFFFFF, 0x7FFFF000, 0x7FFFFFFF):
        raise InvalidMedia(f"WAV header declares {data_size:,} bytes of audio but the file holds {available:,}")
    real = min(data_size, available) if data_size not in (0, 0xFFFFFFFF) else available
    return real / byte_rate if byte_rate else None
