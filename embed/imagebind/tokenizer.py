"""CLIP's byte-level BPE tokenizer, as ImageBind's text encoder reads it.

Vocabulary: ``bpe_simple_vocab_16e6.txt.gz`` beside this module (OpenAI CLIP, MIT licence, see
``LICENSE.bpe_simple_vocab``). Behaviour matches the reference ``SimpleTokenizer``: clean the text (ftfy, HTML
unescape twice, collapse whitespace), lower-case it, split with CLIP's pattern, byte-encode each piece, apply the
merges, and frame the ids as ``<|startoftext|> ... <|endoftext|>`` zero-padded to 77, truncating so the
end-of-text token always survives (the model pools the features at that token: the largest id in the row).
"""

from __future__ import annotations

import functools
import gzip
import html
import itertools
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path

import regex
import torch

from embed.imagebind.config import TEXT_CONTEXT_LENGTH

VOCAB_PATH = Path(__file__).with_name("bpe_simple_vocab_16e6.txt.gz")
START_OF_TEXT = "<|startoftext|>"
END_OF_TEXT = "<|endoftext|>"
_MERGES = 49152 - 256 - 2  # the reference reads this many merge rules: vocabulary 49408 with the specials
_PIECES = regex.compile(
    r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
    regex.IGNORECASE,
)
_WHITESPACE = regex.compile(r"\s+")


@functools.lru_cache(maxsize=1)
def byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table (no whitespace or control characters)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


# --- text cleaning ---------------------------------------------------------------------------------------------
# The reference cleans with ftfy.fix_text. ftfy is used when it is installed; otherwise the fixes it makes to text
# that is not mojibake are applied here (mojibake repair is the one thing this fallback does not do).
_SINGLE_QUOTES = regex.compile("[\u02bc\u2018-\u201b]")
_DOUBLE_QUOTES = regex.compile("[\u201c-\u201f]")
_LIGATURES = {
    "Ĳ": "IJ", "ĳ": "ij", "ŉ": "ʼn", "Ǳ": "DZ", "ǲ": "Dz", "ǳ": "dz", "Ǆ": "DŽ", "ǅ": "Dž", "ǆ": "dž",
    "Ǉ": "LJ", "ǈ": "Lj", "ǉ": "lj", "Ǌ": "NJ", "ǋ": "Nj", "ǌ": "nj",
    "ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "ſt", "ﬆ": "st",
}  # fmt: skip


@functools.lru_cache(maxsize=1)
def _translation_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(k): v for k, v in _LIGATURES.items()}
    table[0x3000] = " "  # ideographic space
    for code in range(0xFF01, 0xFFF0):  # halfwidth / fullwidth forms -> standard width
        standard = unicodedata.normalize("NFKC", chr(code))
        if standard != chr(code):
            table[code] = standard
    for code in [
        *range(0x00, 0x09),
        0x0B,
        *range(0x0E, 0x20),
        0x7F,
        *range(0x206A, 0x2070),
        0xFEFF,
        *range(0xFFF9, 0xFFFD),
    ]:  # control characters nobody means to send
        table[code] = None
    return table


def fix_text_without_ftfy(text: str) -> str:
    """ftfy's default fixes for text that is not mojibake: ligatures, character width, curly quotes, line
    breaks, control characters, NFC."""
    while True:
        before = text
        text = text.translate(_translation_table())
        text = _SINGLE_QUOTES.sub("'", _DOUBLE_QUOTES.sub('"', text))
        text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
        text = unicodedata.normalize("NFC", text)
        if text == before:
            return text


def _default_fixer() -> Callable[[str], str]:
    try:
        import ftfy
    except ImportError:
        return fix_text_without_ftfy
    fix: Callable[[str], str] = ftfy.fix_text
    return fix


class BpeTokenizer:
    """Text -> CLIP BPE ids. Loading reads the 1.3 MB vocabulary (about 0.2 s); encoding is cached per word.

    ``fix_text`` replaces the ftfy step (tests use it to pin the fallback); by default ftfy when installed.
    """

    def __init__(
        self,
        vocab_path: Path = VOCAB_PATH,
        context_length: int = TEXT_CONTEXT_LENGTH,
        fix_text: Callable[[str], str] | None = None,
    ) -> None:
        self.context_length = context_length
        self._fix_text = fix_text or _default_fixer()
        with gzip.open(vocab_path, "rt", encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        merges = [tuple(line.split()) for line in lines[1 : _MERGES + 1]]
        symbols = list(byte_to_unicode().values())
        vocab = symbols + [s + "</w>" for s in symbols] + ["".join(m) for m in merges] + [START_OF_TEXT, END_OF_TEXT]
        self.encoder = {token: index for index, token in enumerate(vocab)}
        self._ranks = {pair: rank for rank, pair in enumerate(merges)}
        self._byte_table = byte_to_unicode()
        self.start_id = self.encoder[START_OF_TEXT]
        self.end_id = self.encoder[END_OF_TEXT]
        self._bpe = functools.lru_cache(maxsize=65536)(self._merge_word)

    def clean(self, text: str) -> str:
        """The reference's ``basic_clean`` + ``whitespace_clean`` + lower-casing."""
        text = html.unescape(html.unescape(self._fix_text(text))).strip()
        return _WHITESPACE.sub(" ", text).strip().lower()

    def encode(self, text: str) -> list[int]:
        """BPE ids of ``text``, without the start/end tokens and without truncation."""
        ids: list[int] = []
        for piece in _PIECES.findall(self.clean(text)):
            if piece in (START_OF_TEXT, END_OF_TEXT):
                ids.append(self.encoder[piece])
                continue
            symbols = "".join(self._byte_table[b] for b in piece.encode("utf-8"))
            ids.extend(self.encoder[token] for token in self._bpe(symbols))
        return ids

    def count(self, text: str) -> int:
        """Positions ``text`` needs in the encoder, start and end tokens included (truncated past 77)."""
        return len(self.encode(text)) + 2

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        """(len(texts), context_length) int64 ids, zero-padded; overlong texts keep their first 75 tokens."""
        out = torch.zeros(len(texts), self.context_length, dtype=torch.long)
        for row, text in enumerate(texts):
            ids = [*[self.start_id, *self.encode(text)][: self.context_length - 1], self.end_id]
            out[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out

    def _merge_word(self, word: str) -> tuple[str, ...]:
        """Apply merges to one byte-encoded word, lowest rank first, as CLIP does."""
        parts = [*word[:-1], word[-1] + "</w>"]
        while len(parts) > 1:
            pairs = set(itertools.pairwise(parts))
            best = min(pairs, key=lambda pair: self._ranks.get(pair, float("inf")))
            if best not in self._ranks:
                break
            merged: list[str] = []
            i = 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == best[0] and parts[i + 1] == best[1]:
                    merged.append(best[0] + best[1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        return tuple(parts)
