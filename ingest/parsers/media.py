"""Images (OCR text + the picture itself, one image block) and audio (timed transcript blocks)."""

from __future__ import annotations

from core.errors import CorruptDocument, DocumentRejected, EmptyDocument, InvalidMedia, MediaTooLong
from core.media import decode_audio, load_image
from ingest.parsers.common import ParseContext, clean_inline
from ingest.types import Block, ParsedDocument

SPEECH_SAMPLE_RATE = 16000


def parse_image(data: bytes, ctx: ParseContext) -> ParsedDocument:
    try:
        image = load_image(data, max_pixels=ctx.limits.max_image_pixels)
    except DocumentRejected:
        raise
    except InvalidMedia as exc:
        raise CorruptDocument(f"the image cannot be decoded: {exc.message}") from exc
    text = ctx.read_text(image)
    block = Block(kind="image", text=text, image=data)
    return ParsedDocument(kind="image", title=ctx.stem, blocks=[block], warnings=ctx.warnings)


def parse_audio(data: bytes, ctx: ParseContext) -> ParsedDocument:
    try:
        clip = decode_audio(data, max_seconds=ctx.limits.max_audio_seconds, sample_rate=SPEECH_SAMPLE_RATE)
    except MediaTooLong as exc:
        # Raised as a document rejection so the ingest records it as the document's reason for failing.
        raise DocumentRejected(exc.message, code=exc.code) from exc
    except InvalidMedia as exc:
        raise CorruptDocument(f"the audio cannot be decoded: {exc.message}") from exc
    transcript = ctx.transcriber.transcribe(clip)
    blocks = [
        Block(kind="transcript", text=text, start_seconds=segment.start, end_seconds=segment.end)
        for segment in transcript.segments
        if (text := clean_inline(segment.text))
    ]
    if not blocks and clean_inline(transcript.text):
        blocks = [
            Block(kind="transcript", text=clean_inline(transcript.text), start_seconds=0.0, end_seconds=clip.duration)
        ]
    if not blocks:
        raise EmptyDocument("no speech was found in the audio")
    return ParsedDocument(
        kind="audio", title=ctx.stem, blocks=blocks, language=transcript.language, warnings=ctx.warnings
    )
