"""Structure-aware chunking: a parsed document's blocks -> chunks that fit the text encoder.

Rules (the retrieval quality downstream depends on them):

* A chunk never spans two sections: text is packed only with text under the same heading path, in order.
  A section longer than the budget is split at sentence boundaries (list, table and code blocks at line
  boundaries), with ``overlap_tokens`` of trailing sentences repeated at the start of the next chunk; a single
  sentence longer than the budget is split at words (characters for a giant "word"). Nothing is truncated.
* ``ChunkDraft.text`` = "title > heading > sub-heading" on the first line, then ``body``; it is what gets
  embedded and indexed, and it counts at most ``max_tokens`` in ``count_tokens`` (the embedder's own
  tokenizer, special tokens included if the counter includes them). ``body`` is the content alone.
* Each FAQ pair is one chunk (a long answer continues in further chunks that repeat the question). Each
  picture is one ``image`` chunk with its bytes and OCR text (OCR text past the budget continues in text
  chunks). Transcript segments are grouped into ``audio`` chunks of at most :data:`MAX_AUDIO_CHUNK_SECONDS`.
* Deterministic: the same document always gives the same chunks and ordinals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby

from ingest.textsplit import hard_split, sentences
from ingest.types import Block, ChunkDraft, ParsedDocument

MAX_AUDIO_CHUNK_SECONDS = 60.0
_TEXT_KINDS = frozenset({"paragraph", "list", "table", "code"})
_LINE_KINDS = frozenset({"list", "table", "code"})


@dataclass(frozen=True)
class _Piece:
    text: str
    cost: int  # tokens, without the counter's fixed per-text overhead
    joiner: str  # put before this piece when it follows another in the same chunk
    page: int | None = None
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class _Packed:
    body: str
    pieces: tuple[_Piece, ...]
    fresh: int  # index of the first piece that is not overlap from the previous chunk


def make_chunks(
    doc: ParsedDocument, *, count_tokens: Callable[[str], int], max_tokens: int, overlap_tokens: int
) -> list[ChunkDraft]:
    """Chunk ``doc`` (see the module docstring for the rules)."""
    return _Chunker(doc, count_tokens, max_tokens, overlap_tokens).run()


class _Chunker:
    def __init__(self, doc: ParsedDocument, count: Callable[[str], int], max_tokens: int, overlap: int) -> None:
        self.doc = doc
        self.count = count
        self.max_tokens = max_tokens
        self.overlap = max(0, overlap)
        self.overhead = count("")  # e.g. [CLS] and [SEP]
        if max_tokens - self.overhead < 16:
            raise ValueError(f"max_tokens={max_tokens} leaves no room for text")
        self.drafts: list[ChunkDraft] = []

    def cost(self, text: str) -> int:
        return max(0, self.count(text) - self.overhead)

    def run(self) -> list[ChunkDraft]:
        for (group, _, path), run in groupby(_sectioned(self.doc.blocks), key=lambda item: item[0]):
            run_blocks = [block for _, block in run]
            if group == "text":
                self._text_run(run_blocks, path)
            elif group == "audio":
                self._audio_run(run_blocks, path)
            else:
                for block in run_blocks:
                    if block.kind == "faq":
                        self._faq(block)
                    else:
                        self._image(block)
        return self.drafts

    # --- the four kinds of content ------------------------------------------------------------------------

    def _text_run(self, blocks: list[Block], path: tuple[str, ...]) -> None:
        context = self._context(path)
        budget = self._budget(context)
        pieces = [piece for block in blocks for piece in self._pieces(block, budget)]
        for packed in self._pack(pieces, context, budget, overlap=self.overlap):
            self._emit("text", context, packed.body, path, packed.pieces[packed.fresh].page)

    def _faq(self, block: Block) -> None:
        question, _, answer = block.text.partition("\n")
        context = self._context(block.heading_path)
        lead = f"{context}\n{question}" if context else question
        budget = self._budget(lead)
        if budget < 16:  # a question longer than the budget: split it like any text
            self._text_run(
                [Block(kind="paragraph", text=block.text, heading_path=block.heading_path)], block.heading_path
            )
            return
        pieces = self._pieces(Block(kind="paragraph", text=answer or question, page=block.page), budget)
        for packed in self._pack(pieces, lead, budget, overlap=self.overlap):
            self._emit("text", context, f"{question}\n{packed.body}", block.heading_path, block.page)

    def _image(self, block: Block) -> None:
        context = self._context(block.heading_path)
        budget = self._budget(context)
        pieces = self._pieces(Block(kind="code", text=block.text, page=block.page), budget) if block.text else []
        packs = list(self._pack(pieces, context, budget, overlap=0))
        first = packs[0].body if packs else ""
        self._emit("image", context, first, block.heading_path, block.page, image=block.image)
        for packed in packs[1:]:  # OCR text past the budget: kept, as text chunks beside the picture
            self._emit("text", context, packed.body, block.heading_path, block.page)

    def _audio_run(self, blocks: list[Block], path: tuple[str, ...]) -> None:
        context = self._context(path)
        budget = self._budget(context)
        pieces = [
            _Piece(text, self.cost(text), " ", block.page, block.start_seconds, block.end_seconds)
            for block in blocks
            for text in self._fit(block.text, budget)
        ]
        for packed in self._pack(pieces, context, budget, overlap=0, max_span=MAX_AUDIO_CHUNK_SECONDS):
            start, end = packed.pieces[0].start, packed.pieces[-1].end
            self._emit("audio", context, packed.body, path, None, start=start, end=end)

    # --- building blocks ----------------------------------------------------------------------------------

    def _context(self, path: tuple[str, ...]) -> str:
        """ "Title > heading > sub-heading", without repeating the title when the first heading restates it."""
        parts = [self.doc.title.strip()] if self.doc.title.strip() else []
        for heading in path:
            if not parts or heading.strip().casefold() != parts[-1].casefold():
                parts.append(heading.strip())
        context = " > ".join(parts)
        limit = (self.max_tokens - self.overhead) // 3
        if self.cost(context) > limit:  # absurdly long headings: keep the title and the nearest heading
            context = " > ".join(parts[:1] + parts[-1:]) if len(parts) > 1 else context
            if self.cost(context) > limit:
                context = hard_split(context, limit, self.cost)[0]
        return context

    def _budget(self, context: str) -> int:
        """Tokens left for the body once the context line is in (the newline between costs nothing)."""
        return self.max_tokens - self.overhead - (self.cost(context) if context else 0)

    def _pieces(self, block: Block, budget: int) -> list[_Piece]:
        """The block's sentences (or lines), each within ``budget``; the first is joined to what precedes by a
        line break, the rest by a space (sentences) or a line break (lines)."""
        if block.kind in _LINE_KINDS:
            units = [(line, "\n") for line in block.text.splitlines() if line.strip()]
        else:
            units = [(sentence, " ") for sentence in sentences(block.text)]
        pieces: list[_Piece] = []
        for unit, joiner in units:
            for i, text in enumerate(self._fit(unit, budget)):
                glue = "\n" if not pieces else (joiner if i == 0 else " ")
                pieces.append(_Piece(text, self.cost(text), glue, block.page))
        return pieces

    def _fit(self, text: str, budget: int) -> list[str]:
        """``text`` as is when it fits; else its sentences; else word (or character) pieces."""
        if self.cost(text) <= budget:
            return [text]
        out: list[str] = []
        for sentence in sentences(text):
            out.extend([sentence] if self.cost(sentence) <= budget else hard_split(sentence, budget, self.cost))
        return out

    def _pack(
        self, pieces: list[_Piece], context: str, budget: int, *, overlap: int, max_span: float | None = None
    ) -> Iterator[_Packed]:
        """Greedy packing in order. Each chunk is then counted as a whole and shrunk while the tokenizer's count
        of the joined text exceeds ``max_tokens`` (sub-word tokenizers are not always additive)."""
        pieces = list(pieces)
        start = 0
        carry_pieces: tuple[_Piece, ...] = ()
        while start < len(pieces):
            chosen: list[_Piece] = list(carry_pieces)
            used = sum(p.cost for p in chosen)
            while chosen and used + pieces[start].cost > budget:  # overlap makes way for new content
                used -= chosen.pop(0).cost
            fresh = len(chosen)
            chosen.append(pieces[start])
            used += pieces[start].cost
            end = start + 1
            while end < len(pieces) and used + pieces[end].cost <= budget and _within(chosen, pieces[end], max_span):
                chosen.append(pieces[end])
                used += pieces[end].cost
                end += 1
            while self.count(_join(context, chosen)) > self.max_tokens:
                if fresh > 0:  # drop overlap before new content
                    chosen.pop(0)
                    fresh -= 1
                elif len(chosen) > 1:  # give the last new piece back
                    chosen.pop()
                    end -= 1
                else:  # one piece that only overflows once joined: split it finer and start again
                    pieces[start : start + 1] = self._resplit(pieces[start], budget)
                    chosen = [pieces[start]]
                    end = start + 1
            yield _Packed(_join("", chosen), tuple(chosen), fresh)
            carry_pieces = self._overlap(chosen[fresh:], overlap) if end < len(pieces) else ()
            start = end

    def _resplit(self, piece: _Piece, budget: int) -> list[_Piece]:
        smaller = max(1, min(budget, piece.cost) * 3 // 4)
        texts = hard_split(piece.text, smaller, self.cost)
        return [
            _Piece(text, self.cost(text), piece.joiner if i == 0 else " ", piece.page, piece.start, piece.end)
            for i, text in enumerate(texts)
        ]

    @staticmethod
    def _overlap(chunk: list[_Piece], overlap: int) -> tuple[_Piece, ...]:
        """Trailing pieces of ``chunk`` worth at most ``overlap`` tokens (never the whole chunk)."""
        taken: list[_Piece] = []
        used = 0
        for piece in reversed(chunk[1:]):
            if used + piece.cost > overlap:
                break
            taken.insert(0, piece)
            used += piece.cost
        return tuple(taken)

    def _emit(
        self,
        modality: str,
        context: str,
        body: str,
        path: tuple[str, ...],
        page: int | None,
        *,
        image: bytes | None = None,
        start: float | None = None,
        end: float | None = None,
    ) -> None:
        text = f"{context}\n{body}" if context and body else (context or body)
        self.drafts.append(
            ChunkDraft(
                ordinal=len(self.drafts),
                modality="image" if modality == "image" else "audio" if modality == "audio" else "text",
                text=text,
                body=body,
                title=self.doc.title,
                heading_path=path,
                page=page,
                token_count=self.count(text),
                image=image,
                start_seconds=start,
                end_seconds=end,
            )
        )


def _sectioned(blocks: list[Block]) -> Iterator[tuple[tuple[str, int, tuple[str, ...]], Block]]:
    """Content blocks keyed by (kind group, section number, heading path). Every heading starts a new section,
    so two neighbouring sections that happen to share a title are still never merged."""
    section = 0
    for block in blocks:
        if block.kind == "heading":
            section += 1
        else:
            yield (_group_of(block), section, block.heading_path), block


def _group_of(block: Block) -> str:
    if block.kind in _TEXT_KINDS:
        return "text"
    if block.kind == "transcript":
        return "audio"
    return "single"


def _within(chosen: list[_Piece], piece: _Piece, max_span: float | None) -> bool:
    """Whether adding ``piece`` keeps the chunk within ``max_span`` seconds (always true for untimed text)."""
    first = chosen[0].start if chosen else None
    if max_span is None or first is None or piece.end is None:
        return True
    return piece.end - first <= max_span


def _join(context: str, pieces: list[_Piece] | tuple[_Piece, ...]) -> str:
    body = ""
    for piece in pieces:
        body = f"{body}{piece.joiner}{piece.text}" if body else piece.text
    return f"{context}\n{body}" if context else body
