"""Small media files made on the fly for tests: documents, images, speech, and deliberately bad files.

Every generator returns the file's bytes and needs nothing from the network. Speech needs Debian's
``espeak-ng`` (``apt-get install espeak-ng``); :func:`espeak_available` tells whether it is installed.
The sample documents carry the facts in the ``*_FACTS`` constants, so tests assert against those rather
than against strings copied from the generator.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import struct
import subprocess
import tempfile
import wave
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# ------------------------------------------------------------------------------------------------------------
# Images
# ------------------------------------------------------------------------------------------------------------


def text_image(
    lines: Sequence[str], *, image_format: str = "PNG", font_size: int = 40, size: tuple[int, int] | None = None
) -> bytes:
    """Black text on white, one line per entry, drawn with Pillow's bundled font (no system fonts needed)."""
    font = ImageFont.load_default(size=font_size)
    line_height = int(font_size * 1.8)
    width = size[0] if size else max(200, int(max(len(line) for line in lines) * font_size * 0.62) + 80)
    height = size[1] if size else line_height * len(lines) + 60
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((40, 30 + row * line_height), line, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format=image_format)
    return out.getvalue()


def rotated_jpeg_with_exif(lines: Sequence[str], *, orientation: int = 6) -> bytes:
    """A JPEG stored sideways whose EXIF orientation tag says how to turn it upright (as phone cameras do)."""
    upright = Image.open(io.BytesIO(text_image(lines)))
    # Orientation 6 means "rotate 90 degrees clockwise to display", so store it turned the other way.
    stored = upright.transpose(Image.Transpose.ROTATE_90) if orientation == 6 else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    stored.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def decompression_bomb_png(side: int = 20_000) -> bytes:
    """A valid 1-bit PNG of ``side`` x ``side`` pixels (400 M by default) that is only tens of KB on disk."""
    raw_row = b"\x00" + b"\x00" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(raw_row) for _ in range(side)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


# ------------------------------------------------------------------------------------------------------------
# PDF (written by hand with pypdf's object model: no PDF-writing library needed)
# ------------------------------------------------------------------------------------------------------------


@dataclass
class PdfPage:
    """One page: text lines as (text, font size in points), top to bottom, and/or one full-page image."""

    lines: list[tuple[str, float]] = field(default_factory=list)
    image_jpeg: bytes | None = None


def build_pdf(
    pages: Sequence[PdfPage], *, title: str | None = None, outline: Sequence[tuple[int, str, int]] = ()
) -> bytes:
    """A PDF with a Helvetica text layer; ``outline`` entries are (level starting at 1, title, page index)."""
    from pypdf import PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        IndirectObject,
        NameObject,
        NumberObject,
    )

    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    for spec in pages:
        page = writer.add_blank_page(width=612, height=792)
        resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        ops: list[str] = []
        if spec.image_jpeg is not None:
            width, height = Image.open(io.BytesIO(spec.image_jpeg)).size
            image = DecodedStreamObject()
            image.set_data(spec.image_jpeg)
            image.update(
                {
                    NameObject("/Type"): NameObject("/XObject"),
                    NameObject("/Subtype"): NameObject("/Image"),
                    NameObject("/Width"): NumberObject(width),
                    NameObject("/Height"): NumberObject(height),
                    NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
                    NameObject("/BitsPerComponent"): NumberObject(8),
                    NameObject("/Filter"): NameObject("/DCTDecode"),
                }
            )
            resources[NameObject("/XObject")] = DictionaryObject({NameObject("/Im0"): writer._add_object(image)})
            ops.append(f"q 532 0 0 {int(532 * height / width)} 40 60 cm /Im0 Do Q")
        y = 740.0
        for text, size in spec.lines:
            escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"BT /F1 {size:g} Tf 56 {y:.1f} Td ({escaped}) Tj ET")
            y -= size * 1.6
        page[NameObject("/Resources")] = resources
        content = DecodedStreamObject()
        content.set_data("\n".join(ops).encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(content)
        page[NameObject("/MediaBox")] = ArrayObject([NumberObject(v) for v in (0, 0, 612, 792)])
    parents: dict[int, IndirectObject] = {}
    for level, heading, page_index in outline:
        parents[level] = writer.add_outline_item(title=heading, page_number=page_index, parent=parents.get(level - 1))
    if title:
        writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# A two-level manual whose facts the tests look for.
PDF_TITLE = "Aurora Kettle Manual"
PDF_FACTS = {
    "descaling": "Descale the Aurora kettle every four weeks with citric acid.",
    "warranty": "The warranty covers the heating element for three years.",
    "error": "Error code E7 means the kettle was switched on without water.",
}


def pdf_with_text_layer(*, with_outline: bool = True, with_title: bool = True) -> bytes:
    """Three pages: 'Cleaning' (H1) > 'Descaling' (H2) on page 1, 'Warranty' (H1) on page 2, 'Errors' on page 3.

    Headings are set in a larger font than the body, and (by default) listed in the outline too.
    """
    filler = "Keep this manual for later reference and read every section before first use."
    pages = [
        PdfPage([("Cleaning", 20), (filler, 10), ("Descaling", 15), (PDF_FACTS["descaling"], 10)]),
        PdfPage([("Warranty", 20), (PDF_FACTS["warranty"], 10), (filler, 10)]),
        PdfPage([("Errors", 20), (PDF_FACTS["error"], 10)]),
    ]
    outline = [(1, "Cleaning", 0), (2, "Descaling", 0), (1, "Warranty", 1), (1, "Errors", 2)] if with_outline else []
    return build_pdf(pages, title=PDF_TITLE if with_title else None, outline=outline)


SCAN_LINES = ("Replace the water filter", "every six months")


def scanned_pdf() -> bytes:
    """One page holding only a picture of text (no text layer), as a scanner makes; then a text page."""
    photo = text_image(SCAN_LINES, image_format="JPEG", font_size=48)
    return build_pdf([PdfPage(image_jpeg=photo), PdfPage([("Typed page with a text layer.", 12)])])


# ------------------------------------------------------------------------------------------------------------
# DOCX
# ------------------------------------------------------------------------------------------------------------

DOCX_TITLE = "Nimbus Router Guide"
DOCX_RESET = "Hold the reset button for ten seconds to restore factory settings."
DOCX_LED = "A blinking amber light means the router has no internet connection."
DOCX_TABLE_ROW = ("Port 8080", "Admin console")
DOCX_IMAGE_LINES = ("ROUTER LABEL", "WPS PIN 1234")


def docx_document() -> bytes:
    """Title property, Heading 1/2 paragraphs, a table and an inline picture of text."""
    import docx
    from docx.shared import Inches

    document = docx.Document()
    document.core_properties.title = DOCX_TITLE
    document.add_heading("Setup", level=1)
    document.add_paragraph("Unpack the router and connect the power cable.")
    document.add_heading("Factory reset", level=2)
    document.add_paragraph(DOCX_RESET)
    document.add_heading("Status lights", level=1)
    document.add_paragraph(DOCX_LED)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Port", "Service"
    table.cell(1, 0).text, table.cell(1, 1).text = DOCX_TABLE_ROW
    document.add_heading("Label", level=1)
    document.add_picture(io.BytesIO(text_image(DOCX_IMAGE_LINES, font_size=44)), width=Inches(4))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb_docx(filler_bytes: int = 64 * 1024 * 1024) -> bytes:
    """A real DOCX with one extra part of ``filler_bytes`` zeros: a tiny file with a huge compression ratio."""
    base = zipfile.ZipFile(io.BytesIO(docx_document()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for item in base.infolist():
            bomb.writestr(item, base.read(item.filename))
        with bomb.open("word/media/filler.bin", "w") as sink:
            block = b"\x00" * (1024 * 1024)
            for _ in range(filler_bytes // len(block)):
                sink.write(block)
    return out.getvalue()


def corrupt_docx() -> bytes:
    """A DOCX cut in half: the zip's central directory is gone."""
    data = docx_document()
    return data[: len(data) // 2]


def truncated_pdf() -> bytes:
    """A PDF cut off after its first third: the header is right, the body and cross-reference table are not."""
    data = pdf_with_text_layer()
    return data[: len(data) // 3]


# ------------------------------------------------------------------------------------------------------------
# HTML, Markdown, FAQ files
# ------------------------------------------------------------------------------------------------------------

HTML_TITLE = "Returns and refunds"
HTML_FACTS = {
    "window": "You can return any item within 30 days of delivery.",
    "refund": "Refunds reach your card within five working days.",
}
HTML_BOILERPLATE = ("Home", "Shop all products", "Copyright Example Shop", "Accept cookies")


def html_page() -> bytes:
    return f"""<!DOCTYPE html>
<html><head><title>{HTML_TITLE} | Example Shop</title><style>body {{color: red}}</style></head>
<body>
<header class="site-header"><nav>
  <a href="/">{HTML_BOILERPLATE[0]}</a> <a href="/s">{HTML_BOILERPLATE[1]}</a>
</nav></header>
<div id="cookie-banner">{HTML_BOILERPLATE[3]}</div>
<main>
  <h1>{HTML_TITLE}</h1>
  <p>Our policy is simple.</p>
  <h2>Return window</h2>
  <p>{HTML_FACTS["window"]}</p>
  <ul><li>Keep the receipt.</li><li>Use the original box.</li></ul>
  <h2>Refund timing</h2>
  <div>{HTML_FACTS["refund"]}<script>var tracking = 1;</script></div>
</main>
<footer><p>{HTML_BOILERPLATE[2]} 2026</p></footer>
</body></html>""".encode()


MARKDOWN_FACTS = {
    "pairing": "Press the pairing button twice to connect the headphones.",
    "battery": "A full charge lasts twenty hours.",
}


def markdown_document() -> bytes:
    return f"""# Echo Headphones

Quick start for the Echo headphones.

## Pairing

{MARKDOWN_FACTS["pairing"]}

- Bluetooth 5.3
- Two devices at once

## Battery

### Charging

{MARKDOWN_FACTS["battery"]}

| Mode | Hours |
| --- | --- |
| ANC on | 20 |

```
reset --all
```
""".encode()


FAQ_PAIRS = (
    ("How do I change my password?", "Open Settings, choose Security and press Change password."),
    ("Can I pay with PayPal?", "Yes, PayPal is accepted at checkout in every country."),
    ("Where is my order?", "Track it from the link in your confirmation email."),
)


def faq_csv(pairs: Sequence[tuple[str, str]] = FAQ_PAIRS, columns: tuple[str, str] = ("question", "answer")) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(pairs)
    return out.getvalue().encode()


def faq_json(pairs: Sequence[tuple[str, str]] = FAQ_PAIRS, keys: tuple[str, str] = ("question", "answer")) -> bytes:
    return json.dumps([{keys[0]: q, keys[1]: a} for q, a in pairs], indent=2).encode()


def faq_jsonl(pairs: Sequence[tuple[str, str]] = FAQ_PAIRS, keys: tuple[str, str] = ("q", "a")) -> bytes:
    return "".join(json.dumps({keys[0]: q, keys[1]: a}) + "\n" for q, a in pairs).encode()


# ------------------------------------------------------------------------------------------------------------
# Audio
# ------------------------------------------------------------------------------------------------------------


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def speech_wav(text: str, *, voice: str = "en-us", words_per_minute: int = 140) -> bytes:
    """``text`` spoken by espeak-ng, as a 22.05 kHz mono 16-bit WAV."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-w", str(path), text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return path.read_bytes()


# container -> (PyAV format, codec, sample rate)
_ENCODINGS = {
    "mp3": ("mp3", "libmp3lame", 22050),
    "ogg": ("ogg", "libopus", 48000),
    "m4a": ("ipod", "aac", 22050),
}


def encode_audio(wav: bytes, container: str) -> bytes:
    """Re-encode a WAV as MP3, OGG-Opus or M4A-AAC with PyAV (no ffmpeg binary needed)."""
    fmt, codec, rate = _ENCODINGS[container]
    with wave.open(io.BytesIO(wav)) as source:
        pcm = np.frombuffer(source.readframes(source.getnframes()), dtype=np.int16)
        source_rate = source.getframerate()
    out = io.BytesIO()
    with av.open(out, mode="w", format=fmt) as sink:
        stream = sink.add_stream(codec, rate=rate, layout="mono")
        assert isinstance(stream, av.AudioStream)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = source_rate
        resampler = av.AudioResampler(format=stream.codec_context.format, layout="mono", rate=rate)
        for chunk in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(chunk):
                sink.mux(packet)
        for packet in stream.encode(None):
            sink.mux(packet)
    return out.getvalue()


def tone_wav(seconds: float, *, sample_rate: int = 8000) -> bytes:
    """A quiet 440 Hz tone of the given length (cheap to make at any length)."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    pcm = (np.sin(2 * np.pi * 440 * t) * 3000).astype(np.int16)
    out = io.BytesIO()
    with wave.open(out, "wb") as sink:
        sink.setnchannels(1)
        sink.setsampwidth(2)
        sink.setframerate(sample_rate)
        sink.writeframes(pcm.tobytes())
    return out.getvalue()


def understated_ogg(real_seconds: float = 12.0, declared_seconds: float = 2.0) -> bytes:
    """A chained Ogg-Opus file (two streams back to back) whose container reports only the last stream's length,
    so only a decoder that counts samples as it goes notices the real length."""
    return encode_audio(tone_wav(real_seconds - declared_seconds), "ogg") + encode_audio(
        tone_wav(declared_seconds), "ogg"
    )


def lying_wav() -> bytes:
    """A WAV whose header claims an hour of 44.1 kHz audio while the file holds a fraction of a second."""
    data = bytearray(tone_wav(0.5))
    data_at = data.index(b"data")
    struct.pack_into("<I", data, data_at + 4, 44100 * 2 * 3600)
    return bytes(data)


def contradictory_wav() -> bytes:
    """A WAV whose byte rate disagrees with its own sample rate and block size."""
    data = bytearray(tone_wav(0.5))
    fmt_at = data.index(b"fmt ")
    struct.pack_into("<I", data, fmt_at + 16, 12345)  # byte rate
    return bytes(data)


def garbage_after_riff_header() -> bytes:
    """Starts like a WAV, then noise: no fmt or data chunk."""
    return b"RIFF" + struct.pack("<I", 4000) + b"WAVE" + bytes(range(256)) * 16


ELF_HEADER = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
