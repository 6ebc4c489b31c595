"""make_chunks with the real MiniLM tokenizer: budgets, structure, overlap, modalities, determinism."""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable

import pytest

from ingest.chunking import MAX_AUDIO_CHUNK_SECONDS, make_chunks
from ingest.types import Block, ChunkDraft, ParsedDocument

CountTokens = Callable[[str], int]

_WORDS = [
    "remote",
    "television",
    "channel",
    "picture",
    "sound",
    "settings",
    "network",
    "wireless",
    "update",
    "firmware",
    "brightness",
    "contrast",
    "menu",
    "button",
    "press",
    "hold",
    "select",
    "source",
    "antenna",
    "cable",
    "signal",
    "volume",
    "mute",
    "guide",
    "favourite",
    "schedule",
    "record",
    "subtitle",
    "language",
    "accessibility",
    "voice",
    "assistant",
    "bluetooth",
    "speaker",
    "headphone",
    "mirroring",
    "screen",
]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + "."


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng, rng.randint(4, 30)) for _ in range(sentences))


def _stress_document(seed: int) -> ParsedDocument:
    """Every kind of block, with sizes from tiny to far over any budget."""
    rng = random.Random(seed)
    blocks = [
        Block("heading", "Picture", level=1),
        Block("paragraph", _paragraph(rng, 40), heading_path=("Picture",), page=3),
        Block("list", "\n".join(f"- {_sentence(rng, 8)}" for _ in range(30)), heading_path=("Picture",), page=4),
        Block("heading", "Sound", level=1),
        # One huge sentence, then a giant "word".
        Block("paragraph", _sentence(rng, 400).replace(" ", ", "), heading_path=("Sound",), page=5),
        Block("table", "\n".join(" | ".join(_WORDS[i : i + 6]) for i in range(25)), heading_path=("Sound",)),
        Block("code", "x" * 4000, heading_path=("Sound",)),
        Block("faq", f"{_sentence(rng, 12)[:-1]}?\n{_paragraph(rng, 25)}", heading_path=("FAQ",)),
        Block("image", _paragraph(rng, 30), heading_path=("Figures",), page=9, image=b"\x89PNG fake"),
    ]
    t = 0.0
    for _ in range(60):
        blocks.append(Block("transcript", _sentence(rng, 12), start_seconds=t, end_seconds=t + 4.0))
        t += 4.0
    return ParsedDocument(kind="pdf", title="Smart TV e-Manual", blocks=blocks)


@pytest.mark.parametrize("max_tokens", [48, 128, 256])
@pytest.mark.parametrize("seed", [1, 2])
def test_no_chunk_ever_exceeds_the_budget_and_nothing_is_dropped(
    count_tokens: CountTokens, max_tokens: int, seed: int
) -> None:
    doc = _stress_document(seed)
    chunks = make_chunks(doc, count_tokens=count_tokens, max_tokens=max_tokens, overlap_tokens=max_tokens // 6)
    for chunk in chunks:
        assert count_tokens(chunk.text) <= max_tokens, chunk.text
        assert chunk.token_count == count_tokens(chunk.text)
    bodies = " ".join(c.body for c in chunks)
    for block in doc.blocks:
        if block.kind in ("heading", "code"):
            continue
        for word in set(re.findall(r"\w+", block.text)):
            assert word in bodies, f"{word!r} of a {block.kind} block was lost"
    # The giant word is hard-split, never cut short.
    assert sum(c.body.count("x") for c in chunks if c.heading_path == ("Sound",)) >= 4000


def test_text_starts_with_title_and_heading_path_and_body_is_content_alone(count_tokens: CountTokens) -> None:
    doc = ParsedDocument(
        kind="pdf",
        title="Kettle Manual",
        blocks=[
            Block("heading", "Cleaning", level=1),
            Block("heading", "Descaling", level=2, heading_path=("Cleaning",)),
            Block("paragraph", "Use citric acid.", heading_path=("Cleaning", "Descaling"), page=7),
        ],
    )
    (chunk,) = make_chunks(doc, count_tokens=count_tokens, max_tokens=128, overlap_tokens=16)
    assert chunk.text == "Kettle Manual > Cleaning > Descaling\nUse citric acid."
    assert chunk.body == "Use citric acid."
    assert (chunk.title, chunk.heading_path, chunk.page, chunk.modality) == (
        "Kettle Manual",
        ("Cleaning", "Descaling"),
        7,
        "text",
    )


def test_a_first_heading_that_restates_the_title_is_not_repeated(count_tokens: CountTokens) -> None:
    doc = ParsedDocument(
        kind="markdown", title="Echo", blocks=[Block("paragraph", "Hello.", heading_path=("Echo", "Pairing"))]
    )
    (chunk,) = make_chunks(doc, count_tokens=count_tokens, max_tokens=64, overlap_tokens=0)
    assert chunk.text.splitlines()[0] == "Echo > Pairing"


def test_sibling_sections_never_share_a_chunk(count_tokens: CountTokens) -> None:
    blocks = []
    for name in ("Power", "Network", "Sound"):
        blocks.append(Block("heading", name, level=2, heading_path=("Settings",)))
        text = f"The {name.lower()} page has one short line."
        blocks.append(Block("paragraph", text, heading_path=("Settings", name)))
    doc = ParsedDocument(kind="docx", title="Manual", blocks=blocks)
    chunks = make_chunks(doc, count_tokens=count_tokens, max_tokens=256, overlap_tokens=32)
    assert [c.heading_path[-1] for c in chunks] == ["Power", "Network", "Sound"]
    for chunk in chunks:
        assert chunk.body == f"The {chunk.heading_path[-1].lower()} page has one short line."


def test_neighbouring_sections_with_the_same_title_stay_apart(count_tokens: CountTokens) -> None:
    blocks = [
        Block("heading", "Using Smart Hub", level=2),
        Block("paragraph", "First section text.", heading_path=("Using Smart Hub",)),
        Block("heading", "Using Smart Hub", level=2),
        Block("paragraph", "Second section text.", heading_path=("Using Smart Hub",)),
    ]
    chunks = make_chunks(
        ParsedDocument("markdown", "TV", blocks), count_tokens=count_tokens, max_tokens=128, overlap_tokens=16
    )
    assert [c.body for c in chunks] == ["First section text.", "Second section text."]


def test_small_blocks_of_one_section_merge_and_long_sections_split_at_sentences(count_tokens: CountTokens) -> None:
    rng = random.Random(7)
    paragraphs = [_paragraph(rng, 3) for _ in range(12)]
    doc = ParsedDocument(
        kind="html", title="Guide", blocks=[Block("paragraph", p, heading_path=("Setup",)) for p in paragraphs]
    )
    chunks = make_chunks(doc, count_tokens=count_tokens, max_tokens=128, overlap_tokens=0)
    assert 1 < len(chunks) < len(paragraphs), "paragraphs merge up to the budget, and the section still splits"
    sentences = {s for p in paragraphs for s in re.findall(r"[^.]+\.", p)}
    for chunk in chunks:
        assert chunk.body.endswith("."), "a chunk ends at a sentence boundary"
        for piece in re.findall(r"[^.\n]+\.", chunk.body):
            assert piece.strip() in {s.strip() for s in sentences}, "no sentence is cut"


def test_overlap_repeats_the_previous_chunks_last_sentences(count_tokens: CountTokens) -> None:
    rng = random.Random(3)
    doc = ParsedDocument(kind="text", title="T", blocks=[Block("paragraph", _paragraph(rng, 30), page=2)])
    with_overlap = make_chunks(doc, count_tokens=count_tokens, max_tokens=96, overlap_tokens=30)
    without = make_chunks(doc, count_tokens=count_tokens, max_tokens=96, overlap_tokens=0)
    assert len(with_overlap) >= 3
    shared = 0
    for previous, current in itertools.pairwise(with_overlap):
        last_sentence = re.findall(r"[^.]+\.", previous.body)[-1].strip()
        shared += current.body.startswith(last_sentence)
    assert shared >= len(with_overlap) // 2
    for previous, current in itertools.pairwise(without):
        assert not current.body.startswith(re.findall(r"[^.]+\.", previous.body)[-1].strip())


def test_each_faq_pair_is_its_own_chunk_with_question_and_answer(count_tokens: CountTokens) -> None:
    pairs = [("How do I pair?", "Hold the button."), ("Is it waterproof?", "Yes, to one metre.")]
    doc = ParsedDocument(kind="faq", title="FAQ", blocks=[Block("faq", f"{q}\n{a}") for q, a in pairs])
    chunks = make_chunks(doc, count_tokens=count_tokens, max_tokens=128, overlap_tokens=16)
    assert [c.body for c in chunks] == [f"{q}\n{a}" for q, a in pairs]
    assert all(c.text.startswith("FAQ\n") for c in chunks)


def test_long_faq_answer_continues_with_the_question_repeated(count_tokens: CountTokens) -> None:
    rng = random.Random(5)
    doc = ParsedDocument(kind="faq", title="FAQ", blocks=[Block("faq", f"Why is it slow?\n{_paragraph(rng, 30)}")])
    chunks = make_chunks(doc, count_tokens=count_tokens, max_tokens=96, overlap_tokens=0)
    assert len(chunks) > 1
    assert all(c.body.startswith("Why is it slow?\n") and count_tokens(c.text) <= 96 for c in chunks)


def test_picture_is_an_image_chunk_and_long_ocr_text_continues_as_text(count_tokens: CountTokens) -> None:
    rng = random.Random(9)
    ocr_text = "\n".join(_sentence(rng, 10) for _ in range(40))
    doc = ParsedDocument(
        kind="docx",
        title="Guide",
        blocks=[Block("image", ocr_text, heading_path=("Label",), page=2, image=b"PNGBYTES")],
    )
    chunks = make_chunks(doc, count_tokens=count_tokens, max_tokens=128, overlap_tokens=16)
    assert chunks[0].modality == "image" and chunks[0].image == b"PNGBYTES"
    assert chunks[0].body and ocr_text.startswith(chunks[0].body.splitlines()[0])
    assert len(chunks) > 1 and all(c.modality == "text" and c.image is None for c in chunks[1:])
    assert all(c.heading_path == ("Label",) and c.page == 2 for c in chunks)
    assert "\n".join(c.body for c in chunks) == ocr_text


def test_picture_without_text_still_makes_an_image_chunk(count_tokens: CountTokens) -> None:
    doc = ParsedDocument(kind="image", title="kettle photo", blocks=[Block("image", "", image=b"JPEG")])
    (chunk,) = make_chunks(doc, count_tokens=count_tokens, max_tokens=64, overlap_tokens=8)
    assert (chunk.modality, chunk.image, chunk.body, chunk.text) == ("image", b"JPEG", "", "kettle photo")


def test_transcript_segments_group_into_timed_audio_chunks(count_tokens: CountTokens) -> None:
    rng = random.Random(11)
    segments = [
        Block("transcript", _sentence(rng, 6), start_seconds=3.0 * i, end_seconds=3.0 * i + 2.5) for i in range(50)
    ]
    doc = ParsedDocument(kind="audio", title="howto", blocks=segments)
    chunks = make_chunks(doc, count_tokens=count_tokens, max_tokens=200, overlap_tokens=16)
    assert len(chunks) > 1 and all(c.modality == "audio" for c in chunks)
    assert chunks[0].start_seconds == 0.0 and chunks[-1].end_seconds == segments[-1].end_seconds
    for chunk in chunks:
        assert chunk.start_seconds is not None and chunk.end_seconds is not None
        assert chunk.end_seconds - chunk.start_seconds <= MAX_AUDIO_CHUNK_SECONDS
    for previous, current in itertools.pairwise(chunks):
        assert previous.end_seconds is not None and current.start_seconds is not None
        assert previous.end_seconds <= current.start_seconds, "audio chunks do not overlap in time"
    assert " ".join(c.body for c in chunks) == " ".join(s.text for s in segments)


def test_same_document_gives_the_same_chunks_and_ordinals(count_tokens: CountTokens) -> None:
    first = make_chunks(_stress_document(4), count_tokens=count_tokens, max_tokens=128, overlap_tokens=24)
    second = make_chunks(_stress_document(4), count_tokens=count_tokens, max_tokens=128, overlap_tokens=24)
    assert first == second
    assert [c.ordinal for c in first] == list(range(len(first)))


def test_pages_follow_the_content(count_tokens: CountTokens) -> None:
    rng = random.Random(13)
    blocks = [Block("paragraph", _paragraph(rng, 8), heading_path=("Install",), page=p) for p in (4, 5, 6)]
    chunks: list[ChunkDraft] = make_chunks(
        ParsedDocument(kind="pdf", title="M", blocks=blocks), count_tokens=count_tokens, max_tokens=96, overlap_tokens=0
    )
    pages = [c.page or 0 for c in chunks]
    assert pages == sorted(pages) and set(pages) == {4, 5, 6}
    for chunk in chunks:
        first_sentence = re.findall(r"[^.]+\.", chunk.body)[0].strip()
        assert first_sentence in next(b.text for b in blocks if b.page == chunk.page)
